"""Store failures, cancelled callers and closing while computing."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

import pytest

from aonode.compute import EngineClosedError, ResultStoreFull
from store import ObjectStore, ReadView, StoreFullError, WriteBatch
from tests.compute import fakes
from tests.compute.helpers import engine, process_message, run, scheduler, send, spawn


class SwitchableStore(ObjectStore):
    """Delegates to `inner`; while `failing`, every submit fails as a full map would."""

    def __init__(self, inner: ObjectStore) -> None:
        super().__init__()
        self.inner = inner
        self.failing = False

    def read(self) -> ReadView:
        return self.inner.read()

    def submit(self, batch: WriteBatch) -> Future[None]:
        if self.failing:
            fut: Future[None] = Future()
            fut.set_exception(StoreFullError("injected: map full"))
            return fut
        return self.inner.submit(batch)

    def _on_writer_thread(self) -> bool:
        return False

    def stats(self) -> dict[str, int]:
        return self.inner.stats()

    def close(self) -> None:
        pass


def test_a_store_failure_fails_the_request_and_drops_the_worker(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message(), [f"m{i}" for i in range(10)]))
    store = SwitchableStore(mem)
    eng = engine(store, sched, write_every=4)
    try:
        run(eng.compute(pid, 2))
        store.failing = True
        with pytest.raises(ResultStoreFull, match="map full") as info:
            run(eng.compute(pid, 9))
        assert info.value.status == "RESOURCE_EXHAUSTED"
        assert not eng.has_worker(pid)
        assert eng.stored_head(pid) == 2
        store.failing = False
        r = run(eng.compute(pid, 9))
        assert r.slot == 9 and eng.stored_head(pid) == 9
        assert [eng.stored_result(pid, s) is not None for s in range(10)] == [True] * 10
    finally:
        eng.close()


def test_a_cancelled_caller_does_not_cancel_the_computation(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message(), ["sleep"] * 40))
    eng = engine(mem, sched)

    async def scenario() -> int:
        task = asyncio.ensure_future(eng.compute(pid, 40))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The computation goes on holding the process's lock; the next caller waits for it.
        r = await eng.compute(pid, 40)
        return r.slot

    try:
        assert run(scenario()) == 40
        assert all(fakes.CALLS[(pid, s)] == 1 for s in range(41))
    finally:
        eng.close()


def test_close_stops_a_running_computation(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message(), ["sleep"] * 200))
    eng = engine(mem, sched)
    outcome: list[BaseException] = []

    async def compute() -> None:
        try:
            await eng.compute(pid, 200)
        except BaseException as exc:
            outcome.append(exc)

    def closer() -> None:
        while not fakes.CALLS:
            pass
        eng.close()

    t = threading.Thread(target=closer)
    t.start()
    run(compute())
    t.join()
    assert len(outcome) == 1 and isinstance(outcome[0], EngineClosedError)
    assert sum(fakes.CALLS.values()) < 200


def test_results_of_earlier_slots_are_kept_when_a_later_slot_fails(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pid = run(spawn(sched, process_message(), ["a", "b", "crash"]))
    eng = engine(mem, sched)
    try:
        with pytest.raises(Exception, match="injected host fault at slot 3"):
            run(eng.now(pid))
        assert eng.stored_head(pid) == 2  # durable before the error reached the caller
        run(send(sched, pid, ["c"], 10))
    finally:
        eng.close()


def test_close_fails_queued_computations_as_closed(mem: ObjectStore) -> None:
    sched = scheduler(mem)
    pids = [run(spawn(sched, process_message(), ["sleep"] * 100)) for _ in range(3)]
    eng = engine(mem, sched, threads=1)
    outcomes: list[BaseException | None] = []

    async def compute(pid: bytes) -> None:
        try:
            await eng.compute(pid, 100)
            outcomes.append(None)
        except BaseException as exc:
            outcomes.append(exc)

    async def scenario() -> None:
        tasks = [asyncio.ensure_future(compute(p)) for p in pids]
        while not fakes.CALLS:
            await asyncio.sleep(0.001)
        eng.close()
        await asyncio.gather(*tasks)

    run(scenario())
    assert len(outcomes) == 3 and all(isinstance(o, EngineClosedError) for o in outcomes)
