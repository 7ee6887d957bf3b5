;; wasm32 json-iface module using WASI: fd_write of "hi\n" to stdout, clock_time_get (must fail with
;; errno 1 and write nothing), then answers {"ok":true,"response":{"Output":"<clock errno><byte at 64>"}}.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hi\n")
  (data (i32.const 200) "{\"ok\":true,\"response\":{\"Output\":\"_x\"}}\00")
  (func (export "malloc") (param i32) (result i32) (i32.const 4096))
  (func (export "handle") (param i32 i32) (result i32)
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store8 (i32.const 64) (i32.const 120))
    (i32.store8 (i32.const 233) (i32.add (i32.const 48) (call $clock (i32.const 0) (i64.const 1) (i32.const 64))))
    (i32.store8 (i32.const 234) (i32.load8_u (i32.const 64)))
    (i32.const 200)))
