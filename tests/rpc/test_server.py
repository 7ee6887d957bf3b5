"""The node shell over real gRPC: health, reflection, limits, error mapping, the echo baseline."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from aonode.v1 import node_pb2, node_pb2_grpc, types_pb2
from tests.conftest import ServerThread, make_config


def test_health_reports_serving(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "aonode.v1.SchedulerService", "aonode.v1.NodeService"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_every_service(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for reply in replies for s in reply.list_services_response.service}
    assert {
        "aonode.v1.NodeService",
        "aonode.v1.SchedulerService",
        "aonode.v1.ProcessService",
        "aonode.v1.CronService",
        "aonode.v1.ReplicationService",
        "grpc.health.v1.Health",
    } <= names


def test_echo_returns_the_message(channel: grpc.Channel) -> None:
    message = types_pb2.Message(
        target="t", tags=[types_pb2.Tag(name="Action", value="Ping")], data=b"x" * 1000
    )
    reply = node_pb2_grpc.NodeServiceStub(channel).Echo(node_pb2.EchoRequest(message=message), timeout=5)
    assert reply.message == message


def test_get_info_names_the_node(channel: grpc.Channel, server: ServerThread) -> None:
    info = node_pb2_grpc.NodeServiceStub(channel).GetInfo(node_pb2.GetInfoRequest(), timeout=5)
    assert info.address == server.node.address
    assert len(info.address) == 43
    assert info.scheme == types_pb2.SIGNATURE_SCHEME_ED25519


@pytest.mark.parametrize("payload", [b"\xff\xff\xff", b"\x0a\x05ab", b"\x08"])
def test_malformed_request_is_invalid_argument(channel: grpc.Channel, payload: bytes) -> None:
    echo = channel.unary_unary("/aonode.v1.NodeService/Echo")
    with pytest.raises(grpc.RpcError) as caught:
        echo(payload, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed request" in (caught.value.details() or "")


def test_unimplemented_rpc_names_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every declared service has a servicer now: take one away to see what a service without one answers.
    from aonode.rpc import server as server_module

    full = server_module.servicers
    monkeypatch.setattr(
        server_module, "servicers", lambda node: {k: v for k, v in full(node).items() if k != "CronService"}
    )
    running = ServerThread(make_config(tmp_path / "n")).start()
    try:
        with grpc.insecure_channel(running.address) as chan:
            call = chan.unary_unary("/aonode.v1.CronService/List")
            with pytest.raises(grpc.RpcError) as caught:
                call(b"", timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "List" in (caught.value.details() or "")
    finally:
        running.stop()


def test_oversized_request_is_resource_exhausted(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    running = ServerThread(make_config(tmp_path / "n", max_message_bytes=64 * 1024)).start()
    try:
        with grpc.insecure_channel(running.address) as chan:
            stub = node_pb2_grpc.NodeServiceStub(chan)
            big = node_pb2.EchoRequest(message=types_pb2.Message(data=b"x" * (128 * 1024)))
            with pytest.raises(grpc.RpcError) as caught:
                stub.Echo(big, timeout=5)
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            # and the node is still healthy afterwards
            assert stub.Echo(node_pb2.EchoRequest(), timeout=5).message == types_pb2.Message()
    finally:
        running.stop()


def test_concurrency_limit_refuses_excess_calls(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    running = ServerThread(make_config(tmp_path / "n", max_concurrent_rpcs=1)).start()
    try:
        with grpc.insecure_channel(running.address) as chan:
            health = health_pb2_grpc.HealthStub(chan)
            watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING  # occupies the one slot
            with pytest.raises(grpc.RpcError) as caught:
                node_pb2_grpc.NodeServiceStub(chan).Echo(node_pb2.EchoRequest(), timeout=5)
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            watch.cancel()
    finally:
        running.stop()


def test_a_burst_is_answered_not_cancelled(tmp_path: Path) -> None:
    # 3,000 calls at once: gRPC core's default pending-call limits (1,000, random drops up to 3,000)
    # cancelled a burst's excess with a bare CANCELLED before the node saw it. Every call must now be
    # served or refused RESOURCE_EXHAUSTED by the concurrency limit (kept tiny here so that some are).
    import asyncio
    from collections import Counter

    running = ServerThread(make_config(tmp_path / "n", max_concurrent_rpcs=2)).start()

    async def burst(count: int) -> Counter[grpc.StatusCode]:
        async with grpc.aio.insecure_channel(running.address) as chan:
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

    try:
        codes = asyncio.run(burst(3000))
        assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
        assert codes[grpc.StatusCode.OK] > 0
    finally:
        running.stop()


def test_one_connection_may_hold_more_calls_than_http2_defaults(server: ServerThread) -> None:
    # A disk stall leaves many unary calls of one client waiting for their commit: the node must hold
    # them (up to max_concurrent_rpcs) instead of refusing the excess with a bare RST_STREAM
    # (REFUSED_STREAM), as its former 256-streams-per-connection limit did. Long-lived Watch calls stand in
    # for the waiting ones.
    count = 300
    with grpc.insecure_channel(server.address) as chan:
        health = health_pb2_grpc.HealthStub(chan)
        watches = [health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=15) for _ in range(count)]
        try:
            statuses = [next(watch).status for watch in watches]
            assert statuses == [health_pb2.HealthCheckResponse.SERVING] * count
            assert node_pb2_grpc.NodeServiceStub(chan).Echo(node_pb2.EchoRequest(), timeout=5)
        finally:
            for watch in watches:
                watch.cancel()


def test_port_in_use_is_refused(server: ServerThread, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    second = ServerThread(make_config(tmp_path / "other", listen=server.address))
    with pytest.raises(Exception, match=r"listen|bind|address"):
        second.start()
    second.stop()


def test_a_second_node_on_one_data_directory_refuses_to_start(tmp_path: Path) -> None:
    # Two `aonode serve` on one directory used to start silently and race each other's schedule heads.
    import subprocess
    import sys

    from aonode.testing import LocalNode, free_port

    data = tmp_path / "node"
    first = LocalNode(data).start()
    try:
        command = [sys.executable, "-m", "aonode", "serve", "--data", str(data)]
        second = subprocess.run(
            [*command, "--listen", f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=30
        )
        assert second.returncode != 0
        assert f"in use by another aonode process (pid {first.proc.pid if first.proc else '?'})" in (
            second.stderr
        )
        assert "Traceback" not in second.stderr
        first.kill()  # kill -9: the kernel releases the lock
        with LocalNode(data) as third, grpc.insecure_channel(third.address) as chan:
            assert node_pb2_grpc.NodeServiceStub(chan).GetInfo(node_pb2.GetInfoRequest(), timeout=10).address
    finally:
        first.kill()
