;; wasm64 json-iface module exporting the command entry points `_start` and `main` next to the reactor
;; initializer `_initialize`. Each of the three counts its calls in one ASCII digit (bytes 32, 33, 34,
;; initially "000"); handle answers {"ok":true,"response":{"Output":"<those three digits>"}}. A device that
;; calls `_initialize` once and never `_start`/`main` shows "100".
(module
  (memory (export "memory") i64 1)
  (data (i64.const 32) "000")
  (data (i64.const 256) "{\"ok\":true,\"response\":{\"Output\":\"___\"}}\00")
  (func $bump (param $at i64)
    (i32.store8 (local.get $at) (i32.add (i32.load8_u (local.get $at)) (i32.const 1))))
  (func (export "_initialize") (call $bump (i64.const 32)))
  (func (export "_start") (call $bump (i64.const 33)))
  (func (export "main") (param i32 i64) (result i32) (call $bump (i64.const 34)) (i32.const 0))
  (func (export "malloc") (param i64) (result i64) (i64.const 4096))
  (func (export "handle") (param i64 i64) (result i64)
    ;; the digits go where the template has "___" (33 bytes after its start)
    (memory.copy (i64.const 289) (i64.const 32) (i64.const 3))
    (i64.const 256)))
