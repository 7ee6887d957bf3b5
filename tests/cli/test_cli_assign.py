"""`aonode assign PROCESS MESSAGE [--wait]` against a real node: the assignment, the same one again, and
(with --wait) the built-in runtime's refusal of an assignment the process did not declare assignable."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import NodeClient, build_message
from aonode.ids import encode_id
from tests.conftest import ServerThread, make_config
from tests.hostile.support import ATTACKER, spawn_aos


def test_assign_prints_the_assignment_and_waits_for_the_refusal(tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path / "n")).start()
    try:
        with NodeClient(server.address) as client:
            p1, p2 = spawn_aos(client), spawn_aos(client)
            m = build_message(ATTACKER, p1, action="Ping")
            client.schedule(m)
        args = ["assign", p2, encode_id(m.id), "--node", server.address, "--json"]
        first = CliRunner().invoke(cli, args)
        assert first.exit_code == 0, (first.stdout, first.stderr)
        document = json.loads(first.stdout)
        assert document["slot"] == 1 and document["message"] == encode_id(m.id)
        waited = CliRunner().invoke(cli, [*args, "--wait"])
        assert waited.exit_code == 0, (waited.stdout, waited.stderr)
        again = json.loads(waited.stdout)
        assert again["id"] == document["id"]
        assert "Assignment is not trusted!" in json.dumps(again["result"]), again["result"]
        unknown = CliRunner().invoke(cli, ["assign", p2, encode_id(b"\x05" * 32), "--node", server.address])
        assert unknown.exit_code != 0 and "NOT_FOUND" in unknown.stderr
    finally:
        server.stop()
