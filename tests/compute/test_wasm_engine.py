"""The engine with the real wasm64@1.0 device on the emscripten-built C module (tests/devices/wasm/modules):
the counter and the key-value table survive slots, a trap, and an engine restart on the same LMDB that
restores the nearest snapshot (not a replay from slot 0); fuel exhaustion and memory-limit hits are error
Results and the process goes on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aonode.compute import ComputeEngine, layout
from aonode.compute.replay import replay
from aonode.crypto import sign_message
from aonode.ids import ProcessId, encode_id
from aonode.model import Message, Tag
from aonode.scheduler import Scheduler
from store import LmdbStore, ObjectStore
from tests.compute.helpers import engine, process_message, run, scheduler, spawn
from tests.compute.lua_helpers import action
from tests.devices.wasm.helpers import MODULES
from tests.scheduler.helpers import CLIENT_KEY

pytestmark = pytest.mark.skipif(not (MODULES / "aos.wasm").exists(), reason="aos.wasm is not built")

DEVICE = "wasm64@1.0"


def spawn_aos(sched: Scheduler, *tags: tuple[str, str]) -> ProcessId:
    module = Message(
        tags=(Tag("Type", "Module"), Tag("Content-Type", "application/wasm")),
        data=(MODULES / "aos.wasm").read_bytes(),
    )
    module = sign_message(module, CLIENT_KEY)
    run(sched.publish(module))
    return run(spawn(sched, process_message(DEVICE, ("Module", encode_id(module.id)), *tags)))


class Slots:
    """Schedules actions on one process, with distinct anchors."""

    def __init__(self, sched: Scheduler, pid: ProcessId) -> None:
        self.sched, self.pid, self.n = sched, pid, 0

    def __call__(self, name: str, data: str = "", *tags: tuple[str, str]) -> int:
        self.n += 1
        return run(self.sched.schedule(action(self.pid, name, data, f"s{self.n}", *tags))).slot


def outputs(eng: ComputeEngine, pid: ProcessId, slots: range) -> list[str]:
    out = []
    for s in slots:
        r = eng.stored_result(pid, s)
        assert r is not None
        out.append(r.result.error or r.result.output.data)
    return out


def test_state_survives_slots_a_trap_and_a_restart_from_the_nearest_snapshot(
    lmdb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = LmdbStore(lmdb_dir)
    sched = scheduler(store)
    pid = spawn_aos(sched)
    send = Slots(sched, pid)
    send("Count")  # 1
    send("Set", "v1", ("Key", "a"))  # 2
    send("Count")  # 3
    send("Trap")  # 4
    send("Get", "", ("Key", "a"))  # 5
    send("Set", "v2", ("Key", "b"))  # 6
    send("Count")  # 7
    send("Send", "hi", ("Recipient", "R" * 43))  # 8
    send("Count")  # 9
    send("Count")  # 10
    send("Get", "", ("Key", "b"))  # 11
    eng = engine(store, sched, snapshot_every=5)
    try:
        assert run(eng.now(pid)).slot == 11
        got = outputs(eng, pid, range(12))
        # Slot 0 (the Process message, no Action) counts too.
        assert got[:4] == ["count=1", "count=2", "ok", "count=3"]
        assert got[4].startswith("wasm trap:")
        assert got[5:] == ["v1", "ok", "count=4", "sent", "count=5", "count=6", "v2"]
        r8 = eng.stored_result(pid, 8)
        assert r8 is not None and r8.result.messages[0].target == "R" * 43
        assert eng.stats()["fresh_workers"] == 1
        with store.read() as view:
            snap = layout.nearest_snapshot(view, pid, 11)
        assert snap is not None and snap.slot == 10
    finally:
        eng.close()
        sched.close()
        store.close()

    # A new engine on the same LMDB: the next slot starts from the snapshot at slot 10, not from slot 0.
    store = LmdbStore(lmdb_dir)
    sched = scheduler(store)
    send = Slots(sched, pid)
    send.n = 100
    eng = engine(store, sched, snapshot_every=5)
    try:
        assert eng.stored_result(pid, 11) is not None
        assert send("Count") == 12
        send("Get", "", ("Key", "a"))  # 13
        r = run(eng.now(pid))
        assert r.slot == 13
        assert outputs(eng, pid, range(11, 14)) == ["v2", "count=7", "v1"]
        stats = eng.stats()
        assert (stats["restored_workers"], stats["fresh_workers"]) == (1, 0)
        assert stats["verified"] == 1  # slot 11, between the snapshot and the new slots
        assert stats["computed"] == 2
    finally:
        eng.close()
        sched.close()
        store.close()

    # A replay from slot 0 (no snapshots) gives every stored result and hashpath exactly.
    capsys.readouterr()
    assert replay(lmdb_dir, encode_id(pid), check=True) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 14 and all(line["stored"] == "same" for line in lines)


def test_fuel_exhaustion_is_an_error_result_and_the_process_goes_on(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = spawn_aos(sched, ("Compute-Limit", "200000"))
    send = Slots(sched, pid)
    send("Count")  # 1
    send("Grow", "1024")  # 2: touching 1 MiB takes more than 200,000 instructions
    send("Count")  # 3
    send("Trap")  # 4
    send("Count")  # 5
    eng = engine(mem, sched, snapshot_every=2)
    try:
        run(eng.now(pid))
        got = outputs(eng, pid, range(6))
        assert got[:2] == ["count=1", "count=2"]
        assert got[2] == "instruction limit exceeded (out of fuel)"
        assert got[3] == "count=3"
        assert got[4].startswith("wasm trap:")
        assert got[5] == "count=4"
    finally:
        eng.close()


def test_memory_limit_hits_are_error_results_and_the_process_goes_on(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = spawn_aos(sched, ("Memory-Limit", "8-mb"))
    send = Slots(sched, pid)
    for _ in range(8):
        send("Grow", "1024")  # 1..8: the 8th cannot fit (the module reports its own malloc failure)
    send("Count")  # 9
    send("Count", "x" * (2 * 1024 * 1024))  # 10: no room for the message itself (the host's malloc)
    send("Count")  # 11
    eng = engine(mem, sched)
    try:
        run(eng.now(pid))
        got = outputs(eng, pid, range(12))
        assert got[0] == "count=1"
        assert "grown" in got[1:8] and got[8] == "out of memory"
        assert got[9] == "count=2"
        assert got[10].startswith("memory limit exceeded")
        assert got[11] == "count=3"
    finally:
        eng.close()
