"""GetSchedule pages and SubscribeSchedule frames with messages are bounded by bytes over gRPC (1 MiB of
stored encodings; a larger message alone), clients following pages get everything, and every read gives
its share of the read budget back."""

from __future__ import annotations

from aonode.client import NodeClient, build_message
from aonode.ids import encode_id
from tests.conftest import ServerThread, wait_for
from tests.hostile.support import OWNER, spawn_aos

KIB = 1024


def test_pages_and_frames_with_messages_are_bounded_by_bytes(server: ServerThread) -> None:
    sizes = [400 * KIB] * 5 + [1500 * KIB, 10 * KIB]
    with NodeClient(server.address) as client:
        pid = spawn_aos(client)
        messages = [build_message(OWNER, pid, data=b"%d" % i * n) for i, n in enumerate(sizes)]
        for m in messages:
            client.schedule(m)
        page = client.get_schedule(pid, 1, include_messages=True)
        assert [len(m.data) for m in page.messages] == [400 * KIB] * 2  # a third would pass 1 MiB
        assert page.has_next and page.next_page_token == "3"
        pairs = list(client.iter_schedule_messages(pid, 1))
        assert [m for _, m in pairs] == messages
        assert [a.slot for a, _ in pairs] == list(range(1, len(messages) + 1))
        assert [a.message for a, _ in pairs] == [m.id for m in messages]

        frames: list[list[int]] = []
        for frame in client.subscribe(pid, 1, include_messages=True):
            frames.append([len(m.data) for m in frame.messages])
            if sum(map(len, frames)) == len(messages):
                break
        assert frames == [[400 * KIB] * 2, [400 * KIB] * 2, [400 * KIB], [1500 * KIB], [10 * KIB]]
        assert client.get_message(encode_id(messages[5].id)) == messages[5]
        budget = server.node.scheduler.read_budget
        wait_for(lambda: budget.in_use == 0)


def test_assignment_pages_keep_their_size(server: ServerThread) -> None:
    with NodeClient(server.address) as client:
        pid = spawn_aos(client)
        for _ in client.schedule_stream(build_message(OWNER, pid, data=b"%d" % i) for i in range(1100)):
            pass
        page = client.get_schedule(pid)
        assert len(page.assignments) == 1000 and page.has_next
