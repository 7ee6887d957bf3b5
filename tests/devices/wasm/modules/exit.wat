;; wasm64 json-iface module whose handle calls WASI proc_exit(3) when the message's Data is "exit"
;; (first character "e"), else answers {"ok":true,"response":{"Output":"ok"}}.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") i64 1)
  (global $heap (mut i64) (i64.const 4096))
  (data (i64.const 512) "{\"ok\":true,\"response\":{\"Output\":\"ok\"}}\00")
  (func (export "malloc") (param $n i64) (result i64)
    (global.get $heap)
    (global.set $heap (i64.add (global.get $heap) (i64.add (local.get $n) (i64.const 16)))))
  (func $data_char (param $p i64) (result i32)
    (block $done
      (loop $scan
        (br_if $done (i32.eqz (i32.load8_u (local.get $p))))
        (if (i64.eq (i64.load (local.get $p)) (i64.const 0x223a226174614422))
          (then (return (i32.load8_u (i64.add (local.get $p) (i64.const 8))))))
        (local.set $p (i64.add (local.get $p) (i64.const 1)))
        (br $scan)))
    (i32.const 0))
  (func (export "handle") (param $msg i64) (param $env i64) (result i64)
    (global.set $heap (i64.const 4096))
    (if (i32.eq (call $data_char (local.get $msg)) (i32.const 101))
      (then (call $proc_exit (i32.const 3))))
    (i64.const 512)))
