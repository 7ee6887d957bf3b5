"""wasm64@1.0 processes over real gRPC: GetSnapshot returns the stored manifest nearest at or before a slot,
and a Process whose module the device cannot run is refused at spawn with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import wasmtime
from blake3 import blake3

from aonode.client import ClientError, NodeClient, build_message, build_module, build_process
from aonode.crypto import Ed25519Signer
from aonode.ids import decode_id, encode_id
from aonode.model import Message
from aonode.v1 import process_pb2 as pb
from tests.conftest import ServerThread, make_config
from tests.devices.wasm.helpers import MODULES

USER = Ed25519Signer.generate()
DEVICE = "wasm64@1.0"


@pytest.fixture
def wasm_server(tmp_path: Path) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path / "node", snapshot_every=5)).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(wasm_server: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(wasm_server.address, timeout=60) as c:
        yield c


def process_for(client: NodeClient, code: bytes, *, publish: bool = True, device: str = DEVICE) -> Message:
    module = build_module(USER, code, "application/wasm")
    if publish:
        client.publish(module)
    return build_process(USER, module=encode_id(module.id), scheduler=client.info().address, device=device)


def get_snapshot(client: NodeClient, pid: str, slot: int | None = None) -> pb.GetSnapshotResponse:
    request = (
        pb.GetSnapshotRequest(process=pid) if slot is None else pb.GetSnapshotRequest(process=pid, slot=slot)
    )
    reply: pb.GetSnapshotResponse = client.process.GetSnapshot(request, timeout=60)
    return reply


@pytest.mark.skipif(not (MODULES / "aos.wasm").exists(), reason="aos.wasm is not built")
def test_get_snapshot_returns_the_nearest_stored_manifest(
    client: NodeClient, wasm_server: ServerThread
) -> None:
    process = process_for(client, (MODULES / "aos.wasm").read_bytes())
    client.schedule(process)
    pid = encode_id(process.id)
    for i in range(7):
        client.schedule(build_message(USER, pid, action="Count", anchor=f"c{i}"))
    assert client.now(pid).slot == 7

    latest = get_snapshot(client, pid)
    assert (latest.process, latest.slot, latest.device, latest.page_size) == (pid, 5, DEVICE, 65536)
    assert get_snapshot(client, pid, 7) == latest and get_snapshot(client, pid, 5) == latest
    assert [p.index for p in latest.pages] == list(range(len(latest.pages))) and latest.pages
    with wasm_server.node.store.read() as view:
        assert view.has_object(decode_id(latest.manifest_digest))
        pages = [view.get_object(decode_id(p.digest)) for p in latest.pages]
    assert all(page is not None and blake3(page).hexdigest() == decode_id(p.digest).hex()
               for page, p in zip(pages, latest.pages, strict=True))  # fmt: skip
    assert sum(len(page or b"") for page in pages) == latest.memory_size

    for pid_, slot in ((pid, 4), (encode_id(b"\x07" * 32), None)):
        with pytest.raises(grpc.RpcError) as caught:
            get_snapshot(client, pid_, slot)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def refused(client: NodeClient, process: Message, code: str) -> str:
    with pytest.raises(ClientError) as caught:
        client.schedule(process)
    assert caught.value.code == code
    with pytest.raises(ClientError) as missing:
        client.get_slot(encode_id(process.id))  # nothing was written
    assert missing.value.code == "NOT_FOUND"
    return caught.value.details


def test_a_module_importing_something_unknown_is_refused_at_spawn(client: NodeClient) -> None:
    code = bytes(wasmtime.wat2wasm((MODULES / "unknown_import.wat").read_text()))
    process = process_for(client, code)
    assert "env.launch_missiles" in refused(client, process, "INVALID_ARGUMENT")
    # the bulk path refuses it too, and takes the good ones of the same stream
    good = process_for(client, bytes(wasmtime.wat2wasm((MODULES / "counter.wat").read_text())))
    outcomes = list(client.schedule_stream([process, good]))
    assert isinstance(outcomes[0], ClientError) and outcomes[0].code == "INVALID_ARGUMENT"
    assert not isinstance(outcomes[1], ClientError) and outcomes[1].slot == 0
    with pytest.raises(ClientError):
        client.get_slot(encode_id(process.id))


def test_a_module_whose_invoke_imports_lack_their_exports_is_refused_at_spawn(client: NodeClient) -> None:
    code = bytes(wasmtime.wat2wasm((MODULES / "invoke_no_exports.wat").read_text()))
    details = refused(client, process_for(client, code), "INVALID_ARGUMENT")
    assert "does not export __indirect_function_table, setThrew" in details


def test_an_unknown_device_or_an_unpublished_module_is_refused_at_spawn(client: NodeClient) -> None:
    code = bytes(wasmtime.wat2wasm((MODULES / "counter.wat").read_text()))
    assert "no-such@1.0" in refused(
        client, process_for(client, code, device="no-such@1.0"), "INVALID_ARGUMENT"
    )
    unpublished = bytes(wasmtime.wat2wasm((MODULES / "loop.wat").read_text()))
    assert "not in this node's store" in refused(
        client, process_for(client, unpublished, publish=False), "FAILED_PRECONDITION"
    )
