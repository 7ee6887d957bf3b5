"""GetInfo tells clients in any language what they need to spawn and verify without reading Python."""

from __future__ import annotations

import grpc

from aonode import ids
from aonode.devices.aos import runtime_module
from aonode.v1 import node_pb2, node_pb2_grpc
from tests.conftest import ServerThread


def test_get_info_has_runtime_wallet_and_limits(channel: grpc.Channel, server: ServerThread) -> None:
    info = node_pb2_grpc.NodeServiceStub(channel).GetInfo(node_pb2.GetInfoRequest(), timeout=5)
    assert info.runtime_module == ids.encode_id(runtime_module().id)
    assert info.runtime_device == "lua@5.3a"
    assert info.runtime_device in info.devices
    assert info.owner == server.node.signer.owner
    assert str(ids.address_of(info.owner)) == info.address
    assert info.limits.max_message_bytes == server.node.config.max_message_bytes
    assert info.limits.max_result_bytes == server.node.engine.config.max_result_bytes
    assert info.limits.max_wall_seconds == server.node.engine.config.max_wall_seconds
    assert info.limits.accept_unsigned == server.node.config.accept_unsigned
