;; json-iface test module (wasm64): keeps a counter in memory and echoes the message JSON.
;; handle(msg, env) returns {"ok":true,"response":{"Output":"<n>","Messages":[],"Echo":<msg>,"Env":<env>}}.
;; A bump allocator that never frees; the heap pointer lives in memory at 0 and the counter at 8, so a
;; memory-only snapshot holds the whole state. Data "trap" traps; data "nan" stores f32 0/0 at 16.
(module
  (memory (export "memory") i64 2)
  (global $unused (export "mutable_marker") (mut i64) (i64.const 7))
  (func $strlen (param $p i64) (result i64)
    (local $n i64)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i64.add (local.get $p) (local.get $n)))))
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (br $l)))
    (local.get $n))
  (func $malloc (export "malloc") (param $n i64) (result i64)
    (local $p i64) (local $end i64)
    (local.set $p (i64.load (i64.const 0)))
    (if (i64.eqz (local.get $p)) (then (local.set $p (i64.const 1024))))
    (local.set $end (i64.add (local.get $p) (local.get $n)))
    ;; grow until the heap fits; a failed grow (memory limit) returns 0 like C's malloc
    (block $ok (loop $g
      (br_if $ok (i64.le_u (local.get $end) (i64.mul (memory.size) (i64.const 65536))))
      (if (i64.eq (memory.grow (i64.const 1)) (i64.const -1)) (then (return (i64.const 0))))
      (br $g)))
    (i64.store (i64.const 0) (i64.and (i64.add (local.get $end) (i64.const 7)) (i64.const -8)))
    (local.get $p))
  (func $copy (param $dst i64) (param $src i64) (param $n i64)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n)))
  (data (i64.const 256) "{\"ok\":true,\"response\":{\"Output\":\"")
  ;; 33 bytes
  (data (i64.const 320) "\",\"Messages\":[],\"Echo\":")
  ;; 23 bytes
  (data (i64.const 384) ",\"Env\":")
  ;; 7 bytes
  (data (i64.const 400) "}}\00")
  ;; 3 bytes
  (data (i64.const 416) "\"Data\":\"trap\"")
  ;; 13 bytes
  (data (i64.const 448) "\"Data\":\"nan\"")
  ;; 12 bytes
  (func $contains (param $hay i64) (param $hlen i64) (param $needle i64) (param $nlen i64) (result i32)
    (local $i i64) (local $j i64)
    (block $no (loop $outer
      (br_if $no (i64.gt_u (i64.add (local.get $i) (local.get $nlen)) (local.get $hlen)))
      (local.set $j (i64.const 0))
      (block $mismatch (loop $inner
        (if (i64.eq (local.get $j) (local.get $nlen)) (then (return (i32.const 1))))
        (br_if $mismatch (i32.ne
          (i32.load8_u (i64.add (local.get $hay) (i64.add (local.get $i) (local.get $j))))
          (i32.load8_u (i64.add (local.get $needle) (local.get $j)))))
        (local.set $j (i64.add (local.get $j) (i64.const 1)))
        (br $inner)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $outer)))
    (i32.const 0))
  (func (export "handle") (param $msg i64) (param $env i64) (result i64)
    (local $mlen i64) (local $elen i64) (local $n i64) (local $digits i64) (local $out i64) (local $p i64)
    (local $t i64)
    (local.set $mlen (call $strlen (local.get $msg)))
    (local.set $elen (call $strlen (local.get $env)))
    (if (call $contains (local.get $msg) (local.get $mlen) (i64.const 416) (i64.const 13))
      (then unreachable))
    (if (call $contains (local.get $msg) (local.get $mlen) (i64.const 448) (i64.const 12))
      (then (f32.store (i64.const 16) (f32.div (f32.const 0) (f32.const 0)))))
    (local.set $n (i64.add (i64.load (i64.const 8)) (i64.const 1)))
    (i64.store (i64.const 8) (local.get $n))
    (global.set $unused (local.get $n))
    ;; number of decimal digits of n
    (local.set $digits (i64.const 1))
    (local.set $t (local.get $n))
    (block $d (loop $dl
      (br_if $d (i64.lt_u (local.get $t) (i64.const 10)))
      (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
      (local.set $digits (i64.add (local.get $digits) (i64.const 1)))
      (br $dl)))
    (local.set $out (call $malloc (i64.add (i64.add (local.get $mlen) (local.get $elen))
      (i64.add (local.get $digits) (i64.const 80)))))
    (local.set $p (local.get $out))
    (call $copy (local.get $p) (i64.const 256) (i64.const 33))
    (local.set $p (i64.add (local.get $p) (i64.const 33)))
    ;; digits, written backwards
    (local.set $t (local.get $n))
    (local.set $p (i64.add (local.get $p) (local.get $digits)))
    (block $w (loop $wl
      (local.set $p (i64.sub (local.get $p) (i64.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $t) (i64.const 10))))
      (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
      (br_if $w (i64.eqz (local.get $t)))
      (br $wl)))
    (local.set $p (i64.add (local.get $p) (local.get $digits)))
    (call $copy (local.get $p) (i64.const 320) (i64.const 23))
    (local.set $p (i64.add (local.get $p) (i64.const 23)))
    (call $copy (local.get $p) (local.get $msg) (local.get $mlen))
    (local.set $p (i64.add (local.get $p) (local.get $mlen)))
    (call $copy (local.get $p) (i64.const 384) (i64.const 7))
    (local.set $p (i64.add (local.get $p) (i64.const 7)))
    (call $copy (local.get $p) (local.get $env) (local.get $elen))
    (local.set $p (i64.add (local.get $p) (local.get $elen)))
    (call $copy (local.get $p) (i64.const 400) (i64.const 3))
    (local.get $out))
)
