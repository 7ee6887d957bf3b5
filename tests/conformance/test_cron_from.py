"""Cron ticks speak as the wallet that signed the task, on the real AOS binaries: the owner's cron Eval
runs as the owner; another wallet's, even claiming `From-Process = <owner>`, does not (docs/cron.md,
docs/security.md). The node hands AOS `From` in the message JSON (`From-Process`, else `Cron-From`, else
the signer), and AOS's own trust check (`Authority` = the node, which signs the ticks) does the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from aonode.client import NodeClient, build_message
from aonode.crypto import Ed25519Signer
from tests.conformance.conftest import FIXTURES, Fixture, spawn_fixture
from tests.conftest import ServerThread, make_config, wait_for

OWNER = Ed25519Signer.generate()
ATTACKER = Ed25519Signer.generate()


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_a_cron_eval_runs_as_its_creator_only(fixture: Fixture, tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path / "node")).start()
    try:
        with NodeClient(server.address, timeout=300) as client:
            pid = spawn_fixture(client, OWNER, fixture)
            client.cron_once(
                OWNER, pid, in_="100-milliseconds", tags=[("Action", "Eval")], data=b"Who = 'owner'"
            )
            client.cron_once(
                ATTACKER,
                pid,
                in_="100-milliseconds",
                tags=[("Action", "Eval"), ("From-Process", str(OWNER.address))],
                data=b"Pwned = 'yes'",
            )
            wait_for(lambda: client.get_slot(pid).current_slot >= 2, timeout=30)
            probe = build_message(OWNER, pid, action="Eval", data=b"return Who .. ' ' .. tostring(Pwned)")
            slot = client.schedule(probe).slot
            data = client.compute(pid, slot).result.output.data
            assert "owner nil" in data, data
    finally:
        server.stop()
