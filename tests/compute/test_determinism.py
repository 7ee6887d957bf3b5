"""Determinism between OS processes: the same schedule of 1,000+ messages on the built-in AOS runtime,
exercising `pairs` over string and number keys, `next`, `table.sort` with ties, `math.random` (AOS's
Mersenne Twister, .chance), `os.time`, `tostring({})` and of a function, JSON encoding of tables and floats,
the AOS libraries (.bint, .crypto, .base64) and failing handlers, recomputed by
`python -m aonode.compute.replay` in two OS processes with different `PYTHONHASHSEED`: byte-identical
result digests and hashpaths at every slot, equal to what the node computed and stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aonode.ids import encode_id
from store import LmdbStore
from tests.compute.helpers import engine, run, scheduler, spawn
from tests.compute.lua_helpers import action, aos_process, needs_lua

pytestmark = [needs_lua, pytest.mark.slow]

N = 1_000

PROBE = r"""
local json = require("json")
local bint = require(".bint")(256)
local crypto = require(".crypto")
local base64 = require(".base64")
Count = Count or 0
Handlers.add("probe", "Probe", function(msg)
  Count = Count + 1
  local t = { alpha = 1, beta = 2, gamma = 3, delta = 4, [1] = "one", [2] = "two", [10] = "ten", [2.5] = "x" }
  t[msg.Data] = Count
  t[Count] = msg.Data
  local keys = {}
  for k, v in pairs(t) do keys[#keys + 1] = tostring(k) .. "=" .. tostring(v) end
  local first = next(t)
  local arr = {}
  for i = 1, 16 do arr[i] = { v = math.random(1, 3), i = i } end
  table.sort(arr, function(a, b) return a.v < b.v end)
  local order = {}
  for i = 1, #arr do order[i] = arr[i].i end
  local out = {
    keys = table.concat(keys, ","), first = tostring(first), order = order,
    r = math.random(), n = math.random(1000000), t = os.time(),
    s = tostring({}), f = tostring(print),
    j = json.encode({ b = 1, a = { 3, 2, 1 }, c = { x = "y", z = "w" }, [msg.Data] = Count, q = Count / 3 }),
    big = tostring(bint.ipow(bint(Count + 7), bint(20)) // bint(msg.Data:len() + 1)),
    h = crypto.digest.sha2_256(msg.Data .. Count).asHex(), k = crypto.digest.keccak256(msg.Data).asHex(),
    b64 = base64.encode(msg.Data .. tostring(math.random(1000))),
  }
  if Count % 10 == 0 then error("failing handler " .. Count) end
  print(json.encode(out))
  msg.reply({ Data = json.encode(out) })
end)
"""


def _replay(data: Path, pid: str, seed: str) -> list[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run(
        [sys.executable, "-m", "aonode.compute.replay", str(data), pid, "--check"],
        env=env,
        capture_output=True,
        check=False,
        timeout=600,
        cwd=Path(__file__).parents[2],
    )
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    return out.stdout.decode().splitlines()


def test_two_os_processes_compute_byte_identical_results(tmp_path: Path) -> None:
    store = LmdbStore(tmp_path / "store")
    sched = scheduler(store)
    eng = engine(store, sched)
    try:
        pid = run(spawn(sched, aos_process()))
        run(sched.schedule(action(pid, "Eval", PROBE, "probe")))
        probes = [action(pid, "Probe", f"k{i % 17}", f"p{i}") for i in range(N)]
        for i in range(0, N, 250):
            run(sched.schedule_many(probes[i : i + 250]), timeout=120)
        r = run(eng.now(pid), timeout=600)
        assert r.slot == N + 1
        outputs = [eng.stored_result(pid, s) for s in range(N + 2)]
    finally:
        eng.close()
        sched.close()
        store.close()
    assert all(o is not None for o in outputs)
    errors = [o.slot for o in outputs if o is not None and o.result.error]
    assert len(errors) == N // 10 and "failing handler 10" in outputs[11].result.error  # type: ignore[union-attr]
    assert outputs[2] is not None and '"keys"' in outputs[2].result.output.data
    first = _replay(tmp_path, encode_id(pid), "1")
    second = _replay(tmp_path, encode_id(pid), "4242")
    assert len(first) == N + 2
    assert first == second
    lines = [json.loads(line) for line in first]
    assert all(line["stored"] == "same" for line in lines)
