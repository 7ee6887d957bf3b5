"""wasm64@1.0 against hostile modules: host calls are charged from fuel (a loop of huge memcpy or fd_write
calls runs out of fuel, deterministically, instead of running until the wall clock), answers json cannot
take are the slot's error and the process goes on, error texts carry no object addresses, and
`interrupt` stops a running slot at once without disturbing other devices."""

from __future__ import annotations

import json
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aonode.codec import encode_result
from aonode.compute.runner import encode_checked
from aonode.devices.base import DeviceError, Limits
from aonode.devices.wasm import iface, runtime
from aonode.model import Result
from tests.devices.wasm.helpers import Proc

SLOW_WALL = 60.0


@pytest.mark.parametrize("module", ["host_memcpy", "host_fdwrite"])
def test_a_host_call_loop_runs_out_of_fuel_not_into_the_wall_clock(module: str) -> None:
    proc = Proc(module, Limits(instructions=100_000_000, wall_seconds=SLOW_WALL))
    device = proc.device()
    started = time.monotonic()
    result = device.compute(*proc.slot())
    assert "out of fuel" in result.error
    assert not device.last_slot_nondeterministic
    assert time.monotonic() - started < SLOW_WALL / 4  # before: only the wall clock stopped it
    again = device.compute(*proc.slot())
    assert again.error == result.error  # deterministic, and the device goes on


def test_answers_json_cannot_take_are_the_slots_error_and_the_process_goes_on() -> None:
    proc = Proc("bad_output")
    device = proc.device()
    errors = [device.compute(*proc.slot()).error for _ in range(3)]
    assert errors == [
        "the module's answer is nested deeper than 64 levels",
        "the module's answer has an integer of more than 1000 digits",
        "the module's answer has text that is not valid Unicode (a lone surrogate)",
    ]
    fine = device.compute(*proc.slot())
    assert (fine.error, fine.output.data) == ("", "fine")


def test_error_texts_name_no_object_address() -> None:
    with pytest.raises(DeviceError) as info:
        Proc("bad_signature").device()
    text = str(info.value)
    assert "0x" not in text and "object at" not in text
    assert "(i32) -> (i32)" in text


def test_interrupt_stops_the_running_slot_and_spares_other_devices() -> None:
    victim = Proc("loop", Limits(instructions=10**15, wall_seconds=SLOW_WALL)).device()
    bystander = Proc("loop", Limits(instructions=10**15, wall_seconds=SLOW_WALL))
    running = bystander.device()
    out: dict[str, Result] = {}

    def spin(name: str, device: object, proc: Proc) -> None:
        out[name] = device.compute(*proc.slot())  # type: ignore[attr-defined]

    thread = threading.Thread(target=spin, args=("bystander", running, bystander))
    thread.start()
    time.sleep(0.3)
    victim.interrupt()  # moves the shared epoch: the bystander's early interrupt is retried
    thread.join(1.0)
    assert thread.is_alive(), "an interrupt of another device stopped this one"
    started = time.monotonic()
    running.interrupt()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 5
    assert out["bystander"].error == "wall-clock limit exceeded"
    assert running.last_slot_nondeterministic


def test_a_stop_moves_the_shared_epoch_once_however_many_devices_are_live() -> None:
    procs = [Proc("loop", Limits(instructions=10**15, wall_seconds=SLOW_WALL)) for _ in range(5)]
    devices = [p.device() for p in procs]
    before = runtime.interrupts
    for device in devices:  # what `ComputeEngine.halt` does: each live device is asked
        device.interrupt()
    # Before: each of the five moved the epoch up to `wall_seconds / EPOCH_TICK` times.
    assert runtime.interrupts - before == 1


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
_answers = st.fixed_dictionaries(
    {
        "ok": st.booleans() | _json,
        "response": _json | st.fixed_dictionaries({"Output": _json, "Messages": _json}),
    }
)


def _checked(raw: bytes) -> None:
    result = iface.parse_result(raw)  # never raises
    assert isinstance(result, Result)
    stored, encoded = encode_checked(result, 1 << 20)
    assert encode_result(stored) == encoded


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_any_bytes_give_a_result(raw: bytes) -> None:
    _checked(raw)


@settings(max_examples=300, deadline=None)
@given(_answers)
def test_fuzz_any_json_answer_gives_an_encodable_result(doc: object) -> None:
    _checked(json.dumps(doc).encode())
    _checked(json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass"))
