"""Signed cron requests (requests.py) and what the engine does with them: parsing and refusals, the task ID
is the request's ID, a replay answers the same task (also concurrently), an ended task's request is
refused across a restart, Stop only by the creator, the creator's limits, ticks carrying `Cron-From`,
reserved tags dropped, List pages."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aonode.cron import CronConfig, InvalidCronRequest, build_request, parse_request, tick_message
from aonode.cron.engine import CronRequestUsed, NotTaskCreator, TooManyTasks
from aonode.crypto import Ed25519Signer, SignatureError, sign_message
from aonode.errors import InvalidArgument, NotFound
from aonode.ids import encode_id
from aonode.model import Message, Tag
from tests.cron.helpers import FAST, CronNode, cron_ticks, until
from tests.scheduler.helpers import NODE_KEY, run

ALICE = Ed25519Signer.generate()
MALLORY = Ed25519Signer.generate()
PID = encode_id(b"\x01" * 32)


def test_parse_request_reads_the_control_tags() -> None:
    m = build_request(ALICE, "Every", PID, interval="1-minute", tags=[("Action", "Tick")], data=b"d", path="")
    req = parse_request(m, "Every")
    assert (req.id, req.creator, req.target) == (encode_id(m.id), ALICE.address, PID)
    assert req.tags == (Tag("Action", "Tick"),) and req.data == b"d" and req.interval == "1-minute"
    once = parse_request(build_request(ALICE, "Once", PID, at=5, path="now"), "Once")
    assert once.at == 5 and once.delay is None and once.path == "now"


@pytest.mark.parametrize(
    ("tags", "expected", "reason"),
    [
        ([("Cron-Op", "Once"), ("Cron-At", "1")], "Every", "this is Every"),
        ([("Cron-Op", "Sometimes")], "Once", "Once, Every or Stop"),
        ([("Action", "X")], "Once", "Cron-Op"),
        ([("Cron-Op", "Once")], "Once", "exactly one"),
        ([("Cron-Op", "Once"), ("Cron-At", "1"), ("Cron-In", "1-second")], "Once", "exactly one"),
        ([("Cron-Op", "Once"), ("Cron-At", "１２")], "Once", "digits"),
        ([("Cron-Op", "Once"), ("Cron-At", "0")], "Once", "> 0"),
        ([("Cron-Op", "Once"), ("cron-at", "1"), ("Cron-At", "2")], "Once", "twice"),
        ([("Cron-Op", "Every")], "Every", "Cron-Interval required"),
        ([("Cron-Op", "Every"), ("Cron-Interval", "1-hour"), ("Cron-At", "1")], "Every", "do not apply"),
        ([("Cron-Op", "Stop"), ("Action", "X")], "Stop", "no other tags"),
    ],
)
def test_malformed_requests_are_invalid(tags: list[tuple[str, str]], expected: str, reason: str) -> None:
    message = sign_message(Message(target=PID, tags=tuple(Tag(n, v) for n, v in tags)), ALICE)
    with pytest.raises(InvalidCronRequest, match=reason):
        parse_request(message, expected)  # type: ignore[arg-type]


def test_unsigned_and_forged_requests_are_invalid() -> None:
    signed = build_request(ALICE, "Once", PID, at=1, data=b"a")
    with pytest.raises(InvalidCronRequest, match="unsigned"):
        parse_request(signed.with_signature(None), "Once")
    forged = Message(signed.target, signed.anchor, signed.tags, b"b", signed.signature)
    with pytest.raises(SignatureError):
        parse_request(forged, "Once")
    with pytest.raises(InvalidCronRequest, match="process"):
        parse_request(build_request(ALICE, "Once", "", at=1), "Once")
    assert issubclass(InvalidCronRequest, InvalidArgument) and issubclass(SignatureError, InvalidArgument)


def test_ticks_carry_the_creator_and_no_claimed_sender(tmp_path: Path) -> None:
    async def main() -> None:
        node = await CronNode(tmp_path).start()
        pid = await node.spawn()
        claims = [
            Tag("From-Process", "x"),
            Tag("cron-from", "y"),
            Tag("CRON-TASK", "z"),
            Tag("Outbox-Index", "1"),
        ]
        task = await node.cron.once(pid, at=1, tags=[Tag("Action", "A"), *claims], creator=ALICE)
        await until(lambda: len(cron_ticks(node.scheduler, pid, task.task)) == 1)
        [(_, tick)] = cron_ticks(node.scheduler, pid, task.task)
        assert tick.tag_values("Cron-From") == [ALICE.address] and tick.tag("From-Process") is None
        assert (
            tick.tag_values("Cron-Task") == [task.task]
            and tick.tag("Outbox-Index") is None
            and tick.tag("Action") == "A"
        )
        assert tick.signature is not None and tick.signature.address == NODE_KEY.address
        await node.close()

    run(main())


def test_replays_answer_the_same_task_and_an_ended_one_stays_ended(tmp_path: Path) -> None:
    async def main() -> None:
        node = await CronNode(tmp_path).start()
        pid = await node.spawn()
        request = build_request(ALICE, "Every", pid, interval="1-hour")
        first, second = await asyncio.gather(
            node.cron.create(request, "Every"), node.cron.create(request, "Every")
        )
        assert first == second and first.task == encode_id(request.id) and first.creator == ALICE.address
        assert len(node.cron.list_tasks()) == 1
        with pytest.raises(NotTaskCreator):
            await node.cron.stop_signed(build_request(MALLORY, "Stop", first.task))
        await node.cron.stop_signed(build_request(ALICE, "Stop", first.task))
        with pytest.raises(CronRequestUsed):
            await node.cron.create(request, "Every")
        await node.close()
        await node.start()  # the tombstone is durable
        with pytest.raises(CronRequestUsed):
            await node.cron.create(request, "Every")
        with pytest.raises(NotFound):
            await node.cron.stop_signed(build_request(ALICE, "Stop", first.task))
        await node.close()

    run(main())


def test_creator_node_and_size_limits(tmp_path: Path) -> None:
    async def main() -> None:
        config = CronConfig(min_interval_ms=10, max_tasks_per_creator=2, max_tasks=3, max_task_bytes=100)
        node = await CronNode(tmp_path, config=config).start()
        pid = await node.spawn()
        await node.cron.every(pid, "1-hour", creator=ALICE)
        await node.cron.every(pid, "1-hour", creator=ALICE)
        with pytest.raises(TooManyTasks, match="max_tasks_per_creator"):
            await node.cron.every(pid, "1-hour", creator=ALICE)
        await node.cron.every(pid, "1-hour", creator=MALLORY)
        with pytest.raises(TooManyTasks, match="max_tasks"):
            await node.cron.every(pid, "1-hour", creator=Ed25519Signer.generate())
        with pytest.raises(TooManyTasks, match="bytes"):
            await node.cron.every(pid, "1-hour", data=b"x" * 101, creator=Ed25519Signer.generate())
        # Bytes, not characters: a 1-byte name and 30 four-byte characters are 121 bytes.
        with pytest.raises(TooManyTasks, match="121 bytes"):
            await node.cron.every(
                pid, "1-hour", tags=[Tag("T", "\U0001f600" * 30)], creator=Ed25519Signer.generate()
            )
        await node.close()

    run(main())


def test_list_pages_by_count_and_bytes(tmp_path: Path) -> None:
    async def main() -> None:
        node = await CronNode(tmp_path, config=FAST).start()
        pid, other = await node.spawn(), await node.spawn()
        made = [await node.cron.every(pid, "1-hour", data=b"x" * 1000, creator=ALICE) for _ in range(5)]
        await node.cron.every(other, "1-hour", creator=MALLORY)
        page, token = node.cron.list_page(page_size=2, process=pid)
        assert [t.task for t in page] == [t.task for t in made[:2]] and token
        page, token = node.cron.list_page(page_size=2, process=pid, page_token=token)
        assert [t.task for t in page] == [t.task for t in made[2:4]]
        page, token = node.cron.list_page(page_size=2, process=pid, page_token=token)
        assert [t.task for t in page] == [made[4].task] and token == ""
        by_bytes, token = node.cron.list_page(process=pid, max_bytes=3000)
        assert len(by_bytes) == 2 and token  # ~1,256 bytes each
        assert len(node.cron.list_page(max_bytes=1)[0]) == 1  # a page always holds one task
        assert [t.creator for t in node.cron.list_page(creator=MALLORY.address)[0]] == [MALLORY.address]
        assert len(node.cron.list_page(page_size=5000)[0]) == 6
        for bad in ("1", "a." + pid, "1.short", "٣." + pid):
            with pytest.raises(InvalidArgument, match="page_token"):
                node.cron.list_page(page_token=bad)
        await node.close()

    run(main())


def test_process_cron_ticks_come_from_the_node(tmp_path: Path) -> None:
    async def main() -> None:
        node = await CronNode(tmp_path).start()
        pid = await node.spawn(**{"Cron-Interval": "50-milliseconds", "Cron-Tag-From-Process": "x"})
        await until(lambda: len(cron_ticks(node.scheduler, pid)) >= 1)
        [task] = node.cron.list_tasks()
        tick = tick_message(task, NODE_KEY)
        assert task.creator == "" and tick.tag("Cron-From") is None and tick.tag("From-Process") is None
        await node.close()

    run(main())


def test_a_replay_while_a_task_ends_does_not_bring_it_back(tmp_path: Path) -> None:
    async def main() -> None:
        node = await CronNode(tmp_path).start()
        pid = await node.spawn()
        request = build_request(ALICE, "Every", pid, interval="1-hour")
        task = await node.cron.create(request, "Every")
        stopping = asyncio.create_task(node.cron.stop(task.task))
        await asyncio.sleep(0)  # the stop has begun: the task is gone, its tombstone not durable yet
        with pytest.raises(CronRequestUsed):
            await node.cron.create(request, "Every")
        await stopping
        assert node.cron.list_tasks() == []
        await node.close()

    run(main())
