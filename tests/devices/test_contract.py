"""The device contract, run against every device the node registers (plus the test devices): the name it
is registered under, deterministic computation of a schedule, process faults as error Results (the device
goes on), snapshot/restore for devices that can, `snapshot() is None` for the others, and a clean close.

Every registered device needs a scenario here (a process definition, a module if it takes one, messages):
a device added to `default_registry()` without one fails `test_every_registered_device_has_a_scenario`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from aonode.devices.base import Device, DeviceRegistry, ProcessContext
from aonode.devices.registry import default_registry
from aonode.ids import ProcessId, next_hash_chain
from aonode.model import Assignment, Message, Result, Tag
from tests.compute.fakes import FakeDevice, SnapDevice

LUA_MODULE = """
function compute(base, req, opts)
  if req.body.data == "error" then error("deliberate") end
  base.n = (base.n or 0) + 1
  base.results = { output = { data = "slot " .. tostring(req.slot) .. " n " .. tostring(base.n) } }
  return base
end
"""


@dataclass(frozen=True)
class Scenario:
    tags: tuple[tuple[str, str], ...] = ()
    module: bytes | None = None
    datas: tuple[str, ...] = ("a", "b", "c", "d")
    error_data: str | None = None
    """Message data that makes the process fail (an error Result), if the device has such a thing."""
    available: Callable[[], bool] = lambda: True


def _lua_available() -> bool:
    return importlib.util.find_spec("aonode.devices.lua") is not None


def _wasm_module() -> bytes | None:
    """The counter module of tests/devices/wasm (WAT): it counts messages and traps on data "trap"."""
    try:
        import wasmtime
    except ModuleNotFoundError:
        return None
    wat = Path(__file__).parent / "wasm" / "modules" / "counter.wat"
    return bytes(wasmtime.wat2wasm(wat.read_text()))


SCENARIOS: dict[str, Scenario] = {
    FakeDevice.name: Scenario(error_data="error"),
    SnapDevice.name: Scenario(error_data="error"),
    "patch@1.0": Scenario(),
    "stack@1.0": Scenario(tags=(("Execution-Stack", "fakesnap@1.0, patch@1.0"),), error_data="error"),
    "lua@5.3a": Scenario(module=LUA_MODULE.encode(), error_data="error", available=_lua_available),
    "wasm64@1.0": Scenario(
        module=_wasm_module(), error_data="trap", available=lambda: SCENARIOS["wasm64@1.0"].module is not None
    ),
}


def _registry() -> DeviceRegistry:
    reg = default_registry()
    reg.register(FakeDevice.name, FakeDevice)
    reg.register(SnapDevice.name, SnapDevice)
    return reg


NAMES = _registry().names()


def _process(name: str, scenario: Scenario) -> tuple[ProcessContext, list[tuple[Assignment, Message]]]:
    module = None
    tags = [Tag("Type", "Process"), Tag("Execution-Device", name), *(Tag(k, v) for k, v in scenario.tags)]
    if scenario.module is not None:
        module = Message(tags=(Tag("Content-Type", "text/lua"),), data=scenario.module)
    proc = Message(tags=tuple(tags), data=b"process")
    pid = ProcessId(proc.id)
    chain = next_hash_chain(pid, pid)
    slot0 = Assignment(pid, 0, pid, 1_000, hash_chain=chain)
    slots = [(slot0, proc)]
    datas = list(scenario.datas)
    if scenario.error_data is not None:
        datas.insert(2, scenario.error_data)
    for i, data in enumerate(datas, start=1):
        m = Message(target="", anchor=f"n{i}", tags=(Tag("Action", "Test"),), data=data.encode())
        chain = next_hash_chain(chain, m.id)
        slots.append((Assignment(pid, i, m.id, 1_000 + i, hash_chain=chain), m))
    return ProcessContext(pid, proc, slot0, module), slots


def _device(name: str) -> tuple[Device, list[tuple[Assignment, Message]], Scenario]:
    scenario = SCENARIOS[name]
    if not scenario.available():
        pytest.skip(f"{name} is not installed yet")
    ctx, slots = _process(name, scenario)
    device = _registry().create(name)
    device.init(ctx)
    return device, slots, scenario


def test_every_registered_device_has_a_scenario() -> None:
    assert set(default_registry().names()) <= set(SCENARIOS)


@pytest.mark.parametrize("name", NAMES)
def test_registered_under_its_name(name: str) -> None:
    if not SCENARIOS[name].available():
        pytest.skip(f"{name} is not installed yet")
    device = _registry().create(name)
    assert device.name == name
    device.close()


@pytest.mark.parametrize("name", NAMES)
def test_computes_a_schedule_deterministically(name: str) -> None:
    a, slots, _ = _device(name)
    b, _, _ = _device(name)
    try:
        ra = [a.compute(asg, m) for asg, m in slots]
        rb = [b.compute(asg, m) for asg, m in slots]
        assert all(isinstance(r, Result) for r in ra)
        assert [r.digest for r in ra] == [r.digest for r in rb]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("name", NAMES)
def test_a_process_fault_is_an_error_result_and_the_device_goes_on(name: str) -> None:
    device, slots, scenario = _device(name)
    if scenario.error_data is None:
        device.close()
        pytest.skip(f"{name} has no process faults")
    try:
        results = [device.compute(asg, m) for asg, m in slots]
        failing = [i for i, (_, m) in enumerate(slots) if m.data == scenario.error_data.encode()]
        assert failing and all(results[i].error for i in failing)
        assert not results[-1].error
    finally:
        device.close()


@pytest.mark.parametrize("name", NAMES)
def test_snapshot_and_restore(name: str) -> None:
    device, slots, _ = _device(name)
    try:
        half = len(slots) // 2
        for asg, m in slots[:half]:
            device.compute(asg, m)
        data = device.snapshot()
        if not device.can_snapshot:
            assert data is None
            return
        assert isinstance(data, bytes)
        other, _, _ = _device(name)
        other.restore(data)
        rest = [device.compute(asg, m).digest for asg, m in slots[half:]]
        assert [other.compute(asg, m).digest for asg, m in slots[half:]] == rest
        other.close()
    finally:
        device.close()


@pytest.mark.parametrize("name", NAMES)
def test_memory_and_close(name: str) -> None:
    device, slots, _ = _device(name)
    device.compute(*slots[0])
    assert device.memory_bytes() >= 0
    device.close()
    device.close()
