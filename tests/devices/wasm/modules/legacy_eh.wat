;; json-iface test module (wasm32) using the legacy (Phase 3) exception-handling opcodes `try`/`catch`,
;; which wasmtime rejects: the device translates it with `wasm-opt --translate-to-exnref` first.
;; handle throws $e with 42 from a nested call and catches it: Output "caught 42" (else "missed").
(module
  (tag $e (param i32))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $n)))
    (local.get $p))
  (func $thrower (param i32) (throw $e (local.get 0)))
  (func (export "handle") (param $msg i32) (param $env i32) (result i32)
    try (result i32)
      i32.const 42
      call $thrower
      i32.const 0
    catch $e
    end
    i32.const 42
    i32.eq
    (if (result i32) (then (i32.const 256)) (else (i32.const 512))))
  (data (i32.const 256) "{\"ok\":true,\"response\":{\"Output\":\"caught 42\"}}\00")
  (data (i32.const 512) "{\"ok\":true,\"response\":{\"Output\":\"missed\"}}\00")
)
