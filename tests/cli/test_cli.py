"""The command line: --help everywhere, wallets, and `aonode serve` as a real process (health, SIGTERM)."""

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
