"""Hostile input to the `--metrics` HTTP port and to the request counter's labels.

Other paths get 404, other methods on /metrics 405, malformed or oversized requests 400-class answers,
never a crash or a hang: after each case the port still answers a scrape and the node is SERVING. Label
values stay bounded whatever clients send (random paths, methods, gRPC method names), so a client cannot
grow the node's memory through its metrics.
"""

from __future__ import annotations

import http.client
import logging
import secrets
import socket
from collections.abc import Iterator

import grpc
import pytest

from tests.conftest import ServerThread, make_config
from tests.hostile.support import assert_node_healthy
from tests.metrics.scrape import Samples, parse, scrape


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    running = ServerThread(
        make_config(tmp_path_factory.mktemp("metrics") / "n", metrics="127.0.0.1:0")
    ).start()
    try:
        yield running
    finally:
        running.stop()


def port_of(server: ServerThread) -> tuple[str, int]:
    assert server.running is not None and server.running.metrics is not None
    host, _, port = server.running.metrics.address.rpartition(":")
    return host, int(port)


def request(server: ServerThread, method: str, path: str, headers: dict[str, str] | None = None) -> int:
    host, port = port_of(server)
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def still_serving(server: ServerThread) -> Samples:
    assert server.running is not None and server.running.metrics is not None
    samples = scrape(server.running.metrics.address)
    assert_node_healthy(server.address)
    return samples


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for (sample, labels), _ in samples.items() if sample == name}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 404),
        ("GET", "/metrics/", 404),
        ("GET", "/../metrics/../etc/passwd", 404),
        ("GET", "/%00", 404),
        ("POST", "/metrics", 405),
        ("PUT", "/metrics", 405),
        ("DELETE", "/metrics", 405),
        ("PROPFIND", "/metrics", 405),
        ("BREW", "/metrics", 400),  # not a method aiohttp's parser knows: refused before any route
        ("HEAD", "/metrics", 200),
        ("GET", "/metrics?name[]=x&" + "a" * 4000, 200),
    ],
)
def test_paths_and_methods(server: ServerThread, method: str, path: str, status: int) -> None:
    assert request(server, method, path) == status
    still_serving(server)


def test_accept_headers(server: ServerThread) -> None:
    host, port = port_of(server)
    for accept, expected in [
        ("application/openmetrics-text; version=1.0.0", "application/openmetrics-text"),
        ("application/openmetrics-text; version=abc", "application/openmetrics-text; version=1.0.0"),
        ("text/plain; version=x.y; escaping=<script>", "text/plain; version=0.0.4"),
        (";;;=,,*/*;q=oops", "text/plain; version=0.0.4"),
        ("", "text/plain"),
    ]:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("GET", "/metrics", headers={"Accept": accept})
            reply = conn.getresponse()
            body = reply.read()
            assert reply.status == 200 and reply.headers["Content-Type"].startswith(expected)
            assert b"aonode_node_info" in body
        finally:
            conn.close()


def raw_exchange(server: ServerThread, data: bytes) -> bytes:
    """Send `data` on a fresh connection; what comes back until the server closes it (or 30 s)."""
    host, port = port_of(server)
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\xff\xfe not http at all\r\n\r\n",
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
        b"GET /" + b"m" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["binary", "bad-version", "huge-header", "huge-path", "negative-length", "bad-chunk"],
)
def test_malformed_requests_are_refused(
    server: ServerThread, data: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answer = raw_exchange(server, data)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    assert 400 <= status < 500 or (answer == b""), answer[:200]
    still_serving(server)
    # A client's garbage is not the node's error: no ERROR line (with a traceback) per bad request.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_stalled_client_does_not_block_scrapes(server: ServerThread) -> None:
    host, port = port_of(server)
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        still_serving(server)


def test_labels_stay_bounded(server: ServerThread) -> None:
    for _ in range(40):
        assert request(server, "GET", "/" + secrets.token_hex(8)) == 404
        assert request(server, secrets.token_hex(4).upper(), "/" + secrets.token_hex(8)) == 400
    for method in ("PROPFIND", "MKCOL", "PURGE", "LINK"):
        assert request(server, method, "/metrics") == 405
    with grpc.insecure_channel(server.address) as channel:
        for _ in range(40):
            call = channel.unary_unary(f"/{secrets.token_hex(6)}.Service/{secrets.token_hex(6)}")
            with pytest.raises(grpc.RpcError) as caught:
                call(b"", timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    samples = still_serving(server)
    routes = label_values(samples, "aonode_http_requests_total", "route")
    assert "unmatched" in routes and routes <= {"/metrics", "unmatched"}, routes  # the 404s were counted
    methods = label_values(samples, "aonode_http_requests_total", "method")
    assert {"GET", "other"} <= methods <= {"GET", "HEAD", "POST", "PUT", "DELETE", "other"}, methods
    rpcs = label_values(samples, "aonode_rpc_requests_total", "rpc")
    assert "unknown" in rpcs and all(r == "unknown" or r.startswith(("aonode.v1.", "grpc.")) for r in rpcs)
    assert (
        samples[("aonode_rpc_requests_total", frozenset({("rpc", "unknown"), ("code", "UNIMPLEMENTED")}))]
        >= 40
    )


def test_parse_is_strict() -> None:
    """The test's own parser refuses garbage (so a scrape that parses is the real format)."""
    with pytest.raises(ValueError):
        parse("aonode_x{ 1\n")
