"""Helpers for the engine tests on the real lua@5.3a device: a raw-ABI module, AOS processes on the built-in
runtime, Eval messages from the owner."""

from __future__ import annotations

import importlib.util

import pytest

from aonode.crypto import sign_message
from aonode.ids import ProcessId, encode_id
from aonode.model import Message, Tag
from aonode.scheduler import Scheduler
from tests.compute.helpers import process_message, run, spawn
from tests.scheduler.helpers import CLIENT_KEY

needs_lua = pytest.mark.skipif(
    importlib.util.find_spec("aonode.devices.lua") is None
    or importlib.util.find_spec("aonode.devices.aos") is None,
    reason="lua@5.3a or the AOS runtime is not installed yet",
)

COUNTER_MODULE = """
function compute(base, req, opts)
  base.n = (base.n or 0) + 1
  base.results = { output = { data = "slot " .. tostring(req.slot) .. " n " .. tostring(base.n) } }
  return base
end
"""


def lua_module(source: str) -> Message:
    tags = (Tag("Content-Type", "text/x-lua"), Tag("Module-Format", "lua@5.3a"), Tag("Type", "Module"))
    return sign_message(Message(tags=tags, data=source.encode()), CLIENT_KEY)


def spawn_module(sched: Scheduler, source: str, datas: list[str] | None = None) -> tuple[Message, ProcessId]:
    module = lua_module(source)
    run(sched.publish(module))
    proc = process_message("lua@5.3a", ("Module", encode_id(module.id)))
    return proc, run(spawn(sched, proc, datas))


def aos_process(*tags: tuple[str, str]) -> Message:
    from aonode.devices.aos import runtime_module

    return process_message("lua@5.3a", ("Module", encode_id(runtime_module().id)), *tags)


def action(pid: bytes, name: str, data: str = "", anchor: str = "", *tags: tuple[str, str]) -> Message:
    m = Message(
        target=encode_id(pid),
        anchor=anchor,
        tags=(Tag("Action", name), *(Tag(k, v) for k, v in tags)),
        data=data.encode(),
    )
    return sign_message(m, CLIENT_KEY)
