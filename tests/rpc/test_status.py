"""The one error table, and errors raised by servicers reaching clients with the right status."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from aonode import errors
from aonode.rpc.convert import message_to_pb
from aonode.rpc.service import register
from aonode.rpc.status import status_for
from aonode.v1 import node_pb2, node_pb2_grpc, scheduler_pb2
from store import ConflictError, CorruptObjectError, StoreClosedError, StoreFullError

TABLE = [
    (errors.InvalidArgument("x"), grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound("x"), grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists("x"), grpc.StatusCode.ALREADY_EXISTS),
    (errors.PermissionDenied("x"), grpc.StatusCode.PERMISSION_DENIED),
    (errors.FailedPrecondition("x"), grpc.StatusCode.FAILED_PRECONDITION),
    (errors.OutOfRange("x"), grpc.StatusCode.OUT_OF_RANGE),
    (errors.ResourceExhausted("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable("x"), grpc.StatusCode.UNAVAILABLE),
    (errors.DataLoss("x"), grpc.StatusCode.DATA_LOSS),
    (CorruptObjectError("x"), grpc.StatusCode.DATA_LOSS),
    (StoreFullError("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (ConflictError("x"), grpc.StatusCode.ABORTED),
    (StoreClosedError("x"), grpc.StatusCode.UNAVAILABLE),
]


@pytest.mark.parametrize(("error", "code"), TABLE, ids=[type(e).__name__ for e, _ in TABLE])
def test_table(error: Exception, code: grpc.StatusCode) -> None:
    assert status_for(error) == code


def test_unknown_errors_are_bugs() -> None:
    assert status_for(RuntimeError("boom")) is None


class Redirect(errors.FailedPrecondition):
    def __init__(self) -> None:
        super().__init__("process is scheduled by another node")
        self.metadata = {"location-url": "http://other:7400"}


class FailingServicer:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def Echo(self, request: Any, context: Any) -> Any:
        raise self.error


@pytest.fixture
def failing_server() -> Iterator[tuple[str, FailingServicer]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    servicer = FailingServicer(errors.NotFound("no such process"))

    async def start() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server()
        register(server, node_pb2.DESCRIPTOR.services_by_name["NodeService"], servicer)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    yield f"127.0.0.1:{port}", servicer
    asyncio.run_coroutine_threadsafe(server.stop(0), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def _call(address: str) -> grpc.RpcError:
    with grpc.insecure_channel(address) as channel, pytest.raises(grpc.RpcError) as caught:
        node_pb2_grpc.NodeServiceStub(channel).Echo(node_pb2.EchoRequest(), timeout=5)
    error = caught.value
    assert isinstance(error, grpc.RpcError)
    return error


def test_domain_error_reaches_client(failing_server: tuple[str, FailingServicer]) -> None:
    address, _ = failing_server
    error = _call(address)
    assert error.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
    assert error.details() == "no such process"  # type: ignore[attr-defined]


def test_error_metadata_is_trailing_metadata(failing_server: tuple[str, FailingServicer]) -> None:
    address, servicer = failing_server
    servicer.error = Redirect()
    error = _call(address)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    assert ("aonode-location-url", "http://other:7400") in tuple(error.trailing_metadata())  # type: ignore[attr-defined]


def test_bug_is_internal_without_its_text(failing_server: tuple[str, FailingServicer]) -> None:
    address, servicer = failing_server
    servicer.error = RuntimeError("secret detail")
    error = _call(address)
    assert error.code() == grpc.StatusCode.INTERNAL  # type: ignore[attr-defined]
    assert "secret" not in (error.details() or "")  # type: ignore[attr-defined]


def test_the_nodes_resource_exhausted_tells_clients_not_to_retry(
    failing_server: tuple[str, FailingServicer],
) -> None:
    address, servicer = failing_server
    servicer.error = StoreFullError("store is full")
    error = _call(address)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert ("grpc-retry-pushback-ms", "-1") in tuple(error.trailing_metadata())  # type: ignore[attr-defined]


def test_an_overloaded_node_lets_clients_retry(failing_server: tuple[str, FailingServicer]) -> None:
    address, servicer = failing_server
    servicer.error = errors.Overloaded("scheduler overloaded")
    error = _call(address)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
    assert not any(k == "grpc-retry-pushback-ms" for k, _ in error.trailing_metadata())  # type: ignore[attr-defined]


def test_a_full_disk_is_resource_exhausted_store_is_full_and_recovers(tmp_path: Any) -> None:
    # It was UNAVAILABLE "Input/output error" (LMDB's EIO for a commit cut short), which reads like a
    # failing device and made clients retry.
    from aonode.client import NodeClient, build_message
    from tests.conftest import ServerThread, make_config
    from tests.hostile.support import OWNER, assert_node_healthy, spawn_aos
    from tests.store.smallfs import fill, small_filesystem

    with small_filesystem(tmp_path / "fs", 64) as fs:
        server = ServerThread(make_config(fs / "node")).start()
        try:
            with NodeClient(server.address, timeout=30, retry_attempts=1) as client:
                process = spawn_aos(client)
                filler = fill(fs / "filler", leave=2 << 20)
                with pytest.raises(grpc.RpcError) as caught:
                    for i in range(64):
                        message = build_message(OWNER, process, data=bytes([i]) * (256 << 10))
                        client.scheduler.Schedule(
                            scheduler_pb2.ScheduleRequest(message=message_to_pb(message)), timeout=30
                        )
                error = caught.value
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()  # type: ignore[attr-defined]
                assert "store is full" in (error.details() or "")  # type: ignore[attr-defined]
                assert ("grpc-retry-pushback-ms", "-1") in tuple(error.trailing_metadata())  # type: ignore[attr-defined]
                assert_node_healthy(server.address)
                filler.unlink()  # space returns
                assert client.schedule(build_message(OWNER, process, data=b"after")).slot > 0
        finally:
            server.stop()
