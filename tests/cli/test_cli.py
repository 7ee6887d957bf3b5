"""The command line: --help everywhere, wallets, and `aonode serve` as a real process (health, SIGTERM,
Ctrl-C)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import grpc
import pytest
from click.testing import CliRunner
from grpc_health.v1 import health_pb2, health_pb2_grpc

from aonode.cli import cli
from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.codec import decode_assignment
from aonode.crypto import Ed25519Signer
from aonode.ids import encode_id
from aonode.scheduler import layout, verify_schedule
from store import LmdbStore


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _all_commands(cli), ids=lambda p: " ".join(p) or "aonode")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_wallet_new_and_show(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "w.json"
    created = runner.invoke(cli, ["wallet", "new", "--out", str(path), "--json"])
    assert created.exit_code == 0, created.output
    document = json.loads(created.output)
    assert len(document["address"]) == 43 and document["scheme"] == "ed25519"
    assert path.stat().st_mode & 0o777 == 0o600
    shown = runner.invoke(cli, ["wallet", "show", "--wallet", str(path), "--json"])
    assert json.loads(shown.output)["address"] == document["address"]
    again = runner.invoke(cli, ["wallet", "new", "--out", str(path)])
    assert again.exit_code == 1 and "error:" in again.output


def test_wallet_show_missing_file_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["wallet", "show", "--wallet", str(tmp_path / "none.json")])
    assert result.exit_code == 1
    assert result.output.startswith("error:")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "AONODE_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aonode",
            "serve",
            "--data",
            str(tmp_path / "d"),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    events = [json.loads(line)["msg"] for line in err.splitlines() if line.startswith("{")]
    assert events[:1] == ["serving"] and events[-1] == "stopped"
    assert (tmp_path / "d" / "node-wallet.json").exists()


def test_serve_refuses_bad_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--listen", "nope", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "listen" in result.output


def test_serve_reports_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "aonode",
                "serve",
                "--data",
                str(tmp_path),
                "--listen",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "error:" in result.stderr
    assert time.monotonic() - started < 60


def test_serve_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) stops `aonode serve` like SIGTERM: exit status 0, the "stopping"/"stopped" events, and
    the store closed cleanly: reopened afterwards, every acknowledged slot is there and verifies."""
    data = tmp_path / "d"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aonode", "serve", "--data", str(data), "--listen", "127.0.0.1:0",
         "--log-format", "json"],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        first: dict[str, str] = {}
        for line in proc.stderr:  # the first event names the bound address (the port was 0)
            if line.startswith("{"):
                first = json.loads(line)
                break
        assert first.get("msg") == "serving", first
        user = Ed25519Signer.generate()
        with NodeClient(first["listen"], timeout=10) as client:
            module = client.publish(build_module(user, b"-- module\n", "text/x-lua"))
            process = build_process(user, module=module, scheduler=first["address"], device="lua@5.3a")
            client.schedule(process)
            pid = encode_id(process.id)
            acked = [client.schedule(build_message(user, pid, data=b"m%d" % i)) for i in range(5)]
        assert [a.slot for a in acked] == [1, 2, 3, 4, 5]
        # An RPC answered after the "serving" event means the signal handlers are installed (they are set
        # without yielding to the event loop in between), so SIGINT cannot hit Python's default handler.
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    events = [json.loads(line)["msg"] for line in err.splitlines() if line.startswith("{")]
    assert events[-2:] == ["stopping", "stopped"], err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    with LmdbStore(data / "store") as store:  # what the stopped node committed, read by a new opener
        report = verify_schedule(store, process.id, scheduler=first["address"]).raise_for_problems()
        assert (report.slots_checked, report.head_slot) == (6, 5)
        for a in acked:
            stored = store.get(layout.ASSIGNMENTS, layout.slot_key(process.id, a.slot))
            assert stored is not None and decode_assignment(store.get_object(stored) or b"") == a
