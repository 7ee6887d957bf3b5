"""The wasm binary reader (binary.py): every instruction family decodes, LEB128 round-trips, and arbitrary
or mutated bytes give `DecodeError` (or decode), never another exception or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
import wasmtime
from hypothesis import given
from hypothesis import strategies as st

from aonode.devices.wasm import binary, exnref
from tests.devices.wasm.helpers import module_bytes

MODULES = Path(__file__).parent / "modules"

# One function per immediate layout the walker must skip correctly (memory64 memargs with 64-bit offsets
# and a memory index, bulk memory, reference types, SIMD, atomics, try_table, multi-value block types).
EVERYTHING = """
(module
  (type $two (func (param i32) (result i32 i32)))
  (type $s (struct (field i32)))
  (memory $m i64 1 2 shared)
  (memory $n i64 1)
  (table $t 2 funcref)
  (tag $e (param i64))
  (data $d "abc")
  (elem $el func $f)
  (func $f (param i32) (result i32) (local.get 0))
  (func (export "all") (param i64 i32) (result i32)
    (local v128 funcref exnref)
    (i64.load offset=0x100000000 (local.get 0)) drop
    (i32.load8_u $n offset=7 (local.get 0)) drop
    (memory.copy $m $n (local.get 0) (local.get 0) (i64.const 1))
    (memory.init $d (local.get 0) (i32.const 0) (i32.const 1))
    (data.drop $d)
    (memory.fill (local.get 0) (i32.const 0) (i64.const 1))
    (table.init $t $el (i32.const 0) (i32.const 0) (i32.const 1))
    (elem.drop $el)
    (drop (table.size $t))
    (drop (ref.is_null (ref.func $f)))
    (drop (ref.null extern))
    (v128.const i32x4 1 2 3 4)
    (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get 2) (local.get 2))
    (i32x4.extract_lane 1) drop
    (v128.load64_lane offset=8 1 (local.get 0) (local.get 2)) drop
    (drop (i32.atomic.rmw.add offset=4 (local.get 0) (i32.const 1)))
    (atomic.fence)
    (drop (i32.trunc_sat_f32_s (f32.const 1.5)))
    (drop (f64.const 2.5))
    (drop (select (result i32) (i32.const 1) (i32.const 2) (i32.const 0)))
    (drop (struct.new $s (i32.const 1)))
    (call_indirect (type $two) (i32.const 1) (i32.const 0)) drop drop
    (block (result i32)
      (try_table (catch $e 0) (catch_all 1)
        (throw $e (i64.const 1)))
      (i32.const 0))
    drop
    (block $b (result i32)
      (br_table $b $b (i32.const 1) (local.get 1)))))
"""


def test_every_immediate_layout_is_walked() -> None:
    wasm = bytes(wasmtime.wat2wasm(EVERYTHING))
    mod = binary.parse_module(wasm)
    ops = {i.op for b in mod.bodies for i in binary.walk(wasm, b.code_start, b.end)}
    assert {binary.BLOCK, binary.TRY_TABLE, binary.BR_TABLE, binary.END} <= ops
    assert exnref.translate(wasm) == wasm  # no legacy opcode: unchanged, byte for byte


@pytest.mark.parametrize("value", [0, 1, 63, 64, 127, 128, 2**31 - 1, 2**32 - 1, -1, -64, -65, -(2**32)])
def test_leb128_round_trips(value: int) -> None:
    if value >= 0:
        assert binary.Reader(binary.u32(value)).uleb(64) == value
    assert binary.Reader(binary.s33(value)).sleb(64) == value


def test_over_long_and_out_of_range_leb128_are_refused() -> None:
    with pytest.raises(binary.DecodeError, match="too long"):
        binary.Reader(b"\x80" * 6 + b"\x00").uleb()
    with pytest.raises(binary.DecodeError, match="out of range"):
        binary.Reader(b"\xff\xff\xff\xff\x1f").uleb()


def _samples() -> list[bytes]:
    return [module_bytes("legacy_eh"), module_bytes("sjlj"), bytes(wasmtime.wat2wasm(EVERYTHING))]


SAMPLES = _samples()


def _decode(data: bytes) -> None:
    try:
        mod = binary.parse_module(data)
        for body in mod.bodies:
            binary.walk(data, body.code_start, body.end)
        exnref.translate(data)
    except binary.DecodeError:
        pass


@given(st.binary(max_size=512))
def test_random_bytes_only_give_decode_error(data: bytes) -> None:
    _decode(data)
    _decode(b"\x00asm\x01\x00\x00\x00" + data)


@given(
    st.sampled_from(range(len(SAMPLES))),
    st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=8
    ),
    st.integers(min_value=0),
)
def test_mutated_modules_only_give_decode_error(which: int, edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SAMPLES[which])
    for at, byte in edits:
        data[8 + at % (len(data) - 8)] = byte
    _decode(bytes(data))
    _decode(bytes(data[: 8 + cut % (len(data) - 7)]))
