"""stack@1.0 (fold, skip, pass, errors, snapshots) and patch@1.0 (PATCH outbox messages merged into state),
with the fake devices, through the engine, and with lua@5.3a when it is installed."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import ClassVar

import pytest

from aonode.devices.base import Device, DeviceError, DeviceRegistry, ProcessContext
from aonode.devices.patch import PatchDevice, is_patch, patch_mapping
from aonode.devices.stack import StackDevice, Step, StepOutcome, stack_names
from aonode.ids import ProcessId
from aonode.model import Assignment, Message, Output, Result, Tag
from store import MemoryStore, ObjectStore
from tests.compute import fakes
from tests.compute.fakes import FakeDevice, SnapDevice
from tests.compute.helpers import engine, process_message, registry, run, scheduler, spawn

PID = ProcessId(bytes(range(32)))


class Recorder(Device):
    """Stack-aware: records (pass, index, prior output) and returns `action` on the first pass."""

    name = "recorder@1.0"
    seen: ClassVar[list[tuple[int, int, str]]] = []
    action: ClassVar[str] = "ok"

    def init(self, context: ProcessContext) -> None:
        pass

    def compute(self, assignment: Assignment, message: Message) -> Result:
        raise AssertionError("a stack calls compute_step")

    def compute_step(self, step: Step) -> StepOutcome:
        prior = step.prior.output.data if step.prior else "-"
        Recorder.seen.append((step.pass_number, step.index, prior))
        result = Result(output=Output(data=f"{prior}+r{step.pass_number}"))
        if step.pass_number == 1 and self.action != "ok":
            return StepOutcome(result, self.action)  # type: ignore[arg-type]
        return StepOutcome(result)


@pytest.fixture
def mem() -> Iterator[ObjectStore]:
    store = MemoryStore()
    yield store
    store.close()


@pytest.fixture(autouse=True)
def _reset_recorder() -> None:
    Recorder.seen = []
    Recorder.action = "ok"
    fakes.reset()


def _registry() -> DeviceRegistry:
    reg = registry()
    reg.register(Recorder.name, Recorder)
    return reg


def _context(*tags: tuple[str, str]) -> ProcessContext:
    proc = Message(tags=(Tag("Type", "Process"), *(Tag(k, v) for k, v in tags)))
    return ProcessContext(PID, proc, Assignment(PID, 0, PID, 0), None)


def _stack(*tags: tuple[str, str]) -> StackDevice:
    device = StackDevice(_registry())
    device.init(_context(*tags))
    return device


def _slot(slot: int, data: str) -> tuple[Assignment, Message]:
    m = Message(tags=(Tag("Action", "Test"),), data=data.encode())
    return Assignment(PID, slot, m.id, 0), m


# -- patch@1.0 --------------------------------------------------------------------------------------------


def test_patch_messages_are_recognised() -> None:
    assert is_patch(Message(tags=(Tag("method", "PATCH"),)))
    assert is_patch(Message(tags=(Tag("Method", "patch"),)))
    assert is_patch(Message(tags=(Tag("device", "patch@1.0"),)))
    assert not is_patch(Message(tags=(Tag("method", "POST"),)))
    assert not is_patch(Message(tags=(Tag("device", "lua@5.3a"),)))


def test_patch_mapping() -> None:
    m = Message(
        target="ignored",
        tags=(
            Tag("Method", "PATCH"),
            Tag("Device", "patch@1.0"),
            Tag("X", "banana"),
            Tag("cache/balances/alice", "10"),
            Tag("cache/total", "10"),
            Tag("tag", "one"),
            Tag("tag", "two"),
        ),
        data=b"payload",
    )
    assert patch_mapping(m) == {
        "x": "banana",
        "cache": {"balances": {"alice": "10"}, "total": "10"},
        "tag": ["one", "two"],
        "data": "payload",
    }
    # A device tag that is not the patch marker is state like any other.
    assert patch_mapping(Message(tags=(Tag("method", "PATCH"), Tag("device", "other")))) == {
        "device": "other"
    }


# -- stack@1.0 --------------------------------------------------------------------------------------------


def test_stack_names() -> None:
    assert stack_names(Message(tags=(Tag("Execution-Stack", "a@1, b@1 ,c@1"),))) == ["a@1", "b@1", "c@1"]
    repeated = Message(tags=(Tag("Execution-Stack", "a@1"), Tag("execution-stack", "b@1")))
    assert stack_names(repeated) == ["a@1", "b@1"]
    assert stack_names(Message(tags=(Tag("Device-Stack", "a@1"),))) == ["a@1"]
    assert stack_names(Message()) == []


def test_a_patch_under_stack_changes_the_state_and_leaves_the_outbox() -> None:
    stack = _stack(("Execution-Stack", "fake@1.0,patch@1.0"))
    fake = stack.devices[0]
    assert isinstance(fake, FakeDevice)
    r = stack.compute(*_slot(1, "patch"))
    assert [m.tag("Action") for m in r.messages] == ["Before", "After"]
    assert fake.base == {"x": "banana"}
    assert stack.compute(*_slot(2, "next")).output.data.endswith('{"x": "banana"}')
    assert not stack.can_snapshot and stack.snapshot() is None


def test_patches_apply_in_outbox_order() -> None:
    class Emitter(FakeDevice):
        def compute(self, assignment: Assignment, message: Message) -> Result:
            return Result(
                messages=(
                    Message(tags=(Tag("method", "PATCH"), Tag("x", "1"), Tag("a/b", "1"))),
                    Message(tags=(Tag("device", "patch@1.0"), Tag("x", "2"), Tag("a/c", "2"))),
                )
            )

    reg = _registry()
    reg.register("emitter@1.0", Emitter)
    stack = StackDevice(reg)
    stack.init(_context(("Execution-Stack", "emitter@1.0,patch@1.0")))
    assert stack.compute(*_slot(1, "x")).messages == ()
    emitter = stack.devices[0]
    assert isinstance(emitter, Emitter)
    assert emitter.base == {"x": "2", "a": {"b": "1", "c": "2"}}


def test_plain_devices_run_on_the_first_pass_only_and_pass_restarts_the_fold() -> None:
    Recorder.action = "pass"
    stack = _stack(("Execution-Stack", "fake@1.0,recorder@1.0"), ("Passes", "2"))
    r = stack.compute(*_slot(1, "a"))
    assert fakes.CALLS[(PID, 1)] == 1
    fake_out = Recorder.seen[0][2]
    assert Recorder.seen == [(1, 1, fake_out), (2, 1, fake_out + "+r1")]
    assert r.output.data == fake_out + "+r1+r2"


def test_pass_at_the_last_pass_counts_as_ok() -> None:
    Recorder.action = "pass"
    stack = _stack(("Execution-Stack", "recorder@1.0,fake@1.0"))
    r = stack.compute(*_slot(1, "a"))
    assert Recorder.seen == [(1, 0, "-")]
    assert r.output.data.startswith("1:1:")  # the plain device's result replaces the result so far


def test_skip_stops_the_fold() -> None:
    Recorder.action = "skip"
    stack = _stack(("Execution-Stack", "recorder@1.0,fake@1.0"))
    assert stack.compute(*_slot(1, "a")).output.data == "-+r1"
    assert fakes.CALLS[(PID, 1)] == 0


def test_an_error_result_stops_the_fold() -> None:
    stack = _stack(("Execution-Stack", "fake@1.0,recorder@1.0"))
    assert stack.compute(*_slot(1, "error")).error == "boom at slot 1"
    assert Recorder.seen == []


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ((), "names no Execution-Stack"),
        ((("Execution-Stack", "fake@1.0,stack@1.0"),), "cannot be nested"),
        ((("Execution-Stack", "fake@1.0"), ("Passes", "0")), "Passes must be"),
        ((("Execution-Stack", "fake@1.0"), ("Passes", "17")), "Passes must be"),
    ],
)
def test_bad_stacks_are_refused(tags: tuple[tuple[str, str], ...], message: str) -> None:
    with pytest.raises(DeviceError, match=message):
        _stack(*tags)


def test_a_patch_without_a_patchable_device_is_a_host_fault() -> None:
    class Plain(Device):
        name = "plain@1.0"

        def init(self, context: ProcessContext) -> None:
            pass

        def compute(self, assignment: Assignment, message: Message) -> Result:
            return Result(messages=(Message(tags=(Tag("method", "PATCH"),)),))

    reg = _registry()
    reg.register(Plain.name, Plain)
    stack = StackDevice(reg)
    stack.init(_context(("Execution-Stack", "plain@1.0,patch@1.0")))
    with pytest.raises(DeviceError, match="none has apply_patch"):
        stack.compute(*_slot(1, "x"))


def test_stack_snapshots_when_all_its_devices_can() -> None:
    stack = _stack(("Execution-Stack", "fakesnap@1.0,patch@1.0"))
    assert stack.can_snapshot
    stack.compute(*_slot(1, "patch"))
    data = stack.snapshot()
    assert data is not None
    other = _stack(("Execution-Stack", "fakesnap@1.0,patch@1.0"))
    other.restore(data)
    restored = other.devices[0]
    assert isinstance(restored, SnapDevice) and restored.base == {"x": "banana"}
    assert other.compute(*_slot(2, "n")) == stack.compute(*_slot(2, "n"))
    with pytest.raises(DeviceError, match="not a stack snapshot"):
        other.restore(b"\x00\x00\x00\x05")
    stack.close()
    assert stack.devices == [] and stack.memory_bytes() == 0


def test_patch_alone_computes_nothing() -> None:
    device = PatchDevice()
    device.init(_context())
    assert device.compute(*_slot(1, "x")) == Result()
    assert device.snapshot() == b""


# -- through the engine -----------------------------------------------------------------------------------


def test_stack_and_patch_through_the_engine(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    proc = process_message("stack@1.0", ("Execution-Stack", "fake@1.0, patch@1.0"))
    pid = run(spawn(sched, proc, ["a", "patch", "b"]))
    eng = engine(mem, sched, reg=_registry())
    try:
        run(eng.now(pid))
        patched = eng.stored_result(pid, 2)
        after = eng.stored_result(pid, 3)
        assert patched is not None and after is not None
        assert [m.tag("Action") for m in patched.result.messages] == ["Before", "After"]
        assert after.result.output.data.endswith('{"x": "banana"}')
    finally:
        eng.close()


# -- with lua@5.3a ----------------------------------------------------------------------------------------

LUA_PATCH_MODULE = """
function compute(base, req, opts)
  if req.body.action == "Patch" then
    base.results = {
      outbox = { ["1"] = { method = "PATCH", x = "banana" }, ["2"] = { target = "t", data = "kept" } }
    }
  else
    base.results = { output = { data = tostring(base.x) } }
  end
  return base
end
"""


@pytest.mark.skipif(
    importlib.util.find_spec("aonode.devices.lua") is None, reason="lua@5.3a not installed yet"
)
def test_lua_patch_under_stack(mem: ObjectStore) -> None:
    from aonode.crypto import sign_message
    from aonode.ids import encode_id
    from tests.scheduler.helpers import CLIENT_KEY

    sched = scheduler(mem)
    module = sign_message(
        Message(tags=(Tag("Content-Type", "text/lua"),), data=LUA_PATCH_MODULE.encode()), CLIENT_KEY
    )
    module_id = run(sched.publish(module))
    proc = process_message(
        "stack@1.0", ("Execution-Stack", "lua@5.3a, patch@1.0"), ("Module", encode_id(module_id))
    )
    pid = run(spawn(sched, proc))
    eng = engine(mem, sched)
    try:
        for action in ("Patch", "Read"):
            m = sign_message(
                Message(target=encode_id(pid), anchor=action, tags=(Tag("Action", action),)), CLIENT_KEY
            )
            run(sched.schedule(m))
        run(eng.now(pid))
        patched = eng.stored_result(pid, 1)
        read = eng.stored_result(pid, 2)
        assert patched is not None and read is not None
        assert patched.result.error == "" and [m.data for m in patched.result.messages] == [b"kept"]
        assert read.result.output.data == "banana"
    finally:
        eng.close()
