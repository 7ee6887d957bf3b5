;; A module importing a host function the device does not provide.
(module
  (import "env" "launch_missiles" (func (param i32) (result i32)))
  (memory (export "memory") i64 1)
  (func (export "malloc") (param i64) (result i64) (i64.const 1024))
  (func (export "handle") (param i64 i64) (result i64) (i64.const 0)))
