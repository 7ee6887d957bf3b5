"""The standard AOS blueprints (equivalent programs in blueprints/, see its README) load by Eval of their
source into processes of the built-in runtime, through a real node over gRPC, and their flows work end
to end: token transfers with Debit-/Credit-Notice delivered across processes by push, the chatroom's
broadcast, staking with its unstake delay in blocks, and voting with its deadline in blocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aonode.client import NodeClient, build_message, build_process
from aonode.crypto import Ed25519Signer, Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.model import Result
from tests.conftest import ServerThread, make_config, plain

BLUEPRINTS = Path(__file__).parent / "blueprints"
OWNER = Ed25519Signer.from_private_bytes(b"B" * 32)
ALICE = Ed25519Signer.from_private_bytes(b"A" * 32)
BOB = Ed25519Signer.from_private_bytes(b"b" * 32)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeClient]:
    node = ServerThread(make_config(tmp_path_factory.mktemp("blueprints") / "node")).start()
    try:
        with NodeClient(node.address, timeout=120) as c:
            yield c
    finally:
        node.stop()


def spawn(client: NodeClient, name: str = "aos") -> str:
    process = build_process(
        OWNER,
        module=encode_id(runtime_module().id),
        scheduler=client.info().address,
        device="lua@5.3a",
        tags=[("Authority", client.info().address), ("Name", name)],
    )
    client.schedule(process)
    return encode_id(process.id)


def send(
    client: NodeClient, pid: str, action: str, data: str = "", signer: Signer = OWNER, **tags: str
) -> tuple[int, Result]:
    message = build_message(signer, pid, action=action, data=data.encode(), tags=list(tags.items()))
    slot = client.schedule(message).slot
    return slot, client.compute(pid, slot).result


def ok(client: NodeClient, pid: str, code: str) -> str:
    _, r = send(client, pid, "Eval", code)
    assert not r.error, plain(r.error)
    return plain(r.output.data)


def load(client: NodeClient, pid: str, blueprint: str) -> None:
    source = (BLUEPRINTS / f"{blueprint}.lua").read_text()
    ok(client, pid, source)


def tags_of(r: Result, i: int) -> dict[str, str]:
    return {t.name: t.value for t in r.messages[i].tags}


def test_token_transfers_and_notices_across_processes(client: NodeClient) -> None:
    token, wallet = spawn(client, "token"), spawn(client, "wallet")
    load(client, token, "token")
    supply = str(10000 * 10**12)
    assert json.loads(ok(client, token, "return json.encode(Balances)")) == {token: supply}
    ok(
        client,
        wallet,
        "Handlers.add('credit', 'Credit-Notice', function(msg) Credited = msg.Quantity; "
        "CreditFrom = msg.From; CreditSender = msg.Sender end) "
        "Handlers.add('debit', 'Debit-Notice', function(msg) Debited = msg.Quantity end)",
    )
    # The token process holds the supply: it transfers to the wallet process by sending to itself.
    send(
        client,
        token,
        "Eval",
        f"Send({{Target = ao.id, Action = 'Transfer', Recipient = '{wallet}', Quantity = '250', "
        "['X-Note'] = 'hello'})",
    )
    report = client.push(token, _last_slot(client, token))
    assert report.state == "done"
    assert ok(client, wallet, "return Credited .. ' ' .. CreditSender") == f"250 {token}"
    assert ok(client, wallet, "return CreditFrom") == token
    balances = json.loads(ok(client, token, "return json.encode(Balances)"))
    assert balances == {token: str(10000 * 10**12 - 250), wallet: "250"}
    # The wallet sends some back to a person; the token's Debit-Notice reaches the wallet through push.
    send(
        client,
        wallet,
        "Eval",
        f"Send({{Target = '{token}', Action = 'Transfer', Recipient = '{ALICE.address}', Quantity = '40'}})",
    )
    assert client.push(wallet, _last_slot(client, wallet)).state == "done"
    assert ok(client, wallet, "return Debited") == "40"
    balances = json.loads(ok(client, token, "return json.encode(Balances)"))
    assert balances[wallet] == "210" and balances[ALICE.address] == "40"


def _last_slot(client: NodeClient, pid: str) -> int:
    return client.get_slot(pid).current_slot


def test_token_direct_use(client: NodeClient) -> None:
    token = spawn(client, "token")
    load(client, token, "token")
    ok(client, token, f"Balances['{ALICE.address}'] = '1000'")
    # A transfer from a person: notices to both; X- tags forwarded.
    _, r = send(
        client, token, "Transfer", signer=ALICE, Recipient=BOB.address, Quantity="300", **{"X-Id": "7"}
    )
    assert [tags_of(r, i)["Action"] for i in range(2)] == ["Debit-Notice", "Credit-Notice"]
    assert r.messages[0].target == ALICE.address and r.messages[1].target == BOB.address
    assert tags_of(r, 0)["X-Id"] == "7" and tags_of(r, 1)["Quantity"] == "300"
    _, r = send(client, token, "Transfer", signer=BOB, Recipient=ALICE.address, Quantity="301")
    assert tags_of(r, 0)["Action"] == "Transfer-Error" and tags_of(r, 0)["Error"] == "Insufficient Balance!"
    _, r = send(client, token, "Balance", signer=BOB)
    assert r.messages[0].data == b"300"
    _, r = send(client, token, "Mint", signer=ALICE, Quantity="5")
    assert tags_of(r, 0)["Action"] == "Mint-Error"
    _, r = send(client, token, "Total-Supply", signer=ALICE)
    assert r.messages[0].data == str(10000 * 10**12).encode()
    _, r = send(client, token, "Burn", signer=BOB, Quantity="100")
    assert "Successfully burned" in plain(r.messages[0].data.decode())
    _, r = send(client, token, "Transfer", signer=ALICE, Recipient=BOB.address, Quantity="0")
    assert "Quantity must be greater than 0" in plain(r.error)
    # big quantities: beyond 2^63
    big = str(10**30)
    ok(client, token, f"Balances['{ALICE.address}'] = '{big}'")
    send(client, token, "Transfer", signer=ALICE, Recipient=BOB.address, Quantity=str(10**29))
    balances = json.loads(ok(client, token, "return json.encode(Balances)"))
    assert balances[ALICE.address] == str(10**30 - 10**29) and balances[BOB.address] == str(200 + 10**29)
    # Loading it again keeps the state.
    load(client, token, "token")
    assert json.loads(ok(client, token, "return json.encode(Balances)")) == balances


def test_chatroom_broadcasts_to_registered_members(client: NodeClient) -> None:
    room = spawn(client, "room")
    load(client, room, "chatroom")
    for who in (ALICE, BOB):
        _, r = send(client, room, "Register", signer=who)
        assert r.messages[0].data == b"registered" and r.messages[0].target == who.address
    _, r = send(client, room, "Broadcast", "hello all", signer=ALICE)
    targets = [m.target for m in r.messages if m.data == b"hello all"]
    assert targets == [ALICE.address, BOB.address]
    assert r.messages[-1].data == b"Broadcasted."


def test_staking_with_unstake_delay_in_blocks(client: NodeClient) -> None:
    pid = spawn(client, "staking")
    load(client, pid, "token")
    load(client, pid, "staking")
    ok(client, pid, f"Balances['{ALICE.address}'] = '100'")
    _, r = send(client, pid, "Stake", signer=ALICE, Quantity="60")
    assert not r.error and "Successfully Staked 60" in plain(r.output.data)
    stakers = json.loads(ok(client, pid, "return json.encode(Stakers)"))
    assert stakers[ALICE.address]["amount"] == "60" and stakers[ALICE.address]["unstake_at"] > 0
    _, r = send(client, pid, "Stakers", signer=BOB)
    assert json.loads(r.messages[0].data)[ALICE.address]["amount"] == "60"
    # Unstaking waits UnstakeDelay blocks: not released by the next message.
    send(client, pid, "Unstake", signer=ALICE, Quantity="20")
    assert ok(client, pid, f"return Balances['{ALICE.address}']") == "40"
    # Once the release height is reached (made due here), any message releases it.
    ok(client, pid, f"Unstaking['{ALICE.address}'].release_at = 0")
    send(client, pid, "Anything", signer=BOB)
    assert ok(client, pid, f"return Balances['{ALICE.address}']") == "60"


def test_voting_settles_at_the_deadline_block(client: NodeClient) -> None:
    pid = spawn(client, "voting")
    load(client, pid, "voting")
    ok(
        client,
        pid,
        f"Stakers = {{['{ALICE.address}'] = {{amount = 10}}, ['{BOB.address}'] = {{amount = 3}}}}",
    )
    ok(client, pid, "Handlers.prepend('h', 'Height', function(msg) print(msg['Block-Height']) end)")
    send(client, pid, "Vote", signer=ALICE, Target="proposal", Side="yay", Deadline="0")
    send(client, pid, "Vote", signer=BOB, Target="later", Side="nay", Deadline="1000000")
    # The next message reaches the final handler: the due vote is settled, the other kept.
    _, r = send(client, pid, "Anything", signer=BOB)
    assert "Handle Vote" in plain(r.output.data)
    assert json.loads(ok(client, pid, "return json.encode(Utils.keys(Votes))")) == ["later"]
    _, r = send(client, pid, "Height", signer=BOB)
    assert int(plain(r.output.data)) > 0  # the scheduler's default block height advances with time
