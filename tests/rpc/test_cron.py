"""CronService over real gRPC: Every/Once/Stop/List, status codes, the CLI, and process-level cron across
a node restart (exactly once per tick)."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import ClientError, NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.scheduler import Scheduler
from aonode.wallet import signer_to_jwk
from tests.conftest import ServerThread, make_config, wait_for
from tests.cron.helpers import cron_ticks, tick_numbers

USER = Ed25519Signer.generate()
CRON = {"min_interval_ms": 50, "scan_interval_ms": 100, "backoff_base_ms": 100, "backoff_max_ms": 400}


def spawn(client: NodeClient, *tags: tuple[str, str]) -> str:
    process = build_process(
        USER,
        module=encode_id(runtime_module().id),
        scheduler=client.info().address,
        device="lua@5.3a",
        tags=list(tags),
    )
    client.schedule(process)
    return encode_id(process.id)


def user_runner(tmp_path: Path) -> CliRunner:
    """A CLI runner whose wallet (AONODE_WALLET) is USER's."""
    wallet = tmp_path / "wallet.json"
    wallet.write_text(json.dumps(signer_to_jwk(USER)))
    return CliRunner(env={"AONODE_WALLET": str(wallet)})


def slots(client: NodeClient, process: str) -> int:
    return client.get_slot(process).current_slot


def test_every_list_stop_and_errors(tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path / "n", extra={"cron": CRON})).start()
    try:
        with NodeClient(server.address) as client:
            pid = spawn(client)
            task = client.cron_every(USER, pid, "100-milliseconds", tags=[("Action", "Tick")])
            assert task.interval == "100-milliseconds" and task.process == pid
            wait_for(lambda: client.cron_list()[0].runs >= 3)
            stopped = client.cron_stop(USER, task.task)
            assert stopped.task == task.task and client.cron_list() == []
            tip = slots(client, pid)
            assert tip >= 3
            time.sleep(0.3)
            assert slots(client, pid) == tip  # nothing after Stop answered
            with pytest.raises(ClientError) as caught:
                client.cron_stop(USER, task.task)
            assert caught.value.code == "NOT_FOUND"
            with pytest.raises(ClientError) as caught:
                client.cron_every(USER, pid, "10-fortnights")
            assert (
                caught.value.code == "INVALID_ARGUMENT"
                and "unknown unit 'fortnights'" in caught.value.details
            )
            with pytest.raises(ClientError) as caught:
                client.cron_once(USER, pid)
            assert caught.value.code == "INVALID_ARGUMENT"
            # A task to a process nobody schedules fails, backs off and says why.
            failing = client.cron_every(USER, encode_id(secrets.token_bytes(32)), "50-milliseconds")
            wait_for(lambda: client.cron_list()[0].failures >= 2)
            time.sleep(0.3)
            [t] = client.cron_list()
            assert t.task == failing.task and t.last_error.startswith("NOT_FOUND")
            assert 2 <= t.failures <= 5  # 100, 200, 400, 400 ms apart: backed off, not spinning
    finally:
        server.stop()


def test_cli_once_every_list_stop(tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path / "n", extra={"cron": CRON})).start()
    runner = user_runner(tmp_path)
    try:
        with NodeClient(server.address) as client:
            pid = spawn(client)
        node = ["--node", server.address]
        out = runner.invoke(
            cli, ["cron", "once", "--in", "50-milliseconds", "--process", pid, *node, "--json"]
        )
        assert out.exit_code == 0, out.output
        once = json.loads(out.output)
        assert once["process"] == pid and once["interval"] == ""
        args = ["cron", "every", "--interval", "1-hour", "--process", pid, "--action", "Tick", "--tag", "X=1"]
        out = runner.invoke(cli, [*args, *node, "--json"])
        assert out.exit_code == 0, out.output
        every = json.loads(out.output)["task"]
        deadline = time.monotonic() + 15  # the one-off task fires after 50 ms; allow for a loaded machine
        while True:
            out = runner.invoke(cli, ["cron", "list", *node, "--json"])
            tasks = json.loads(out.output)["tasks"]
            if [t["task"] for t in tasks] == [every] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [t["task"] for t in tasks] == [every]  # the one-off task fired and is gone
        assert tasks[0]["tags"] == [["Action", "Tick"], ["X", "1"]]
        out = runner.invoke(cli, ["cron", "list", *node])
        assert every in out.output and "every 1-hour" in out.output
        stranger = tmp_path / "stranger.json"
        stranger.write_text(json.dumps(signer_to_jwk(Ed25519Signer.generate())))
        out = runner.invoke(cli, ["cron", "stop", every, *node, "--wallet", str(stranger)])
        assert out.exit_code == 1 and "PERMISSION_DENIED" in out.output  # only the creator's wallet stops it
        out = runner.invoke(cli, ["cron", "list", "--creator", USER.address, "--process", pid, *node])
        assert every in out.output and f"by {USER.address}" in out.output
        out = runner.invoke(cli, ["cron", "list", "--creator", encode_id(b"x" * 32), *node])
        assert out.output.strip() == "no cron tasks"
        out = runner.invoke(cli, ["cron", "stop", every, *node])
        assert out.exit_code == 0 and f"stopped {every}" in out.output
        out = runner.invoke(cli, ["cron", "stop", every, *node])
        assert out.exit_code == 1 and "NOT_FOUND" in out.output
        out = runner.invoke(cli, ["cron", "every", "--interval", "0-seconds", "--process", pid, *node])
        assert out.exit_code == 1 and "INVALID_ARGUMENT" in out.output and "positive" in out.output
        out = runner.invoke(cli, ["cron", "once", "--process", pid, *node])
        assert out.exit_code == 2
    finally:
        server.stop()


def test_process_cron_exactly_once_across_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path / "n", extra={"cron": CRON})
    server = ServerThread(config).start()
    try:
        with NodeClient(server.address) as client:
            pid = spawn(client, ("Cron-Interval", "100-milliseconds"), ("Cron-Tag-Action", "Cron"))
            wait_for(lambda: slots(client, pid) >= 3)
    finally:
        server.stop()
    server = ServerThread(config).start()
    try:
        with NodeClient(server.address) as client:
            before = slots(client, pid)
            wait_for(lambda: slots(client, pid) >= before + 3)
            [task] = client.cron_list()
            assert task.origin == "process" and task.process == pid
        scheduler: Scheduler = server.node.scheduler
        server.call(server.node.cron.close())
        ticks = cron_ticks(scheduler, pid)
    finally:
        server.stop()
    numbers = tick_numbers(ticks)
    assert numbers == list(range(len(numbers)))  # no duplicate, no gap (downtime << the catch-up bound)
    assert len(numbers) >= 6 and all(m.tag("Action") == "Cron" for _, m in ticks)
    assert {m.tag("Cron-Task") for _, m in ticks} == {task.task}


def test_path_task_over_grpc_and_the_cli(tmp_path: Path) -> None:
    server = ServerThread(make_config(tmp_path / "n", extra={"cron": CRON})).start()
    runner = user_runner(tmp_path)
    node = ["--node", server.address]
    try:
        with NodeClient(server.address) as client:
            process = build_process(
                USER,
                module=encode_id(runtime_module().id),
                scheduler=client.info().address,
                device="lua@5.3a",
            )
            client.schedule(process)
            pid = encode_id(process.id)
            client.schedule(build_message(USER, pid, action="Eval", data=b"return 6 * 7"))
            out = runner.invoke(
                cli,
                ["cron", "every", "--interval", "100-milliseconds", "--process", pid, "--path", "now", *node],
            )
            assert out.exit_code == 0 and "calls now" in out.output, out.output
            wait_for(lambda: client.cron_list()[0].cursor == 2)
            [task] = client.cron_list()
            assert task.path == "now" and task.cursor == 2 and task.runs >= 1
            assert server.node.engine.stored_result(process.id, 1) is not None  # computed by the task
            with pytest.raises(ClientError) as caught:
                client.cron_once(USER, pid, in_="1-second", path="compute/3")
            assert caught.value.code == "INVALID_ARGUMENT" and "now or push" in caught.value.details
        out = runner.invoke(
            cli,
            ["cron", "once", "--in", "1-second", "--process", pid, "--path", "push", "--action", "X", *node],
        )
        assert out.exit_code == 2 and "sends no message" in out.output
        out = runner.invoke(cli, ["cron", "list", "--json", *node])
        [listed] = json.loads(out.output)["tasks"]
        assert listed["path"] == "now" and listed["cursor"] >= 2
    finally:
        server.stop()


def test_list_stays_under_the_send_limit_by_paging(tmp_path: Path) -> None:
    # 20 tasks of ~900 KB: 18 MB in all, over the 16 MiB a reply may carry; List pages them by bytes.
    server = ServerThread(make_config(tmp_path / "n", extra={"cron": CRON})).start()
    try:
        with NodeClient(server.address) as client:
            pid = spawn(client)
            creators = [Ed25519Signer.generate() for _ in range(2)]
            made = {
                client.cron_every(c, pid, "1-hour", data=bytes([i]) * 900_000).task
                for c in creators
                for i in range(10)
            }
            first, token = client.cron_list_page()
            assert 1 <= len(first) <= 5 and token  # about 4 MiB a page
            listed = client.cron_list()
            assert {t.task for t in listed} == made and len(listed) == 20
            assert {t.task for t in client.cron_list(creator=creators[1].address)} == {
                t.task for t in listed if t.creator == creators[1].address
            }
    finally:
        server.stop()
