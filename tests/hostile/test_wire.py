"""Hostile wire input: malformed or out-of-range request fields over gRPC.

Each case sends one bad request to a real node, asserts the exact status (never INTERNAL, never a false
DATA_LOSS), then that the node is still SERVING and the attacked process still computes. One node and one
process serve the whole module (the cases only read, or are refused before anything is written).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from aonode.client import build_message
from aonode.ids import encode_id
from aonode.v1 import node_pb2, process_pb2, scheduler_pb2, types_pb2
from tests.hostile.support import (
    ATTACKER,
    Target,
    attacked_node,
)

U64_MAX = 2**64 - 1


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with attacked_node(tmp_path_factory.mktemp("wire") / "node") as t:
        yield t


def refused(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    assert isinstance(error, grpc.RpcError)
    return error


def check(t: Target, call: Callable[[], Any], code: grpc.StatusCode, text: str = "") -> None:
    error = refused(call)
    assert error.code() == code, (error.code(), error.details())  # type: ignore[attr-defined]
    assert text in (error.details() or "")  # type: ignore[attr-defined]
    t.still_fine()


# -- slots --------------------------------------------------------------------------------------------


def test_push_past_the_tip_is_out_of_range_not_data_loss(target: Target) -> None:
    request = process_pb2.PushRequest(process=target.process, slot=target.tip + 5)
    check(
        target, lambda: target.client.process.Push(request, timeout=30), grpc.StatusCode.OUT_OF_RANGE, "tip"
    )


@pytest.mark.parametrize("slot", [U64_MAX, 2**63])
def test_push_at_a_slot_no_schedule_can_reach_is_invalid(target: Target, slot: int) -> None:
    request = process_pb2.PushRequest(process=target.process, slot=slot)
    call = lambda: target.client.process.Push(request, timeout=30)  # noqa: E731
    check(target, call, grpc.StatusCode.INVALID_ARGUMENT, "not a slot")


def test_async_push_past_the_tip_is_refused_before_it_starts(target: Target) -> None:
    request = process_pb2.PushRequest(
        process=target.process, slot=target.tip + 1, mode=process_pb2.PUSH_MODE_ASYNC
    )
    check(target, lambda: target.client.process.Push(request, timeout=30), grpc.StatusCode.OUT_OF_RANGE)


def test_push_of_an_unknown_process_is_not_found(target: Target) -> None:
    request = process_pb2.PushRequest(process=encode_id(bytes(32)), slot=0)
    check(target, lambda: target.client.process.Push(request, timeout=30), grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("slot", [5, U64_MAX])
def test_compute_past_the_tip_is_out_of_range(target: Target, slot: int) -> None:
    request = process_pb2.ComputeRequest(
        process=target.process, slot=target.tip + slot if slot == 5 else slot
    )
    check(target, lambda: target.client.process.Compute(request, timeout=30), grpc.StatusCode.OUT_OF_RANGE)


def test_get_schedule_with_to_below_from_is_invalid(target: Target) -> None:
    request = scheduler_pb2.GetScheduleRequest(process=target.process, from_slot=U64_MAX, to_slot=0)
    call = lambda: target.client.scheduler.GetSchedule(request, timeout=30)  # noqa: E731
    check(target, call, grpc.StatusCode.INVALID_ARGUMENT)


# -- page tokens --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "9" * 5000,  # int() raised past 4,300 digits: INTERNAL
        "\u0661\u0662",  # Arabic-Indic digits: int() accepted them
        "\uff11",  # a fullwidth digit
        str(2**64),  # past any slot
        "-1",
        " 1",
        "1_0",
        "0x10",
    ],
    ids=["5000-digits", "arabic-digits", "fullwidth-digit", "2^64", "negative", "space", "underscore", "hex"],
)
def test_a_page_token_the_node_did_not_issue_is_invalid(target: Target, token: str) -> None:
    request = scheduler_pb2.GetScheduleRequest(process=target.process, page_token=token)
    call = lambda: target.client.scheduler.GetSchedule(request, timeout=30)  # noqa: E731
    check(target, call, grpc.StatusCode.INVALID_ARGUMENT, "page_token")


def test_an_issued_page_token_still_works(target: Target) -> None:
    page = target.client.get_schedule(target.process, limit=1)
    assert page.has_next and page.next_page_token == "1"
    assert (
        target.client.get_schedule(target.process, page_token=page.next_page_token).assignments[0].slot == 1
    )
    target.still_fine()


# -- malformed and missing fields ---------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"\xff\xff\xff", b"\x0a\xff\x01"], ids=["garbage", "truncated-field"])
def test_a_malformed_protobuf_is_invalid_argument(target: Target, payload: bytes) -> None:
    with grpc.insecure_channel(target.server.address) as channel:
        call = channel.unary_unary("/aonode.v1.SchedulerService/Schedule")
        check(target, lambda: call(payload, timeout=30), grpc.StatusCode.INVALID_ARGUMENT, "malformed")


def test_schedule_without_a_message_is_invalid(target: Target) -> None:
    call = lambda: target.client.scheduler.Schedule(scheduler_pb2.ScheduleRequest(), timeout=30)  # noqa: E731
    check(target, call, grpc.StatusCode.INVALID_ARGUMENT, "message")


def test_a_process_that_is_not_an_id_is_invalid(target: Target) -> None:
    request = process_pb2.ComputeRequest(process=target.process + "x", slot=0)
    check(
        target, lambda: target.client.process.Compute(request, timeout=30), grpc.StatusCode.INVALID_ARGUMENT
    )


def test_an_unknown_signature_scheme_is_invalid(target: Target) -> None:
    message = build_message(ATTACKER, target.process, action="Eval", data=b"return 1")
    pb_message = types_pb2.Message(target=message.target, data=message.data)
    pb_message.signature.scheme = 99  # type: ignore[assignment]
    pb_message.signature.owner = b"x"
    request = scheduler_pb2.ScheduleRequest(message=pb_message)
    check(
        target,
        lambda: target.client.scheduler.Schedule(request, timeout=30),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


def test_a_push_id_that_is_not_an_id_is_invalid(target: Target) -> None:
    request = process_pb2.GetPushRequest(push_id="../../etc")
    check(
        target, lambda: target.client.process.GetPush(request, timeout=30), grpc.StatusCode.INVALID_ARGUMENT
    )


def test_a_dryrun_without_a_target_process_is_invalid(target: Target) -> None:
    request = process_pb2.DryrunRequest(message=types_pb2.Message(target="not-a-process"))
    check(target, lambda: target.client.process.Dryrun(request, timeout=30), grpc.StatusCode.INVALID_ARGUMENT)


# -- bursts ---------------------------------------------------------------------------------------------


def test_a_burst_is_answered_not_cancelled(target: Target) -> None:
    # 2,500 calls at once: gRPC core's default pending-call limits cancelled the excess with a bare
    # CANCELLED before the node saw it; every call is now answered (OK here: the limit is 2,048 in flight
    # and each call is short).
    async def burst(count: int) -> Counter[grpc.StatusCode]:
        async with grpc.aio.insecure_channel(target.server.address) as chan:
            echo = chan.unary_unary(
                "/aonode.v1.NodeService/Echo",
                request_serializer=node_pb2.EchoRequest.SerializeToString,
                response_deserializer=node_pb2.EchoResponse.FromString,
            )

            async def one() -> grpc.StatusCode:
                try:
                    await echo(node_pb2.EchoRequest(), timeout=60)
                except grpc.aio.AioRpcError as exc:
                    return exc.code()
                return grpc.StatusCode.OK

            return Counter(await asyncio.gather(*(one() for _ in range(count))))

    codes = asyncio.run(burst(2500))
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
    target.still_fine()
