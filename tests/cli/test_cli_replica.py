"""`aonode replica add/list/status/remove` against real nodes, and replicas declared by configuration
(`[[replica]]` in the TOML file, `replicate_from`)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import NodeClient
from aonode.config import load_config
from aonode.ids import decode_id
from aonode.node import replica_settings
from aonode.wallet import load_wallet
from tests.conftest import ServerThread, make_config, wait_for
from tests.replication.helpers import assignments, send, spawn, spawn_owned, stored_slot


def test_add_status_list_remove(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    runner = CliRunner()
    node = ["--node", follower.address]
    wallet = ["--wallet", str(follower.config.node_wallet_path)]
    try:
        with NodeClient(leader.address) as to_leader:
            pid = spawn(to_leader, leader.node.address)
            send(to_leader, pid, 4)
        out = runner.invoke(
            cli, ["replica", "add", "--from", leader.address, "--process", pid, *node, *wallet, "--json"]
        )
        assert out.exit_code == 0, out.output
        rid = json.loads(out.output)["id"]
        (replica,) = follower.node.replication.followers.values()
        wait_for(lambda: replica.status[decode_id(pid)].stored_slot == 4)
        out = runner.invoke(cli, ["replica", "status", pid, *node])
        assert (
            out.exit_code == 0 and f"{pid} slot 4/4 lag 0 slots" in out.output and "verified 5" in out.output
        )
        out = runner.invoke(cli, ["replica", "list", *node, "--json"])
        (listed,) = json.loads(out.output)["replicas"]
        assert listed["id"] == rid and listed["state"] == "following"
        # Someone else's wallet may not remove it.
        stranger = tmp_path / "stranger.json"
        assert runner.invoke(cli, ["wallet", "new", "--out", str(stranger)]).exit_code == 0
        out = runner.invoke(cli, ["replica", "remove", rid, *node, "--wallet", str(stranger)])
        assert out.exit_code == 1 and "PERMISSION_DENIED" in out.output
        out = runner.invoke(cli, ["replica", "remove", rid, *node, *wallet])
        assert out.exit_code == 0, out.output
        assert runner.invoke(cli, ["replica", "list", *node]).output.strip() == "no replicas"
        assert runner.invoke(cli, ["replica", "add", "--from", leader.address, *node, *wallet]).exit_code == 2
    finally:
        follower.stop()
        leader.stop()


def test_config_replicas(tmp_path: Path) -> None:
    toml = tmp_path / "node.toml"
    pid = "A" * 43
    toml.write_text(
        f'[[replica]]\nfrom = "127.0.0.1:9"\nprocesses = ["{pid}"]\n\n[replication]\noperators = ["op"]\n'
    )
    config = load_config(toml, env={}, flags={"replicate_from": "127.0.0.1:8"})
    specs, operators = replica_settings(config)
    assert [(s.leader, s.all, s.origin) for s in specs] == [
        ("127.0.0.1:8", True, "serve"),
        ("127.0.0.1:9", False, "config"),
    ]
    assert operators == ("op",)
    assert replica_settings(config)[0][1].id == specs[1].id  # stable across restarts


def test_replicate_from_on_serve(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    try:
        with NodeClient(leader.address) as to_leader:
            pid = spawn(to_leader, leader.node.address)
            send(to_leader, pid, 3)
        follower = ServerThread(make_config(tmp_path / "follower", replicate_from=leader.address)).start()
        try:
            wait_for(lambda: stored_slot(follower, pid) == 3)
            assert assignments(follower, pid) == assignments(leader, pid)
        finally:
            follower.stop()
    finally:
        leader.stop()


def test_promote_prints_what_happened(tmp_path: Path) -> None:
    leader = ServerThread(make_config(tmp_path / "leader")).start()
    follower = ServerThread(make_config(tmp_path / "follower")).start()
    runner = CliRunner()
    node = ["--node", follower.address]
    owner = tmp_path / "owner.json"
    stranger = tmp_path / "stranger.json"
    try:
        assert runner.invoke(cli, ["wallet", "new", "--out", str(owner)]).exit_code == 0
        assert runner.invoke(cli, ["wallet", "new", "--out", str(stranger)]).exit_code == 0
        with NodeClient(leader.address) as to_leader:
            pid = spawn_owned(to_leader, load_wallet(owner), leader.node.address)
            send(to_leader, pid, 3)
        out = runner.invoke(
            cli,
            [
                "replica",
                "add",
                "--from",
                leader.address,
                "--process",
                pid,
                *node,
                "--wallet",
                str(follower.config.node_wallet_path),
            ],
        )
        assert out.exit_code == 0, out.output
        wait_for(lambda: stored_slot(follower, pid) == 3)
        # Only the owner can hand the process over.
        out = runner.invoke(cli, ["replica", "promote", pid, *node, "--wallet", str(stranger)])
        assert out.exit_code == 1 and "PERMISSION_DENIED" in out.output
        out = runner.invoke(cli, ["replica", "promote", pid, *node, "--wallet", str(owner)])
        assert out.exit_code == 0, out.output
        assert f"schedules {pid} from slot 4" in out.output
        assert f"old leader {leader.address} now redirects (its last slot 3)" in out.output
        assert "WARNING" not in out.output  # the replica had caught up: nothing orphaned
        assert runner.invoke(cli, ["replica", "list", *node]).output.strip() == "no replicas"
    finally:
        follower.stop()
        leader.stop()
