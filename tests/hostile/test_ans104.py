"""Hostile ANS-104 input over gRPC (the `ans104` form of a message in Schedule, ScheduleStream and
PublishMessage): malformed items, bad signatures, oversized tags and items, items that set both forms,
and items that claim `From-Process` / `Cron-From` from an untrusted key. Each gets its exact status
(INVALID_ARGUMENT, PERMISSION_DENIED, RESOURCE_EXHAUSTED), nothing is stored (the message is not found by
its ID, the process's slot does not move), and the node stays SERVING with the process computing."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from aonode import ans104, ethereum
from aonode.client import build_message
from aonode.ids import encode_id
from aonode.v1 import scheduler_pb2, types_pb2
from tests.hostile.support import (
    ATTACKER,
    Target,
    assert_node_healthy,
    assert_process_computes,
    attacked_node,
)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with attacked_node(tmp_path_factory.mktemp("ans104") / "node", max_message_bytes=MAX_MESSAGE_BYTES) as t:
        yield t


def item_for(t: Target, **fields: Any) -> ans104.Ans104Message:
    base = build_message(ATTACKER, t.process, action="Eval", data=b"return 1")
    tags = [*base.tags, *fields.pop("tags", [])]
    return ans104.build(ATTACKER, target=t.process, anchor=base.anchor, tags=tags, **fields)


def _flip_last(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 1])


def _many_tags(t: Target, n: int, header_count: int) -> bytes:
    head = item_for(t).raw[:98]  # Ed25519 type, signature and owner
    tags = ans104._zigzag(n) + b"\x00\x00" * n + b"\x00"
    return head + b"\x00\x00" + struct.pack("<QQ", header_count, len(tags)) + tags


def _with_id(item: ans104.Ans104Message) -> tuple[bytes, bytes | None]:
    return item.raw, item.id


def _code(exc: BaseException) -> grpc.StatusCode:
    assert isinstance(exc, grpc.RpcError)
    code: grpc.StatusCode = exc.code()
    return code


def refused_everywhere(
    t: Target, raw: bytes, code: grpc.StatusCode, item_id: bytes | None = None, publish: bool = True
) -> None:
    """Schedule, PublishMessage (unless not `publish`) and one ScheduleStream outcome all refuse `raw`
    with `code`; nothing is stored."""
    before = t.tip
    calls: list[Callable[[], Any]] = [
        lambda: t.client.scheduler.Schedule(
            scheduler_pb2.ScheduleRequest(message=types_pb2.Message(ans104=raw)), timeout=30
        )
    ]
    if publish:
        calls.append(
            lambda: t.client.scheduler.PublishMessage(
                scheduler_pb2.PublishMessageRequest(message=types_pb2.Message(ans104=raw)), timeout=30
            )
        )
    for call in calls:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert _code(caught.value) == code, caught.value
    if code != grpc.StatusCode.RESOURCE_EXHAUSTED:
        outcomes = list(t.client.schedule_stream([raw]))
        assert len(outcomes) == 1 and not hasattr(outcomes[0], "slot"), outcomes
        assert getattr(outcomes[0], "code", None) == code.name
    assert t.tip == before
    if item_id is not None:
        with pytest.raises(Exception) as missing:
            t.client.get_message(encode_id(item_id))
        assert getattr(missing.value, "code", None) == "NOT_FOUND"
    assert_node_healthy(t.server.address)


CASES: dict[str, Callable[[Target], tuple[bytes, bytes | None]]] = {
    "garbage": lambda t: (b"\x01\x00" + b"\xff" * 300, None),
    "not a data item at all": lambda t: (b"hello world", None),
    "truncated": lambda t: (item_for(t).raw[:200], None),
    "bad signature (data changed)": lambda t: (_flip_last(item_for(t).raw), None),
    "bad signature (owner swapped)": lambda t: (
        (lambda i: i.raw[:66] + bytes(32) + i.raw[98:])(item_for(t)),
        None,
    ),
    "unsupported signature type 9": lambda t: (b"\x09\x00" + bytes(200), None),
    "ethereum type with a zero key": lambda t: (b"\x03\x00" + bytes(200), None),
    "ethereum signature with the other v": lambda t: (
        (lambda r: r[:66] + bytes([55 - r[66]]) + r[67:])(
            ans104.build(ethereum.EthereumSigner(b"\x07" * 32), target=t.process, data=b"x").raw
        ),
        None,
    ),
    "forged tag count": lambda t: (
        (lambda i: i.raw[:98] + b"\x00\x00" + struct.pack("<QQ", 2**63, 4) + b"\x02\x02ab")(item_for(t)),
        None,
    ),
    # A million empty tags (2 MB): refused from the header's count, before any tag is read (it cost
    # ~7 s of CPU when every tag was decoded first).
    "a million empty tags": lambda t: (_many_tags(t, 1_000_000, 1_000_000), None),
    "a header count of 5 over a million tags": lambda t: (_many_tags(t, 1_000_000, 5), None),
    # Well-formed and validly signed, but over a limit: refused before anything is written.
    "129 tags": lambda t: _with_id(item_for(t, tags=[(f"T{n}", "v") for n in range(129 - 4)])),
    "tag bytes over 4096": lambda t: _with_id(item_for(t, tags=[("A", "v" * 3000), ("B", "v" * 1500)])),
    "tag value over 3072": lambda t: _with_id(item_for(t, tags=[("A", "v" * 3073)])),
    "non-UTF-8 tag": lambda t: _with_id(item_for(t, tags=[(b"A", b"\xff")])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_items_are_invalid_argument_and_store_nothing(target: Target, case: str) -> None:
    raw, item_id = CASES[case](target)
    refused_everywhere(target, raw, grpc.StatusCode.INVALID_ARGUMENT, item_id)
    assert_process_computes(target.client, target.process)


def test_an_item_with_other_fields_set_is_refused(target: Target) -> None:
    item = item_for(target)
    message = types_pb2.Message(ans104=item.raw, data=b"smuggled")
    with pytest.raises(grpc.RpcError) as caught:
        target.client.scheduler.Schedule(scheduler_pb2.ScheduleRequest(message=message), timeout=30)
    assert _code(caught.value) == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(Exception) as missing:
        target.client.get_message(encode_id(item.id))
    assert getattr(missing.value, "code", None) == "NOT_FOUND"


def test_an_item_larger_than_the_node_takes_is_resource_exhausted(target: Target) -> None:
    item = item_for(target, data=b"x" * (MAX_MESSAGE_BYTES + 1024))
    refused_everywhere(target, item.raw, grpc.StatusCode.RESOURCE_EXHAUSTED, item.id)


@pytest.mark.parametrize("tag", ["From-Process", "Cron-From", "from-process"])
def test_reserved_tags_from_an_untrusted_key_are_permission_denied(target: Target, tag: str) -> None:
    # Scheduling is where the rule holds, for our messages and items alike: PublishMessage stores a
    # message for later reference (modules) without the relay check, whatever its format.
    item = item_for(target, tags=[(tag, encode_id(b"\x09" * 32))])
    refused_everywhere(target, item.raw, grpc.StatusCode.PERMISSION_DENIED, item.id, publish=False)
    assert_process_computes(target.client, target.process)


def test_a_good_item_after_all_that_is_scheduled(target: Target) -> None:
    before = target.tip
    item = item_for(target)
    assignment = target.client.schedule(item.raw)
    assert assignment.slot == before + 1 and assignment.message == item.id
    assert_process_computes(target.client, target.process)
