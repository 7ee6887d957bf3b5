"""Location records over gRPC: an expired record is never used for a redirect or passed on by gossip,
forged or tampered records are not learned, the newer nonce wins, and peers/relays are operator actions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from aonode.client import ClientError, NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer, sign_location
from aonode.ids import encode_id
from aonode.model import Location
from tests.conftest import ServerThread, make_config, wait_for
from tests.network.helpers import aonode

OTHER = Ed25519Signer.generate()
USER = Ed25519Signer.generate()


def now() -> int:
    return int(time.time() * 1000)


def record(
    nonce: int, url: str = "127.0.0.1:7999", ttl_ms: int = 600_000, key: Ed25519Signer = OTHER
) -> Location:
    return sign_location(Location("", url, nonce, ttl_ms, now()), key)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(make_config(tmp_path / "n", accept_unsigned=False)).start()
    try:
        yield server
    finally:
        if not server.loop.is_closed():  # a test may have stopped it to restart on its data
            server.stop()


def test_expired_location_is_not_used(node: ServerThread, tmp_path: Path) -> None:
    with NodeClient(node.address) as client:
        process = build_process(USER, module=encode_id(bytes(32)), scheduler=OTHER.address, device="lua@5.3a")
        client.publish(process)
        client.register_location(record(1, ttl_ms=1))
        time.sleep(0.01)
        with pytest.raises(ClientError) as caught:
            client.schedule(build_message(USER, encode_id(process.id), action="x"))
        assert caught.value.code == "FAILED_PRECONDITION"
        assert caught.value.metadata["aonode-scheduler"] == OTHER.address
        assert "aonode-location-url" not in caught.value.metadata  # expired: as if none were known
        assert client.get_location(OTHER.address).ttl_ms == 1  # still readable, with its expiry
        assert OTHER.address not in {r.address for r in client.exchange_locations([])}  # not gossiped
        code, out, _ = aonode("location", "get", OTHER.address, "--node", node.address)
        assert code == 0 and "EXPIRED" in out
        client.register_location(record(2))
        with pytest.raises(ClientError) as fresh:
            client.schedule(build_message(USER, encode_id(process.id), action="x"))
        assert fresh.value.metadata["aonode-location-url"] == "127.0.0.1:7999"
    follower = ServerThread(make_config(tmp_path / "f", follow_redirects=True)).start()
    try:
        with NodeClient(follower.address, retry_attempts=1) as client:
            client.publish(process)
            client.register_location(record(3, ttl_ms=1))
            time.sleep(0.01)
            with pytest.raises(ClientError) as caught:  # not forwarded to an expired location
                client.schedule(build_message(USER, encode_id(process.id), action="x"))
            assert caught.value.code == "FAILED_PRECONDITION"
    finally:
        follower.stop()


def test_gossip_learns_only_valid_newer_records(node: ServerThread) -> None:
    with NodeClient(node.address) as client:
        own = client.get_location(client.info().address)
        assert own.url == node.address  # the node's own record names where it listens
        good = record(5)
        tampered = replace(record(6), url="127.0.0.1:6666")  # the signature no longer covers it
        attacker = Ed25519Signer.generate()
        claimed = Location(
            OTHER.address, "127.0.0.1:6666", 7, 600_000, now(), record(7, key=attacker).signature
        )
        mine = replace(own, nonce=own.nonce + 1)  # a claim about the node itself, unsigned by it
        answer = client.exchange_locations([tampered, claimed, mine, good])
        assert {r.address: r.url for r in answer}[OTHER.address] == "127.0.0.1:7999"
        assert client.get_location(OTHER.address).nonce == 5
        client.exchange_locations([record(4, url="127.0.0.1:1")])  # older: ignored
        assert client.get_location(OTHER.address).url == "127.0.0.1:7999"
        client.exchange_locations([record(8, url="127.0.0.1:8888")])  # newer: wins
        assert client.get_location(OTHER.address).url == "127.0.0.1:8888"
        assert client.get_location(client.info().address) == own
        code, out, _ = aonode("location", "list", "--node", node.address, "--json")
        assert code == 0 and OTHER.address in out


def test_peers_and_relays_are_operator_actions(node: ServerThread) -> None:
    wallet = str(node.config.data / "node-wallet.json")
    stranger = Ed25519Signer.generate()
    with NodeClient(node.address) as client:
        with pytest.raises(ClientError) as caught:
            client.add_peer(stranger, "127.0.0.1:7401")
        assert caught.value.code == "PERMISSION_DENIED"
        with pytest.raises(ClientError) as caught:
            client.trust_relay(stranger, stranger.address)
        assert caught.value.code == "PERMISSION_DENIED"
    code, out, err = aonode("peer", "add", "127.0.0.1:1", "--node", node.address, "--wallet", wallet)
    assert code == 0 and "added 127.0.0.1:1" in out and "UNAVAILABLE" in out  # kept, not reachable yet
    code, out, _ = aonode("peer", "list", "--node", node.address)
    assert out.startswith("127.0.0.1:1 (cli)")
    code, _, err = aonode("peer", "add", "nonsense", "--node", node.address, "--wallet", wallet)
    assert code == 1 and err.startswith("error: INVALID_ARGUMENT: peer: expected HOST:PORT")
    code, out, _ = aonode("relay", "trust", OTHER.address, "--node", node.address, "--wallet", wallet)
    assert code == 0 and f"trusted {OTHER.address}" in out
    code, out, _ = aonode("relay", "list", "--node", node.address, "--json")
    assert OTHER.address in out and '"origin": "node"' in out
    node.stop()  # persisted: a restart keeps both
    again = ServerThread(node.config).start()
    try:
        code, out, _ = aonode("relay", "list", "--node", again.address)
        assert f"{OTHER.address} (cli)" in out
        code, out, _ = aonode("peer", "list", "--node", again.address)
        assert "127.0.0.1:1 (cli)" in out
        code, out, _ = aonode("relay", "untrust", OTHER.address, "--node", again.address, "--wallet", wallet)
        assert code == 0
        code, _, _ = aonode("peer", "remove", "127.0.0.1:1", "--node", again.address, "--wallet", wallet)
        code, out, _ = aonode("peer", "list", "--node", again.address)
        assert out.strip() == "no peers"
    finally:
        again.stop()


def test_own_record_is_refreshed_before_it_expires(tmp_path: Path) -> None:
    server = ServerThread(
        make_config(tmp_path / "r", location_ttl_seconds=1.0, gossip_interval_seconds=0.1)
    ).start()
    try:
        with NodeClient(server.address) as client:
            address = client.info().address
            first = client.get_location(address)
            assert first.ttl_ms == 1000 and first.url == server.address
            wait_for(lambda: client.get_location(address).nonce > first.nonce, timeout=30)
            assert client.get_location(address).expires_at > first.expires_at
    finally:
        server.stop()
