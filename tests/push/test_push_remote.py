"""Push continued on another node, through fake ports: the remote tree is grafted under the delivery, the
hop budget that remains is passed on, a failing remote push is recorded, never raised."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aonode.crypto import sign_location, sign_message
from aonode.devices.aos import runtime_module
from aonode.errors import AonodeError, Unavailable
from aonode.ids import decode_id, encode_id
from aonode.model import Assignment, Location, Message, Tag
from aonode.push import PushConfig, Pusher, PushNode
from store import MemoryStore
from tests.compute.lua_helpers import needs_lua
from tests.push.helpers import Node, stops
from tests.scheduler.helpers import CLIENT_KEY, OTHER_NODE_KEY, run

pytestmark = needs_lua

URL = "127.0.0.1:1"
SENDER = 'Handlers.add("go", "Go", function(msg) Send({Target = msg.Data, Action = "Hi"}) end)'


class RemoteRefusal(AonodeError):
    status = "PERMISSION_DENIED"


@dataclass
class FakeRemote:
    """Schedules at slot 1 of the target and answers pushes with `tree` (or raises `error`)."""

    tree: PushNode | None = None
    error: Exception | None = None
    pushes: list[tuple[str, str, int, int, int]] = field(default_factory=list)

    async def schedule_remote(self, url: str, message: Message) -> Assignment:
        return Assignment(decode_id(message.target, "target"), 1, message.id, timestamp=1)

    async def push_remote(
        self, url: str, process: str, slot: int, *, max_hops: int, result_depth: int
    ) -> PushNode:
        self.pushes.append((url, process, slot, max_hops, result_depth))
        if self.error is not None:
            raise self.error
        assert self.tree is not None
        return self.tree


async def setup(fake: FakeRemote, config: PushConfig | None = None) -> tuple[Node, Pusher, bytes, int, str]:
    """A on this node sends to B, whose Process names another scheduler at `URL`."""
    node = Node.open(MemoryStore())
    await node.scheduler.locations.register(
        # valid now: an expired record is never used for a redirect
        sign_location(
            Location(OTHER_NODE_KEY.address, URL, 1, 600_000, int(time.time() * 1000)), OTHER_NODE_KEY
        )
    )
    b_process = Message(
        tags=(
            Tag("Type", "Process"),
            Tag("Module", encode_id(runtime_module().id)),
            Tag("Scheduler", OTHER_NODE_KEY.address),
        ),
        data=b"",
    )
    b = encode_id(await node.scheduler.publish(sign_message(b_process, CLIENT_KEY)))
    a = await node.spawn(SENDER)
    slot = await node.send(a, "Go", b)
    pusher = Pusher(node.store, node.scheduler, node.engine, node.signer, config, forwarder=fake, remote=fake)
    return node, pusher, a, slot, b


def test_remote_tree_is_grafted_with_the_remaining_hops() -> None:
    async def go() -> None:
        fake = FakeRemote()
        node, pusher, a, slot, b = await setup(fake, PushConfig(max_depth=5))
        c = encode_id(bytes(range(32)))
        fake.tree = PushNode(
            process=b,
            slot=1,
            stopped="",
            children=[
                PushNode(process=c, slot=4, kind="message", from_process=b, from_slot=1, index=0),
                PushNode(process=encode_id(a), slot=9, kind="message", node="front:1", existing=True),
                PushNode(process=c, kind="message", stopped="error: refused"),
            ],
        )
        report = await pusher.push(a, slot, result_depth=2)
        assert fake.pushes == [(URL, b, 1, 4, 2)]  # the delivery is hop 1 of 5
        (delivery,) = report.tree.children
        assert delivery.node == URL and delivery.stopped == "" and len(delivery.children) == 3
        assert [n.node for n in delivery.children] == [URL, "front:1", URL]
        assert report.delivered == 2 and report.existing == 1  # B's slot, then C's; A's existed
        again = await pusher.push(a, slot, max_hops=3)  # a push continued from elsewhere: fewer hops
        assert fake.pushes[-1][3] == 2 and again.tree.children[0].children[0].process == c
        await node.close()

    run(go())


def test_failing_remote_push_is_recorded() -> None:
    async def go() -> None:
        fake = FakeRemote(error=Unavailable("push at 127.0.0.1:1 unreachable: down"))
        node, pusher, a, slot, _ = await setup(fake)
        report = await pusher.push(a, slot)
        # the delivery was made; its continuation there was not: incomplete, recorded, retried
        assert report.state == "incomplete" and report.delivered == 1 and report.undelivered == 1
        (delivery,) = report.tree.children
        assert delivery.slot == 1
        assert delivery.stopped == "unreachable: UNAVAILABLE: push at 127.0.0.1:1 unreachable: down"
        assert pusher.get(report.push_id).state == "incomplete"
        again = await pusher.push(a, slot)  # repeated: the node's one retried push of that slot answers
        assert again.state == "incomplete" and again.push_id == report.push_id
        assert (await pusher.start(a, slot)).push_id == report.push_id
        assert len(pusher._incomplete) == len(pusher._retries) == 1
        fake.error = RemoteRefusal("PERMISSION_DENIED: not trusted")
        fake.tree = PushNode(process=encode_id(decode_id(delivery.process, "p")), slot=1)
        await pusher.close()
        refused = await Pusher(
            node.store, node.scheduler, node.engine, node.signer, forwarder=fake, remote=fake
        ).push(a, slot)
        (delivery,) = refused.tree.children
        assert refused.state == "done" and delivery.stopped.startswith("remote: ")  # a refusal is not retried
        await node.close()

    run(go())


def test_no_hops_left_for_the_remote_push() -> None:
    async def go() -> None:
        fake = FakeRemote()
        node, pusher, a, slot, _ = await setup(fake, PushConfig(max_depth=1))
        report = await pusher.push(a, slot)
        assert fake.pushes == [] and report.tree.children[0].slot == 1
        assert stops(report.tree) == [f"hop-limit: 1 hops reached; the slot on {URL} is not pushed"]
        # a push asked for with fewer hops than the node's bound gets fewer; never more than the bound
        report = await pusher.push(a, slot, max_hops=1000)
        assert fake.pushes == [] and stops(report.tree)[0].startswith("hop-limit: 1 hops")
        await node.close()

    run(go())


def test_an_incomplete_push_fails_at_its_deadline() -> None:
    async def go() -> None:
        fake = FakeRemote(error=Unavailable("down"))
        node, _, a, slot, _ = await setup(fake)
        pusher = Pusher(
            node.store,
            node.scheduler,
            node.engine,
            node.signer,
            PushConfig(retry_deadline_ms=0),
            forwarder=fake,
            remote=fake,
        )
        report = await pusher.push(a, slot)
        assert report.state == "failed" and "retry deadline" in report.error and report.undelivered == 1
        assert not pusher._retries
        await node.close()

    run(go())


def test_follow_redirects_pushes_on_the_scheduler_and_counts_its_tree() -> None:
    async def go() -> None:
        fake = FakeRemote()
        node, _, _, _, b = await setup(fake)

        class Router:
            async def route(self, process: bytes) -> tuple[str, str | None] | None:
                return OTHER_NODE_KEY.address, URL

        pusher = Pusher(
            node.store,
            node.scheduler,
            node.engine,
            node.signer,
            forwarder=fake,
            remote=fake,
            router=Router(),
            follow_redirects=True,
        )
        c = encode_id(bytes(range(32)))
        fake.tree = PushNode(
            process=b,
            slot=1,
            kind="root",
            children=[
                PushNode(process=c, slot=4, kind="message", from_process=b, from_slot=1, index=0),
                PushNode(process=c, slot=5, kind="message", node="front:1", existing=True),
                PushNode(process=c, kind="message", stopped="unreachable: UNAVAILABLE: down"),
            ],
        )
        report = await pusher.push(decode_id(b, "b"), 1, result_depth=2)
        assert fake.pushes == [(URL, b, 1, 0, 2)]
        assert report.tree is fake.tree and report.tree.node == URL
        assert [n.node for n in report.tree.children] == [URL, "front:1", URL]
        assert (report.delivered, report.existing, report.undelivered) == (1, 1, 1)
        assert report.state == "incomplete"  # that node retries it
        await node.close()

    run(go())
