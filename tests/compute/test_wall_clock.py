"""A slot stopped by the wall-clock backstop (not by its deterministic budget) is never stored: its
result would depend on this machine's speed."""

from __future__ import annotations

import pytest

from aonode.devices.base import DeviceError, Limits
from store import ObjectStore
from tests.compute.helpers import engine, run, scheduler
from tests.compute.lua_helpers import needs_lua, spawn_module

SPIN = """
function compute(base, req, opts)
  if req.body.data == "spin" then while true do end end
  base.results = { output = { data = "ok " .. tostring(req.slot) } }
  return base
end
"""


@needs_lua
def test_wall_clock_stop_is_not_stored(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    _, pid = spawn_module(sched, SPIN, ["fine", "spin", "fine"])
    eng = engine(mem, sched, max_wall_seconds=0.2, default_limits=Limits(instructions=10**13))
    try:
        assert run(eng.compute(pid, 1)).result.output.data == "ok 1"
        with pytest.raises(DeviceError, match="wall-clock"):
            run(eng.compute(pid, 2))
        assert eng.stored_result(pid, 2) is None
        assert eng.stored_result(pid, 1) is not None
    finally:
        eng.close()
