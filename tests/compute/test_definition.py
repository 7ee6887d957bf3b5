"""The process definition: device, module and limits (within the node's caps, refused beyond them)."""

from __future__ import annotations

import pytest

from aonode.compute import DefinitionError
from aonode.compute.config import ComputeConfig, GiB
from aonode.compute.definition import is_inline_module, limits_of, parse_size
from aonode.crypto import sign_message
from aonode.devices.base import DeviceError, Limits, UnknownDeviceError
from aonode.ids import encode_id
from aonode.model import Message, Tag
from store import ObjectStore
from tests.compute import fakes
from tests.compute.helpers import engine, process_message, run, scheduler, spawn
from tests.scheduler.helpers import CLIENT_KEY


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1024", 1024),
        ("1-gb", GiB),
        ("512-mb", 512 * 1024**2),
        ("16-GB", 16 * GiB),
        ("64kb", 64 * 1024),
        (" 2 - mb ", 2 * 1024**2),
        ("7-b", 7),
        ("1-tb", 1024**4),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "gb", "1-pb", "-1-gb", "1.5-gb", "one"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def _proc(*tags: tuple[str, str]) -> Message:
    return Message(tags=tuple(Tag(k, v) for k, v in tags))


def test_limits_within_caps_and_defaults() -> None:
    config = ComputeConfig(max_wall_seconds=3.0, default_limits=Limits(instructions=5, memory_bytes=6))
    assert limits_of(_proc(), config) == Limits(5, 6, 3.0)
    got = limits_of(_proc(("Compute-Limit", "9000000000000"), ("Memory-Limit", "1-gb")), config)
    assert got == Limits(9_000_000_000_000, GiB, 3.0)


@pytest.mark.parametrize(
    ("tag", "value", "message"),
    [
        ("Compute-Limit", "100001", "Compute-Limit 100001 exceeds this node's cap of 100000"),
        ("Memory-Limit", "2-gb", "Memory-Limit 2147483648 bytes exceeds this node's cap of 1073741824"),
        ("Compute-Limit", "lots", "not a whole number"),
        ("Memory-Limit", "1-pb", "not a size"),
    ],
)
def test_limits_beyond_caps_or_malformed_are_refused(tag: str, value: str, message: str) -> None:
    config = ComputeConfig(max_instructions=100_000, max_memory_bytes=GiB)
    with pytest.raises(DefinitionError, match=message) as info:
        limits_of(_proc((tag, value)), config)
    assert info.value.status == "FAILED_PRECONDITION"


def test_limits_come_from_the_module_and_the_process_overrides_them() -> None:
    config = ComputeConfig(max_wall_seconds=3.0, default_limits=Limits(instructions=5, memory_bytes=6))
    module = _proc(("Compute-Limit", "9000000000000"), ("Memory-Limit", "1-gb"))
    assert limits_of(_proc(), config, module) == Limits(9_000_000_000_000, GiB, 3.0)
    assert limits_of(_proc(("Memory-Limit", "512-mb")), config, module) == Limits(
        9_000_000_000_000, 512 * 1024**2, 3.0
    )
    assert limits_of(_proc(("Compute-Limit", "7")), config, _proc()) == Limits(7, 6, 3.0)


def test_a_wasm_process_that_declares_nothing_gets_enough_fuel_to_boot_aos() -> None:
    config = ComputeConfig(default_limits=Limits(instructions=100_000_000))
    assert limits_of(_proc(), config, _proc(), "wasm64@1.0").instructions == 1_000_000_000
    assert limits_of(_proc(), config, _proc(), "lua@5.3a").instructions == 100_000_000
    declared = _proc(("Compute-Limit", "5000"))
    assert limits_of(_proc(), config, declared, "wasm64@1.0").instructions == 5000


def test_a_module_over_the_caps_is_refused() -> None:
    config = ComputeConfig(max_instructions=100_000, max_memory_bytes=GiB)
    with pytest.raises(DefinitionError, match="the module's Compute-Limit 100001 exceeds"):
        limits_of(_proc(), config, _proc(("Compute-Limit", "100001")))


def test_a_process_over_the_cap_fails_at_compute_time(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message("fake@1.0", ("Memory-Limit", "32-gb")), ["a"]))
    eng = engine(mem, sched)
    try:
        with pytest.raises(DefinitionError, match="exceeds this node's cap"):
            run(eng.now(pid))
        assert eng.stored_head(pid) is None
    finally:
        eng.close()


def test_the_device_gets_the_definition(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    module = sign_message(Message(tags=(Tag("Content-Type", "text/lua"),), data=b"-- code"), CLIENT_KEY)
    module_id = run(sched.publish(module))
    proc = process_message("fake@1.0", ("Module", encode_id(module_id)), ("Compute-Limit", "1234"))
    pid = run(spawn(sched, proc, ["a"]))
    eng = engine(mem, sched, device_settings={"fake@1.0": {"knob": 1}})
    try:
        run(eng.now(pid))
        (ctx,) = fakes.CONTEXTS
        assert ctx.process_id == pid and ctx.process == proc and ctx.module == module
        assert ctx.process_assignment.slot == 0 and ctx.process_assignment.message == pid
        assert ctx.limits.instructions == 1234 and ctx.settings == {"knob": 1}
    finally:
        eng.close()


def test_module_errors(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    missing = spawn(sched, process_message("fake@1.0", ("Module", encode_id(bytes(32)))))
    malformed = spawn(sched, process_message("fake@1.0", ("Module", "nope")))
    unknown = spawn(sched, process_message("nosuch@9"))
    eng = engine(mem, sched)
    try:
        with pytest.raises(DeviceError, match=r"module AAAA.* is not in the store"):
            run(eng.now(run(missing)))
        with pytest.raises(DefinitionError, match="Module"):
            run(eng.now(run(malformed)))
        with pytest.raises(UnknownDeviceError, match="nosuch@9"):
            run(eng.now(run(unknown)))
    finally:
        eng.close()


def test_the_builtin_runtime_module_is_used_without_being_stored(mem: ObjectStore) -> None:
    aos = pytest.importorskip("aonode.devices.aos")
    runtime = aos.runtime_module()
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message("fake@1.0", ("Module", encode_id(runtime.id))), ["a"]))
    eng = engine(mem, sched)
    try:
        run(eng.now(pid))
        assert fakes.CONTEXTS[0].module == runtime
    finally:
        eng.close()


@pytest.mark.parametrize(
    ("tags", "inline"),
    [
        ((("Content-Type", "text/x-lua"),), True),
        ((("Content-Type", "application/lua"),), True),
        ((("content-type", " Application/Lua ; charset=utf-8"),), True),
        ((("Content-Type", "text/plain"),), False),
        ((("Content-Type", "text/lua"),), False),  # not one of dev_lua's types
        ((), False),
        ((("Content-Type", "text/x-lua"), ("Module", encode_id(bytes(32)))), False),
    ],
)
def test_inline_module_form(tags: tuple[tuple[str, str], ...], inline: bool) -> None:
    assert is_inline_module(_proc(*tags)) is inline


def _inline_process(content_type: str, *extra: tuple[str, str]) -> Message:
    tags = (
        Tag("Type", "Process"),
        Tag("Execution-Device", "fake@1.0"),
        Tag("Content-Type", content_type),
        *(Tag(k, v) for k, v in extra),
    )
    return sign_message(Message(tags=tags, data=b"function compute(b) return b end"), CLIENT_KEY)


def test_an_inline_module_is_the_process_itself(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    inline = _inline_process("text/x-lua")
    pid = run(spawn(sched, inline, ["a"]))
    eng = engine(mem, sched)
    try:
        run(eng.now(pid))
        (ctx,) = fakes.CONTEXTS
        assert ctx.module is not None
        assert ctx.module == inline and ctx.module.data == b"function compute(b) return b end"
    finally:
        eng.close()


def test_a_module_tag_wins_over_an_inline_module(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    module = sign_message(Message(tags=(Tag("Content-Type", "text/x-lua"),), data=b"-- by ID"), CLIENT_KEY)
    run(sched.publish(module))
    both = run(spawn(sched, _inline_process("application/lua", ("Module", encode_id(module.id))), ["a"]))
    neither = run(spawn(sched, _inline_process("text/plain"), ["a"]))
    eng = engine(mem, sched)
    try:
        run(eng.now(both))
        run(eng.now(neither))
        assert [c.module for c in fakes.CONTEXTS] == [module, None]
    finally:
        eng.close()
