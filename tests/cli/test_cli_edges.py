"""CLI rough edges a newcomer hit: no node running, local errors, readable tables, `aonode info`, Ctrl-C,
and the ways to hand `aonode eval` its code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from aonode.cli import AonodeGroup, cli
from aonode.cli.common import report_errors
from aonode.cli.schedule import utc_time
from aonode.client import NodeClient, build_process
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.testing import free_port
from aonode.wallet import create_wallet
from tests.conftest import ServerThread, plain


def _spawn(server: ServerThread, wallet: Path) -> str:
    signer = create_wallet(wallet)
    with NodeClient(server.address, timeout=60) as client:
        process = build_process(
            signer, module=encode_id(runtime_module().id), scheduler=client.info().address, device="lua@5.3a"
        )
        client.schedule(process)
    return encode_id(process.id)


def test_no_node_says_how_to_start_one() -> None:
    address = f"127.0.0.1:{free_port()}"
    for args in (["info"], ["now", "A" * 43], ["schedule", "A" * 43]):
        out = CliRunner().invoke(cli, [*args, "--node", address])
        assert out.exit_code == 1, out.output
        assert "make run" in out.output and "aonode serve" in out.output and address in out.output
        assert "UNAVAILABLE" not in out.output and "Traceback" not in out.output


def test_an_existing_wallet_gets_a_plain_message_and_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    create_wallet(path)
    out = CliRunner().invoke(cli, ["wallet", "new", "--out", str(path)])
    assert out.exit_code == 1
    assert "already exists" in out.output and "aonode wallet show" in out.output
    assert "INVALID_ARGUMENT" not in out.output
    missing = CliRunner().invoke(cli, ["wallet", "show", "--wallet", str(tmp_path / "none.json")])
    assert missing.exit_code == 1 and "aonode wallet new" in missing.output


def test_info_shows_the_node_and_its_health(server: ServerThread) -> None:
    out = CliRunner().invoke(cli, ["info", "--node", server.address, "--json"])
    assert out.exit_code == 0, out.output
    document = json.loads(out.output)
    assert document["health"] == "SERVING"
    assert document["runtime_module"] == encode_id(runtime_module().id)
    assert "lua@5.3a" in document["devices"] and len(document["address"]) == 43
    text = CliRunner().invoke(cli, ["info", "--node", server.address])
    assert text.exit_code == 0 and "SERVING" in text.output and document["runtime_module"] in text.output


def test_schedule_and_watch_tables_have_a_header_and_utc_times(server: ServerThread, tmp_path: Path) -> None:
    pid = _spawn(server, tmp_path / "w.json")
    for args in (["schedule", pid], ["watch", pid, "--count", "1"]):
        out = CliRunner().invoke(cli, [*args, "--node", server.address])
        assert out.exit_code == 0, out.output
        lines = out.output.splitlines()
        assert lines[0].split() == ["SLOT", "MESSAGE", "TIME", "(UTC)", "HASH", "CHAIN"]
        assert lines[1].split()[0] == "0" and lines[1].split()[1] == pid
        assert lines[1].split()[2].startswith("20")  # a date, not milliseconds
    assert utc_time(1_700_000_000_123) == "2023-11-14 22:13:20.123"
    watched = CliRunner().invoke(cli, ["watch", pid, "--count", "1", "--json", "--node", server.address])
    assert json.loads(watched.output)["slot"] == 0  # one JSON object per line, no header
    assert "JSON lines" in CliRunner().invoke(cli, ["watch", "--help"]).output


def test_ctrl_c_exits_130_without_a_traceback(server: ServerThread, tmp_path: Path) -> None:
    pid = _spawn(server, tmp_path / "w.json")
    watcher = subprocess.Popen(
        [str(Path(sys.executable).parent / "aonode"), "watch", pid, "--node", server.address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert watcher.stdout is not None
        assert "SLOT" in watcher.stdout.readline()
        assert pid in watcher.stdout.readline()  # caught up: now waiting for new assignments
        watcher.send_signal(signal.SIGINT)
        _, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 130, err
    assert "Traceback" not in err


def test_eval_code_from_a_file_and_from_stdin(server: ServerThread, tmp_path: Path) -> None:
    wallet = tmp_path / "w.json"
    pid = _spawn(server, wallet)
    runner = CliRunner(env={"AONODE_WALLET": str(wallet), "AONODE_NODE": server.address})
    script = tmp_path / "code.lua"
    script.write_text("-- a comment first\nreturn 6 * 7\n")
    from_file = runner.invoke(cli, ["eval", pid, "--file", str(script)])
    assert from_file.exit_code == 0, from_file.output
    assert plain(from_file.output).strip() == "42"
    from_stdin = runner.invoke(cli, ["eval", pid, "-"], input="return 'from' .. ' stdin'")
    assert from_stdin.exit_code == 0, from_stdin.output
    assert plain(from_stdin.output).strip() == "from stdin"
    both = runner.invoke(cli, ["eval", pid, "return 1", "--file", str(script)])
    assert both.exit_code == 2 and "exactly one" in both.output
    neither = runner.invoke(cli, ["eval", pid])
    assert neither.exit_code == 2


def test_ctrl_c_in_any_command_exits_130() -> None:
    @click.group(cls=AonodeGroup)
    def group() -> None:
        pass

    @group.command()
    def slow() -> None:
        raise KeyboardInterrupt

    out = CliRunner().invoke(group, ["slow"])
    assert out.exit_code == 130 and "Aborted" not in out.output


def test_a_ctrl_c_that_breaks_a_lock_release_still_exits_130() -> None:
    # The race behind a flaky Ctrl-C: SIGINT inside Condition.wait leaves the lock released, and its
    # __exit__ raises RuntimeError with the KeyboardInterrupt as context.
    @report_errors
    def interrupted() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("cannot release un-acquired lock")  # noqa: B904 (as threading does)

    @report_errors
    def failing() -> None:
        raise RuntimeError("a real bug")

    with pytest.raises(SystemExit) as exited:
        interrupted()
    assert exited.value.code == 130
    with pytest.raises(RuntimeError, match="a real bug"):
        failing()
