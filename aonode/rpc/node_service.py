"""NodeService: who this node is, and a bare echo (the RPC baseline the benchmarks compare against)."""

from __future__ import annotations

from aonode.node import Node
from aonode.rpc.convert import scheme_to_pb
from aonode.rpc.service import Context
from aonode.v1 import node_pb2 as pb


class NodeServicer:
    def __init__(self, node: Node) -> None:
        self._node = node

    async def GetInfo(self, request: pb.GetInfoRequest, context: Context) -> pb.GetInfoResponse:
        return pb.GetInfoResponse(
            address=self._node.address,
            version=self._node.version,
            scheme=scheme_to_pb(self._node.signer.scheme),
            devices=self._node.devices.names(),
        )

    async def Echo(self, request: pb.EchoRequest, context: Context) -> pb.EchoResponse:
        return pb.EchoResponse(message=request.message)
