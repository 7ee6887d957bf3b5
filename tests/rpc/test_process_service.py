"""ProcessService over real gRPC with the built-in AOS runtime: eval, now, compute, dryrun, restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import ClientError, NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.wallet import create_wallet
from tests.conftest import ServerThread, make_config, plain

USER = Ed25519Signer.generate()


@pytest.fixture
def client(server: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(server.address, timeout=60) as c:
        yield c


def spawn(client: NodeClient, signer: Ed25519Signer = USER) -> str:
    process = build_process(
        signer, module=encode_id(runtime_module().id), scheduler=client.info().address, device="lua@5.3a"
    )
    client.schedule(process)
    return encode_id(process.id)


def evaluate(client: NodeClient, pid: str, code: str) -> str:
    slot = client.schedule(build_message(USER, pid, action="Eval", data=code.encode())).slot
    computed = client.compute(pid, slot)
    assert computed.slot == slot and not computed.result.error, computed.result.error
    return plain(computed.result.output.data)


def test_eval_keeps_state_between_slots(client: NodeClient) -> None:
    pid = spawn(client)
    evaluate(client, pid, "X = 42")
    assert evaluate(client, pid, "return X") == "42"
    assert evaluate(client, pid, "return 1+1") == "2"
    assert evaluate(client, pid, "return 2+2") == "4"


def test_handler_replies_to_the_sender(client: NodeClient) -> None:
    pid = spawn(client)
    evaluate(client, pid, 'Handlers.add("ping", "Ping", function(msg) msg.reply({Data = "pong"}) end)')
    slot = client.schedule(build_message(USER, pid, action="Ping")).slot
    result = client.compute(pid, slot).result
    assert [m.data for m in result.messages] == [b"pong"]
    assert result.messages[0].target == str(USER.address)


def test_now_and_earlier_slots_stay_readable(client: NodeClient) -> None:
    pid = spawn(client)
    for i in range(5):
        client.schedule(build_message(USER, pid, action="Eval", data=f"return {i} * 10".encode()))
    latest = client.now(pid)
    assert latest.slot == 5 and plain(latest.result.output.data) == "40"
    assert plain(client.compute(pid, 2).result.output.data) == "10"
    assert len(latest.hashpath) == 43 and len(latest.result_digest) == 43
    with pytest.raises(ClientError) as caught:
        client.compute(pid, 99)
    assert caught.value.code == "OUT_OF_RANGE"
    with pytest.raises(ClientError) as caught:
        client.compute(encode_id(b"\x05" * 32), 0)
    assert caught.value.code == "NOT_FOUND"


def test_dryrun_leaves_no_trace(client: NodeClient) -> None:
    pid = spawn(client)
    evaluate(client, pid, "Counter = 1")
    dry = client.dryrun(
        build_message(USER, pid, action="Eval", data=b"Counter = Counter + 100; return Counter")
    )
    assert plain(dry.output.data) == "101"
    assert evaluate(client, pid, "return Counter") == "1"
    assert client.get_slot(pid).current_slot == 2  # the dryrun was never scheduled


def test_results_survive_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path / "node")
    first = ServerThread(config).start()
    try:
        with NodeClient(first.address, timeout=60) as c:
            pid = spawn(c)
            for i in range(10):
                c.schedule(
                    build_message(USER, pid, action="Eval", data=f"Y = (Y or 0) + {i}; return Y".encode())
                )
            before = [c.compute(pid, s) for s in range(11)]
    finally:
        first.stop()
    second = ServerThread(config).start()
    try:
        with NodeClient(second.address, timeout=60) as c:
            after = [c.compute(pid, s) for s in range(11)]
            # a new slot after the restart replays the state: Y continues from 45
            c.schedule(build_message(USER, pid, action="Eval", data=b"return Y"))
            assert plain(c.now(pid).result.output.data) == "45"
    finally:
        second.stop()
    assert [(r.hashpath, r.result_digest) for r in after] == [(r.hashpath, r.result_digest) for r in before]


def test_cli_eval_prints_what_the_console_would(server: ServerThread, tmp_path: Path) -> None:
    wallet = tmp_path / "w.json"
    create_wallet(wallet)
    common = ["--node", server.address, "--wallet", str(wallet)]
    runner = CliRunner()
    spawned = runner.invoke(cli, ["spawn", *common])
    assert spawned.exit_code == 0, spawned.output
    pid = spawned.stdout.strip()
    assert runner.invoke(cli, ["eval", pid, "X = 42", *common]).exit_code == 0
    shown = runner.invoke(cli, ["eval", pid, "return X", *common])
    assert shown.exit_code == 0 and shown.stdout.strip() == "42"
    failed = runner.invoke(cli, ["eval", pid, "error('boom')", *common])
    assert failed.exit_code == 1 and "boom" in failed.stderr
    now = runner.invoke(cli, ["now", pid, "--json", "--node", server.address])
    assert now.exit_code == 0 and '"Output"' in now.stdout
    # By default the process trusts the node, which signs what it relays (push, cron)...
    trusted = runner.invoke(cli, ["eval", pid, "return table.concat(ao.authorities, ',')", *common])
    assert trusted.stdout.strip() == server.node.address
    # ... unless the spawner names its authorities.
    own = runner.invoke(cli, ["spawn", "--tag", f"Authority={'A' * 43}", *common]).stdout.strip()
    trusted = runner.invoke(cli, ["eval", own, "return table.concat(ao.authorities, ',')", *common])
    assert trusted.stdout.strip() == "A" * 43


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("while true do end", "instruction"),
        ("local function f() while true do pcall(f) end end f()", ""),
        ("return string.rep('x', 1024 * 1024 * 1024)", ""),
        ("return python.eval('1')", ""),
        ("return os.execute('true')", ""),
        ("return load(string.dump(function() end))", ""),
    ],
)
def test_hostile_eval_is_an_error_slot_and_the_node_stays_healthy(
    client: NodeClient, code: str, expected: str
) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    pid = spawn(client)
    slot = client.schedule(build_message(USER, pid, action="Eval", data=code.encode())).slot
    result = client.compute(pid, slot).result
    assert result.error, f"{code!r} did not fail"
    assert expected in result.error
    assert evaluate(client, pid, "return 1 + 1") == "2"
    health = health_pb2_grpc.HealthStub(client.channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
