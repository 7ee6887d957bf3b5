"""The hostile suite's own checks work: a fresh node is SERVING and a fresh process computes; a node that
stopped serving fails the health check."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from aonode.client import NodeClient
from tests.conftest import ServerThread, make_config
from tests.hostile.support import assert_node_healthy, assert_process_computes, spawn_aos


def test_a_fresh_node_is_healthy_and_its_process_computes(server: ServerThread) -> None:
    with NodeClient(server.address) as client:
        pid = spawn_aos(client)
        assert_process_computes(client, pid)
    assert_node_healthy(server.address)


def test_the_health_check_fails_on_a_stopped_node(tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path / "n")).start()
    address = server.address
    server.stop()
    with pytest.raises(grpc.RpcError):
        assert_node_healthy(address)
