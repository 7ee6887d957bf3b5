;; json-iface module whose handle never returns (fuel / epoch tests).
(module
  (memory (export "memory") i64 1)
  (func (export "malloc") (param i64) (result i64) (i64.const 1024))
  (func (export "handle") (param i64 i64) (result i64) (loop $l (br $l)) (i64.const 0)))
