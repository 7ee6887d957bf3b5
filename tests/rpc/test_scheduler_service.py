"""SchedulerService over real gRPC (and the Python client): each RPC, its errors and status codes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from aonode.client import ClientError, NodeClient, build_message, build_module, build_process
from aonode.codec import decode_assignment
from aonode.crypto import Ed25519Signer, sign_location, verify_assignment
from aonode.ids import encode_id, next_hash_chain
from aonode.model import Location, Message
from aonode.rpc.convert import assignment_from_pb, location_to_pb, message_to_pb
from aonode.v1 import scheduler_pb2, scheduler_pb2_grpc, types_pb2
from tests.conftest import ServerThread, wait_for


def NOW() -> int:
    """Now in ms: location records must be valid now (an expired one is never used)."""
    return int(time.time() * 1000)


USER = Ed25519Signer.generate()


@pytest.fixture
def client(server: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(server.address, timeout=10) as c:
        yield c


def spawn(client: NodeClient, scheduler: str | None = None) -> tuple[str, Message]:
    module = client.publish(build_module(USER, b"-- module\n", "text/x-lua"))
    process = build_process(
        USER, module=module, scheduler=scheduler or client.info().address, device="lua@5.3a"
    )
    client.schedule(process)
    return encode_id(process.id), process


def test_schedule_assigns_dense_signed_chained_slots(client: NodeClient, server: ServerThread) -> None:
    pid, process = spawn(client)
    messages = [build_message(USER, pid, action="Ping", data=b"%d" % i) for i in range(5)]
    assignments = [client.schedule(m) for m in messages]
    assert [a.slot for a in assignments] == [1, 2, 3, 4, 5]
    chain = next_hash_chain(process.id, process.id)
    for a, m in zip(assignments, messages, strict=True):
        verify_assignment(a)
        assert a.signature is not None and encode_id(a.message) == encode_id(m.id)
        chain = next_hash_chain(chain, m.id)
        assert a.hash_chain == chain
    assert client.schedule(messages[2]).slot == 3  # idempotent
    slot = client.get_slot(pid)
    assert (slot.current_slot, slot.scheduler) == (5, server.node.address)
    assert client.get_assignment(encode_id(messages[4].id)).slot == 5


def test_bad_messages_are_refused(client: NodeClient) -> None:
    pid, _ = spawn(client)
    unsigned = Message(target=pid, tags=(), data=b"x")
    with pytest.raises(ClientError) as caught:
        client.schedule(unsigned)
    assert caught.value.code == "INVALID_ARGUMENT"
    good = build_message(USER, pid, data=b"x")
    assert good.signature is not None
    forged = Message(
        target=good.target, anchor=good.anchor, tags=good.tags, data=b"y", signature=good.signature
    )
    with pytest.raises(ClientError) as caught:
        client.schedule(forged)
    assert caught.value.code == "INVALID_ARGUMENT"
    with pytest.raises(ClientError) as caught:
        client.schedule(build_message(USER, encode_id(b"\x07" * 32), data=b"x"))
    assert caught.value.code == "NOT_FOUND"
    with pytest.raises(ClientError) as caught:
        client.get_schedule("not-an-id")
    assert caught.value.code == "INVALID_ARGUMENT" and "process" in caught.value.details
    assert client.get_slot(pid).current_slot == 0  # nothing was written


def test_get_schedule_pages_to_the_tip(client: NodeClient) -> None:
    pid, _ = spawn(client)
    for i in range(25):
        client.schedule(build_message(USER, pid, data=b"%d" % i))
    page = client.get_schedule(pid, limit=10)
    assert [a.slot for a in page.assignments] == list(range(10)) and page.has_next
    rest = client.get_schedule(pid, limit=100, page_token=page.next_page_token, include_messages=True)
    assert [a.slot for a in rest.assignments] == list(range(10, 26)) and not rest.has_next
    assert [encode_id(m.id) for m in rest.messages] == [encode_id(a.message) for a in rest.assignments]
    assert [a.slot for a in client.iter_schedule(pid, 3, 7)] == [3, 4, 5, 6, 7]
    with pytest.raises(ClientError) as caught:
        client.get_schedule(pid, page_token="garbage")
    assert caught.value.code == "INVALID_ARGUMENT"


def test_publish_and_get_message(client: NodeClient) -> None:
    module = build_module(USER, b"print(1)\n", "text/x-lua")
    mid = client.publish(module)
    assert mid == encode_id(module.id)
    assert client.get_message(mid) == module
    with pytest.raises(ClientError) as caught:
        client.get_message(encode_id(b"\x01" * 32))
    assert caught.value.code == "NOT_FOUND"


def test_status_lists_processes(client: NodeClient, server: ServerThread) -> None:
    pid, _ = spawn(client)
    status = client.scheduler.GetStatus(scheduler_pb2.GetStatusRequest(), timeout=5)
    assert status.address == server.node.address and pid in status.processes


def test_stream_keeps_order_and_reports_bad_items(client: NodeClient) -> None:
    pid, _ = spawn(client)
    good = [build_message(USER, pid, data=b"%d" % i) for i in range(250)]
    bad = Message(target=pid, data=b"unsigned")
    outcomes = list(client.schedule_stream([*good[:100], bad, *good[100:]], frame=64))
    assert len(outcomes) == 251
    assert isinstance(outcomes[100], ClientError) and outcomes[100].code == "INVALID_ARGUMENT"
    slots = [o.slot for o in outcomes if not isinstance(o, ClientError)]
    assert slots == list(range(1, 251))


def test_stream_of_malformed_frame_is_invalid_argument(client: NodeClient) -> None:
    call = client.channel.stream_stream("/aonode.v1.SchedulerService/ScheduleStream")
    with pytest.raises(grpc.RpcError) as caught:
        list(call(iter([b"\xff\xff"]), timeout=10))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_redirect_names_the_other_scheduler(client: NodeClient) -> None:
    other = Ed25519Signer.generate()
    record = sign_location(Location("", "127.0.0.1:9999", nonce=5, ttl_ms=600_000, timestamp=NOW()), other)
    client.scheduler.RegisterLocation(scheduler_pb2.RegisterLocationRequest(location=location_to_pb(record)))
    got = client.scheduler.GetLocation(scheduler_pb2.GetLocationRequest(address=str(other.address)))
    assert got.location.url == "127.0.0.1:9999"
    stale = sign_location(Location("", "127.0.0.1:1", nonce=4, ttl_ms=600_000, timestamp=NOW()), other)
    with pytest.raises(grpc.RpcError) as caught:
        client.scheduler.RegisterLocation(
            scheduler_pb2.RegisterLocationRequest(location=location_to_pb(stale))
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(ClientError) as redirect:
        spawn(client, scheduler=str(other.address))
    assert redirect.value.code == "FAILED_PRECONDITION"
    assert redirect.value.metadata["aonode-location-url"] == "127.0.0.1:9999"
    assert redirect.value.metadata["aonode-scheduler"] == str(other.address)


@pytest.mark.parametrize("canonical", [False, True])
def test_subscriber_sees_every_slot_once_in_order(client: NodeClient, canonical: bool) -> None:
    pid, _ = spawn(client)
    for i in range(30):
        client.schedule(build_message(USER, pid, data=b"%d" % i))
    seen: list[int] = []
    done = threading.Event()

    def follow() -> None:
        with NodeClient(client.address) as follower:
            for frame in follower.subscribe(pid, 0, canonical=canonical):
                if canonical:
                    seen.extend(decode_assignment(raw).slot for raw in frame.encoded_assignments)
                else:
                    seen.extend(assignment_from_pb(a).slot for a in frame.assignments)
                if len(seen) >= 131:
                    done.set()
                    return

    thread = threading.Thread(target=follow)
    thread.start()
    for i in range(100):  # live, while the subscriber follows
        client.schedule(build_message(USER, pid, data=b"live %d" % i))
    assert done.wait(30)
    thread.join(10)
    assert seen == list(range(131))


def test_paused_subscriber_catches_up_from_the_store_without_server_buffering(
    client: NodeClient, server: ServerThread
) -> None:
    """A subscriber that stops reading while thousands of slots commit, then resumes, sees every slot once
    in order; and the server did not queue those slots for it: it wrote ahead only what the stream's
    flow-control window and one frame hold, then the rest came as catch-up frames read from the store
    after the pause (their `current_slot` is the final tip), each at most `max_frame` assignments."""
    pid, _ = spawn(client)
    n = 6000
    messages = [build_message(USER, pid, data=b"%d" % i) for i in range(n)]
    max_frame = server.node.scheduler.config.max_frame
    # A fixed receive window (no BDP probing, which would let the window grow to hold the whole backlog on
    # the client side) so that what the server can run ahead is bounded by the transport, as for any
    # client that simply stops reading.
    options = [("grpc.http2.bdp_probe", 0), ("grpc.max_receive_message_length", 64 << 20)]
    with grpc.insecure_channel(client.address, options=options) as channel:
        stub = scheduler_pb2_grpc.SchedulerServiceStub(channel)
        frames = stub.SubscribeSchedule(scheduler_pb2.SubscribeScheduleRequest(process=pid), timeout=120)
        seen = [a.slot for a in next(frames).assignments]
        assert seen == [0]
        # The consumer stops reading while the node schedules n messages in bulk.
        outcomes = list(client.schedule_stream(messages))
        assert all(not isinstance(o, ClientError) for o in outcomes)
        tip = n
        assert client.get_slot(pid).current_slot == tip
        written_ahead = 0  # delivered in frames the server produced before the tip was reached
        sizes: list[int] = []
        for frame in frames:
            slots = [a.slot for a in frame.assignments]
            seen += slots
            sizes.append(len(slots))
            if frame.current_slot < tip:
                written_ahead += len(slots)
            if seen[-1] >= tip:
                break
        frames.cancel()
    assert seen == list(range(tip + 1))
    assert max(sizes) <= max_frame
    # Observed: a few hundred (a 64 KiB window is ~200 assignments). A server that buffered per subscriber
    # would have produced (nearly) all n before the consumer came back.
    assert written_ahead <= max_frame + 1000, f"server ran {written_ahead} slots ahead of a paused consumer"
    wait_for(lambda: server.node.scheduler.waiter_count() == 0, timeout=10)


def test_subscribe_unknown_process_is_not_found(client: NodeClient) -> None:
    with pytest.raises(ClientError) as caught:
        next(iter(client.subscribe(encode_id(b"\x09" * 32))))
    assert caught.value.code == "NOT_FOUND"


def test_missing_message_field_is_invalid_argument(client: NodeClient) -> None:
    stub = scheduler_pb2_grpc.SchedulerServiceStub(client.channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Schedule(scheduler_pb2.ScheduleRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_scheme = message_to_pb(build_message(USER, encode_id(b"\x01" * 32)))
    bad_scheme.signature.scheme = types_pb2.SIGNATURE_SCHEME_UNSPECIFIED
    with pytest.raises(grpc.RpcError) as caught:
        stub.Schedule(scheduler_pb2.ScheduleRequest(message=bad_scheme), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_from_process_is_refused_unless_a_trusted_relay_signed_it(client: NodeClient) -> None:
    pid, _ = spawn(client)
    spoof = build_message(USER, pid, action="Transfer", tags=[("From-Process", pid)])
    with pytest.raises(ClientError) as caught:
        client.schedule(spoof)
    assert caught.value.code == "PERMISSION_DENIED" and "From-Process" in caught.value.details
    assert client.get_slot(pid).current_slot == 0
