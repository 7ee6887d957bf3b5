"""Group-commit throughput: N threads each writing schedule-shaped batches to a fresh LmdbStore.

A batch is one 1 KB object plus 3 puts (a 300-byte record under a random 32-byte id + u64 slot, a slot
index, an id -> slot index), the shape of one scheduled message. With one thread every batch is its own
durable commit; with many, the writer packs whatever is queued into one commit.

    python -m store.bench [--threads 1 16] [--depth 100 1000] [--seconds 3] [--runs 3] [--dir DIR]

It also pushes 20,000 prebuilt batches from one thread with up to `depth` submit()s in flight: the
writer's own capacity.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

from store.base import WriteBatch, u64
from store.lmdb_store import LmdbStore


@dataclass(frozen=True)
class Result:
    threads: int
    seconds: float
    batches: int
    commits: int

    @property
    def batches_per_s(self) -> float:
        return self.batches / self.seconds

    @property
    def batches_per_commit(self) -> float:
        return self.batches / max(1, self.commits)


def run(directory: str, threads: int, seconds: float) -> Result:
    """Write from `threads` threads for `seconds` into a new store under `directory`."""
    with tempfile.TemporaryDirectory(dir=directory) as path, LmdbStore(path) as store:
        stop = threading.Event()
        counts = [0] * threads

        def worker(t: int) -> None:
            n = 0
            while not stop.is_set():
                store.write(_batch(t << 32 | n))
                n += 1
            counts[t] = n

        before = store.stats()["commits"]
        workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        time.sleep(seconds)
        stop.set()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
        return Result(threads, elapsed, sum(counts), store.stats()["commits"] - before)


def run_pipelined(directory: str, depth: int, count: int = 20_000) -> Result:
    """One thread pushing `count` prebuilt batches with up to `depth` submit()s in flight: the writer's
    own capacity (building batches in the same thread would measure GIL contention instead)."""
    with tempfile.TemporaryDirectory(dir=directory) as path, LmdbStore(path) as store:
        batches = [_batch(n) for n in range(count)]
        before = store.stats()["commits"]
        inflight: deque[Future[None]] = deque()
        start = time.perf_counter()
        for b in batches:
            if len(inflight) >= depth:
                inflight.popleft().result()
            inflight.append(store.submit(b))
        for fut in inflight:
            fut.result()
        elapsed = time.perf_counter() - start
        return Result(1, elapsed, count, store.stats()["commits"] - before)


def _batch(n: int) -> WriteBatch:
    ident = os.urandom(32)
    b = WriteBatch()
    b.put_object(os.urandom(1024))
    b.put("assignments", ident + u64(n), os.urandom(300))
    b.put("slots", u64(0) + u64(n), ident)
    b.put("ids", ident, u64(n))
    return b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--depth", type=int, nargs="*", default=[100, 1000], help="pipelined submit() depths")
    ap.add_argument("--dir", default=None, help="where to put the stores (default: the system temp dir)")
    args = ap.parse_args()
    directory = args.dir or tempfile.gettempdir()
    cases: list[tuple[str, Callable[[], Result]]] = [
        (f"write() x {t} threads", partial(run, directory, t, args.seconds)) for t in args.threads
    ]
    cases += [(f"submit() depth {d}", partial(run_pipelined, directory, d)) for d in args.depth]
    for name, case in cases:
        results = [case() for _ in range(args.runs)]
        rates = sorted(r.batches_per_s for r in results)
        print(
            f"{name:22s}  batches/s median {statistics.median(rates):7.0f}"
            f"  (runs {', '.join(f'{r:.0f}' for r in rates)})"
            f"  batches/commit {statistics.median(r.batches_per_commit for r in results):.1f}"
        )


if __name__ == "__main__":
    main()
