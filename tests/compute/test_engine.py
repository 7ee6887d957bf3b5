"""The engine with the fake devices: compute/now/stored results, hashpaths, errors, workers, concurrency."""

from __future__ import annotations

import asyncio

import pytest
from blake3 import blake3

from aonode.codec import encode_result
from aonode.compute import ComputeEngine, EngineClosedError, SlotOutOfRange
from aonode.compute.layout import RESULTS_HEAD
from aonode.compute.workers import WORKER_OVERHEAD
from aonode.devices.base import DeviceError
from aonode.errors import InvalidArgument, NotFound
from aonode.ids import next_hashpath
from aonode.scheduler import Scheduler
from store import ObjectStore
from tests.compute import fakes
from tests.compute.helpers import engine, process_message, run, scheduler, send, spawn, twin


def _setup(store: ObjectStore, datas: list[str], **config: object) -> tuple[Scheduler, ComputeEngine, bytes]:
    sched = scheduler(store)
    pid = run(spawn(sched, process_message(), datas))
    return sched, engine(store, sched, **config), pid  # type: ignore[arg-type]


def test_compute_slot_n_computes_and_stores_every_slot_before_it(mem: ObjectStore) -> None:
    sched, eng, pid = _setup(mem, [f"m{i}" for i in range(10)])
    try:
        r = run(eng.compute(pid, 6))
        assert r.slot == 6 and r.process == pid
        assert [fakes.CALLS[(pid, s)] for s in range(11)] == [1] * 7 + [0] * 4
        assert eng.stored_head(pid) == 6
        hashpath = pid
        assignments = sched.read_assignments(pid, 0, 7)
        for s in range(7):
            stored = eng.stored_result(pid, s)
            assert stored is not None and stored.slot == s
            hashpath = next_hashpath(hashpath, assignments[s].id)
            assert stored.hashpath == hashpath
            assert stored.result_digest == blake3(encode_result(stored.result)).digest()
            assert stored.result_digest == stored.result.digest
        assert r.hashpath == hashpath and r.result == eng.stored_result(pid, 6).result  # type: ignore[union-attr]
        assert eng.stored_result(pid, 7) is None
        # Slot 0 (the Process message itself) is computed too.
        assert eng.stored_result(pid, 0).result.output.data.startswith("0:1:")  # type: ignore[union-attr]
    finally:
        eng.close()


def test_second_compute_is_served_from_the_store(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem, ["a", "b", "c"])
    try:
        first = run(eng.compute(pid, 3))
        again = run(eng.compute(pid, 3))
        lower = run(eng.compute(pid, 1))
        assert again == first
        assert lower.slot == 1
        assert all(fakes.CALLS[(pid, s)] == 1 for s in range(4))
        assert eng.stats()["served_from_store"] == 2
    finally:
        eng.close()


def test_now_computes_every_slot_and_earlier_slots_stay_readable(mem: ObjectStore) -> None:
    sched, eng, pid = _setup(mem, ["a", "b"])
    try:
        r = run(eng.now(pid))
        assert r.slot == 2
        run(send(sched, pid, ["c", "d"], 10))
        r2 = run(eng.now(pid))
        assert r2.slot == 4
        for s in range(5):
            assert eng.stored_result(pid, s) is not None
        assert run(eng.compute(pid, 1)) == eng.stored_result(pid, 1)
        assert all(fakes.CALLS[(pid, s)] == 1 for s in range(5))
    finally:
        eng.close()


def test_out_of_range_not_found_and_bad_arguments(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem, ["a"])
    try:
        with pytest.raises(SlotOutOfRange, match="beyond the tip"):
            run(eng.compute(pid, 2))
        with pytest.raises(NotFound):
            run(eng.compute(bytes(32), 0))
        with pytest.raises(NotFound):
            run(eng.now(bytes(32)))
        with pytest.raises(InvalidArgument):
            run(eng.compute(pid, -1))
        with pytest.raises(InvalidArgument):
            run(eng.compute(b"short", 0))
        assert SlotOutOfRange.status == "OUT_OF_RANGE"
    finally:
        eng.close()


def test_an_error_in_a_slot_is_its_result_and_the_process_goes_on(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem, ["a", "error", "b"])
    try:
        r = run(eng.now(pid))
        err = eng.stored_result(pid, 2)
        assert err is not None and err.result.error == "boom at slot 2"
        assert r.result.error == "" and r.result.output.data.startswith("3:3:")
    finally:
        eng.close()


def test_a_device_error_fails_the_request_and_drops_the_worker(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem, ["a", "b", "crash-once", "c"])
    try:
        run(eng.compute(pid, 2))
        assert eng.has_worker(pid)
        with pytest.raises(DeviceError, match="injected host fault at slot 3"):
            run(eng.compute(pid, 4))
        assert not eng.has_worker(pid)
        assert eng.stored_head(pid) == 2
        # The next request rebuilds the state by replay (checked against the stored results) and goes on.
        r = run(eng.compute(pid, 4))
        assert r.slot == 4
        assert eng.stats()["verified"] == 3 and eng.has_worker(pid)
    finally:
        eng.close()


def test_an_unexpected_exception_in_a_device_is_a_device_error(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem, ["raise"])
    try:
        with pytest.raises(DeviceError, match="RuntimeError: a bug in the device"):
            run(eng.compute(pid, 1))
        assert not eng.has_worker(pid)
    finally:
        eng.close()


def test_results_are_written_in_batches_and_all_are_durable_at_the_reply(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem, [f"m{i}" for i in range(40)], write_every=7)
    try:
        r = run(eng.compute(pid, 40))
        assert r.slot == 40
        assert [eng.stored_result(pid, s) is not None for s in range(41)] == [True] * 41
        head = mem.get(RESULTS_HEAD, pid)
        assert head is not None and head[1:9] == (40).to_bytes(8, "big")
    finally:
        eng.close()


def test_concurrent_computes_of_one_process_compute_each_slot_once(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem, ["sleep"] * 30)

    async def many() -> list[int]:
        slots = [30, 5, 17, 30, 1, 29, 12, 30, 0, 22]
        results = await asyncio.gather(*(eng.compute(pid, s) for s in slots))
        return [r.slot for r in results]

    try:
        assert run(many()) == [30, 5, 17, 30, 1, 29, 12, 30, 0, 22]
        assert all(fakes.CALLS[(pid, s)] == 1 for s in range(31))
        assert fakes.MAX_ACTIVE[0] == 1
    finally:
        eng.close()


def test_two_processes_compute_in_parallel(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    p1 = run(spawn(sched, process_message(), ["sleep"] * 20))
    p2 = run(spawn(sched, process_message(), ["sleep"] * 20))
    eng = engine(mem, sched, threads=2)

    async def both() -> None:
        await asyncio.gather(eng.now(p1), eng.now(p2))

    try:
        run(both())
        assert fakes.MAX_ACTIVE[0] == 2
        assert eng.stored_head(p1) == 20 and eng.stored_head(p2) == 20
    finally:
        eng.close()


def test_lru_evicts_by_count_and_replay_gives_identical_results(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    proc1 = process_message()
    p1 = run(spawn(sched, proc1, [f"x{i}" for i in range(8)]))
    p2 = run(spawn(sched, process_message(), [f"y{i}" for i in range(8)]))
    eng = engine(mem, sched, max_workers=1)
    try:
        run(eng.now(p1))
        run(eng.now(p2))
        assert not eng.has_worker(p1) and eng.has_worker(p2)
        assert eng.stats()["evictions"] == 1
        run(send(sched, p1, ["z1", "z2"], 100))
        r = run(eng.now(p1))
        assert r.slot == 10
        assert eng.stats()["verified"] == 9  # slots 0..8 recomputed and compared, 9..10 new
        assert fakes.CALLS[(p1, 3)] == 2
        mine = [eng.stored_result(p1, s) for s in range(11)]
    finally:
        eng.close()
    # The same schedule in a fresh store, computed by an engine that never evicts: identical.
    assert [(m.result_digest, m.hashpath) for m in mine if m] == twin(
        proc1, [[f"x{i}" for i in range(8)], ["z1", "z2"]], [1, 100]
    )


def test_lru_evicts_by_memory(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    p1 = run(spawn(sched, process_message(), ["a"]))
    p2 = run(spawn(sched, process_message(), ["b"]))
    fakes.FakeDevice.memory = 600
    # Each worker is charged its device's memory, its Process message's data ("process": 7 bytes; the fake
    # process has no module) and the fixed overhead.
    eng = engine(mem, sched, max_worker_memory=1000 + WORKER_OVERHEAD)
    try:
        run(eng.now(p1))
        assert eng.has_worker(p1)
        run(eng.now(p2))
        assert eng.has_worker(p2) and not eng.has_worker(p1)
        assert eng.stats()["worker_memory"] == 600 + len(b"process") + WORKER_OVERHEAD
        fakes.FakeDevice.memory = 2000
        run(send(sched, p2, ["c"], 10))
        run(eng.now(p2))
        assert eng.stats()["workers"] == 0  # a worker alone above the bound is not kept
    finally:
        eng.close()


def test_closed_engine_refuses(mem: ObjectStore) -> None:
    _sched, eng, pid = _setup(mem, ["a"])
    run(eng.compute(pid, 1))
    eng.close()
    eng.close()
    with pytest.raises(EngineClosedError):
        run(eng.compute(pid, 1))
    with pytest.raises(EngineClosedError):
        run(eng.now(pid))
