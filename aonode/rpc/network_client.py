"""The network domain's `PeerPort` over gRPC: `ExchangeLocations` and `LookupProcess` on other nodes.

`GrpcNetwork` is the node's one client to other nodes: it extends `GrpcForwarder` (scheduling and pushing
on another node, asking whether a delivery exists there) with the two calls of the node network, over the
same cached channels. Answers are returned unverified; the domain verifies every record and proof.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from aonode.errors import InvalidArgument, NotFound
from aonode.ids import encode_id
from aonode.model import Location
from aonode.network import ProcessProof
from aonode.rpc.convert import assignment_from_pb, location_from_pb, location_to_pb, message_from_pb
from aonode.rpc.forwarder import GrpcForwarder, _remote_error
from aonode.v1 import network_pb2, network_pb2_grpc


class GrpcNetwork(GrpcForwarder):
    def _network(self, url: str) -> network_pb2_grpc.NetworkServiceStub:
        return network_pb2_grpc.NetworkServiceStub(self._channel(url))

    async def exchange(self, url: str, records: Sequence[Location]) -> list[Location]:
        request = network_pb2.ExchangeLocationsRequest(locations=[location_to_pb(r) for r in records])
        try:
            reply = await self._network(url).ExchangeLocations(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _remote_error(exc, f"node at {url}") from None
        out = []
        for loc in reply.locations:
            try:
                out.append(location_from_pb(loc))
            except InvalidArgument:
                continue  # malformed: skipped like any record that does not verify
        return out

    async def lookup(self, url: str, process: bytes) -> ProcessProof:
        request = network_pb2.LookupProcessRequest(process=encode_id(process))
        try:
            reply = await self._network(url).LookupProcess(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"{url} does not hold process {encode_id(process)}") from None
            raise _remote_error(exc, f"node at {url}") from None
        if not (
            reply.HasField("process_message") and reply.HasField("assignment") and reply.HasField("location")
        ):
            raise InvalidArgument(f"{url}: incomplete directory answer")
        return ProcessProof(
            message_from_pb(reply.process_message),
            assignment_from_pb(reply.assignment),
            location_from_pb(reply.location),
        )
