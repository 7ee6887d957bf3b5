;; wasm64 json-iface module lowered the way emscripten lowers setjmp/longjmp for its JS glue
;; (-sSUPPORT_LONGJMP=emscripten, what Lua's error handling compiles to in mainnet AOS binaries): a call
;; that may longjmp goes through the imported `invoke_vi(table index, arg)`; longjmp itself records the jump
;; with the exported `setThrew` and calls the imported `_emscripten_throw_longjmp`, which unwinds to the
;; nearest invoke_*; after the invoke the caller reads __THREW__ to see whether it came back by a jump.
;;
;; The message's Data picks what `handle` does:
;;   "throw"    invoke_vi($thrower): the jump is caught; the catch count goes up; Output "caught N"
;;   "normal"   invoke_vi($normal): returns normally; Output "normal N" (N: catches so far)
;;   "uncaught" call $thrower directly, with no invoke_ on the stack: the slot fails
;;   "loop"     invoke_vi($loop): runs out of fuel inside the invoked function: the slot fails
;; __THREW__ left set by a jump that was not taken is a bug the module reports as Output "stale".
(module
  (import "env" "invoke_vi" (func $invoke_vi (param i32 i64)))
  (import "env" "_emscripten_throw_longjmp" (func $throw_longjmp))
  (memory (export "memory") i64 2)
  (table (export "__indirect_function_table") 3 funcref)
  (elem (i32.const 0) $normal $thrower $loop)
  (global $threw (mut i64) (i64.const 0))
  (global $threw_value (mut i32) (i32.const 0))
  (global $catches (mut i32) (i32.const 0))
  (global $sp (mut i64) (i64.const 60000))
  (data (i64.const 1024) "{\"ok\":true,\"response\":{\"Output\":\"caught 0\"}}\00")
  (data (i64.const 1100) "{\"ok\":true,\"response\":{\"Output\":\"normal 0\"}}\00")
  (data (i64.const 1200) "{\"ok\":true,\"response\":{\"Output\":\"stale\"}}\00")
  (data (i64.const 1300) "{\"ok\":true,\"response\":{\"Output\":\"unknown\"}}\00")

  (global $heap (mut i64) (i64.const 4096))
  ;; a bump allocator, reset by each handle (the JSON it was given is read before anything is allocated)
  (func (export "malloc") (param $n i64) (result i64)
    (global.get $heap)
    (global.set $heap (i64.and (i64.add (i64.add (global.get $heap) (local.get $n)) (i64.const 15))
                               (i64.const -16))))
  ;; emscripten's setThrew: only the first jump is recorded until the caller clears __THREW__.
  (func $setThrew (export "setThrew") (param $threw i64) (param $value i32)
    (if (i64.eqz (global.get $threw))
      (then (global.set $threw (local.get $threw)) (global.set $threw_value (local.get $value)))))
  (func (export "stackSave") (result i64) (global.get $sp))
  (func (export "stackRestore") (param i64) (global.set $sp (local.get 0)))

  (func $normal (param i64))
  (func $thrower (param $env i64)
    ;; what libc's emscripten_longjmp does: record the jump, then unwind; the stack pointer moved on the
    ;; way down, and the invoke_ restores it
    (global.set $sp (i64.sub (global.get $sp) (i64.const 256)))
    (call $setThrew (i64.const 77) (i32.const 1))
    (call $throw_longjmp)
    (unreachable))
  (func $loop (param i64) (loop $forever (br $forever)))

  ;; The first character of Data: the byte after the first `"Data":"` in the message JSON (0 if none).
  (func $data_char (param $p i64) (result i32)
    (block $done
      (loop $scan
        (br_if $done (i32.eqz (i32.load8_u (local.get $p))))
        ;; `"Data":"` as a little-endian i64
        (if (i64.eq (i64.load (local.get $p)) (i64.const 0x223a226174614422))
          (then (return (i32.load8_u (i64.add (local.get $p) (i64.const 8))))))
        (local.set $p (i64.add (local.get $p) (i64.const 1)))
        (br $scan)))
    (i32.const 0))

  (func $answer (param $at i64) (param $digit_at i64) (result i64)
    (i32.store8 (local.get $digit_at) (i32.add (i32.const 48) (global.get $catches)))
    (local.get $at))

  (func (export "handle") (param $msg i64) (param $env i64) (result i64)
    (local $c i32)
    (local $sp_before i64)
    (local.set $c (call $data_char (local.get $msg)))
    (global.set $heap (i64.const 4096))
    (local.set $sp_before (global.get $sp))
    ;; "t": throw through invoke_vi, then look at __THREW__ as emscripten's lowered code does
    (if (i32.eq (local.get $c) (i32.const 116))
      (then
        (call $invoke_vi (i32.const 1) (i64.const 5))
        (if (i64.ne (global.get $threw) (i64.const 77)) (then (return (i64.const 1200))))
        (if (i64.ne (global.get $sp) (local.get $sp_before)) (then (return (i64.const 1200))))
        (global.set $threw (i64.const 0))
        (global.set $catches (i32.add (global.get $catches) (i32.const 1)))
        (return (call $answer (i64.const 1024) (i64.const 1064)))))
    ;; "n": a normal call through invoke_vi leaves __THREW__ clear
    (if (i32.eq (local.get $c) (i32.const 110))
      (then
        (call $invoke_vi (i32.const 0) (i64.const 5))
        (if (i64.ne (global.get $threw) (i64.const 0)) (then (return (i64.const 1200))))
        (return (call $answer (i64.const 1100) (i64.const 1140)))))
    ;; "u": a jump with no invoke_ to catch it
    (if (i32.eq (local.get $c) (i32.const 117))
      (then (call $thrower (i64.const 5)) (return (i64.const 1300))))
    ;; "l": an endless loop inside the invoked function
    (if (i32.eq (local.get $c) (i32.const 108))
      (then (call $invoke_vi (i32.const 2) (i64.const 5)) (return (i64.const 1300))))
    (i64.const 1300)))
