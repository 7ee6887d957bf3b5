"""The legacy-EH translator (exnref.py): each construct written in legacy WAT, translated, then run in
wasmtime; the result must be what the legacy semantics (the proposal's legacy/Exceptions.md) give. When
Binaryen's wasm-opt happens to be installed (AONODE_WASM_OPT, a command), its translation is run too and
must agree (a cross-check only; nothing at run time uses it)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
import wasmtime

from aonode.devices.wasm import exnref, legacy_eh, runtime

TAGS = """
  (tag $a (param i32))
  (tag $b (param i32))
  (tag $pair (param i32 i64))
  (tag $none)
  (func $throw_a (param i32) (throw $a (local.get 0)))
  (func $throw_b (param i32) (throw $b (local.get 0)))
"""

# name -> (WAT functions, export to call, arguments, expected result or "uncaught")
CASES: dict[str, tuple[str, str, tuple[int, ...], int | str]] = {
    "catch_tag_values": (
        """(func (export "f") (result i64)
             (local $x i64)
             try (result i64)
               i32.const 7
               i64.const 35
               throw $pair
             catch $pair
               local.set $x
               i64.extend_i32_u
               local.get $x
               i64.add
             end)""",
        "f",
        (),
        42,
    ),
    "catch_picks_the_matching_tag": (
        """(func (export "f") (result i32)
             try (result i32)
               i32.const 5
               call $throw_b
               i32.const 0
             catch $a
               i32.const 100
               i32.add
             catch $b
               i32.const 200
               i32.add
             catch_all
               i32.const 300
             end)""",
        "f",
        (),
        205,
    ),
    "catch_all": (
        """(func (export "f") (result i32)
             try (result i32)
               throw $none
             catch $a
             catch_all
               i32.const 9
             end)""",
        "f",
        (),
        9,
    ),
    "no_throw_keeps_the_body_value": (
        """(func (export "f") (param i32) (result i32)
             try (result i32)
               local.get 0
               i32.const 1
               i32.add
             catch_all
               i32.const -1
             end)""",
        "f",
        (41,),
        42,
    ),
    "nested_inner_misses_outer_catches": (
        """(func (export "f") (result i32)
             try (result i32)
               try (result i32)
                 i32.const 3
                 call $throw_b
                 i32.const 0
               catch $a
                 drop
                 i32.const 1000
               end
             catch $b
               i32.const 10
               i32.mul
             end)""",
        "f",
        (),
        30,
    ),
    "throw_in_handler_goes_outward": (
        """(func (export "f") (result i32)
             try (result i32)
               try (result i32)
                 i32.const 1
                 call $throw_a
                 i32.const 0
               catch $a
                 drop
                 i32.const 7
                 call $throw_b
                 i32.const 0
               catch $b
                 drop
                 i32.const 1000
               end
             catch $b
             end)""",
        "f",
        (),
        7,
    ),
    "rethrow_0_keeps_the_exception": (
        """(func (export "f") (result i32)
             try (result i32)
               try (result i32)
                 i32.const 11
                 call $throw_a
                 i32.const 0
               catch $a
                 drop
                 rethrow 0
               end
             catch $a
             end)""",
        "f",
        (),
        11,
    ),
    "rethrow_1_from_a_nested_handler": (
        """(func (export "f") (result i32)
             try (result i32)
               try (result i32)
                 i32.const 12
                 call $throw_a
                 i32.const 0
               catch $a
                 drop
                 try (result i32)
                   i32.const 99
                   call $throw_b
                   i32.const 0
                 catch $b
                   drop
                   rethrow 1
                 end
               end
             catch $a
             catch $b
               i32.const 1000
               i32.add
             end)""",
        "f",
        (),
        12,
    ),
    "rethrow_from_catch_all": (
        """(func (export "f") (result i32)
             try (result i32)
               try (result i32)
                 i32.const 13
                 call $throw_a
                 i32.const 0
               catch_all
                 rethrow 0
               end
             catch $a
             end)""",
        "f",
        (),
        13,
    ),
    "delegate_to_an_outer_try": (
        """(func (export "f") (result i32)
             try $outer (result i32)
               try (result i32)
                 try (result i32)
                   i32.const 21
                   call $throw_a
                   i32.const 0
                 delegate $outer
               catch_all
                 i32.const 1000
               end
             catch $a
               i32.const 2
               i32.mul
             end)""",
        "f",
        (),
        42,
    ),
    "delegate_0_to_the_enclosing_try": (
        """(func (export "f") (result i32)
             try (result i32)
               try (result i32)
                 i32.const 4
                 call $throw_a
                 i32.const 0
               delegate 0
             catch $a
             end)""",
        "f",
        (),
        4,
    ),
    "delegate_to_a_block_goes_to_the_next_try": (
        """(func (export "f") (result i32)
             try (result i32)
               block $blk (result i32)
                 try (result i32)
                   try (result i32)
                     i32.const 6
                     call $throw_a
                     i32.const 0
                   delegate $blk
                 catch_all
                   i32.const 1000
                 end
               end
             catch $a
             end)""",
        "f",
        (),
        6,
    ),
    "delegate_from_a_handler_skips_its_try": (
        """(func (export "f") (result i32)
             try (result i32)
               try $l1 (result i32)
                 i32.const 1
                 call $throw_b
                 i32.const 0
               catch $b
                 drop
                 try (result i32)
                   i32.const 8
                   call $throw_a
                   i32.const 0
                 delegate $l1
               catch_all
                 i32.const 1000
               end
             catch $a
             end)""",
        "f",
        (),
        8,
    ),
    "delegate_to_the_caller": (
        """(func $inner (result i32)
             try (result i32)
               try (result i32)
                 i32.const 17
                 call $throw_a
                 i32.const 0
               delegate 1
             catch_all
               i32.const 1000
             end)
           (func (export "f") (result i32)
             try (result i32)
               call $inner
             catch $a
               i32.const 100
               i32.add
             end)""",
        "f",
        (),
        117,
    ),
    "delegate_to_a_try_delegate_chains": (
        """(func (export "f") (result i32)
             try (result i32)
               try (result i32)
                 try (result i32)
                   i32.const 31
                   call $throw_a
                   i32.const 0
                 delegate 0
               delegate 0
             catch $a
             end)""",
        "f",
        (),
        31,
    ),
    "delegate_chain_to_the_caller": (
        """(func $inner (result i32)
             try (result i32)
               try (result i32)
                 try (result i32)
                   i32.const 32
                   call $throw_a
                   i32.const 0
                 delegate 0
               delegate 1
             catch_all
               i32.const 1000
             end)
           (func (export "f") (result i32)
             try (result i32)
               call $inner
             catch $a
             end)""",
        "f",
        (),
        32,
    ),
    "uncaught_leaves_to_the_host": (
        """(func (export "f") (result i32)
             try (result i32)
               i32.const 1
               call $throw_b
               i32.const 0
             catch $a
             end)""",
        "f",
        (),
        "uncaught",
    ),
    "across_calls_and_branches": (
        """(func $depth (param i32) (result i32)
             local.get 0
             i32.eqz
             if
               i32.const 77
               call $throw_a
             end
             local.get 0
             i32.const 1
             i32.sub
             call $depth)
           (func (export "f") (param i32) (result i32)
             (local $sum i32)
             block $done
               loop $again
                 try
                   local.get 0
                   call $depth
                   drop
                 catch $a
                   local.get $sum
                   i32.add
                   local.set $sum
                   local.get 0
                   i32.const 1
                   i32.sub
                   local.tee 0
                   i32.eqz
                   br_if $done
                   br $again
                 end
               end
             end
             local.get $sum)""",
        "f",
        (3,),
        231,
    ),
    "branch_out_of_a_try_body_with_a_value": (
        """(func (export "f") (param i32) (result i32)
             block $out (result i32)
               try (result i32)
                 i32.const 50
                 local.get 0
                 br_if $out
                 drop
                 i32.const 1
                 call $throw_a
                 i32.const 0
               catch $a
                 i32.const 60
                 br $out
               end
             end)""",
        "f",
        (0,),
        60,
    ),
    "br_table_inside_a_try": (
        """(func (export "f") (param i32) (result i32)
             block $x
               block $y
                 try
                   local.get 0
                   br_table $x $y 0
                 catch_all
                 end
                 i32.const 3
                 return
               end
               i32.const 2
               return
             end
             i32.const 1)""",
        "f",
        (1,),
        2,
    ),
    "try_with_block_params": (
        """(type $p (func (param i32) (result i32)))
           (func (export "f") (result i32)
             i32.const 40
             try (type $p)
               call $throw_a
               i32.const 0
             catch $a
               i32.const 2
               i32.add
             end)""",
        "f",
        (),
        42,
    ),
}


def _module(funcs: str) -> bytes:
    return bytes(wasmtime.wat2wasm(f"(module {TAGS} {funcs})"))


def _run(wasm: bytes, name: str, args: tuple[int, ...]) -> int | str:
    store = wasmtime.Store(runtime.engine())
    store.set_fuel(10**8)
    store.set_epoch_deadline(1 << 40)
    instance = wasmtime.Instance(store, wasmtime.Module(runtime.engine(), wasm), [])
    func = instance.exports(store)[name]
    assert isinstance(func, wasmtime.Func)
    try:
        result = func(store, *args)
    except (wasmtime.Trap, wasmtime.WasmtimeError):
        return "uncaught"
    assert isinstance(result, int)
    return result


@pytest.mark.parametrize("case", sorted(CASES))
def test_translated_module_has_the_legacy_semantics(case: str) -> None:
    funcs, name, args, expected = CASES[case]
    legacy = _module(funcs)
    with pytest.raises(wasmtime.WasmtimeError) as info:
        wasmtime.Module(runtime.engine(), legacy)  # wasmtime does not run the legacy form
    assert legacy_eh.is_legacy_eh_error(info.value)
    translated = exnref.translate(legacy)
    assert not exnref.uses_legacy_eh(translated)
    assert _run(translated, name, args) == expected


def _binaryen() -> list[str] | None:
    command = os.environ.get("AONODE_WASM_OPT")
    return shlex.split(command) if command else None


@pytest.mark.skipif(
    _binaryen() is None, reason="optional cross-check: set AONODE_WASM_OPT to a wasm-opt command"
)
def test_binaryen_agrees(tmp_path: Path) -> None:
    command = _binaryen()
    assert command is not None
    flags = ["--all-features", "--disable-compact-imports", "--translate-to-exnref"]
    for case, (funcs, name, args, expected) in sorted(CASES.items()):
        src, dst = tmp_path / f"{case}.wasm", tmp_path / f"{case}.out.wasm"
        src.write_bytes(_module(funcs))
        subprocess.run([*command, *flags, str(src), "-o", str(dst)], check=True, capture_output=True)
        assert _run(dst.read_bytes(), name, args) == expected, case


def test_a_module_without_legacy_opcodes_comes_back_identical() -> None:
    plain = _module('(func (export "f") (result i32) block (result i32) i32.const 1 end)')
    assert exnref.translate(plain) == plain
    aos = (Path(__file__).parent / "modules" / "aos.wasm").read_bytes()
    assert exnref.translate(aos) == aos


def test_only_functions_with_legacy_opcodes_change() -> None:
    from aonode.devices.wasm import binary

    legacy = _module(CASES["catch_all"][0])
    out = exnref.translate(legacy)
    before, after = binary.parse_module(legacy), binary.parse_module(out)
    assert [legacy[b.start : b.end] for b in before.bodies[:2]] == [
        out[b.start : b.end] for b in after.bodies[:2]
    ]
    assert (
        legacy[before.bodies[2].start : before.bodies[2].end]
        != out[after.bodies[2].start : after.bodies[2].end]
    )
    kept = [s for s in before.sections if s.id not in (binary.SEC_TYPE, binary.SEC_CODE)]
    assert all(legacy[s.start : s.end] in out for s in kept)


def test_rethrow_outside_a_handler_is_refused() -> None:
    # rethrow 0 naming a try from its body is invalid legacy code: refused, never translated into something.
    bad = _module('(func (export "f") try rethrow 0 catch_all end)')
    with pytest.raises(exnref.TranslateError, match="rethrow"):
        exnref.translate(bad)
