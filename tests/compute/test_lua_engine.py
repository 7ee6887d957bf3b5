"""The engine with the real lua@5.3a device: a raw-ABI module and the built-in AOS runtime; dryrun leaves
no trace, eviction/restart replay identically."""

from __future__ import annotations

from pathlib import Path

from aonode.ids import encode_id
from aonode.model import Message
from store import LmdbStore, ObjectStore
from tests.compute.helpers import engine, registry, run, scheduler, send, spawn
from tests.compute.lua_helpers import COUNTER_MODULE, action, aos_process, needs_lua, spawn_module
from tests.conftest import plain

pytestmark = needs_lua


def test_a_raw_module_computes_every_slot(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    _, pid = spawn_module(sched, COUNTER_MODULE, [f"m{i}" for i in range(20)])
    eng = engine(mem, sched)
    try:
        r = run(eng.now(pid))
        assert r.slot == 20 and r.result.output.data == "slot 20 n 21"
        assert eng.stored_result(pid, 0).result.output.data == "slot 0 n 1"  # type: ignore[union-attr]
    finally:
        eng.close()


def test_eval_state_and_dryrun_on_the_aos_runtime(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, aos_process()))
    eng = engine(mem, sched)
    try:
        run(sched.schedule(action(pid, "Eval", "X = 42", "1")))
        run(sched.schedule(action(pid, "Eval", "return X", "2")))
        assert plain(run(eng.now(pid)).result.output.data) == "42"
        # A dryrun that changes X is evaluated, and forgotten.
        dry = run(eng.dryrun(action(pid, "Eval", "X = 7; return X", "3")))
        assert plain(dry.output.data) == "7"
        assert not eng.has_worker(pid)
        run(sched.schedule(action(pid, "Eval", "return X", "4")))
        assert plain(run(eng.now(pid)).result.output.data) == "42"
        run(sched.schedule(action(pid, "Eval", "return 1+1", "5")))
        run(sched.schedule(action(pid, "Eval", "return 2+2", "6")))
        run(eng.now(pid))
        assert [plain(eng.stored_result(pid, s).result.output.data) for s in (4, 5)] == ["2", "4"]  # type: ignore[union-attr]
    finally:
        eng.close()


def test_lua_results_are_identical_after_restart_eviction_and_dryrun(tmp_path: Path) -> None:
    path = tmp_path / "db"
    store = LmdbStore(path)
    sched = scheduler(store)
    _, pid = spawn_module(sched, COUNTER_MODULE, [f"m{i}" for i in range(30)])
    other = run(spawn(sched, aos_process(), []))
    eng = engine(store, sched, max_workers=1)
    run(eng.now(pid))
    before = [eng.stored_result(pid, s) for s in range(31)]
    run(eng.now(other))  # evicts pid's worker
    run(eng.dryrun(Message(target=encode_id(pid), data=b"dry")))
    eng.close()
    sched.close()
    store.close()

    store = LmdbStore(path)
    sched = scheduler(store)
    eng = engine(store, sched, registry())
    try:
        assert [eng.stored_result(pid, s) for s in range(31)] == before
        run(send(sched, pid, ["late"], 500))
        r = run(eng.now(pid))
        assert r.result.output.data == "slot 31 n 32"
        assert eng.stats()["verified"] == 31
    finally:
        eng.close()
        sched.close()
        store.close()
