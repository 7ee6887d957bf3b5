"""Hostile input to the node network's entry points (NetworkService, and Schedule/Push of unknown
processes, which ask the process directory): bad peer addresses, requests not signed by an operator or
replayed, huge and forged gossip, lookup floods. Each gets a clear status; memory stays bounded (the
location table, the directory's memory of unknown processes, its lookups in flight); the node serves on."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from aonode.client import ClientError, NodeClient, build_message, operator_request
from aonode.crypto import Ed25519Signer, sign_location, sign_message
from aonode.ids import encode_id
from aonode.model import Location
from aonode.rpc.convert import location_to_pb, message_to_pb
from aonode.v1 import network_pb2 as pb
from aonode.v1 import types_pb2
from aonode.wallet import load_wallet
from tests.conftest import ServerThread, make_config
from tests.hostile.support import ATTACKER, OWNER, assert_node_healthy, assert_process_computes, spawn_aos


@pytest.fixture
def node(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(make_config(tmp_path / "n")).start()
    try:
        yield server
    finally:
        server.stop()


def code_of(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except ClientError as exc:
        return exc.code
    except grpc.RpcError as exc:
        return exc.code().name  # type: ignore[no-any-return,attr-defined]
    return "OK"


def test_bad_peer_addresses_and_requests_not_from_an_operator(node: ServerThread) -> None:
    operator = load_wallet(node.config.data / "node-wallet.json")
    with NodeClient(node.address, retry_attempts=1) as client:
        bad_peers = ("", "host", "host:", ":7400", "host:0", "host:99999", "host:-1", "a b:1", "h/x:1",
                     "x" * 70_000 + ":1", "hôst:1", "ho\x00st:1", "user@host:1", "host:٣")  # fmt: skip
        for bad in bad_peers:
            assert code_of(lambda bad=bad: client.add_peer(operator, bad)) == "INVALID_ARGUMENT", bad
        assert code_of(lambda: client.trust_relay(operator, "not an address")) == "INVALID_ARGUMENT"
        assert code_of(lambda: client.add_peer(ATTACKER, "127.0.0.1:1")) == "PERMISSION_DENIED"
        assert code_of(lambda: client.untrust_relay(ATTACKER, operator.address)) == "PERMISSION_DENIED"
        unsigned = replace(operator_request(operator, "Add-Peer", [("Peer", "127.0.0.1:1")]), signature=None)
        request = pb.AddPeerRequest(authorization=message_to_pb(unsigned))
        assert code_of(lambda: client.network.AddPeer(request)) == "PERMISSION_DENIED"
        assert code_of(lambda: client.network.AddPeer(pb.AddPeerRequest())) == "INVALID_ARGUMENT"
        wrong_action = operator_request(operator, "Trust-Relay", [("Peer", "127.0.0.1:1")])
        request = pb.AddPeerRequest(authorization=message_to_pb(wrong_action))
        assert code_of(lambda: client.network.AddPeer(request)) == "INVALID_ARGUMENT"
        old = operator_request(operator, "Add-Peer", [("Peer", "127.0.0.1:1")])
        stale = replace(
            old, tags=tuple(t if t.name != "Issued-At" else replace(t, value="1") for t in old.tags)
        )
        request = pb.AddPeerRequest(authorization=message_to_pb(sign_message(stale, operator)))
        assert code_of(lambda: client.network.AddPeer(request)) == "INVALID_ARGUMENT"
        once = pb.TrustRelayRequest(
            authorization=message_to_pb(
                operator_request(operator, "Trust-Relay", [("Relay", ATTACKER.address)])
            )
        )
        client.network.TrustRelay(once)
        client.untrust_relay(operator, ATTACKER.address)
        assert code_of(lambda: client.network.TrustRelay(once)) == "ALREADY_EXISTS"  # a replay cannot undo it
        assert ATTACKER.address not in {r.address for r in client.relays()}
        # the relay check itself: a From-Process from the attacker is refused, with its status in the text
        process = spawn_aos(client)
        message = build_message(ATTACKER, process, tags=[("From-Process", process)])
        with pytest.raises(ClientError) as caught:
            client.schedule(message)
        assert str(caught.value).startswith(
            "PERMISSION_DENIED: From-Process may only be set by a trusted relay"
        )
        assert_process_computes(client, process)
    assert_node_healthy(node.address)


def test_huge_and_forged_gossip(node: ServerThread) -> None:
    now = int(time.time() * 1000)
    keys = [Ed25519Signer.generate() for _ in range(30)]
    node.node.network.config = replace(
        node.node.network.config, max_locations=node.node.network._known_locations + 10
    )
    with NodeClient(node.address, retry_attempts=1) as client:
        record = sign_location(Location("", "127.0.0.1:1", 1, 600_000, now), keys[0])
        too_many = pb.ExchangeLocationsRequest(locations=[location_to_pb(record)] * 1001)
        assert code_of(lambda: client.network.ExchangeLocations(too_many)) == "INVALID_ARGUMENT"
        huge = pb.ExchangeLocationsRequest(
            locations=[location_to_pb(replace(record, url="x" * 2048))] * 1000
            + [types_pb2.Location(url="y" * (17 << 20))]
        )
        assert code_of(lambda: client.network.ExchangeLocations(huge)) == "RESOURCE_EXHAUSTED"
        forged = [replace(record, nonce=n) for n in range(2, 1000)]  # signatures no longer match
        garbage = [types_pb2.Location(address="x" * 5000, url="", signature=location_to_pb(record).signature)]
        reply = client.network.ExchangeLocations(
            pb.ExchangeLocationsRequest(locations=[location_to_pb(r) for r in forged] + garbage)
        )
        assert reply.accepted == 0
        fresh = [
            sign_location(Location("", f"127.0.0.1:{i + 2}", 1, 600_000, now), k) for i, k in enumerate(keys)
        ]
        reply = client.network.ExchangeLocations(
            pb.ExchangeLocationsRequest(locations=[location_to_pb(r) for r in fresh])
        )
        assert reply.accepted == 10  # the table's bound: records of new addresses beyond it are not kept
        known = {loc.address for loc in client.locations()}
        assert len(known & {k.address for k in keys}) == 10
    assert_node_healthy(node.address)


def test_lookup_and_unknown_process_floods(tmp_path: Path) -> None:
    # a peer that is down: every lookup of an unknown process would ask it
    server = ServerThread(make_config(tmp_path / "n", peers="127.0.0.1:1")).start()
    try:
        with NodeClient(server.address, retry_attempts=1, timeout=60) as client:
            assert code_of(lambda: client.lookup_process("nonsense")) == "INVALID_ARGUMENT"
            randoms = [encode_id(os.urandom(32)) for _ in range(300)]
            with ThreadPoolExecutor(16) as pool:
                codes = set(pool.map(lambda p: code_of(lambda: client.lookup_process(p)), randoms))
            assert codes == {"NOT_FOUND"}  # answered from the store: LookupProcess never calls out
            messages = [build_message(ATTACKER, p, action="x") for p in randoms[:200]]
            with ThreadPoolExecutor(32) as pool:
                codes = set(pool.map(lambda m: code_of(lambda: client.schedule(m)), messages))
            # the down peer could not be asked (retry later), or too many lookups ran at once
            assert codes <= {"UNAVAILABLE", "RESOURCE_EXHAUSTED"} and codes
            assert code_of(lambda: client.push(randoms[0], 1)) in {"UNAVAILABLE", "RESOURCE_EXHAUSTED"}
            directory = server.node.network.directory
            assert len(directory._running) == 0 and len(directory._unknown) <= directory.config.max_remembered
            process = spawn_aos(client)
            assert_process_computes(client, process, OWNER)
        assert_node_healthy(server.address)
    finally:
        server.stop()
    # without peers an unknown process is NOT_FOUND at once, and not remembered (nobody was asked)
    server = ServerThread(make_config(tmp_path / "m")).start()
    try:
        directory = server.node.network.directory
        with NodeClient(server.address, retry_attempts=1) as client:
            for _ in range(120):
                assert (
                    code_of(lambda: client.schedule(build_message(ATTACKER, encode_id(os.urandom(32)))))
                    == "NOT_FOUND"
                )
        assert len(directory._unknown) == 0  # no target to ask: nothing to remember
        assert_node_healthy(server.address)
    finally:
        server.stop()
