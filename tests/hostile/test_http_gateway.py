"""Hostile input over the HTTP gateway: bad items, bad signatures, huge and endless bodies, bad JSON and
bad paths each get their status (400, 404, 409, 413), store nothing, and leave the node serving."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest

from aonode import ans104
from aonode.client import ClientError, NodeClient, new_anchor
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.model import Tag
from tests.conftest import ServerThread, make_config
from tests.gateway.conftest import Http
from tests.hostile.support import assert_node_healthy, assert_process_computes, spawn_aos

LIMIT = 65536
USER = Ed25519Signer.generate()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[ServerThread]:
    config = make_config(
        tmp_path / "n", http="127.0.0.1:0", max_message_bytes=LIMIT, extra={"gateway": {"body_seconds": 1.0}}
    )
    server = ServerThread(config).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http(node: ServerThread) -> Http:
    assert node.running is not None and node.running.http is not None
    return Http(node.running.http.url)


def item(
    target: str = "", tags: tuple[tuple[str, str], ...] = (("Action", "Eval"),), data: bytes = b"1"
) -> bytes:
    built = ans104.build(
        USER,
        target=target,
        anchor=new_anchor(),
        tags=[Tag("Type", "Message"), *(Tag(n, v) for n, v in tags)],
        data=data,
    )
    return built.raw


def stored(node: ServerThread, raw: bytes) -> bool:
    with NodeClient(node.address) as client:
        try:
            client.get_message(encode_id(ans104.decode(raw).id))
        except ClientError as exc:
            if exc.code != "NOT_FOUND":  # any other failure must not pass for "not stored"
                raise
            return False
        return True


def test_bad_items_and_signatures_are_400_and_store_nothing(node: ServerThread, http: Http) -> None:
    with NodeClient(node.address) as client:
        pid = spawn_aos(client)
    good = item(pid)
    forged = bytearray(good)
    forged[10] ^= 0xFF  # inside the signature
    tampered = bytearray(good)
    tampered[-1] ^= 0x01  # the data: the signature no longer covers it
    for body in (b"", b"garbage", b"\x01\x00" + b"\0" * 40, bytes(forged), bytes(tampered), good[:200]):
        for path in ("/", f"/{pid}~process@1.0/schedule", f"/{pid}~process@1.0/push", "/push"):
            reply = http.post(path, body)
            assert reply.status == 400, (path, reply.status, reply.text)
            assert reply.json()["status"] == "INVALID_ARGUMENT"
    assert not stored(node, bytes(forged)) and not stored(node, bytes(tampered))
    module = bytearray(item(tags=(("Type", "Module"), ("Module-Format", "lua@5.3a")), data=b"return 1"))
    module[10] ^= 0xFF
    for path in ("/", "/modules"):
        assert http.post(path, bytes(module)).status == 400
    assert not stored(node, bytes(module))
    # An item claiming to be relayed from a process (From-Process) is the node's to send, not a user's.
    relayed = item(pid, tags=(("Action", "Eval"), ("From-Process", pid)))
    reply = http.post("/", relayed)
    assert reply.status == 403 and reply.json()["status"] == "PERMISSION_DENIED"
    assert not stored(node, relayed)
    # A valid item for another process, posted under this one, is refused too.
    other = item("B" * 42 + "A")
    assert http.post(f"/{pid}~process@1.0/schedule", other).status == 400
    assert not stored(node, other)
    with NodeClient(node.address) as client:
        assert client.get_slot(pid).current_slot == 0
        assert_process_computes(client, pid)
    assert_node_healthy(node.address)


def test_unknown_process_and_foreign_scheduler(node: ServerThread, http: Http) -> None:
    lost = item("C" * 42 + "A")
    assert http.post("/", lost).status == 404
    assert not stored(node, lost)
    foreign = ans104.build(
        USER,
        anchor=new_anchor(),
        tags=[
            Tag("Type", "Process"),
            Tag("Module", encode_id(runtime_module().id)),
            Tag("Scheduler", "D" * 42 + "A"),
        ],
    ).raw
    reply = http.post("/", foreign)
    assert reply.status == 409, reply.text  # another node's process: the redirect
    assert reply.headers.get("aonode-scheduler") == "D" * 42 + "A"
    assert not stored(node, foreign)


def test_huge_bodies_are_413(node: ServerThread, http: Http) -> None:
    with NodeClient(node.address) as client:
        pid = spawn_aos(client)
    huge = item(pid, data=b"x" * (LIMIT * 3))
    for path in ("/", f"/{pid}~process@1.0/schedule", "/push"):
        assert http.post(path, huge).status == 413
    assert not stored(node, huge)
    assert http.post("/graphql", b"{" + b" " * (2 << 20) + b"}", "application/json").status == 413
    # A chunked body (no length given) is cut off while it is read.
    assert node.running is not None and node.running.http is not None
    conn = HTTPConnection("127.0.0.1", node.running.http.port, timeout=60)
    try:
        conn.putrequest("POST", "/")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"y" * 65536
        try:
            for _ in range(8):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # the node may close the connection before the end: that is the point
        assert conn.getresponse().status == 413
    finally:
        conn.close()
    assert_node_healthy(node.address)


def test_bad_json_and_bad_paths(node: ServerThread, http: Http) -> None:
    for path in ("/graphql", "/dry-run?process-id=" + "A" * 43):
        assert http.post(path, b"{not json", "application/json").status == 400
    assert http.post("/graphql", json.dumps({"query": 1}).encode(), "application/json").status == 400
    assert http.post("/dry-run", json.dumps({"Tags": []}).encode(), "application/json").status == 400
    bad_tags = {"Target": "A" * 43, "Tags": [{"name": 1}]}
    assert http.post("/dry-run", json.dumps(bad_tags).encode(), "application/json").status == 400
    for path in ("/nothing/here", "/x~process@1.0/slot", "/" + "A" * 43 + "~evil@1.0/x", "/~meta@1.0/secret"):
        reply = http.get(path)
        assert reply.status in (400, 404), (path, reply.status)
    assert http.get("/" + "a" * 20000).status in (400, 414, 431)
    assert http.request("PUT", "/").status == 405
    assert http.get(f"/{'A' * 43}~process@1.0/schedule?from=99999999999999999999").status == 400
    assert_node_healthy(node.address)


def test_a_trickled_body_is_cut_off(node: ServerThread, http: Http) -> None:
    assert node.running is not None and node.running.http is not None
    conn = HTTPConnection("127.0.0.1", node.running.http.port, timeout=60)
    try:
        conn.putrequest("POST", "/")
        conn.putheader("Content-Length", "1000")
        conn.endheaders()
        conn.send(b"x" * 10)  # and then nothing: the node answers after body_seconds
        assert conn.getresponse().status == 408
    finally:
        conn.close()
    time.sleep(1.5)  # the node drains the refused connection for lingering_time (1 s), then drops it
    assert_node_healthy(node.address)
