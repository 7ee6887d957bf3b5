"""NodeClient's retries: a call answered UNAVAILABLE is repeated only where repeating is safe.

The server here is a real gRPC server on 127.0.0.1 that answers UNAVAILABLE a set number of times before
answering properly (a node cannot be made to do that on cue), and counts the attempts it saw.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from aonode.client import ClientError, NodeClient
from aonode.crypto import Ed25519Signer
from aonode.ids import encode_id
from aonode.model import Message
from aonode.rpc.forwarder import GrpcForwarder
from aonode.rpc.retry import retry_options
from aonode.v1 import cron_pb2, node_pb2, scheduler_pb2, types_pb2


class Flaky:
    """Answers each method `code` (UNAVAILABLE) `failures` times, then with `reply`; with `metadata`, the
    failures carry it as trailing metadata."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: Counter[str] = Counter()
        self.code = grpc.StatusCode.UNAVAILABLE
        self.metadata: tuple[tuple[str, str], ...] = ()

    def handler(self, name: str, reply: Callable[[], Any]) -> grpc.RpcMethodHandler:
        def call(request: bytes, context: grpc.ServicerContext) -> bytes:
            self.attempts[name] += 1
            if self.attempts[name] <= self.failures:
                if self.metadata:
                    context.set_trailing_metadata(self.metadata)
                context.abort(self.code, "try again")
            return reply().SerializeToString()  # type: ignore[no-any-return]

        return grpc.unary_unary_rpc_method_handler(call)


@pytest.fixture
def serve() -> Iterator[Callable[[int], tuple[str, Flaky]]]:
    servers: list[grpc.Server] = []

    def start(failures: int) -> tuple[str, Flaky]:
        flaky = Flaky(failures)
        signer = Ed25519Signer.generate()
        some_id = encode_id(bytes(32))
        assignment = types_pb2.Assignment(process=some_id, slot=7, message=some_id, hash_chain=some_id)
        handlers = {
            "aonode.v1.NodeService": {
                "GetInfo": flaky.handler("GetInfo", lambda: node_pb2.GetInfoResponse(address=signer.address)),
            },
            "aonode.v1.SchedulerService": {
                "Schedule": flaky.handler(
                    "Schedule", lambda: scheduler_pb2.ScheduleResponse(assignment=assignment)
                ),
            },
            "aonode.v1.CronService": {
                "Every": flaky.handler("Every", lambda: cron_pb2.EveryResponse()),
            },
        }
        server = grpc.server(ThreadPoolExecutor(4))
        for service, methods in handlers.items():
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, methods),))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}", flaky

    yield start
    for server in servers:
        server.stop(None)


def test_repeatable_calls_are_retried_through_unavailable(serve: Callable[[int], tuple[str, Flaky]]) -> None:
    address, flaky = serve(2)
    with NodeClient(address, timeout=10) as client:
        assert client.info().address
        raw = client.scheduler.Schedule(scheduler_pb2.ScheduleRequest(), timeout=10)
        assert raw.assignment.slot == 7
    assert flaky.attempts == {"GetInfo": 3, "Schedule": 3}


def test_retries_give_up_after_the_attempts(serve: Callable[[int], tuple[str, Flaky]]) -> None:
    address, flaky = serve(10)
    with NodeClient(address, timeout=10, retry_attempts=3) as client, pytest.raises(ClientError) as caught:
        client.info()
    assert caught.value.code == "UNAVAILABLE"
    assert flaky.attempts["GetInfo"] == 3


def test_calls_that_are_not_repeatable_are_tried_once(serve: Callable[[int], tuple[str, Flaky]]) -> None:
    address, flaky = serve(1)
    with NodeClient(address, timeout=10) as client:
        with pytest.raises(grpc.RpcError) as caught:
            client.cron.Every(cron_pb2.EveryRequest(), timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert flaky.attempts["Every"] == 1  # a repeat could have created a second task


def test_one_attempt_turns_retries_off(serve: Callable[[int], tuple[str, Flaky]]) -> None:
    address, flaky = serve(1)
    with NodeClient(address, timeout=10, retry_attempts=1) as client, pytest.raises(ClientError):
        client.info()
    assert flaky.attempts["GetInfo"] == 1


def test_attempts_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retry_options(0)


def test_node_to_node_forwarding_retries_too(serve: Callable[[int], tuple[str, Flaky]]) -> None:
    address, flaky = serve(1)

    async def forward() -> int:
        forwarder = GrpcForwarder(timeout=10)
        try:
            return (await forwarder.schedule_remote(f"grpc://{address}", Message(data=b"x"))).slot
        finally:
            await forwarder.close()

    assert asyncio.run(forward()) == 7
    assert flaky.attempts["Schedule"] == 2


def test_resource_exhausted_without_pushback_is_retried(serve: Callable[[int], tuple[str, Flaky]]) -> None:
    # The concurrency limit's answer (grpcio's "Concurrent RPC limit exceeded!") carries no pushback: a
    # burst's excess is repeated with backoff.
    address, flaky = serve(2)
    flaky.code = grpc.StatusCode.RESOURCE_EXHAUSTED
    with NodeClient(address, timeout=10) as client:
        assert client.info().address
    assert flaky.attempts["GetInfo"] == 3


def test_resource_exhausted_with_the_nodes_pushback_is_not_retried(
    serve: Callable[[int], tuple[str, Flaky]],
) -> None:
    # The node's own RESOURCE_EXHAUSTED (store full, a size limit, a quota) says "do not retry".
    from aonode.rpc.status import NO_RETRY

    address, flaky = serve(2)
    flaky.code, flaky.metadata = grpc.StatusCode.RESOURCE_EXHAUSTED, (NO_RETRY,)
    with NodeClient(address, timeout=10) as client, pytest.raises(ClientError) as caught:
        client.info()
    assert caught.value.code == "RESOURCE_EXHAUSTED"
    assert flaky.attempts["GetInfo"] == 1
