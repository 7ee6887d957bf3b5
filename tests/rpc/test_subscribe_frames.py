"""SubscribeSchedule frames written as wire bytes (`aonode.rpc.frames`) parse to exactly the frame the
protobuf library builds from the decoded assignments (`convert.assignment_to_pb`), in both formats."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.codec import decode_assignment, encode_assignment
from aonode.crypto import Ed25519Signer
from aonode.errors import DataLoss
from aonode.ids import encode_id
from aonode.model import Assignment, Message, Signature
from aonode.rpc import frames, service
from aonode.rpc.convert import assignment_from_pb, assignment_to_pb, message_to_pb
from aonode.rpc.frames import FrameWriter, message_wire, varint
from aonode.v1 import scheduler_pb2 as pb
from aonode.v1 import types_pb2
from tests.conftest import ServerThread
from tests.test_codec import _row, ids, messages, signatures, u64s

MAX_U64 = 2**64 - 1
# Slots around the varint length boundaries (1/2, 2/3 and 3/4 bytes, the top of u64) and anywhere.
first_slots = st.one_of(
    st.integers(0, 300),
    st.integers(16_300, 16_500),
    st.integers(2**21 - 10, 2**21 + 10),
    st.integers(MAX_U64 - 40, MAX_U64 - 10),
    st.integers(0, MAX_U64 - 10),
)
small_u64s = st.one_of(
    st.just(0), st.integers(1, 300), st.integers(1_600_000_000_000, 1_900_000_000_000), u64s
)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[bytes, int, list[Assignment]]:
    """(process, first slot, consecutive assignments): signed by one scheduler key (same scheme and
    owner, values of one length: the batch decodes on the uniform path), or each its own way; timestamps
    and blocks shared by runs or not."""
    process = draw(ids)
    first = draw(first_slots)
    n = draw(st.integers(0, 9))
    uniform = draw(st.booleans())
    shared_sig = draw(signatures)
    shared_hash = draw(st.binary(max_size=48))
    out = []
    timestamp, height, epoch = draw(small_u64s), draw(small_u64s), draw(small_u64s)
    for i in range(n):
        if not uniform and draw(st.booleans()):
            timestamp, height, epoch = draw(small_u64s), draw(small_u64s), draw(small_u64s)
        if uniform:
            sig: Signature | None = shared_sig
            if sig is not None:
                sig = replace(sig, value=draw(st.binary(min_size=len(sig.value), max_size=len(sig.value))))
            block_hash = draw(st.binary(min_size=len(shared_hash), max_size=len(shared_hash)))
        else:
            sig = draw(st.one_of(signatures, st.just(shared_sig)))
            block_hash = draw(st.one_of(st.just(shared_hash), st.binary(max_size=48)))
        out.append(
            Assignment(
                process=process,
                slot=first + i,
                message=draw(ids),
                timestamp=timestamp,
                block_height=height,
                block_hash=block_hash,
                epoch=epoch,
                hash_chain=draw(ids),
                signature=sig,
            )
        )
    return process, first, out


def library_frame(
    assignments: Sequence[Assignment], current: int, msgs: Sequence[Message], canonical: bool
) -> pb.SubscribeScheduleResponse:
    """The frame as the servicer built it before: protobuf objects from decoded assignments."""
    frame = pb.SubscribeScheduleResponse(messages=[message_to_pb(m) for m in msgs], current_slot=current)
    if canonical:
        frame.encoded_assignments.extend(encode_assignment(a) for a in assignments)
    else:
        frame.assignments.extend(assignment_to_pb(a) for a in assignments)
    return frame


def chunks(items: list[Assignment], cuts: list[int]) -> Iterator[list[Assignment]]:
    start = 0
    for cut in sorted(cuts):
        yield items[start:cut]
        start = cut
    yield items[start:]


@given(
    schedules(), st.lists(st.integers(0, 9), max_size=2), u64s, st.lists(messages, max_size=2), st.booleans()
)
def test_written_frames_parse_equal_to_library_frames(
    schedule: tuple[bytes, int, list[Assignment]],
    cuts: list[int],
    current: int,
    msgs: list[Message],
    canonical: bool,
) -> None:
    process, first, assignments = schedule
    writer = FrameWriter(process, first)
    write = writer.canonical if canonical else writer.fields
    for part in chunks(assignments, [c for c in cuts if c <= len(assignments)]):
        wire = write([encode_assignment(a) for a in part], current, msgs)
        expected = library_frame(part, current, msgs, canonical)
        assert pb.SubscribeScheduleResponse.FromString(wire) == expected
    assert writer.next_slot == first + len(assignments)


@given(schedules(), st.lists(st.booleans(), min_size=9, max_size=9), u64s)
def test_the_writer_does_not_rely_on_row_objects_being_fresh(
    schedule: tuple[bytes, int, list[Assignment]], signed: list[bool], current: int
) -> None:
    """Rows that share objects (one owner and scheme object for every signed row, unsigned rows between)
    write the same frame: what the writer reuses from one row to the next is keyed on values."""
    process, first, assignments = schedule
    sig = Signature("ed25519", b"\x07" * 32, b"\x08" * 64)
    assignments = [
        replace(a, signature=sig if s else None) for a, s in zip(assignments, signed, strict=False)
    ]
    rows = [_row(a) for a in assignments]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frames, "decode_assignment_rows", lambda _: rows)
        wire = FrameWriter(process, first).fields([b""] * len(rows), current)
    assert pb.SubscribeScheduleResponse.FromString(wire) == library_frame(assignments, current, [], False)


def test_a_typical_frame_is_byte_identical_to_the_library_s() -> None:
    """Not required (equal parses are), but today's protobuf runtime writes the same bytes."""
    signer = Ed25519Signer.generate()
    process = b"\x01" * 32
    sig = Signature("ed25519", signer.owner, b"\x05" * 64)
    assignments = [
        Assignment(
            process,
            16_380 + i,
            bytes([i]) * 32,
            1_760_000_000_000 + i // 3,
            0,
            b"\x00" * 32,
            0,
            b"\x02" * 32,
            sig,
        )
        for i in range(10)
    ]
    wire = FrameWriter(process, 16_380).fields([encode_assignment(a) for a in assignments], 20_000)
    assert wire == library_frame(assignments, 20_000, [], False).SerializeToString()


def test_frames_of_several_chunks() -> None:
    """Frames longer than the writer's chunk, with the repeated fields changing across chunk bounds."""
    process = b"\x01" * 32
    keys = [Signature("ed25519", bytes([k]) * 32, bytes([k]) * 64) for k in range(3)]
    rsa = Signature("rsa-pss-sha512", b"\x09" * 512, b"\x0a" * 512)
    assignments = [
        Assignment(
            process,
            100 + i,
            i.to_bytes(32, "big"),
            1_760_000_000_000 + i // 7,
            i // 300,
            (b"\x00" if i < 255 else b"\x05") * 32,
            0,
            (i * 7).to_bytes(32, "big"),
            None if i % 97 == 0 else rsa if 500 <= i < 520 else keys[(i // 256) % 3],
        )
        for i in range(1_300)
    ]
    writer = FrameWriter(process, 100)
    for frame in (assignments[:1_000], assignments[1_000:]):
        wire = writer.fields([encode_assignment(a) for a in frame], 99_999)
        assert pb.SubscribeScheduleResponse.FromString(wire) == library_frame(frame, 99_999, [], False)
        assert wire == library_frame(frame, 99_999, [], False).SerializeToString()
    assert writer.next_slot == 1_400


@pytest.mark.parametrize("canonical", [False, True])
def test_heartbeat_frames(canonical: bool) -> None:
    writer = FrameWriter(b"\x01" * 32, 5)
    write = writer.canonical if canonical else writer.fields
    assert write([], 0) == b""
    assert pb.SubscribeScheduleResponse.FromString(write([], 12345)) == pb.SubscribeScheduleResponse(
        current_slot=12345
    )
    assert writer.next_slot == 5


def test_a_misplaced_stored_assignment_is_data_loss() -> None:
    process = b"\x01" * 32
    a = Assignment(process, 7, b"\x02" * 32, 1, hash_chain=b"\x03" * 32)
    with pytest.raises(DataLoss, match="slot 6"):
        FrameWriter(process, 6).fields([encode_assignment(a)], 7)
    with pytest.raises(DataLoss, match="slot 7"):
        FrameWriter(b"\x09" * 32, 7).fields([encode_assignment(a)], 7)
    pair = [encode_assignment(a), encode_assignment(replace(a, slot=9))]
    with pytest.raises(DataLoss, match="slot 8"):
        FrameWriter(process, 7).fields(pair, 9)


@given(u64s)
def test_varint_is_the_protobuf_varint(v: int) -> None:
    assert pb.SubscribeScheduleResponse.FromString(b"\x18" + varint(v)).current_slot == v
    assert b"\x18" + varint(v) == pb.SubscribeScheduleResponse(current_slot=v).SerializeToString() or v == 0


def test_serializer_passes_bytes_through() -> None:
    assert service._serialize(b"\x18\x01") == b"\x18\x01"
    assert service._serialize(pb.SubscribeScheduleResponse(current_slot=1)) == b"\x18\x01"


# -- over gRPC -----------------------------------------------------------------------------------------------

USER = Ed25519Signer.generate()


@pytest.mark.parametrize("canonical", [False, True])
def test_subscribe_with_messages_matches_get_schedule(server: ServerThread, canonical: bool) -> None:
    with NodeClient(server.address, timeout=10) as client:
        module = client.publish(build_module(USER, b"-- module\n", "text/x-lua"))
        process = build_process(USER, module=module, scheduler=client.info().address, device="lua@5.3a")
        client.schedule(process)
        pid = encode_id(process.id)
        sent = [build_message(USER, pid, data=b"%d" % i) for i in range(150)]  # > one inline frame
        for outcome in client.schedule_stream(sent):
            assert isinstance(outcome, Assignment)
        page = client.get_schedule(pid, include_messages=True)
        assert len(page.assignments) == 151 and not page.has_next
        got: list[Assignment] = []
        got_messages: list[types_pb2.Message] = []
        for frame in client.subscribe(pid, 0, include_messages=True, canonical=canonical):
            if canonical:
                assert not frame.assignments
                got += [decode_assignment(e) for e in frame.encoded_assignments]
            else:
                assert not frame.encoded_assignments
                got += [assignment_from_pb(a) for a in frame.assignments]
            got_messages += frame.messages
            if len(got) >= 151:
                break
        assert got == page.assignments
        assert got_messages == [message_to_pb(m) for m in page.messages]


@given(messages)
def test_message_wire_is_the_library_serialization(m: Message) -> None:
    """GetSchedule, GetMessage and SubscribeSchedule write messages around their data (no copies): the
    bytes are exactly the library's."""
    assert b"".join(message_wire(m)) == message_to_pb(m).SerializeToString()
