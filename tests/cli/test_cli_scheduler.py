"""`aonode spawn`, `send`, `schedule`, `watch` against a real node."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aonode.cli import cli
from tests.conftest import ServerThread


def _run(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def test_spawn_send_schedule_watch(server: ServerThread, tmp_path: Path) -> None:
    wallet = tmp_path / "wallet.json"
    _run("wallet", "new", "--out", str(wallet))
    common = ["--node", server.address]
    module = tmp_path / "proc.lua"
    module.write_text("function compute(base, req, opts) return base end\n")
    spawned = _run("spawn", "--module", str(module), "--tag", "Name=demo", *common, "--wallet", str(wallet))
    process = str(spawned["process"])
    assert len(process) == 43 and spawned["device"] == "lua@5.3a"
    sent = [
        _run("send", process, "--action", "Ping", "--data", f"n{i}", *common, "--wallet", str(wallet))
        for i in range(3)
    ]
    assert [s["slot"] for s in sent] == [1, 2, 3]
    listed = _run("schedule", process, *common)
    assert listed["process"] == process and listed["has_next"] is False
    assignments = listed["assignments"]
    assert isinstance(assignments, list)
    assert [a["slot"] for a in assignments] == [0, 1, 2, 3]
    assert assignments[1]["message"] == sent[0]["message"]
    for key in ("process", "slot", "message", "timestamp", "hash-chain"):
        assert key in assignments[0]
    ranged = _run("schedule", process, "--from", "2", "--to", "3", *common)
    assert [a["slot"] for a in ranged["assignments"]] == [2, 3]

    # watch runs as its own process (CliRunner swaps the global stdout, so two at once would mix)
    watch = subprocess.Popen(
        [sys.executable, "-m", "aonode", "watch", process, "--from", "2", "--count", "3", "--json", *common],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert watch.stdout is not None
    first = [json.loads(watch.stdout.readline())["slot"] for _ in range(2)]  # the backlog: slots 2, 3
    _run("send", process, "--data", "live", *common, "--wallet", str(wallet))
    out, _ = watch.communicate(timeout=30)
    assert first + [json.loads(line)["slot"] for line in out.splitlines()] == [2, 3, 4]
    assert watch.returncode == 0


def test_send_to_unknown_process_fails_cleanly(server: ServerThread, tmp_path: Path) -> None:
    wallet = tmp_path / "wallet.json"
    _run("wallet", "new", "--out", str(wallet))
    result = CliRunner().invoke(
        cli, ["send", "A" * 43, "--data", "x", "--node", server.address, "--wallet", str(wallet)]
    )
    assert result.exit_code == 1
    assert "NOT_FOUND" in result.stderr


def test_unreachable_node_is_a_clean_error(tmp_path: Path) -> None:
    wallet = tmp_path / "wallet.json"
    _run("wallet", "new", "--out", str(wallet))
    result = CliRunner().invoke(cli, ["schedule", "A" * 43, "--node", "127.0.0.1:1"])
    assert result.exit_code == 1
    assert "aonode serve" in result.stderr and "127.0.0.1:1" in result.stderr


@pytest.mark.parametrize(
    "dashed",
    [
        "-" + "A" * 42,
        "-0fJLRPBuxhC6ayilcIDLkyVHXr9keefbPKvTQOWzy8",  # holds "h" and "j": once read as `-h` (help)
        "--" + "h" * 40 + "A",
    ],
)
def test_ids_beginning_with_a_dash_are_arguments(server: ServerThread, dashed: str, tmp_path: Path) -> None:
    # A valid base64url ID begins with "-" one time in 64.
    wallet = tmp_path / "wallet.json"
    CliRunner().invoke(cli, ["wallet", "new", "--out", str(wallet)])
    for command in (
        ["schedule", dashed],
        ["now", dashed],
        ["compute", dashed, "--slot", "0"],
        ["cron", "stop", dashed, "--wallet", str(wallet)],  # a Stop is signed
    ):
        result = CliRunner().invoke(cli, [*command, "--node", server.address])
        assert result.exit_code == 1, (command, result.output)  # the node's answer, not a usage error (2)
        assert "NOT_FOUND" in result.stderr, (command, result.stderr)
    after_separator = CliRunner().invoke(cli, ["schedule", "--node", server.address, "--", dashed])
    assert after_separator.exit_code == 1 and "NOT_FOUND" in after_separator.stderr


def test_schedule_checks_every_message_digest_and_signature(server: ServerThread) -> None:
    # `aonode schedule` used to say nothing of the messages: a node (or a proxy) that served altered
    # messages under the assigned IDs went unnoticed. Here a fake node serves the real schedule with one
    # message's data changed (signature kept, so its ID still matches): the CLI must report it.
    from concurrent.futures import ThreadPoolExecutor

    import grpc

    from aonode.client import NodeClient, build_message
    from aonode.v1 import scheduler_pb2
    from tests.hostile.support import OWNER, spawn_aos

    with NodeClient(server.address) as client:
        process = spawn_aos(client)
        client.schedule(build_message(OWNER, process, action="Eval", data=b"return 1"))
        real = client.scheduler.GetSchedule(
            scheduler_pb2.GetScheduleRequest(process=process, include_messages=True), timeout=10
        )
    honest = _run("schedule", process, "--node", server.address)
    assert honest["verified"] is True and honest["problems"] == []

    tampered = scheduler_pb2.GetScheduleResponse()
    tampered.CopyFrom(real)
    tampered.messages[1].data = b"return os.exit()"

    def get_schedule(request: bytes, context: grpc.ServicerContext) -> bytes:
        return tampered.SerializeToString()  # type: ignore[no-any-return]

    def get_message(request: bytes, context: grpc.ServicerContext) -> bytes:
        reply = scheduler_pb2.GetMessageResponse(message=tampered.messages[1])
        return reply.SerializeToString()  # type: ignore[no-any-return]

    fake = grpc.server(ThreadPoolExecutor(2))
    methods = {
        "GetSchedule": grpc.unary_unary_rpc_method_handler(get_schedule),
        "GetMessage": grpc.unary_unary_rpc_method_handler(get_message),
    }
    fake.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("aonode.v1.SchedulerService", methods),)
    )
    port = fake.add_insecure_port("127.0.0.1:0")
    fake.start()
    try:
        result = CliRunner().invoke(cli, ["schedule", process, "--node", f"127.0.0.1:{port}", "--json"])
        assert result.exit_code == 1, result.output
        document = json.loads(result.stdout)
        assert document["verified"] is False
        assert len(document["problems"]) == 1 and document["problems"][0].startswith("slot 1: message")
        text = CliRunner().invoke(cli, ["schedule", process, "--node", f"127.0.0.1:{port}"])
        assert text.exit_code == 1 and "SCHEDULE FAILED VERIFICATION" in text.stdout
    finally:
        fake.stop(None)
