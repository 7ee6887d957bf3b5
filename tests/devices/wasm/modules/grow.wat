;; json-iface module whose handle grows memory a page at a time until memory.grow fails, then traps (memory-limit tests).
(module
  (memory (export "memory") i64 1)
  (func (export "malloc") (param i64) (result i64) (i64.const 1024))
  (func (export "handle") (param i64 i64) (result i64)
    (loop $l (br_if $l (i64.ne (memory.grow (i64.const 1)) (i64.const -1))))
    unreachable))
