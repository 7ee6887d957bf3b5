"""`Scheduler.assign` on a real store: concurrent and repeated assignments of one message take one slot,
`assignment_of` answers the message's own target first, and the verifier accepts an assignment but reports
a slot holding a relayed message (From-Process) as one, whoever wrote it."""

from __future__ import annotations

import asyncio

from aonode.codec import encode_assignment, encode_message
from aonode.crypto import sign_assignment, sign_message
from aonode.ids import encode_id, next_hash_chain
from aonode.model import Assignment, Message, Tag
from aonode.scheduler import Replicated, verify_schedule
from aonode.scheduler.layout import HEADS, HeadRecord
from store import MemoryStore
from tests.scheduler.helpers import CLIENT_KEY, NODE_KEY, make_scheduler, message_to, process_message, run


def test_concurrent_assignments_of_one_message_take_one_slot() -> None:
    store = MemoryStore()
    sched = make_scheduler(store)
    # Process IDs are random: make the assignee sort before the message's own target, so a prefix scan
    # of the `assigned` index would find the assignment first.
    procs = sorted((process_message() for _ in range(2)), key=lambda p: p.id)
    assignee, target = procs[0].id, procs[1].id
    m = message_to(target)

    async def go() -> list[Assignment]:
        for p in procs:
            await sched.schedule(p)
        await sched.schedule(m)
        return list(await asyncio.gather(*(sched.assign(assignee, m.id) for _ in range(20))))

    got = run(go())
    assert {a.id for a in got} == {got[0].id} and got[0].slot == 1
    assert sched.head(assignee).slot == 1
    assert sched.assignment_of(m.id).process == target  # its own target first
    assert sched.assignment_of(m.id, assignee) == got[0]
    assert verify_schedule(store, assignee).ok


def test_the_verifier_reports_a_relayed_message_held_as_an_assignment() -> None:
    store = MemoryStore()
    sched = make_scheduler(store)
    proc = process_message()
    other = encode_id(b"o" * 32)
    relayed = sign_message(
        Message(target=other, tags=(Tag("Action", "Credit-Notice"), Tag("From-Process", other))), CLIENT_KEY
    )
    run(sched.schedule(proc))
    first = sched.assignment_of(proc.id)
    a = sign_assignment(
        Assignment(
            proc.id, 1, relayed.id, first.timestamp, hash_chain=next_hash_chain(first.hash_chain, relayed.id)
        ),
        NODE_KEY,
    )
    item = Replicated(a, encode_assignment(a), relayed, encode_message(relayed))

    async def write() -> None:
        # submit_replicated stores what it is given: a writer that skipped the rule.
        await sched.submit_replicated(proc.id, [item], store_head(store, proc.id))

    run(write())
    report = verify_schedule(store, proc.id)
    assert not report.ok and "relayed identity" in report.problems[0], report.problems


def store_head(store: MemoryStore, pid: bytes) -> HeadRecord:
    raw = store.get(HEADS, pid)
    assert raw is not None
    return HeadRecord.decode(bytes(raw))
