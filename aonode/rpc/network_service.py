"""NetworkService: thin servicers over `aonode.network.Network` (peers, relays, gossip, the directory).

The operator actions take a signed `authorization` message (checked by the domain); the reads are
public. `ExchangeLocations` bounds its request (at most 1000 records; the server's message size limit
bounds the bytes) and checks every record; `LookupProcess` answers only from what this node holds, so it
costs a few store reads and never calls out.
"""

from __future__ import annotations

from aonode import ids
from aonode.errors import AonodeError, InvalidArgument
from aonode.model import Location
from aonode.network import Network, Peer, TrustedRelay
from aonode.network.service import MAX_EXCHANGE
from aonode.rpc.convert import (
    assignment_to_pb,
    location_from_pb,
    location_to_pb,
    message_from_pb,
    message_to_pb,
)
from aonode.rpc.service import Context
from aonode.v1 import network_pb2 as pb
from aonode.v1 import types_pb2

MAX_PAGE = 1000


def peer_to_pb(peer: Peer) -> pb.Peer:
    return pb.Peer(
        url=peer.url,
        origin=peer.origin,
        address=peer.address,
        last_seen_ms=peer.last_seen_ms,
        last_error=peer.last_error,
        added_ms=peer.added_ms,
    )


def relay_to_pb(relay: TrustedRelay) -> pb.TrustedRelay:
    return pb.TrustedRelay(address=relay.address, origin=relay.origin, added_ms=relay.added_ms)


def _authorization(request: object) -> types_pb2.Message:
    if not request.HasField("authorization"):  # type: ignore[attr-defined]
        raise InvalidArgument("authorization: required, a message signed by an operator (docs/network.md)")
    return request.authorization  # type: ignore[attr-defined,no-any-return]


class NetworkServicer:
    def __init__(self, network: Network) -> None:
        self._network = network

    async def AddPeer(self, request: pb.AddPeerRequest, context: Context) -> pb.AddPeerResponse:
        peer, learned = await self._network.add_peer(
            message_from_pb(_authorization(request), "authorization")
        )
        return pb.AddPeerResponse(peer=peer_to_pb(peer), learned=learned)

    async def RemovePeer(self, request: pb.RemovePeerRequest, context: Context) -> pb.RemovePeerResponse:
        peer = await self._network.remove_peer(message_from_pb(_authorization(request), "authorization"))
        return pb.RemovePeerResponse(peer=peer_to_pb(peer))

    async def TrustRelay(self, request: pb.TrustRelayRequest, context: Context) -> pb.TrustRelayResponse:
        relay = await self._network.trust(message_from_pb(_authorization(request), "authorization"))
        return pb.TrustRelayResponse(relay=relay_to_pb(relay))

    async def UntrustRelay(
        self, request: pb.UntrustRelayRequest, context: Context
    ) -> pb.UntrustRelayResponse:
        relay = await self._network.untrust(message_from_pb(_authorization(request), "authorization"))
        return pb.UntrustRelayResponse(relay=relay_to_pb(relay))

    async def ListPeers(self, request: pb.ListPeersRequest, context: Context) -> pb.ListPeersResponse:
        return pb.ListPeersResponse(peers=[peer_to_pb(p) for p in self._network.peers.values()])

    async def ListRelays(self, request: pb.ListRelaysRequest, context: Context) -> pb.ListRelaysResponse:
        return pb.ListRelaysResponse(relays=[relay_to_pb(r) for r in self._network.list_relays()])

    async def ListLocations(
        self, request: pb.ListLocationsRequest, context: Context
    ) -> pb.ListLocationsResponse:
        size = min(request.page_size or 100, MAX_PAGE)
        registry = self._network.locations
        found = registry.list(request.page_token, size + 1, valid_only=request.valid_only)
        more = len(found) > size
        found = found[:size]
        return pb.ListLocationsResponse(
            locations=[location_to_pb(loc) for loc in found],
            next_page_token=found[-1].address if more and found else "",
            now_ms=registry.now(),
        )

    async def ExchangeLocations(
        self, request: pb.ExchangeLocationsRequest, context: Context
    ) -> pb.ExchangeLocationsResponse:
        if len(request.locations) > MAX_EXCHANGE:
            raise InvalidArgument(f"locations: at most {MAX_EXCHANGE} records per exchange")
        records: list[Location] = []
        for loc in request.locations:
            try:
                records.append(location_from_pb(loc))
            except AonodeError:
                continue  # a malformed record is skipped like one that does not verify
        accepted, ours = await self._network.exchange(records)
        return pb.ExchangeLocationsResponse(locations=[location_to_pb(r) for r in ours], accepted=accepted)

    async def LookupProcess(
        self, request: pb.LookupProcessRequest, context: Context
    ) -> pb.LookupProcessResponse:
        proof = self._network.lookup_local(ids.decode_id(request.process, "process"))
        return pb.LookupProcessResponse(
            process_message=message_to_pb(proof.process),
            assignment=assignment_to_pb(proof.assignment),
            location=location_to_pb(proof.location),
        )
