;; wasm64 json-iface module that writes more than the capture bound (wasm64 WASI: 16-byte iovecs, u64
;; sizes). Each handle: one fd_write to stdout with two iovecs, 40960 "a" then 40960 "b" (nwritten -> 4064);
;; one fd_write to stderr of 70000 "c" (nwritten -> 4072); one more fd_write of 10 "a" to stdout (nwritten
;; -> 4080). Answers {"ok":true,"response":{"Output":"ok"}}.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i64 i64 i64) (result i32)))
  (memory (export "memory") i64 5)
  (data (i64.const 512) "{\"ok\":true,\"response\":{\"Output\":\"ok\"}}\00")
  (func (export "malloc") (param i64) (result i64) (i64.const 0x48000))
  (func $iov (param $at i64) (param $buf i64) (param $len i64)
    (i64.store (local.get $at) (local.get $buf))
    (i64.store (i64.add (local.get $at) (i64.const 8)) (local.get $len)))
  (func (export "handle") (param i64 i64) (result i64)
    (memory.fill (i64.const 0x10000) (i32.const 97) (i64.const 40960))
    (memory.fill (i64.const 0x20000) (i32.const 98) (i64.const 40960))
    (memory.fill (i64.const 0x30000) (i32.const 99) (i64.const 70000))
    (call $iov (i64.const 4096) (i64.const 0x10000) (i64.const 40960))
    (call $iov (i64.const 4112) (i64.const 0x20000) (i64.const 40960))
    (drop (call $fd_write (i32.const 1) (i64.const 4096) (i64.const 2) (i64.const 4064)))
    (call $iov (i64.const 4096) (i64.const 0x30000) (i64.const 70000))
    (drop (call $fd_write (i32.const 2) (i64.const 4096) (i64.const 1) (i64.const 4072)))
    (call $iov (i64.const 4096) (i64.const 0x10000) (i64.const 10))
    (drop (call $fd_write (i32.const 1) (i64.const 4096) (i64.const 1) (i64.const 4080)))
    (i64.const 512)))
