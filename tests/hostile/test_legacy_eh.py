"""Hostile modules for the legacy exception-handling translator (exnref.py), spawned on a real node over
gRPC: invalid legacy code and a corrupted body are refused at spawn with a clear status; deep nesting
that a naive delegate resolution would walk quadratically spawns and computes. The node stays SERVING."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import wasmtime

from aonode.client import ClientError, NodeClient, build_module, build_process
from aonode.ids import encode_id
from tests.conftest import ServerThread, make_config
from tests.hostile.support import ATTACKER, assert_node_healthy, assert_process_computes, spawn_aos

MODULE = (Path(__file__).parents[1] / "devices" / "wasm" / "modules" / "legacy_eh.wat").read_text()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = ServerThread(make_config(tmp_path_factory.mktemp("hostile-eh") / "node")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(node: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(node.address, timeout=120) as c:
        yield c


def _with(extra: str) -> bytes:
    """The legacy_eh test module with one more (never called) function."""
    head, _tail = MODULE.rsplit(")", 1)
    return bytes(wasmtime.wat2wasm(f"{head} {extra})"))


def _spawn(client: NodeClient, wasm: bytes) -> str:
    mod = build_module(ATTACKER, wasm, "application/wasm")
    client.publish(mod)
    process = build_process(
        ATTACKER, module=encode_id(mod.id), scheduler=client.info().address, device="wasm64@1.0"
    )
    client.schedule(process)
    return encode_id(process.id)


def _refused(client: NodeClient, wasm: bytes) -> ClientError:
    with pytest.raises(ClientError) as info:
        _spawn(client, wasm)
    assert grpc.StatusCode[info.value.code] in (
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    return info.value


def test_invalid_legacy_code_is_refused_at_spawn(node: ServerThread, client: NodeClient) -> None:
    error = _refused(client, _with("(func try rethrow 0 catch_all end)"))
    assert "legacy exception handling" in str(error) and "rethrow" in str(error)
    assert_node_healthy(node.address)
    assert_process_computes(client, spawn_aos(client))


def test_a_corrupted_body_is_refused_at_spawn(node: ServerThread, client: NodeClient) -> None:
    wasm = bytearray(_with("(func (drop (i32.const 1)))"))
    at = wasm.rindex(b"\x1a\x0b")  # the extra function's `drop end` (the data section follows: search back)
    wasm[at] = 0xFF  # no such opcode
    _refused(client, bytes(wasm))
    assert_node_healthy(node.address)


def test_deep_nesting_translates_in_linear_time_and_computes(node: ServerThread, client: NodeClient) -> None:
    depth = 4000
    # `depth` blocks, inside them `depth` try-delegates each naming the function level: resolving each
    # delegate by walking out to the function would take depth * depth steps.
    deep = "(func " + "block " * depth + f"try call $thrower delegate {depth} " * depth + "end " * depth + ")"
    extra = deep.replace("call $thrower", "i32.const 1 call $thrower")
    pid = _spawn(client, _with(extra))
    assert client.compute(pid, 0).result.output.data == "caught 42"
    assert_node_healthy(node.address)
