"""ANS-104 messages on a real AOS WASM binary (the AOS 2 fixtures of conftest.FIXTURES), through a real node
over gRPC: the module published, the process spawned and messages sent as data items signed by an Arweave
RSA-4096 key (as aoconnect signs) and an Ed25519 key. AOS sees `From` and `Owner` as the item's signer,
evals from the RSA owner run, a handler answers the Ed25519 sender, and the node serves the exact bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aonode import ans104
from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.crypto import Ed25519Signer, RsaPssSigner
from aonode.devices.wasm import legacy_eh, runtime
from aonode.ids import encode_id
from aonode.model import Result
from tests.conformance.conftest import FIXTURES, Fixture, require
from tests.conftest import ServerThread, make_config, plain

ED = Ed25519Signer.generate()
DEVICE = "wasm64@1.0"


class Session:
    def __init__(self, fixture: Fixture, data: Path, owner: RsaPssSigner) -> None:
        self.owner = owner
        self.server = ServerThread(make_config(data)).start()
        self.client = NodeClient(self.server.address, timeout=300)
        module = ans104.from_message(
            build_module(owner, require(fixture), "application/wasm", fixture.tags()), owner
        )
        assert self.client.publish(module.raw) == encode_id(module.id)
        process = ans104.from_message(
            build_process(
                owner, module=encode_id(module.id), scheduler=self.client.info().address, device=DEVICE
            ),
            owner,
        )
        self.process = process
        self.pid = encode_id(process.id)
        assert self.client.schedule(process.raw).slot == 0
        self.slot0 = self.client.compute(self.pid, 0).result

    def send(self, signer: Ed25519Signer | RsaPssSigner, action: str, data: str = "") -> tuple[Result, bytes]:
        item = ans104.from_message(build_message(signer, self.pid, action=action, data=data.encode()), signer)
        slot = self.client.schedule(item.raw).slot
        return self.client.compute(self.pid, slot).result, item.raw

    def close(self) -> None:
        self.client.close()
        self.server.stop()


@pytest.fixture(scope="module")
def owner() -> RsaPssSigner:
    return RsaPssSigner.generate(4096)


@pytest.fixture(scope="module", params=[f for f in FIXTURES if f.aos2], ids=lambda f: f.name)
def aos(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, owner: RsaPssSigner
) -> Iterator[Session]:
    fixture: Fixture = request.param
    require(fixture)
    runtime.clear_module_cache()
    legacy_eh.clear_cache()
    session = Session(fixture, tmp_path_factory.mktemp(fixture.name) / "node", owner)
    try:
        yield session
    finally:
        session.close()


def test_an_item_process_boots_and_its_owner_evals(aos: Session) -> None:
    assert aos.slot0.error == "" and "not trusted" not in aos.slot0.output.data
    result, _ = aos.send(aos.owner, "Eval", "return ao.env.Process.Owner .. ' ' .. ao.id")
    assert result.error == "", result.error
    assert plain(result.output.data) == f"{aos.owner.address} {aos.pid}"


def test_a_handler_sees_the_ed25519_signer_as_from(aos: Session) -> None:
    code = (
        'Handlers.add("who", Handlers.utils.hasMatchingTag("Action", "Who"), function(msg) '
        'ao.send({ Target = msg.From, Data = msg.From .. " " .. msg.Owner .. " " .. msg.Id }) end)'
    )
    result, _ = aos.send(aos.owner, "Eval", code)
    assert result.error == "", result.error
    result, raw = aos.send(ED, "Who")
    assert result.error == "", result.error
    mid = encode_id(ans104.decode(raw).id)
    replies = [m for m in result.messages if m.target == ED.address]
    assert [m.data.decode() for m in replies] == [f"{ED.address} {ED.address} {mid}"]


def test_the_node_serves_the_exact_bytes(aos: Session) -> None:
    page = aos.client.get_schedule(aos.pid, include_messages=True)
    assert page.messages and all(isinstance(m, ans104.Ans104Message) for m in page.messages)
    got = aos.client.get_message(aos.pid)
    assert isinstance(got, ans104.Ans104Message) and got.raw == aos.process.raw
