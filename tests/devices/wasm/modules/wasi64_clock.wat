;; wasm64 json-iface module asking WASI for the time: clock_time_get (realtime, then monotonic) and
;; clock_res_get, all with their out-pointer at 64, which holds "xxxxxxxx" before each slot's calls (must
;; fail with errno 1 and write nothing). Answers {"ok":true,"response":{"Output":"<3 errnos><8 bytes at 64>"}}.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $time (param i32 i64 i64) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $res (param i32 i64) (result i32)))
  (memory (export "memory") i64 1)
  (data (i64.const 256) "{\"ok\":true,\"response\":{\"Output\":\"___________\"}}\00")
  (func (export "malloc") (param i64) (result i64) (i64.const 4096))
  (func (export "handle") (param i64 i64) (result i64)
    (i64.store (i64.const 64) (i64.const 0x7878787878787878))
    (i32.store8 (i64.const 289) (i32.add (i32.const 48) (call $time (i32.const 0) (i64.const 1) (i64.const 64))))
    (i32.store8 (i64.const 290) (i32.add (i32.const 48) (call $time (i32.const 1) (i64.const 0) (i64.const 64))))
    (i32.store8 (i64.const 291) (i32.add (i32.const 48) (call $res (i32.const 0) (i64.const 64))))
    (memory.copy (i64.const 292) (i64.const 64) (i64.const 8))
    (i64.const 256)))
