"""Hostile compute: process code that spins past its wall clock, starves the compute threads, answers what
json cannot take, loops on host calls, or produces results too large to send. Each case attacks a real node
over gRPC, asserts the status or the slot's deterministic error result, then that the node is SERVING and
that the attacked process (or, for a stalled one, a bystander) still computes."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from aonode.client import ClientError, NodeClient, build_message, build_module, build_process
from aonode.crypto import Signer
from aonode.ids import encode_id
from aonode.testing import LocalNode
from aonode.wallet import load_wallet
from tests.conftest import ServerThread, make_config
from tests.devices.wasm.helpers import module_bytes
from tests.hostile.support import (
    ATTACKER,
    OWNER,
    assert_node_healthy,
    assert_process_computes,
    spawn_aos,
)

WALL = 2.0
"""The node's wall-clock backstop in these cases (the default is 10 s)."""

HUGE = [("Compute-Limit", "9000000000000")]
"""A budget the wall clock reaches first (AOS spawns with 9e12)."""

SPIN = b"while true do end"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    config = make_config(
        tmp_path_factory.mktemp("hostile-compute") / "node",
        extra={"compute": {"max_wall_seconds": WALL, "max_result_bytes": 4 * 1024 * 1024}},
    )
    server = ServerThread(config).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(node: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(node.address, timeout=60) as c:
        yield c


def _code(exc: BaseException) -> grpc.StatusCode:
    assert isinstance(exc, ClientError), exc
    return grpc.StatusCode[exc.code]


def _eval(client: NodeClient, pid: str, code: bytes, owner: Signer = OWNER) -> int:
    return client.schedule(build_message(owner, pid, action="Eval", data=code)).slot


def _stall(client: NodeClient, owner: Signer = ATTACKER) -> tuple[str, int]:
    pid = spawn_aos(client, owner, HUGE)
    slot = _eval(client, pid, SPIN, owner)
    with pytest.raises(ClientError) as info:
        client.compute(pid, slot)
    assert _code(info.value) == grpc.StatusCode.FAILED_PRECONDITION
    assert "wall-clock backstop" in str(info.value)
    return pid, slot


def _wasm_process(client: NodeClient, module: str, owner: Signer = ATTACKER) -> str:
    mod = build_module(owner, module_bytes(module), "application/wasm")
    client.publish(mod)
    process = build_process(
        owner, module=encode_id(mod.id), scheduler=client.info().address, device="wasm64@1.0"
    )
    client.schedule(process)
    return encode_id(process.id)


def _send(client: NodeClient, pid: str, data: bytes = b"x", owner: Signer = ATTACKER) -> int:
    return client.schedule(build_message(owner, pid, action="Test", data=data)).slot


def _healthy(node: ServerThread, client: NodeClient) -> None:
    assert_node_healthy(node.address)
    assert_process_computes(client, spawn_aos(client))


# -- the wall clock, stalls and starvation ---------------------------------------------------------------


def test_a_spinning_slot_stalls_its_process_and_is_not_retried(
    node: ServerThread, client: NodeClient
) -> None:
    pid, slot = _stall(client)
    started = time.monotonic()
    with pytest.raises(ClientError) as computed:
        client.compute(pid, slot)
    with pytest.raises(ClientError) as now:
        client.now(pid)
    for info in (computed, now):
        assert _code(info.value) == grpc.StatusCode.FAILED_PRECONDITION
        assert "is stalled" in str(info.value)
        assert info.value.metadata.get("aonode-stalled-slot") == str(slot)
    assert time.monotonic() - started < WALL  # answered at once, not after another wall clock
    assert client.compute(pid, slot - 1).result is not None  # what was stored is still served
    _healthy(node, client)


def test_a_stall_shows_in_get_status_and_process_status(node: ServerThread, client: NodeClient) -> None:
    pid, slot = _stall(client)
    status = client.process_status(pid)
    assert status.HasField("stall") and status.stall.slot == slot and status.stall.wall_seconds == WALL
    assert status.computed_slot == slot - 1 and status.current_slot == slot
    assert pid in [s.process for s in client.status().stalled]
    _healthy(node, client)


def test_only_an_operator_lifts_a_stall(node: ServerThread, client: NodeClient) -> None:
    pid, slot = _stall(client)
    with pytest.raises(ClientError) as info:
        client.resume_process(ATTACKER, pid)  # the process's own owner is not an operator
    assert _code(info.value) == grpc.StatusCode.PERMISSION_DENIED
    assert client.process_status(pid).HasField("stall")
    operator = load_wallet(node.config.node_wallet_path)
    lifted = client.resume_process(operator, pid)
    assert lifted.lifted.slot == slot
    assert not client.process_status(pid).HasField("stall")
    with pytest.raises(ClientError) as again:  # the same slot spins again: stalled again
        client.compute(pid, slot)
    assert _code(again.value) == grpc.StatusCode.FAILED_PRECONDITION
    _healthy(node, client)


def test_two_spinning_processes_do_not_starve_a_third(node: ServerThread, client: NodeClient) -> None:
    victim = spawn_aos(client)
    attackers = [spawn_aos(client, ATTACKER, HUGE) for _ in range(2)]
    slots = [_eval(client, p, SPIN, ATTACKER) for p in attackers]
    errors: list[BaseException] = []

    def attack(pid: str, slot: int) -> None:
        with NodeClient(node.address, timeout=60) as c:
            try:
                c.compute(pid, slot)
            except ClientError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=attack, args=a) for a in zip(attackers, slots, strict=True)]
    for t in threads:
        t.start()
    time.sleep(0.6)  # both spin on a compute thread, past `slow_after`
    started = time.monotonic()
    slot = _eval(client, victim, b"return 1 + 1")
    result = client.compute(victim, slot).result
    elapsed = time.monotonic() - started
    assert "2" in result.output.data
    assert elapsed < 1.9, elapsed  # before: it waited for a wall clock (here 2 s; 10 s by default)
    for t in threads:
        t.join(30)
    assert len(errors) == 2
    assert all(_code(e) == grpc.StatusCode.FAILED_PRECONDITION for e in errors)
    _healthy(node, client)


def test_a_spinning_dryrun_is_an_error_result_and_stalls_nothing(
    node: ServerThread, client: NodeClient
) -> None:
    pid = spawn_aos(client, OWNER, HUGE)
    result = client.dryrun(build_message(OWNER, pid, action="Eval", data=SPIN))
    assert "wall-clock" in result.error
    assert not client.process_status(pid).HasField("stall")
    assert_node_healthy(node.address)
    assert_process_computes(client, pid)


# -- results too large to send ---------------------------------------------------------------------------


def test_a_30_mb_output_is_the_slots_error_result(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_aos(client)
    slot = _eval(client, pid, b'return string.rep("x", 30 * 1024 * 1024)')
    result = client.compute(pid, slot).result
    assert "over this node's limit of 4194304 bytes" in result.error
    assert client.compute(pid, slot).result.error == result.error  # stored, readable
    assert_node_healthy(node.address)
    assert_process_computes(client, pid)


def test_an_outbox_of_3_x_15_mb_is_the_slots_error_result(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_aos(client, OWNER, [("Memory-Limit", "1-gb")])
    code = b'for i = 1, 3 do Send({ Target = ao.id, Data = string.rep("y", 15 * 1024 * 1024) }) end'
    slot = _eval(client, pid, code)
    result = client.compute(pid, slot).result
    assert "max_result_bytes" in result.error
    assert not result.messages
    assert_node_healthy(node.address)
    assert_process_computes(client, pid)


def test_a_too_large_dryrun_result_is_an_error_result(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_aos(client)
    result = client.dryrun(
        build_message(OWNER, pid, action="Eval", data=b'return string.rep("z", 20 * 1024 * 1024)')
    )
    assert "max_result_bytes" in result.error
    assert_node_healthy(node.address)
    assert_process_computes(client, pid)


# -- WASM ------------------------------------------------------------------------------------------------


def test_wasm_answers_json_cannot_take_are_error_results(node: ServerThread, client: NodeClient) -> None:
    pid = _wasm_process(client, "bad_output")  # its handle runs from slot 0, the Process message
    slots = [0, *(_send(client, pid) for _ in range(3))]
    errors = [client.compute(pid, s).result.error for s in slots[:3]]
    assert errors == [
        "the module's answer is nested deeper than 64 levels",
        "the module's answer has an integer of more than 1000 digits",
        "the module's answer has text that is not valid Unicode (a lone surrogate)",
    ]
    fine = client.compute(pid, slots[3]).result  # the process goes on
    assert (fine.error, fine.output.data) == ("", "fine")
    later = client.compute(pid, _send(client, pid)).result
    assert later.output.data == "fine"
    _healthy(node, client)


@pytest.mark.parametrize("module", ["host_memcpy", "host_fdwrite"])
def test_wasm_host_call_loops_run_out_of_fuel(node: ServerThread, client: NodeClient, module: str) -> None:
    pid = _wasm_process(client, module)
    started = time.monotonic()
    result = client.compute(pid, _send(client, pid)).result
    assert "out of fuel" in result.error
    assert time.monotonic() - started < WALL * 4
    assert not client.process_status(pid).HasField("stall")  # the budget bound it, not the wall clock
    again = client.compute(pid, _send(client, pid)).result  # the process goes on (and fails the same)
    assert again.error == result.error
    _healthy(node, client)


def test_wasm_error_texts_carry_no_object_address(node: ServerThread, client: NodeClient) -> None:
    pid = _wasm_process(client, "bad_signature")
    with pytest.raises(ClientError) as info:
        client.compute(pid, 0)
    assert _code(info.value) == grpc.StatusCode.FAILED_PRECONDITION
    assert "0x" not in str(info.value) and "object at" not in str(info.value)
    assert "(i32) -> (i32)" in str(info.value)
    _healthy(node, client)


# -- stopping the node -----------------------------------------------------------------------------------


def test_sigterm_stops_a_node_computing_a_spinning_slot_within_5_s(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text("[compute]\nmax_wall_seconds = 120\n")
    node = LocalNode(tmp_path / "data", "--config", str(config)).start()
    try:
        with NodeClient(node.address, timeout=60, retry_attempts=1) as client:
            pid = spawn_aos(client, ATTACKER, HUGE)
            slot = _eval(client, pid, SPIN, ATTACKER)

            def attack() -> None:
                with (
                    NodeClient(node.address, timeout=60, retry_attempts=1) as c,
                    contextlib.suppress(ClientError),
                ):
                    c.compute(pid, slot)

            thread = threading.Thread(target=attack)
            thread.start()
            time.sleep(1.0)
        started = time.monotonic()
        code = node.stop(timeout=30)
        elapsed = time.monotonic() - started
        thread.join(10)
        assert code == 0
        assert elapsed < 5.0, elapsed  # before: it ran until SIGKILL
        node.start()  # the stop was not a stall, and the node serves again on the same data
        with NodeClient(node.address, timeout=60) as client:
            assert not client.process_status(pid).HasField("stall")
            assert_node_healthy(node.address)
            assert_process_computes(client, spawn_aos(client))
    finally:
        node.stop(timeout=30)
