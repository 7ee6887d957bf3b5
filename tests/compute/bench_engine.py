"""`python -m tests.compute.bench_engine [N]`: slots/s through the compute engine (LMDB, durable result
storage), for N slots of (1) a trivial raw-ABI Lua module, (2) a trivial AOS handler (Ping → reply), and
(3) the fake device (the engine's own overhead), plus a cold replay of (2) by a fresh engine."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from aonode.compute import ComputeEngine
from aonode.ids import ProcessId
from aonode.model import Message
from aonode.scheduler import Scheduler
from store import LmdbStore
from tests.compute.helpers import engine, process_message, run, scheduler, send, spawn
from tests.compute.lua_helpers import COUNTER_MODULE, action, aos_process, spawn_module

PING = 'Handlers.add("ping", "Ping", function(msg) msg.reply({ Data = "pong" }) end)'


def _schedule(sched: Scheduler, messages: list[Message]) -> None:
    for i in range(0, len(messages), 500):
        run(sched.schedule_many(messages[i : i + 500]), timeout=600)


def _timed(eng: ComputeEngine, pid: ProcessId, n: int) -> float:
    start = time.perf_counter()
    r = run(eng.now(pid), timeout=600)
    elapsed = time.perf_counter() - start
    assert not r.result.error, r.result.error
    return n / elapsed


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = LmdbStore(Path(tmp) / "db")
        sched = scheduler(store)
        _, raw = spawn_module(sched, COUNTER_MODULE)
        run(send(sched, raw, [f"m{i}" for i in range(n)], 1), timeout=600)
        aos = run(spawn(sched, aos_process()))
        run(sched.schedule(action(aos, "Eval", PING, "ping")))
        eng = engine(store, sched)
        run(eng.now(aos))
        _schedule(sched, [action(aos, "Ping", "", f"p{i}") for i in range(n)])
        fake = run(spawn(sched, process_message()))
        run(send(sched, fake, [f"m{i}" for i in range(n)], 1), timeout=600)
        print(f"raw Lua module:   {_timed(eng, raw, n):8.0f} slots/s")
        print(f"AOS Ping handler: {_timed(eng, aos, n):8.0f} slots/s")
        print(f"fake device:      {_timed(eng, fake, n):8.0f} slots/s")
        eng.close()
        cold = engine(store, sched)
        run(sched.schedule(action(aos, "Ping", "", "last")))
        print(f"AOS cold replay:  {_timed(cold, aos, n + 2):8.0f} slots/s (recomputed and compared)")
        cold.close()
        sched.close()
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
