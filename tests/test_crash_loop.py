"""kill -9 under load (issue 3): a node scheduling for several clients is SIGKILLed at random moments
and restarted, many times; most kills land with requests in flight (checked). Afterwards: no acknowledged
assignment is lost or changed, slots are dense, the chain verifies from slot 0, and a retry of every
unacknowledged message returns the one slot it has.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

from aonode.client import ClientError, NodeClient, build_message, build_module, build_process
from aonode.crypto import Ed25519Signer
from aonode.ids import encode_id
from aonode.scheduler import verify_schedule
from aonode.testing import LocalNode
from store import LmdbStore

CYCLES = int(os.environ.get("AONODE_CRASH_CYCLES", "50"))
CLIENTS = 4


def test_kill_loop_loses_no_acknowledged_assignment(tmp_path: Path) -> None:
    rng = random.Random(1234)
    signer = Ed25519Signer.generate()
    node = LocalNode(tmp_path / "node").start()
    with NodeClient(node.address, timeout=10) as client:
        module = client.publish(build_module(signer, b"-- m\n", "text/x-lua"))
        spawn = build_process(signer, module=module, scheduler=client.info().address, device="lua@5.3a")
        client.schedule(spawn)
    process = encode_id(spawn.id)

    acked: dict[str, tuple[int, str]] = {}  # message ID -> (slot, assignment ID)
    unacked: dict[str, object] = {}  # message ID -> message, sent but not answered
    lock = threading.Lock()
    in_call: set[str] = set()  # message IDs whose Schedule call has not returned yet
    in_flight: list[int] = []  # per cycle: calls under way at the kill that then went unanswered

    def load(stop: threading.Event, address: str) -> None:
        # No retries: a call the kill interrupted must stay unanswered (and be counted as such).
        with NodeClient(address, timeout=5, retry_attempts=1) as c:
            while not stop.is_set():
                message = build_message(signer, process, action="Tick", data=os.urandom(64))
                mid = encode_id(message.id)
                with lock:
                    unacked[mid] = message
                    in_call.add(mid)
                try:
                    a = c.schedule(message)
                except ClientError:
                    with lock:
                        in_call.discard(mid)
                    time.sleep(0.01)
                    continue
                with lock:
                    in_call.discard(mid)
                    unacked.pop(mid, None)
                    acked[mid] = (a.slot, encode_id(a.id))

    try:
        for _ in range(CYCLES):
            stop = threading.Event()
            threads = [threading.Thread(target=load, args=(stop, node.address)) for _ in range(CLIENTS)]
            before = len(acked)
            for t in threads:
                t.start()
            # The random moment counts from the first answer of this cycle (the load is running), not from
            # the threads' start: on a slow machine a fixed delay could end before any call was made.
            ready = time.monotonic() + 20
            while len(acked) == before and time.monotonic() < ready:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.02, 0.25))
            with lock:  # no call can finish between this snapshot and the kill
                pending = set(in_call)
                node.kill()
            stop.set()
            for t in threads:
                t.join()
            # In a call at the kill and never answered: the kill landed with these requests in flight.
            in_flight.append(len(pending & unacked.keys()))
            node.start()
            # Retry what was never answered: each gets exactly one slot (its old one if it committed).
            with NodeClient(node.address, timeout=10) as c:
                for mid, message in list(unacked.items()):
                    a = c.schedule(message)  # type: ignore[arg-type]
                    assert encode_id(a.message) == mid
                    acked[mid] = (a.slot, encode_id(a.id))
                    again = c.schedule(message)  # type: ignore[arg-type]
                    assert (again.slot, encode_id(again.id)) == acked[mid]
                unacked.clear()
        with NodeClient(node.address, timeout=30) as c:
            schedule = list(c.iter_schedule(process))
    finally:
        node.stop()

    assert len(acked) > CYCLES  # the load really ran
    under_load = sum(1 for n in in_flight if n > 0)
    assert under_load >= 0.8 * CYCLES, f"kills with requests in flight: {under_load}/{CYCLES} ({in_flight})"
    slots = [a.slot for a in schedule]
    assert slots == list(range(len(schedule))), "slots are dense from 0"
    by_message = {encode_id(a.message): (a.slot, encode_id(a.id)) for a in schedule}
    assert len(by_message) == len(schedule), "every message holds exactly one slot"
    for mid, expected in acked.items():
        assert by_message.get(mid) == expected, f"acknowledged {mid} lost or changed"
    with LmdbStore(tmp_path / "node" / "store") as store:
        report = verify_schedule(store, spawn.id)
    assert report.ok, report
