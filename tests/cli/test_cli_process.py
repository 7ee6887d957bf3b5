"""`aonode process status [PROCESS]` and `aonode process resume PROCESS` against a real node with a process
stalled by the wall-clock backstop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import ClientError, NodeClient, build_message
from tests.conftest import ServerThread, make_config
from tests.hostile.support import ATTACKER, spawn_aos


@pytest.fixture
def stalled(tmp_path: Path) -> Iterator[tuple[ServerThread, str]]:
    server = ServerThread(make_config(tmp_path / "n", extra={"compute": {"max_wall_seconds": 0.5}})).start()
    try:
        with NodeClient(server.address) as client:
            pid = spawn_aos(client, ATTACKER, [("Compute-Limit", "9000000000000")])
            slot = client.schedule(
                build_message(ATTACKER, pid, action="Eval", data=b"while true do end")
            ).slot
            with pytest.raises(ClientError, match="FAILED_PRECONDITION"):
                client.compute(pid, slot)
        yield server, pid
    finally:
        server.stop()


def _json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def test_status_shows_the_stall_and_the_node_wallet_resumes_it(stalled: tuple[ServerThread, str]) -> None:
    server, pid = stalled
    node = ["--node", server.address]
    one = _json("process", "status", pid, *node)
    assert one["state"] == "stalled" and one["stall"]["slot"] == 1 and one["computed_slot"] == 0
    listed = _json("process", "status", *node)
    assert [s["process"] for s in listed["stalled"]] == [pid]
    text = CliRunner().invoke(cli, ["process", "status", *node])
    assert text.exit_code == 0 and "STALLED at slot 1" in text.stdout

    wallet = server.config.node_wallet_path
    lifted = _json("process", "resume", pid, *node, "--wallet", str(wallet))
    assert lifted["lifted"]["slot"] == 1
    assert _json("process", "status", pid, *node)["state"] == "ok"
    again = CliRunner().invoke(cli, ["process", "resume", pid, *node, "--wallet", str(wallet)])
    assert again.exit_code == 1 and "not stalled" in again.stderr
