"""Domain-level scheduler throughput on a real LmdbStore (no gRPC). Not a test: run it by hand,
`.venv/bin/python -m tests.scheduler.bench_scheduler [N]`, and compare with `aonode bench schedule`.

Figures: schedule_many (bulk, chunks of 500), unary schedule from 1 and 16 concurrent callers
(throughput and latency), and a subscriber catching up on the whole schedule. Messages are pre-signed
Ed25519 messages of ~1 KB, as in the issue's benchmark.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aonode.crypto import Ed25519Signer, sign_message
from aonode.ids import encode_id
from aonode.model import Message, Tag
from aonode.scheduler import Scheduler, SchedulerConfig
from store import LmdbStore

CLIENT = Ed25519Signer.generate()
NODE = Ed25519Signer.generate()


def messages(pid: bytes, n: int) -> list[Message]:
    """`n` distinct signed ~1 KB messages (a random anchor keeps calls from repeating IDs)."""
    tags = tuple(Tag(f"Tag-{i}", "v" * 20) for i in range(8))
    out = []
    for _ in range(n):
        body = Message(
            target=encode_id(pid),
            anchor=os.urandom(16).hex(),
            tags=(Tag("Action", "Eval"), *tags),
            data=bytes(800),
        )
        out.append(sign_message(body, CLIENT))
    return out


def process() -> Message:
    return sign_message(Message(tags=(Tag("Type", "Process"), Tag("Bench", str(time.time_ns())))), CLIENT)


async def bench(dir_: Path, n: int) -> None:
    store = LmdbStore(dir_ / "db")
    sched = Scheduler(store, NODE, SchedulerConfig())
    proc = process()
    await sched.schedule(proc)
    pid = proc.id

    # Bulk: schedule_many in chunks, 4 chunks in flight at once (as a stream handler would pipeline).
    bulk = messages(pid, n)
    t = time.perf_counter()
    chunk = 500
    sem = asyncio.Semaphore(4)

    async def one(c: list[Message]) -> None:
        async with sem:
            res = await sched.schedule_many(c)
            assert all(not isinstance(r, Exception) for r in res)

    await asyncio.gather(*(one(bulk[i : i + chunk]) for i in range(0, n, chunk)))
    dt = time.perf_counter() - t
    st = store.stats()
    print(f"schedule_many: {n / dt:,.0f} assignments/s ({n} in {dt:.2f}s; commits {st.get('groups')}, "
          f"max group {st.get('max_group_batches')} batches)")  # fmt: skip

    # Unary, one caller, sequential.
    seq = messages(pid, 2000)
    lat = []
    t = time.perf_counter()
    for m in seq:
        t0 = time.perf_counter()
        await sched.schedule(m)
        lat.append(time.perf_counter() - t0)
    dt = time.perf_counter() - t
    lat.sort()
    print(f"unary x1: {len(seq) / dt:,.0f}/s, p50 {statistics.median(lat) * 1e3:.2f} ms, "
          f"p99 {lat[int(len(lat) * 0.99)] * 1e3:.2f} ms")  # fmt: skip

    # Unary, 16 concurrent callers.
    conc = messages(pid, 8000)
    lat = []

    async def caller(ms: list[Message]) -> None:
        for m in ms:
            t0 = time.perf_counter()
            await sched.schedule(m)
            lat.append(time.perf_counter() - t0)

    t = time.perf_counter()
    await asyncio.gather(*(caller(conc[i::16]) for i in range(16)))
    dt = time.perf_counter() - t
    lat.sort()
    print(f"unary x16: {len(conc) / dt:,.0f}/s, p50 {statistics.median(lat) * 1e3:.2f} ms, "
          f"p99 {lat[int(len(lat) * 0.99)] * 1e3:.2f} ms")  # fmt: skip

    # Subscriber catch-up over everything scheduled so far.
    tip = sched.head(pid).slot
    t = time.perf_counter()
    got = 0
    async for batch in sched.subscribe(pid, 0):
        got += len(batch.assignments)
        if got > tip:
            break
    dt = time.perf_counter() - t
    print(f"subscriber catch-up: {got / dt:,.0f} assignments/s ({got} in {dt:.2f}s)")

    # Direct page reads (what GetSchedule serves).
    t = time.perf_counter()
    cursor = 0
    while cursor <= tip:
        cursor = sched.get_schedule(pid, cursor).next_slot
    dt = time.perf_counter() - t
    print(f"get_schedule pages: {(tip + 1) / dt:,.0f} assignments/s")
    sched.close()
    store.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as d:
        asyncio.run(bench(Path(d), n))


if __name__ == "__main__":
    main()
