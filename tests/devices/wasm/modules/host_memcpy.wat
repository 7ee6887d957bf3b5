;; json-iface module (wasm32) whose handle loops on emscripten_memcpy_big of 1 MiB: host time, almost no
;; wasm instructions. Never returns.
(module
  (import "env" "emscripten_memcpy_big" (func $memcpy (param i32 i32 i32)))
  (memory (export "memory") 64)
  (func (export "malloc") (param i32) (result i32) (i32.const 0x1000))
  (func (export "handle") (param i32 i32) (result i32)
    (loop $copy
      (call $memcpy (i32.const 0x200000) (i32.const 0x100000) (i32.const 0x100000))
      (br $copy))
    (i32.const 0)))
