"""wasm64@1.0 host side with the WAT modules: the stdout/stderr capture bound (wasm64 iovecs), the entry
points the device must never call (`_start`, `main`), and the deterministic clock of a wasm64 module."""

from __future__ import annotations

import pytest

from aonode.devices.wasm import WasmDevice
from aonode.devices.wasm.imports import STDOUT_LIMIT
from tests.devices.wasm.helpers import Proc

# What chatty.wat writes per slot: stdout 40960 "a" + 40960 "b" in one call, then 10 "a"; stderr 70000 "c".
STDOUT_A, STDOUT_B, STDOUT_TAIL, STDERR_C = 40960, 40960, 10, 70000


@pytest.mark.parametrize("limit", [None, 100])
def test_stdout_and_stderr_are_captured_up_to_the_bound(limit: int | None) -> None:
    proc = Proc("chatty", settings={} if limit is None else {"stdout_limit": limit})
    bound = STDOUT_LIMIT if limit is None else limit
    assert STDOUT_LIMIT == 64 * 1024  # the documented default
    device = proc.device()
    for _ in range(2):  # the bound is per slot: the second slot captures the same, not nothing or double
        result = device.compute(*proc.slot())
        assert (result.error, result.output.data) == ("", "ok")
        stdout = (b"a" * STDOUT_A + b"b" * STDOUT_B + b"a" * STDOUT_TAIL)[:bound]
        assert device.last_stdout == stdout + b"c" * min(STDERR_C, bound)
        # The module is told everything was written (a short count would make a C runtime retry forever).
        memory = device._require().memory
        counts = [int.from_bytes(memory.read(at, 8), "little") for at in (4064, 4072, 4080)]
        assert counts == [STDOUT_A + STDOUT_B, STDERR_C, STDOUT_TAIL]
        written = STDOUT_A + STDOUT_B + STDOUT_TAIL + STDERR_C
        assert device._io.dropped == written - len(device.last_stdout)  # what was cut is counted


def test_start_and_main_are_never_called() -> None:
    proc = Proc("entrypoints")
    device = proc.device()
    # "<_initialize calls><_start calls><main calls>": the reactor initializer once, the entry points never
    outputs = [device.compute(*proc.slot("x")).output.data for _ in range(3)]
    assert outputs == ["100"] * 3
    snapshot = device.snapshot()
    assert snapshot is not None
    restored = WasmDevice()
    restored.init(proc.context)
    restored.restore(snapshot)  # a restore runs nothing: `_initialize`'s effect is in the memory already
    assert restored.compute(*proc.slot("y")).output.data == "100"


def test_wasm64_clock_answers_errno_1_and_writes_nothing() -> None:
    proc = Proc("wasi64_clock")
    device = proc.device()
    assert device._require().wide  # really a wasm64 module (i64 pointers)
    for _ in range(2):
        result = device.compute(*proc.slot())
        # clock_time_get (realtime, monotonic) and clock_res_get: errno 1 each, the 8 bytes left as they were
        assert (result.error, result.output.data) == ("", "111xxxxxxxx")


def test_proc_exit_ends_the_slot_with_its_reason_and_the_process_goes_on() -> None:
    proc = Proc("exit")
    device = proc.device()
    failed = device.compute(*proc.slot("exit"))
    assert failed.error == "the module stopped: proc_exit(3)"
    assert device.compute(*proc.slot("fine")).output.data == "ok"
