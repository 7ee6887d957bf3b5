;; json-iface module whose handle has the wrong signature (refused at init, with a deterministic text).
(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "handle") (param i32) (result i32) (i32.const 0)))
