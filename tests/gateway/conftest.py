"""A node with the HTTP gateway on (gRPC and HTTP on free loopback ports), and a small HTTP client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aonode.client import NodeClient, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from tests.conftest import ServerThread, make_config


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class Http:
    def __init__(self, base: str) -> None:
        self.base = base

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> Reply:
        return self.request("POST", path, body, {"Content-Type": content_type})


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[ServerThread]:
    server = ServerThread(make_config(tmp_path / "node", http="127.0.0.1:0")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http(http_server: ServerThread) -> Http:
    assert http_server.running is not None and http_server.running.http is not None
    return Http(http_server.running.http.url)


@pytest.fixture
def grpc_client(http_server: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(http_server.address, timeout=60) as c:
        yield c


USER = Ed25519Signer.generate()


def spawn_lua(client: NodeClient, signer: Ed25519Signer = USER) -> str:
    process = build_process(
        signer, module=encode_id(runtime_module().id), scheduler=client.info().address, device="lua@5.3a"
    )
    client.schedule(process)
    return encode_id(process.id)
