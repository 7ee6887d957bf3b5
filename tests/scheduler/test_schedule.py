"""Schedule semantics against both store backends: genesis, chaining, refusals, idempotency, reads."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from aonode.crypto import Ed25519Signer, sign_location, sign_message, verify_assignment
from aonode.errors import AonodeError, InvalidArgument, NotFound
from aonode.ids import ProcessId, decode_id, encode_id, next_hash_chain
from aonode.model import Location, Message, Signature, Tag
from aonode.scheduler import (
    Block,
    RedirectError,
    Scheduler,
    SchedulerConfig,
    UnsignedMessageError,
    layout,
    verify_schedule,
)
from aonode.scheduler.config import BLOCK_MS
from store import MemoryStore, ObjectStore
from tests.scheduler.conftest import StoreFactory
from tests.scheduler.helpers import (
    CLIENT_KEY,
    NODE_KEY,
    OTHER_NODE_KEY,
    make_scheduler,
    message_to,
    process_message,
    run,
)


def NOW() -> int:
    """Now in ms: location records must be valid now (an expired one is never used)."""
    return int(time.time() * 1000)


def _table_sizes(store: ObjectStore) -> dict[str, int]:
    with store.read() as view:
        tables = [layout.MESSAGES, layout.ASSIGNMENTS, layout.ASSIGNED, layout.HEADS, "objects"]
        return {t: sum(1 for _ in view.range(t)) for t in tables}


def test_process_gets_slot_zero_and_messages_chain(make_store: StoreFactory) -> None:
    store = make_store()
    sched = make_scheduler(store)
    proc = process_message()

    async def go() -> None:
        a0 = await sched.schedule(proc)
        pid = proc.id
        assert (a0.process, a0.slot, a0.message) == (pid, 0, pid)
        assert a0.hash_chain == next_hash_chain(pid, pid)
        verify_assignment(a0)
        assert a0.signature is not None and a0.signature.owner == NODE_KEY.owner
        chain = a0.hash_chain
        for n in range(1, 6):
            m = message_to(pid)
            a = await sched.schedule(m)
            assert (a.process, a.slot, a.message) == (pid, n, m.id)
            chain = next_hash_chain(chain, m.id)
            assert a.hash_chain == chain
        head = sched.head(pid)
        assert (head.slot, head.hash_chain, head.scheduler) == (5, chain, NODE_KEY.address)
        assert head.block_hash == bytes(32)
        assert sched.processes() == [ProcessId(pid)]

    run(go())
    verify_schedule(store, proc.id).raise_for_problems()


def test_timestamps_never_decrease_even_if_the_clock_does(make_store: StoreFactory) -> None:
    times = iter([1000, 5000, 3000, 2000, 6000])
    sched = Scheduler(make_store(), NODE_KEY, clock=lambda: next(times))
    proc = process_message()

    async def go() -> list[int]:
        out = [(await sched.schedule(proc)).timestamp]
        for _ in range(4):
            out.append((await sched.schedule(message_to(proc.id))).timestamp)
        return out

    assert run(go()) == [1000, 5000, 5000, 5000, 6000]


def test_default_block_height_follows_the_clock(make_store: StoreFactory) -> None:
    # Without a BlockSource the height is timestamp // BLOCK_MS: it advances and never goes back.
    times = iter([5 * BLOCK_MS, 7 * BLOCK_MS + 1, 6 * BLOCK_MS, 9 * BLOCK_MS])
    sched = Scheduler(make_store(), NODE_KEY, clock=lambda: next(times))
    proc = process_message()

    async def go() -> list[int]:
        out = [(await sched.schedule(proc)).block_height]
        for _ in range(3):
            out.append((await sched.schedule(message_to(proc.id))).block_height)
        return out

    assert run(go()) == [5, 7, 7, 9]


def test_block_source_fields_are_recorded(make_store: StoreFactory) -> None:
    class Blocks:
        def current(self) -> Block:
            return Block(height=1234, hash=b"\x07" * 32)

    sched = Scheduler(make_store(), NODE_KEY, block_source=Blocks())
    a = run(sched.schedule(process_message()))
    assert (a.block_height, a.block_hash) == (1234, b"\x07" * 32)
    assert sched.head(a.process).block_height == 1234


def test_unsigned_refused_unless_configured(make_store: StoreFactory) -> None:
    store = make_store()
    proc_unsigned = Message(tags=(Tag("Type", "Process"),), data=b"x")
    with pytest.raises(UnsignedMessageError, match="unsigned"):
        run(make_scheduler(store).schedule(proc_unsigned))
    assert _table_sizes(store)["objects"] == 0

    lenient = make_scheduler(make_store(), accept_unsigned=True)

    async def go() -> None:
        a = await lenient.schedule(proc_unsigned)
        assert a.message == proc_unsigned.content_digest
        b = await lenient.schedule(message_to(a.process, signed=False))
        assert b.slot == 1

    run(go())


def test_bad_signature_refused_and_nothing_written(make_store: StoreFactory) -> None:
    store = make_store()
    sched = make_scheduler(store)
    proc = process_message()
    run(sched.schedule(proc))
    before = _table_sizes(store)
    good = message_to(proc.id)
    assert good.signature is not None
    tampered = replace(good, data=b"something else")  # the signature no longer covers the content
    forged = good.with_signature(Signature(good.signature.scheme, good.signature.owner, bytes(64)))
    for bad in (tampered, forged):
        with pytest.raises(InvalidArgument, match="signature"):
            run(sched.schedule(bad))
    assert _table_sizes(store) == before
    assert sched.head(proc.id).slot == 0


def test_invalid_messages_refused(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    no_target = sign_message(Message(tags=(Tag("Action", "Eval"),)), CLIENT_KEY)
    with pytest.raises(InvalidArgument, match="no target"):
        run(sched.schedule(no_target))
    bad_target = sign_message(Message(target="not-an-id"), CLIENT_KEY)
    with pytest.raises(InvalidArgument, match="target"):
        run(sched.schedule(bad_target))


def test_unknown_target_is_not_found(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    with pytest.raises(NotFound, match="not scheduled on this node"):
        run(sched.schedule(message_to(b"\x01" * 32)))
    with pytest.raises(NotFound):
        sched.head(b"\x01" * 32)
    with pytest.raises(NotFound):
        sched.get_schedule(b"\x01" * 32)


def test_sequential_duplicates_are_idempotent(make_store: StoreFactory) -> None:
    store = make_store()
    sched = make_scheduler(store)
    proc = process_message()

    async def go() -> None:
        a0 = await sched.schedule(proc)
        assert await sched.schedule(proc) == a0
        m = message_to(proc.id)
        a1 = await sched.schedule(m)
        await sched.schedule(message_to(proc.id))
        assert await sched.schedule(m) == a1
        assert sched.assignment_of(m.id) == a1
        assert sched.assignment_of(m.id, proc.id) == a1

    run(go())
    assert sched.head(proc.id).slot == 2
    # A fresh scheduler on the same store (a restart) answers duplicates the same way.
    again = make_scheduler(store)
    assert run(again.schedule(proc)).slot == 0


def test_concurrent_duplicates_share_one_slot(make_store: StoreFactory) -> None:
    store = make_store()
    sched = make_scheduler(store)
    proc = process_message()

    async def go() -> None:
        # Genesis duplicated while pending, plus messages duplicated while pending.
        first = await asyncio.gather(*(sched.schedule(proc) for _ in range(5)))
        assert {a.slot for a in first} == {0}
        msgs = [message_to(proc.id) for _ in range(10)]
        doubled = msgs + msgs[::-1] + msgs
        results = await asyncio.gather(*(sched.schedule(m) for m in doubled))
        by_id: dict[bytes, int] = {}
        for m, a in zip(doubled, results, strict=True):
            assert by_id.setdefault(m.id, a.slot) == a.slot
        assert sorted(by_id.values()) == list(range(1, 11))
        many = await sched.schedule_many(doubled)
        assert [a.slot for a in many if not isinstance(a, AonodeError)] == [by_id[m.id] for m in doubled]

    run(go())
    assert sched.head(proc.id).slot == 10
    verify_schedule(store, proc.id).raise_for_problems()


def test_schedule_many_results_in_input_order(make_store: StoreFactory) -> None:
    store = make_store()
    sched = make_scheduler(store, verify_chunk=7)
    p1, p2 = process_message(), process_message()

    async def go() -> None:
        unsigned = Message(target=encode_id(p1.id), data=b"u")
        batch = [p1, message_to(p1.id), p2, unsigned, message_to(p2.id), message_to(b"\x09" * 32)]
        batch += [message_to(p1.id) for _ in range(40)]
        results = await sched.schedule_many(batch)
        assert len(results) == len(batch)
        assert isinstance(results[3], UnsignedMessageError)
        assert isinstance(results[5], NotFound)
        ok = [(i, r) for i, r in enumerate(results) if not isinstance(r, AonodeError)]
        assert all(r.message == batch[i].id for i, r in ok)
        p1_slots = [r.slot for _, r in ok if r.process == p1.id]
        assert p1_slots == list(range(42))
        assert [r.slot for _, r in ok if r.process == p2.id] == [0, 1]

    run(go())
    for p in (p1, p2):
        verify_schedule(store, p.id).raise_for_problems()


def test_message_can_follow_its_pending_process(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    proc = process_message()

    async def go() -> None:
        # Both are submitted before the genesis commits (reliability §2: push to a just-spawned process).
        a0, a1 = await asyncio.gather(sched.schedule(proc), sched.schedule(message_to(proc.id)))
        assert (a0.slot, a1.slot) == (0, 1)

    run(go())


def test_publish_and_get_message(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    module = sign_message(Message(tags=(Tag("Content-Type", "text/x-lua"),), data=b"return 1"), CLIENT_KEY)
    mid = run(sched.publish(module))
    assert mid == module.id
    assert run(sched.publish(module)) == mid
    assert sched.get_message(mid) == module
    with pytest.raises(NotFound):
        sched.get_message(b"\x02" * 32)
    with pytest.raises(NotFound):
        sched.assignment_of(mid)  # published, not scheduled
    assert sched.processes() == []


def test_get_schedule_pages(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store(), max_page=10)
    proc = process_message()

    async def go() -> list[Message]:
        await sched.schedule(proc)
        msgs = [message_to(proc.id) for _ in range(24)]
        await sched.schedule_many(msgs)
        return [proc, *msgs]

    all_msgs = run(go())
    pid = proc.id
    page = sched.get_schedule(pid)
    assert [a.slot for a in page.assignments] == list(range(10))
    assert (page.has_next, page.next_slot, page.messages) == (True, 10, [])
    # Walk with the cursor: the pages cover 0..24 exactly, the last one says it is the last.
    seen, cursor, has_next = [], 0, True
    while has_next:
        page = sched.get_schedule(pid, cursor, include_messages=True)
        seen += [a.slot for a in page.assignments]
        assert [m.id for m in page.messages] == [a.message for a in page.assignments]
        cursor, has_next = page.next_slot, page.has_next
    assert seen == list(range(25))
    assert sched.get_schedule(pid, 3, 7, include_messages=True).messages == all_msgs[3:8]
    ranged = sched.get_schedule(pid, 3, 7)
    assert ([a.slot for a in ranged.assignments], ranged.has_next) == ([3, 4, 5, 6, 7], False)
    limited = sched.get_schedule(pid, 20, None, limit=3)
    assert ([a.slot for a in limited.assignments], limited.has_next) == ([20, 21, 22], True)
    assert [a.slot for a in sched.get_schedule(pid, 20, limit=1000).assignments] == [20, 21, 22, 23, 24]
    past = sched.get_schedule(pid, 40)
    assert (list(past.assignments), past.has_next, past.next_slot) == ([], False, 40)
    for bad in ({"from_slot": -1}, {"from_slot": 5, "to_slot": 4}, {"limit": -1}):
        with pytest.raises(InvalidArgument):
            sched.get_schedule(pid, **bad)  # type: ignore[arg-type]


def test_process_for_another_scheduler_redirects(make_store: StoreFactory) -> None:
    store = make_store()
    sched = make_scheduler(store)
    other = OTHER_NODE_KEY.address
    proc = process_message(scheduler=other)

    with pytest.raises(RedirectError) as no_url:
        run(sched.schedule(proc))
    assert (no_url.value.address, no_url.value.url) == (other, None)
    assert no_url.value.status == "FAILED_PRECONDITION"
    assert "no location known" in str(no_url.value)

    loc = sign_location(Location(other, "https://other.example:7400", 1, 600_000, NOW()), OTHER_NODE_KEY)
    run(sched.locations.register(loc))
    with pytest.raises(RedirectError) as with_url:
        run(sched.schedule(proc))
    assert with_url.value.url == "https://other.example:7400"

    # A message to that process, once the Process message is known here (published), redirects too.
    run(sched.publish(proc))
    with pytest.raises(RedirectError):
        run(sched.schedule(message_to(proc.id)))
    assert sched.processes() == []

    # Naming this node explicitly, or no scheduler at all, is taken here.
    assert run(sched.schedule(process_message(scheduler=NODE_KEY.address))).slot == 0
    assert run(sched.schedule(process_message())).slot == 0


def test_follow_redirects_forwards(make_store: StoreFactory) -> None:
    store = make_store()
    remote_store = MemoryStore()
    remote = Scheduler(remote_store, OTHER_NODE_KEY)
    calls: list[str] = []

    class Forward:
        async def schedule_remote(self, url: str, message: Message) -> object:
            calls.append(url)
            return await remote.schedule(message)

    sched = Scheduler(store, NODE_KEY, SchedulerConfig(follow_redirects=True), forwarder=Forward())  # type: ignore[arg-type]
    other = OTHER_NODE_KEY.address
    loc = sign_location(Location(other, "grpc://other:7400", 5, 600_000, NOW()), OTHER_NODE_KEY)
    proc = process_message(scheduler=other)

    async def go() -> None:
        await sched.locations.register(loc)
        a = await sched.schedule(proc)
        assert a.process == proc.id and a.signature is not None
        assert a.signature.owner == OTHER_NODE_KEY.owner
        many = await sched.schedule_many([proc])
        assert many == [a]

    try:
        run(go())
    finally:
        remote_store.close()
    assert calls == ["grpc://other:7400", "grpc://other:7400"]
    assert sched.processes() == []


def test_ids_in_text_round_trip_through_reads(make_store: StoreFactory) -> None:
    sched = make_scheduler(make_store())
    proc = process_message()
    a = run(sched.schedule(proc))
    pid = ProcessId(decode_id(encode_id(a.process)))
    assert sched.head(pid).slot == 0


def test_signer_is_the_node_key(make_store: StoreFactory) -> None:
    other_key = Ed25519Signer.generate()
    sched = make_scheduler(make_store(), signer=other_key)
    assert sched.address == other_key.address
    a = run(sched.schedule(process_message()))
    assert a.signature is not None and a.signature.owner == other_key.owner
