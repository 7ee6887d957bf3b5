;; json-iface module (wasm32) answering something json cannot take, one case per call (a counter at
;; address 0, kept in memory, so the process goes on between calls): 1) an Output nested 200,000 arrays
;; deep, 2) an integer of 5,001 digits, 3) a lone surrogate "\ud800", then 4+) {"Output":"fine"}.
(module
  (memory (export "memory") 16)
  (data (i32.const 16) "{\"ok\":true,\"response\":{\"Output\":")
  (data (i32.const 64) "}}\00")
  (data (i32.const 80) "{\"ok\":true,\"response\":{\"Output\":\"\\ud800\"}}\00")
  (data (i32.const 160) "{\"ok\":true,\"response\":{\"Output\":\"fine\"}}\00")
  (func (export "malloc") (param i32) (result i32) (i32.const 0x1000))
  (func $wrap (param $len i32) (param $byte i32) (param $closing i32) (result i32)
    ;; prefix (32 bytes) at 0x10000, then $len $byte, then $len $closing (0: none), then "}}\0"
    (local $at i32)
    (memory.copy (i32.const 0x10000) (i32.const 16) (i32.const 32))
    (memory.fill (i32.const 0x10020) (local.get $byte) (local.get $len))
    (local.set $at (i32.add (i32.const 0x10020) (local.get $len)))
    (if (local.get $closing)
      (then
        (memory.fill (local.get $at) (local.get $closing) (local.get $len))
        (local.set $at (i32.add (local.get $at) (local.get $len)))))
    (memory.copy (local.get $at) (i32.const 64) (i32.const 3))
    (i32.const 0x10000))
  (func (export "handle") (param i32 i32) (result i32)
    (local $n i32)
    (local.set $n (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.store (i32.const 0) (local.get $n))
    (if (i32.eq (local.get $n) (i32.const 1))
      (then (return (call $wrap (i32.const 200000) (i32.const 91) (i32.const 93)))))
    (if (i32.eq (local.get $n) (i32.const 2))
      (then (return (call $wrap (i32.const 5001) (i32.const 57) (i32.const 0)))))
    (if (i32.eq (local.get $n) (i32.const 3))
      (then (return (i32.const 80))))
    (i32.const 160)))
