"""NodeService: who this node is, and a bare echo (the RPC baseline the benchmarks compare against).

GetInfo tells a client in any language what it would otherwise have to find out from the Python code:
the built-in runtime's module ID and device (to spawn without publishing a module), the node wallet
(the `Scheduler` and usual `Authority` of a Process, and the key its assignments are signed with), and
the limits it enforces.
"""

from __future__ import annotations

from aonode import ids
from aonode.devices.aos import runtime_module
from aonode.devices.registry import LUA
from aonode.node import Node
from aonode.rpc.convert import scheme_to_pb
from aonode.rpc.service import Context
from aonode.v1 import node_pb2 as pb

RUNTIME_DEVICE = LUA
"""The device the built-in AOS runtime (a Lua module) runs on."""


class NodeServicer:
    def __init__(self, node: Node) -> None:
        self._node = node
        compute = node.engine.config
        # Fixed for the node's lifetime, so built once.
        self._limits = pb.NodeLimits(
            max_message_bytes=node.config.max_message_bytes,
            max_result_bytes=compute.max_result_bytes,
            max_wall_seconds=compute.max_wall_seconds,
            accept_unsigned=node.config.accept_unsigned,
        )
        self._runtime_module = ids.encode_id(runtime_module().id)

    async def GetInfo(self, request: pb.GetInfoRequest, context: Context) -> pb.GetInfoResponse:
        return pb.GetInfoResponse(
            address=self._node.address,
            version=self._node.version,
            scheme=scheme_to_pb(self._node.signer.scheme),
            devices=self._node.devices.names(),
            runtime_module=self._runtime_module,
            runtime_device=RUNTIME_DEVICE,
            owner=self._node.signer.owner,
            limits=self._limits,
        )

    async def Echo(self, request: pb.EchoRequest, context: Context) -> pb.EchoResponse:
        return pb.EchoResponse(message=request.message)
