;; json-iface module (wasm32) whose handle loops on fd_write of 1,024 iovecs of 64 KiB each: host time,
;; almost no wasm instructions. Never returns.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 64)
  (func (export "malloc") (param i32) (result i32) (i32.const 0x1000))
  (func (export "handle") (param i32 i32) (result i32)
    (local $i i32)
    (loop $fill
      (i32.store (i32.add (i32.const 0x20000) (i32.shl (local.get $i) (i32.const 3))) (i32.const 0x100000))
      (i32.store (i32.add (i32.const 0x20004) (i32.shl (local.get $i) (i32.const 3))) (i32.const 65536))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 1024))))
    (loop $write
      (drop (call $fd_write (i32.const 1) (i32.const 0x20000) (i32.const 1024) (i32.const 0x30000)))
      (br $write))
    (i32.const 0)))
