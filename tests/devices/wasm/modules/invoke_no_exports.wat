;; Imports emscripten's invoke_v but exports neither the function table nor setThrew it needs: refused at init.
(module
  (import "env" "invoke_v" (func (param i32)))
  (memory (export "memory") i64 1)
  (func (export "malloc") (param i64) (result i64) (i64.const 0))
  (func (export "handle") (param i64 i64) (result i64) (i64.const 0)))
