"""Property-based fuzzing of every gRPC method against a real node (issue 10, "Keep it fixed").

For each method of every aonode.v1 service (read from the generated descriptors, so a method added later
is fuzzed too), hypothesis builds requests two ways:

- structured: the method's request message class filled field by field from its descriptor: integers
  at and around their type's limits, strings that are random text, well-formed or nearly well-formed
  IDs (43 base64url characters, the node's real process and message IDs), digit strings thousands long
  and non-ASCII digits, empty and oversized values; nested messages recursively; sometimes a correctly
  signed message to the real process, so the calls reach past validation into the domain;
- raw: random bytes, and a valid request's bytes truncated, extended or with one byte changed, sent
  through a generic channel call (no serializer), as any client could.

Every answer must be a defined status: never INTERNAL (a bug) or UNKNOWN (an exception escaped). The
node must then still be SERVING and its process must still compute (the last test of the module).
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message as PbMessage
from google.protobuf.message_factory import GetMessageClass
from hypothesis import given, settings
from hypothesis import strategies as st

from aonode.client import NodeClient, build_message
from aonode.ids import encode_id
from aonode.rpc.convert import message_to_pb
from aonode.rpc.server import SERVICES
from aonode.v1 import types_pb2
from tests.conftest import ServerThread, make_config
from tests.hostile.support import OWNER, assert_node_healthy, assert_process_computes, spawn_aos

METHODS: list[MethodDescriptor] = [m for service in SERVICES for m in service.methods]
UNDEFINED = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
B64URL = string.ascii_letters + string.digits + "-_"

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


@dataclass
class Target:
    address: str
    process: str
    message: str
    signed: types_pb2.Message  # a correctly signed message to `process`


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    server = ServerThread(make_config(Path(tmp_path_factory.mktemp("fuzz")) / "node")).start()
    try:
        with NodeClient(server.address) as client:
            pid = spawn_aos(client)
            sent = build_message(OWNER, pid, action="Eval", data=b"return 7")
            client.schedule(sent)
        yield Target(server.address, pid, encode_id(sent.id), message_to_pb(sent))
    finally:
        server.stop()


def _ints(low: int, high: int) -> st.SearchStrategy[int]:
    edges = [v for v in (low, low + 1, -1, 0, 1, 2**31, 2**53 + 1, high - 1, high) if low <= v <= high]
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def _strings(t: Target) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=60),
        st.sampled_from(
            [t.process, t.message, "", " ", "A" * 43, "-" * 43, "=" * 43, "9" * 5000, "١٢٣", "\0"]
        ),
        st.text(alphabet=B64URL, min_size=42, max_size=44),
        st.text(alphabet=string.digits, min_size=1, max_size=30),
        st.just("x" * 70_000),
    )


def _field(f: FieldDescriptor, t: Target, depth: int) -> st.SearchStrategy[Any]:
    """A plausible value (the real IDs, small numbers: so the other fields' hostile values get past
    the first check) or a hostile one."""
    hostile = _hostile(f, t, depth)
    if f.type in _INT_RANGES:
        return st.one_of(st.integers(0, 3), hostile)
    if f.type == FieldDescriptor.TYPE_STRING:
        return st.one_of(st.sampled_from([t.process, t.message, "1", "10s"]), hostile)
    return hostile


def _hostile(f: FieldDescriptor, t: Target, depth: int) -> st.SearchStrategy[Any]:
    if f.type in _INT_RANGES:
        return _ints(*_INT_RANGES[f.type])
    if f.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, width=32 if f.type == FieldDescriptor.TYPE_FLOAT else 64)
    if f.type == FieldDescriptor.TYPE_STRING:
        return _strings(t)
    if f.type == FieldDescriptor.TYPE_BYTES:
        return st.one_of(
            st.binary(max_size=100), st.just(b"\0" * 70_000), st.sampled_from([b"", b"\xff" * 32])
        )
    if f.type == FieldDescriptor.TYPE_ENUM:
        assert f.enum_type is not None
        return st.one_of(st.sampled_from([v.number for v in f.enum_type.values]), st.integers(-3, 1000))
    assert f.type == FieldDescriptor.TYPE_MESSAGE and f.message_type is not None
    built = requests(f.message_type, t, depth - 1)
    if f.message_type.full_name == "aonode.v1.Message":
        return st.one_of(built, _signed_variants(t))
    return built


def _signed_variants(t: Target) -> st.SearchStrategy[types_pb2.Message]:
    """The real signed message, or it with one field changed (so the signature no longer matches)."""

    def vary(change: tuple[str, Any]) -> types_pb2.Message:
        m = types_pb2.Message()
        m.CopyFrom(t.signed)
        name, value = change
        if name == "tag":
            m.tags.add(name=value[0], value=value[1])
        elif name == "data":
            m.data = value
        elif name == "target":
            m.target = value
        return m

    return st.one_of(
        st.just(t.signed),
        st.tuples(st.just("tag"), st.tuples(st.text(max_size=20), st.text(max_size=20))).map(vary),
        st.tuples(st.just("data"), st.binary(max_size=50)).map(vary),
        st.tuples(st.just("target"), _strings(t)).map(vary),
    )


def requests(desc: Descriptor, t: Target, depth: int = 3) -> st.SearchStrategy[PbMessage]:
    """Instances of `desc`'s class with each field absent or set to a hostile value."""
    cls = GetMessageClass(desc)
    if depth <= 0:
        return st.just(cls())
    fields = {}
    for f in desc.fields:
        value = _field(f, t, depth)
        if f.is_repeated:
            value = st.lists(value, max_size=3)
        fields[f.name] = st.none() | value

    def build(values: dict[str, Any]) -> PbMessage:
        m = cls()
        for name, value in values.items():
            if value is None:
                continue
            f = desc.fields_by_name[name]
            if f.is_repeated:
                target = getattr(m, name)
                if f.type == FieldDescriptor.TYPE_MESSAGE:
                    for item in value:
                        target.add().CopyFrom(item)
                else:
                    target.extend(value)
            elif f.type == FieldDescriptor.TYPE_MESSAGE:
                getattr(m, name).CopyFrom(value)
            else:
                setattr(m, name, value)
        return m

    return st.fixed_dictionaries(fields).map(build)


def _path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def call(address: str, method: MethodDescriptor, raw: bytes) -> grpc.StatusCode:
    """Send `raw` as the request of `method`; the status it ends with (OK, or the error code). An
    answer the client could not read (its trailer over the metadata limit: the node's status lost in
    transport) counts as UNKNOWN."""
    with grpc.insecure_channel(address) as channel:
        try:
            if method.client_streaming:
                responses = channel.stream_stream(_path(method))(iter([raw]), timeout=10)
                for _ in responses:
                    pass
            elif method.server_streaming:
                stream = channel.unary_stream(_path(method))(raw, timeout=10)
                # A valid subscription stays open: its first frame (or a clean end) is the answer.
                for _ in stream:
                    stream.cancel()
                    return grpc.StatusCode.OK
            else:
                channel.unary_unary(_path(method))(raw, timeout=10)
        except grpc.RpcError as exc:
            if "metadata size exceeds" in (exc.details() or ""):
                return grpc.StatusCode.UNKNOWN
            code: grpc.StatusCode = exc.code()
            return code
    return grpc.StatusCode.OK


def _id(method: MethodDescriptor) -> str:
    return f"{method.containing_service.name}.{method.name}"


@pytest.mark.parametrize("method", METHODS, ids=_id)
@settings(max_examples=25)
@given(data=st.data())
def test_structured_requests_get_a_defined_status(
    target: Target, method: MethodDescriptor, data: Any
) -> None:
    request = data.draw(requests(method.input_type, target))
    code = call(target.address, method, request.SerializeToString())
    assert code not in UNDEFINED, f"{_id(method)} answered {code.name} to {request!r:.2000}"


def _mutated(method: MethodDescriptor, t: Target) -> st.SearchStrategy[bytes]:
    """A valid request's bytes, cut short, extended or with one byte changed."""

    def mutate(args: tuple[bytes, int, int, bytes]) -> bytes:
        valid, at, byte, extra = args
        if not valid:
            return extra
        at %= len(valid)
        choice = byte % 3
        if choice == 0:
            return valid[:at]
        if choice == 1:
            return valid + extra
        return valid[:at] + bytes([byte]) + valid[at + 1 :]

    valid = requests(method.input_type, t, depth=2).map(lambda m: m.SerializeToString())
    return st.tuples(valid, st.integers(0, 2**16), st.integers(0, 255), st.binary(max_size=20)).map(mutate)


@pytest.mark.parametrize("method", METHODS, ids=_id)
@settings(max_examples=20)
@given(data=st.data())
def test_raw_bytes_get_a_defined_status(target: Target, method: MethodDescriptor, data: Any) -> None:
    raw = data.draw(st.one_of(st.binary(max_size=300), _mutated(method, target)))
    code = call(target.address, method, raw)
    assert code not in UNDEFINED, f"{_id(method)} answered {code.name} to raw bytes {raw!r:.2000}"


def test_node_serves_and_computes_after_fuzzing(target: Target) -> None:
    assert_node_healthy(target.address)
    with NodeClient(target.address, timeout=60) as client:
        assert_process_computes(client, target.process)


# Inputs that answered INTERNAL before issue 10 §6's status fixes (push slot range, page_token parsing).
# The fuzzer's strategies reach them only rarely, so they are pinned here.
PINNED = [
    pytest.param("Push", {"slot": 2**64 - 1}, id="push-slot-2^64-1"),
    pytest.param("GetSchedule", {"page_token": "9" * 5000}, id="page-token-5000-digits"),
    pytest.param("GetSchedule", {"page_token": "١٢٣"}, id="page-token-arabic-digits"),
]


@pytest.mark.parametrize(("name", "fields"), PINNED)
def test_pinned_inputs_get_a_defined_status(target: Target, name: str, fields: dict[str, Any]) -> None:
    method = next(m for m in METHODS if m.name == name)
    cls: Any = GetMessageClass(method.input_type)
    request = cls(process=target.process, **fields)
    code = call(target.address, method, request.SerializeToString())
    assert code not in UNDEFINED, f"{name} answered {code.name}"
