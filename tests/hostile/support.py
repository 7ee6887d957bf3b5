"""What every hostile-input case checks after its attack: the node still answers health checks as
SERVING, and a process still computes a fresh message.

Each case (tests/hostile/test_*.py) runs its attack against a real node over gRPC, asserts the status
code (or the slot's deterministic error result), then calls `assert_node_healthy` and, for attacks aimed
at one process, `assert_process_computes` on that process (it must continue, not be bricked).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from aonode.client import NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer, Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from tests.conftest import ServerThread, make_config

ATTACKER = Ed25519Signer.generate()
OWNER = Ed25519Signer.generate()


def assert_node_healthy(address: str) -> None:
    """The node answers grpc.health.v1 with SERVING."""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def spawn_aos(client: NodeClient, owner: Signer = OWNER, tags: list[tuple[str, str]] | None = None) -> str:
    """A process on the built-in AOS runtime, owned by `owner`; returns its ID."""
    process = build_process(
        owner,
        module=encode_id(runtime_module().id),
        scheduler=client.info().address,
        device="lua@5.3a",
        tags=tags or [],
    )
    client.schedule(process)
    return encode_id(process.id)


def assert_process_computes(client: NodeClient, process: str, owner: Signer = OWNER) -> None:
    """An Eval from the owner is scheduled and computed without error: the process was not bricked."""
    message = build_message(owner, process, action="Eval", data=b"return 1 + 1")
    slot = client.schedule(message).slot
    result = client.compute(process, slot).result
    assert not result.error, result.error
    assert "2" in str(result.output), result.output


@dataclass
class Target:
    """A node under attack (one per test module) and the process the attacks aim at."""

    server: ServerThread
    client: NodeClient
    process: str

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def tip(self) -> int:
        return self.client.get_slot(self.process).current_slot

    def still_fine(self) -> None:
        assert_node_healthy(self.address)
        assert_process_computes(self.client, self.process)


@contextmanager
def attacked_node(data: Path, *, timeout: float = 30, **settings: Any) -> Iterator[Target]:
    """A node on `data` (`make_config` settings) with an AOS process spawned, for a module's attacks."""
    server = ServerThread(make_config(data, **settings)).start()
    client = NodeClient(server.address, timeout=timeout, retry_attempts=1)
    try:
        yield Target(server, client, spawn_aos(client))
    finally:
        client.close()
        server.stop()
