"""emscripten's JS-glue setjmp/longjmp (`invoke_*`, `_emscripten_throw_longjmp`), as mainnet AOS binaries
use it for Lua's errors, with `sjlj.wat`, a module lowered the way emscripten lowers it (see its header)."""

from __future__ import annotations

import pytest

from aonode.devices.base import DeviceError, Limits
from aonode.devices.wasm.device import OUT_OF_FUEL_ERROR
from tests.devices.wasm.helpers import Proc


def test_a_longjmp_is_caught_by_the_nearest_invoke() -> None:
    proc = Proc("sjlj")
    device = proc.device()
    outputs = [device.compute(*proc.slot(data)).output.data for data in ("throw", "normal", "throw")]
    # The jump came back through invoke_vi with __THREW__ set and the stack pointer restored (else the
    # module answers "stale"), execution went on, and the catch count lives on in the state.
    assert outputs == ["caught 1", "normal 1", "caught 2"]


def test_a_longjmp_with_nothing_to_catch_it_fails_the_slot_only() -> None:
    proc = Proc("sjlj")
    device = proc.device()
    assert device.compute(*proc.slot("throw")).output.data == "caught 1"
    failed = device.compute(*proc.slot("uncaught"))
    assert failed.error == "the module stopped: longjmp with no setjmp to return to"
    # The slot's trap left no half state: the next slot sees the last good one.
    assert device.compute(*proc.slot("throw")).output.data == "caught 2"


def test_running_out_of_fuel_inside_an_invoke_is_not_caught() -> None:
    proc = Proc("sjlj", limits=Limits(instructions=200_000))
    device = proc.device()
    failed = device.compute(*proc.slot("loop"))
    assert failed.error == OUT_OF_FUEL_ERROR  # the fuel trap itself, not a jump the module swallowed
    assert device.compute(*proc.slot("throw")).output.data == "caught 1"


def test_invoke_needs_the_table_and_set_threw_exported() -> None:
    with pytest.raises(DeviceError, match="does not export __indirect_function_table, setThrew"):
        Proc("invoke_no_exports").device()
