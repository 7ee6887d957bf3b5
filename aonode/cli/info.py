"""`aonode info`: what a node is (GetInfo) and whether it serves (the standard gRPC health service).

The health check asks for the whole server (service ""); a node that answers GetInfo but is not SERVING
(starting or draining) says so here, which is what a newcomer needs before sending anything.
"""

from __future__ import annotations

from typing import Any

import click
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from aonode.cli.common import emit, json_option, node_option, report_errors
from aonode.client import NodeClient
from aonode.ids import b64url_encode
from aonode.v1 import types_pb2


def _health(client: NodeClient) -> str:
    stub = health_pb2_grpc.HealthStub(client.channel)
    try:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=client.timeout)
    except grpc.RpcError as exc:
        return f"UNKNOWN ({exc.code().name})"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def _text(document: dict[str, Any]) -> str:
    limits = document["limits"]
    rows = [
        ("node", document["node"]),
        ("health", document["health"]),
        ("version", document["version"]),
        ("address", document["address"]),
        ("scheme", document["scheme"]),
        ("devices", ", ".join(document["devices"])),
        ("runtime module", f"{document['runtime_module']} ({document['runtime_device']})"),
        ("max message", f"{limits['max_message_bytes']} bytes"),
        ("max result", f"{limits['max_result_bytes']} bytes"),
        ("max wall clock", f"{limits['max_wall_seconds']} s per slot"),
        ("unsigned", "accepted" if limits["accept_unsigned"] else "refused"),
    ]
    return "\n".join(f"{name:<15} {value}" for name, value in rows)


@click.command()
@node_option
@json_option
@report_errors
def info(node: str, as_json: bool) -> None:
    """Show the node's address (its wallet), version, devices, limits, the built-in runtime's module ID
    (the Module tag for AOS processes), and its health."""
    with NodeClient(node, retry_attempts=1) as client:
        reply = client.info()
        health = _health(client)
    document = {
        "node": node,
        "health": health,
        "version": reply.version,
        "address": reply.address,
        "scheme": types_pb2.SignatureScheme.Name(reply.scheme),
        "owner": b64url_encode(reply.owner),
        "devices": list(reply.devices),
        "runtime_module": reply.runtime_module,
        "runtime_device": reply.runtime_device,
        "limits": {
            "max_message_bytes": reply.limits.max_message_bytes,
            "max_result_bytes": reply.limits.max_result_bytes,
            "max_wall_seconds": reply.limits.max_wall_seconds,
            "accept_unsigned": reply.limits.accept_unsigned,
        },
    }
    emit(document, as_json, lambda: _text(document))
