"""ANS-104 messages through a real node over gRPC: scheduled, computed on the Lua runtime (msg.From is the
item's signer, commitments name ans104@1.0 and the right alg), read back as the exact bytes."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from aonode import ans104, ethereum
from aonode.client import NodeClient, build_message, build_process
from aonode.cron import build_request
from aonode.crypto import Ed25519Signer, RsaPssSigner
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.model import Message
from aonode.rpc.convert import cron_task_from_pb
from aonode.v1 import cron_pb2, types_pb2
from tests.conftest import ServerThread, plain
from tests.push.helpers import PING_SELF

ED = Ed25519Signer.generate()
ETH = ethereum.EthereumSigner.generate()


@pytest.fixture(scope="module")
def rsa() -> RsaPssSigner:
    return RsaPssSigner.generate(4096)


@pytest.fixture
def client(server: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(server.address, timeout=60) as c:
        yield c


def spawn(client: NodeClient, signer: Ed25519Signer | RsaPssSigner) -> ans104.Ans104Message:
    process = build_process(
        signer, module=encode_id(runtime_module().id), scheduler=client.info().address, device="lua@5.3a"
    )
    item = ans104.from_message(process, signer)
    assignment = client.schedule(item.raw)
    assert assignment.slot == 0 and assignment.message == item.id
    return item


def send(client: NodeClient, signer: Ed25519Signer | RsaPssSigner, pid: str, code: str) -> tuple[int, bytes]:
    item = ans104.from_message(build_message(signer, pid, action="Eval", data=code.encode()), signer)
    return client.schedule(item.raw).slot, item.raw


WHO = 'Handlers.add("who", "Who", function(msg) print(msg.From .. " " .. msg.Owner .. " " .. msg.Id) end)'


def ask(client: NodeClient, signer: ans104.ItemSigner, pid: str) -> tuple[str, bytes]:
    item = ans104.from_message(build_message(ED, pid, action="Who"), signer)  # ED: a template
    slot = client.schedule(item.raw).slot
    result = client.compute(pid, slot).result
    assert not result.error, result.error
    return plain(result.output.data), item.raw


def test_rsa_process_and_rsa_ed25519_ethereum_messages_compute_with_the_signers_identity(
    client: NodeClient, rsa: RsaPssSigner
) -> None:
    process = spawn(client, rsa)
    pid = encode_id(process.id)
    slot, raw = send(client, rsa, pid, WHO)
    assert not client.compute(pid, slot).result.error
    out, raw_rsa = ask(client, rsa, pid)
    assert out == f"{rsa.address} {rsa.address} {encode_id(ans104.decode(raw_rsa).id)}"
    out, raw_ed = ask(client, ED, pid)
    mid = encode_id(ans104.decode(raw_ed).id)
    assert out == f"{ED.address} {ED.address} {mid}"
    out, raw_eth = ask(client, ETH, pid)
    assert out == f"{ETH.address} {ETH.address} {encode_id(ans104.decode(raw_eth).id)}"

    # Read back: the exact bytes, by ID and in the schedule.
    got = client.get_message(mid)
    assert isinstance(got, ans104.Ans104Message) and got.raw == raw_ed
    page = client.get_schedule(pid, include_messages=True)
    assert [m.raw for m in page.messages if isinstance(m, ans104.Ans104Message)] == [
        process.raw,
        raw,
        raw_rsa,
        raw_ed,
        raw_eth,
    ]


def test_our_messages_and_ans104_items_share_a_schedule(client: NodeClient) -> None:
    process = spawn(client, ED)
    pid = encode_id(process.id)
    first = client.schedule(build_message(ED, pid, action="Eval", data=b"X = 7"))
    slot, raw = send(client, ED, pid, "return X * 6")
    assert slot == first.slot + 1
    assert plain(client.compute(pid, slot).result.output.data) == "42"
    got = client.get_message(encode_id(ans104.decode(raw).id))
    assert isinstance(got, ans104.Ans104Message) and got.raw == raw
    assert type(client.get_message(encode_id(first.message))) is Message


def test_publish_accepts_an_item_and_returns_its_id(client: NodeClient) -> None:
    item = ans104.build(ED, tags=[("Type", "Module"), ("Content-Type", "text/lua")], data=b"return 1")
    assert client.publish(item.raw) == encode_id(item.id)
    assert client.get_message(encode_id(item.id)).raw == item.raw  # type: ignore[attr-defined]


@pytest.mark.parametrize("canonical", [False, True], ids=["fields", "canonical"])
def test_subscribe_with_messages_carries_the_exact_bytes(client: NodeClient, canonical: bool) -> None:
    process = spawn(client, ED)
    pid = encode_id(process.id)
    _, raw = send(client, ED, pid, "return 1")
    ours = client.schedule(build_message(ED, pid, action="Eval", data=b"return 2"))
    frame = next(iter(client.subscribe(pid, include_messages=True, canonical=canonical)))
    assert [m.ans104 for m in frame.messages] == [process.raw, raw, b""]
    assert frame.messages[2].data == b"return 2" and ours.slot == 2


def test_push_from_a_slot_whose_message_is_an_item(client: NodeClient) -> None:
    # The process and its Ping are items; the replies the push delivers are node-signed messages whose
    # From-Process is the item-spawned process, and its own From-Slot names the item's slot.
    node = client.info().address
    base = build_process(
        ED,
        module=encode_id(runtime_module().id),
        scheduler=node,
        device="lua@5.3a",
        tags=[("Authority", node), ("On-Boot", "Data")],
        data=PING_SELF.encode(),
    )
    process = ans104.from_message(base, ED)
    client.schedule(process.raw)
    pid = encode_id(process.id)
    ping = ans104.from_message(build_message(ED, pid, action="Ping", tags=[("Count", "1")]), ED)
    slot = client.schedule(ping.raw).slot
    report = client.push(pid, slot)
    assert report.state == "done" and report.delivered == 9
    delivered = client.get_schedule(pid, from_slot=slot + 1, include_messages=True).messages
    assert delivered and all(type(m) is Message and m.tag("From-Process") == pid for m in delivered)


def test_a_cron_request_signed_as_an_item_speaks_as_its_signer(client: NodeClient, rsa: RsaPssSigner) -> None:
    # Cron requests are messages verified by verify_message: an item works, and its task's creator (the
    # Cron-From of its ticks) is the item's signer.
    process = spawn(client, rsa)
    pid = encode_id(process.id)
    request = ans104.from_message(
        build_request(ED, "Once", pid, delay="1-seconds", tags=[("Action", "Tick")]), rsa
    )
    reply = client.cron.Once(cron_pb2.OnceRequest(request=types_pb2.Message(ans104=request.raw)), timeout=30)
    task = cron_task_from_pb(reply.task)
    assert task.creator == rsa.address
    forged = request.raw[:-1] + bytes([request.raw[-1] ^ 1])
    with pytest.raises(grpc.RpcError) as caught:
        client.cron.Once(cron_pb2.OnceRequest(request=types_pb2.Message(ans104=forged)), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
