"""Hostile wire-protocol input: what a client that does not follow the gRPC or aonode protocol can send.

Each case attacks a real node (one per module) and asserts the exact status, or for attacks below gRPC
(raw HTTP/2, raw TCP) that the node answers the connection with a protocol-level refusal, and then that
the node is SERVING and the attacked process still computes (tests/hostile/support.py).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from aonode.client import ClientError, NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.rpc.convert import message_to_pb
from aonode.v1 import scheduler_pb2
from tests.hostile.support import (
    ATTACKER,
    OWNER,
    Target,
    attacked_node,
)

SCHEDULE = "/aonode.v1.SchedulerService/Schedule"
SCHEDULE_STREAM = "/aonode.v1.SchedulerService/ScheduleStream"
MiB = 1 << 20


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with attacked_node(Path(tmp_path_factory.mktemp("protocol")) / "node", timeout=60) as t:
        yield t


def raw_unary(address: str, path: str, payload: bytes, timeout: float = 30, **kw: object) -> grpc.StatusCode:
    with grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 * MiB)]) as channel:
        try:
            channel.unary_unary(path)(payload, timeout=timeout, **kw)
        except grpc.RpcError as exc:
            code: grpc.StatusCode = exc.code()
            return code
    return grpc.StatusCode.OK


# -- below gRPC: raw TCP and HTTP/2 ---------------------------------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _literal(name: str, value: str) -> bytes:
    """An HPACK literal header field without indexing, new name (RFC 7541 §6.2.2); short strings only."""
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def _read_frames(sock: socket.socket, seconds: float = 10.0) -> tuple[list[tuple[int, int]], bool]:
    """(type, stream) of the frames the server sends until it answers stream 1, ends the connection or
    goes quiet; and whether it closed the connection."""
    sock.settimeout(seconds)
    data, closed = b"", False
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
            frames = _parse(data)
            if any(kind == 7 or (kind in (1, 3) and stream == 1) for kind, stream in frames):
                break
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        pass
    return _parse(data), closed


def _parse(data: bytes) -> list[tuple[int, int]]:
    frames, at = [], 0
    while at + 9 <= len(data):
        length = int.from_bytes(data[at : at + 3], "big")
        frames.append((data[at + 3], int.from_bytes(data[at + 5 : at + 9], "big") & 0x7FFFFFFF))
        at += 9 + length
    return frames


def _connect(address: str) -> socket.socket:
    host, _, port = address.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_raw_tcp_garbage_closes_the_connection(target: Target) -> None:
    """Not even an HTTP/2 preface: the server drops the connection (after its own SETTINGS)."""
    with _connect(target.address) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)) * 8)
        frames, closed = _read_frames(sock)
    assert closed or (7, 0) in frames, frames
    assert {kind for kind, _ in frames} <= {4, 7, 8}, frames  # SETTINGS, GOAWAY, WINDOW_UPDATE
    target.still_fine()


def test_oversized_http2_frame_closes_the_connection(target: Target) -> None:
    """A valid preface, then a frame header announcing 16 MiB against the 16 KiB default maximum frame
    size (a connection error, RFC 9113 §4.2)."""
    with _connect(target.address) as sock:
        sock.sendall(PREFACE + _frame(4, 0, 0, b"") + b"\xff\xff\xff\x00\x00\x00\x00\x00\x01" + b"x" * 100)
        frames, closed = _read_frames(sock)
    assert closed or (7, 0) in frames, frames
    target.still_fine()


def test_undecodable_header_block_resets_the_stream(target: Target) -> None:
    """A HEADERS frame whose HPACK block is garbage: the server resets that stream (or the connection)."""
    with _connect(target.address) as sock:
        sock.sendall(PREFACE + _frame(4, 0, 0, b"") + _frame(1, 0x5, 1, b"\xff\xff\xff\xff\xff"))
        frames, closed = _read_frames(sock)
    assert (3, 1) in frames or (7, 0) in frames or closed, frames
    target.still_fine()


def test_wrong_content_type_is_refused(target: Target) -> None:
    """A well-formed HTTP/2 request to a real method with content-type text/plain: the server refuses
    the stream (a response HEADERS or RST_STREAM on it), nothing reaches the method."""
    headers = b"".join(
        _literal(n, v)
        for n, v in [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/aonode.v1.NodeService/GetInfo"),
            (":authority", "node"),
            ("content-type", "text/plain"),
            ("te", "trailers"),
        ]
    )
    with _connect(target.address) as sock:
        sock.sendall(
            PREFACE + _frame(4, 0, 0, b"") + _frame(1, 0x4, 1, headers) + _frame(0, 0x1, 1, b"hello")
        )
        frames, closed = _read_frames(sock)
    assert (1, 1) in frames or (3, 1) in frames or (7, 0) in frames or closed, frames
    target.still_fine()


# -- gRPC framing and limits ------------------------------------------------------------------------------


def test_random_bytes_as_a_request_are_invalid_argument(target: Target) -> None:
    assert (
        raw_unary(target.address, SCHEDULE, b"\xff\xfe garbage \x00\x01" * 10)
        == grpc.StatusCode.INVALID_ARGUMENT
    )
    target.still_fine()


def test_truncated_request_is_invalid_argument(target: Target) -> None:
    message = build_message(OWNER, target.process, action="Eval", data=b"return 1")
    raw = scheduler_pb2.ScheduleRequest(message=message_to_pb(message)).SerializeToString()
    assert raw_unary(target.address, SCHEDULE, raw[: len(raw) // 2]) == grpc.StatusCode.INVALID_ARGUMENT
    target.still_fine()


def test_unknown_method_is_unimplemented(target: Target) -> None:
    assert (
        raw_unary(target.address, "/aonode.v1.SchedulerService/DropAll", b"") == grpc.StatusCode.UNIMPLEMENTED
    )
    assert raw_unary(target.address, "/no.such.Service/Call", b"") == grpc.StatusCode.UNIMPLEMENTED
    target.still_fine()


def test_huge_metadata_is_refused(target: Target) -> None:
    """64 KiB of metadata against the 16 KiB limit (grpc.max_metadata_size)."""
    metadata = [(f"x-junk-{i}", "v" * 1000) for i in range(64)]
    code = raw_unary(target.address, "/aonode.v1.NodeService/GetInfo", b"", metadata=metadata)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    target.still_fine()


def test_error_details_quoting_a_huge_field_stay_readable(target: Target) -> None:
    """GetLocation for a 70,000-character address: NOT_FOUND with the quote cut short. Unbounded, the
    message exceeded the client's 16 KiB trailer limit and the client saw RESOURCE_EXHAUSTED instead."""
    with pytest.raises(ClientError) as info:
        target.client._unary(
            target.client.scheduler.GetLocation, scheduler_pb2.GetLocationRequest(address="x" * 70_000)
        )
    assert info.value.code == "NOT_FOUND"
    assert len(info.value.details.encode()) <= 1024
    target.still_fine()


def test_request_over_the_max_receive_size_is_resource_exhausted(target: Target) -> None:
    limit = target.server.config.max_message_bytes
    message = build_message(OWNER, target.process, data=b"\0" * (limit + 1))
    payload = scheduler_pb2.ScheduleRequest(message=message_to_pb(message)).SerializeToString()
    assert raw_unary(target.address, SCHEDULE, payload) == grpc.StatusCode.RESOURCE_EXHAUSTED
    target.still_fine()


# -- streams -----------------------------------------------------------------------------------------------


def test_stream_of_garbage_then_half_close_is_invalid_argument(target: Target) -> None:
    with grpc.insecure_channel(target.address) as channel:
        responses = channel.stream_stream(SCHEDULE_STREAM)(
            iter([b"\x0a\xff\xff\xff\xff\x0f", b"junk"]), timeout=30
        )
        with pytest.raises(grpc.RpcError) as info:
            list(responses)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    target.still_fine()


def test_slow_loris_streams_that_never_send_do_not_block_others(target: Target) -> None:
    """50 ScheduleStream calls that open and never send a frame, held open while others work."""
    release = threading.Event()

    def never() -> Iterator[bytes]:
        release.wait(60)
        return
        yield b""  # a generator that yields nothing, after the wait

    with grpc.insecure_channel(target.address) as channel:
        calls = [channel.stream_stream(SCHEDULE_STREAM)(never(), timeout=60) for _ in range(50)]
        try:
            with NodeClient(target.address, timeout=30, retry_attempts=1) as other:
                assert other.info().address
                target.still_fine()
        finally:
            release.set()
            for c in calls:
                c.cancel()
    target.still_fine()


def test_abandoned_subscriptions_are_cleaned_up(target: Target) -> None:
    """100 SubscribeSchedule streams opened and dropped at once, without reading: each ends CANCELLED
    on the client, and the node goes on serving."""
    request = scheduler_pb2.SubscribeScheduleRequest(process=target.process, include_messages=True)
    with grpc.insecure_channel(target.address) as channel:
        method = channel.unary_stream("/aonode.v1.SchedulerService/SubscribeSchedule")
        calls = [method(request.SerializeToString(), timeout=60) for _ in range(100)]
        for c in calls:
            c.cancel()
        for c in calls:
            with pytest.raises(grpc.RpcError) as info:
                list(c)
            assert info.value.code() == grpc.StatusCode.CANCELLED
    target.still_fine()


# -- signatures, replays, routing --------------------------------------------------------------------------


def test_thousands_of_bad_signatures_are_each_refused(target: Target) -> None:
    """2,000 messages whose signature was made over other bytes, over one stream: each refused alone,
    with the documented status for a bad signature (SignatureError: INVALID_ARGUMENT, docs/scheduler.md)."""
    good = build_message(ATTACKER, target.process, action="Eval", data=b"return 'pwned'")
    forged = [replace(good, anchor=f"forged-{i:025d}", signature=good.signature) for i in range(2000)]
    outcomes = list(target.client.schedule_stream(forged, frame=200))
    assert len(outcomes) == 2000
    assert all(isinstance(o, ClientError) for o in outcomes)
    assert {(o.code, o.details) for o in outcomes if isinstance(o, ClientError)} == {
        ("INVALID_ARGUMENT", "message signature: bad signature")
    }
    target.still_fine()


def test_replayed_signed_message_keeps_its_one_slot(target: Target) -> None:
    message = build_message(OWNER, target.process, action="Eval", data=b"return 3")
    first = target.client.schedule(message)
    replays = [target.client.schedule(message).slot for _ in range(5)]
    assert replays == [first.slot] * 5
    assert target.client.get_slot(target.process).current_slot == first.slot
    target.still_fine()


def test_process_for_another_scheduler_is_refused(target: Target) -> None:
    """A Process whose Scheduler tag names another node's address: this node does not take slot 0."""
    elsewhere = Ed25519Signer.generate().address
    process = build_process(
        OWNER, module=encode_id(runtime_module().id), scheduler=elsewhere, device="lua@5.3a"
    )
    with pytest.raises(ClientError) as info:
        target.client.schedule(process)
    assert info.value.code == "FAILED_PRECONDITION"
    target.still_fine()


def test_message_with_129_tags_is_invalid_argument(target: Target) -> None:
    message = build_message(OWNER, target.process, tags=[(f"T{i}", "v") for i in range(129)])
    with pytest.raises(ClientError) as info:
        target.client.schedule(message)
    assert info.value.code == "INVALID_ARGUMENT"
    target.still_fine()
