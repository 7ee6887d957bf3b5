"""Hostile: no request makes a process see a `From` (or `From-Process`) whose key the requester does not
hold, whatever service it goes through: cron (its From-Process / Cron-From attack, unsigned and forged
requests, Stop by another wallet, replays, limits), Schedule, ScheduleStream, Dryrun and forwarding; push
still delivers `From-Process` as before.

One real node over gRPC for the module (cron limits lowered so the limit cases are cheap); each case
spawns its own AOS process whose `Authority` is the node (as `aonode spawn` makes it), so that a relayed
message claiming the owner as `From` would be trusted: the worst case.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from aonode.client import ClientError, NodeClient, build_message, build_process
from aonode.cron import build_request
from aonode.crypto import Ed25519Signer, Signer, sign_location
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.model import Location, Message, Tag
from aonode.rpc.convert import location_to_pb, message_to_pb
from aonode.v1 import cron_pb2, scheduler_pb2
from tests.conftest import ServerThread, make_config, wait_for
from tests.hostile.support import ATTACKER, OWNER, assert_node_healthy, assert_process_computes, spawn_aos


def NOW() -> int:
    """Now in ms: location records must be valid now (an expired one is never used)."""
    return int(time.time() * 1000)


CRON = {"min_interval_ms": 50, "backoff_base_ms": 100, "backoff_max_ms": 400, "max_tasks_per_creator": 3}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = ServerThread(make_config(tmp_path_factory.mktemp("impersonation"), extra={"cron": CRON})).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(node: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(node.address) as c:
        yield c


def spawn_trusting(client: NodeClient) -> str:
    """An AOS process of OWNER that trusts the node's relayed messages (Authority = the node)."""
    return spawn_aos(client, OWNER, tags=[("Authority", client.info().address)])


def evaluate(client: NodeClient, pid: str, code: str) -> str:
    """OWNER's Eval of `code` on `pid`: its output's data."""
    slot = client.schedule(build_message(OWNER, pid, action="Eval", data=code.encode())).slot
    result = client.compute(pid, slot).result
    assert not result.error, result.error
    return str(result.output.data)


def tick_of(client: NodeClient, pid: str, task: str) -> tuple[int, Message]:
    """The slot and message of `task`'s first tick on `pid` (waits for it)."""
    found: list[tuple[int, Message]] = []

    def look() -> bool:
        page = client.get_schedule(pid, include_messages=True)
        for a, m in zip(page.assignments, page.messages, strict=True):
            if m.tag("Cron-Task") == task:
                found.append((a.slot, m))
                return True
        return False

    wait_for(look)
    return found[0]


def healthy(node: ServerThread, client: NodeClient, pid: str) -> None:
    assert_node_healthy(node.address)
    assert_process_computes(client, pid)


def expect(code: str, call: object, *args: object, **kwargs: object) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert caught.value.code == code, caught.value
    return caught.value


def raw_code(call: grpc.UnaryUnaryMultiCallable, request: object) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=10)
    return caught.value.code()  # type: ignore[no-any-return]


# -- cron: the attack of issue 10 and its variants ---------------------------------------------------------


@pytest.mark.parametrize("claim", ["From-Process", "from-process", "Cron-From", "CRON-FROM"])
def test_cron_tick_cannot_claim_the_owner_as_from(node: ServerThread, client: NodeClient, claim: str) -> None:
    pid = spawn_trusting(client)
    task = client.cron_once(
        ATTACKER, pid, at=1, tags=[("Action", "Eval"), (claim, OWNER.address)], data=b"Pwned = 'yes'"
    )
    assert task.creator == ATTACKER.address
    slot, tick = tick_of(client, pid, task.task)
    assert tick.tag("From-Process") is None
    assert tick.tag_values("Cron-From") == [ATTACKER.address]  # the creator, not the claim
    result = client.compute(pid, slot).result
    assert "Pwned" not in str(result.output)  # not evaluated: the attacker is not the owner
    assert evaluate(client, pid, "return tostring(Pwned)") == "nil"
    healthy(node, client, pid)


def test_owner_created_cron_eval_runs_as_the_owner(node: ServerThread, client: NodeClient) -> None:
    # The control: From = the creator, so the owner's own cron Eval runs (and proves what From is).
    pid = spawn_trusting(client)
    task = client.cron_once(OWNER, pid, at=1, tags=[("Action", "Eval")], data=b"Owned = 'by cron'")
    tick_of(client, pid, task.task)
    assert evaluate(client, pid, "return Owned") == "by cron"
    healthy(node, client, pid)


def test_process_cron_tags_cannot_claim_a_sender(node: ServerThread, client: NodeClient) -> None:
    # A Process's own cron copies its Cron-Tag-<Name> tags onto its ticks: not the identity claims.
    tags = [
        ("Authority", client.info().address),
        ("Cron-Interval", "100-milliseconds"),
        ("Cron-Tag-Action", "Eval"),
        ("Cron-Tag-From-Process", OWNER.address),
        ("Cron-Tag-Cron-From", OWNER.address),
    ]
    pid = spawn_aos(client, ATTACKER, tags=tags)
    wait_for(lambda: client.get_slot(pid).current_slot >= 1)
    page = client.get_schedule(pid, include_messages=True)
    ticks = [m for m in page.messages if m.tag("Cron") == "true"]
    assert ticks and all(m.tag("From-Process") is None and m.tag("Cron-From") is None for m in ticks)
    assert all(m.tag("Action") == "Eval" for m in ticks)
    [task] = client.cron_list(process=pid)
    expect("FAILED_PRECONDITION", client.cron_stop, ATTACKER, task.task)
    assert_node_healthy(node.address)
    assert_process_computes(client, pid, ATTACKER)


def test_unsigned_cron_request_is_refused(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_trusting(client)
    unsigned = Message(target=pid, tags=(Tag("Cron-Op", "Once"), Tag("Cron-At", "1"), Tag("Action", "Eval")))
    request = cron_pb2.OnceRequest(request=message_to_pb(unsigned))
    assert raw_code(client.cron.Once, request) == grpc.StatusCode.INVALID_ARGUMENT
    # The pre-signing request shape (no request at all) is refused the same way.
    assert raw_code(client.cron.Every, cron_pb2.EveryRequest()) == grpc.StatusCode.INVALID_ARGUMENT
    assert client.cron_list(process=pid) == []
    healthy(node, client, pid)


def test_tampered_cron_request_is_refused(node: ServerThread, client: NodeClient) -> None:
    # Signed by OWNER, then its data changed: the signature no longer verifies.
    pid = spawn_trusting(client)
    signed = build_request(OWNER, "Once", pid, tags=[("Action", "Eval")], data=b"x = 1", at=1)
    forged = Message(signed.target, signed.anchor, signed.tags, b"Pwned = 'yes'", signed.signature)
    request = cron_pb2.OnceRequest(request=message_to_pb(forged))
    assert raw_code(client.cron.Once, request) == grpc.StatusCode.INVALID_ARGUMENT
    assert client.cron_list(process=pid) == []
    healthy(node, client, pid)


def test_cron_request_for_the_other_rpc_is_refused(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_trusting(client)
    every = build_request(OWNER, "Every", pid, interval="1-hour")
    request = cron_pb2.OnceRequest(request=message_to_pb(every))
    assert raw_code(client.cron.Once, request) == grpc.StatusCode.INVALID_ARGUMENT
    healthy(node, client, pid)


def test_stop_by_another_wallet_is_denied(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_trusting(client)
    task = client.cron_every(OWNER, pid, "1-hour", tags=[("Action", "Tick")])
    expect("PERMISSION_DENIED", client.cron_stop, ATTACKER, task.task)
    unsigned = Message(target=task.task, tags=(Tag("Cron-Op", "Stop"),))
    stop = cron_pb2.StopRequest(request=message_to_pb(unsigned))
    assert raw_code(client.cron.Stop, stop) == grpc.StatusCode.INVALID_ARGUMENT
    assert [t.task for t in client.cron_list(process=pid)] == [task.task]  # still there
    assert client.cron_stop(OWNER, task.task).task == task.task
    healthy(node, client, pid)


def test_replayed_requests_make_no_second_task(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_trusting(client)
    every = build_request(OWNER, "Every", pid, interval="1-hour", tags=[("Action", "Tick")])
    first = client.cron.Every(cron_pb2.EveryRequest(request=message_to_pb(every)), timeout=10)
    again = client.cron.Every(cron_pb2.EveryRequest(request=message_to_pb(every)), timeout=10)
    assert first.task.task == again.task.task == encode_id(every.id)
    assert len(client.cron_list(process=pid)) == 1
    client.cron_stop(OWNER, first.task.task)
    # Once its task has ended, the request cannot bring it back.
    replay = cron_pb2.EveryRequest(request=message_to_pb(every))
    assert raw_code(client.cron.Every, replay) == grpc.StatusCode.ALREADY_EXISTS
    once = build_request(OWNER, "Once", pid, at=1, tags=[("Action", "Tick")])
    task = client.cron.Once(cron_pb2.OnceRequest(request=message_to_pb(once)), timeout=10).task
    tick_of(client, pid, task.task)
    wait_for(lambda: client.cron_list(process=pid) == [])
    assert raw_code(client.cron.Once, cron_pb2.OnceRequest(request=message_to_pb(once))) == (
        grpc.StatusCode.ALREADY_EXISTS
    )
    healthy(node, client, pid)


def test_a_creator_has_a_task_limit(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_trusting(client)
    greedy = Ed25519Signer.generate()
    tasks = [client.cron_every(greedy, pid, "1-hour") for _ in range(3)]
    expect("RESOURCE_EXHAUSTED", client.cron_every, greedy, pid, "1-hour")
    client.cron_every(OWNER, pid, "1-hour")  # others are not locked out
    for t in tasks:
        client.cron_stop(greedy, t.task)
    client.cron_every(greedy, pid, "1-hour")  # room again
    for t in client.cron_list(process=pid):
        client.cron_stop(greedy if t.creator == greedy.address else OWNER, t.task)
    healthy(node, client, pid)


def test_list_pages_and_refuses_a_forged_token(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_trusting(client)
    creators: list[Signer] = [Ed25519Signer.generate() for _ in range(3)]
    made = {client.cron_every(s, pid, "1-hour", data=b"x" * 1000).task for s in creators for _ in range(2)}
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        tasks, token = client.cron_list_page(page_size=4, page_token=token, process=pid)
        assert len(tasks) <= 4
        seen += [t.task for t in tasks]
        pages += 1
        if not token:
            break
    assert pages == 2 and sorted(seen) == sorted(made) and len(seen) == 6
    only = client.cron_list(creator=creators[0].address)
    assert len(only) == 2 and {t.creator for t in only} == {creators[0].address}
    for bad in ["x", "١٢٣." + pid, "9" * 5000 + "." + pid, "12.not-an-id"]:
        expect("INVALID_ARGUMENT", client.cron_list_page, page_token=bad)
    for s in creators:
        for t in client.cron_list(creator=s.address):
            client.cron_stop(s, t.task)
    healthy(node, client, pid)


# -- the other ways in: Schedule, ScheduleStream, Dryrun ---------------------------------------------------


@pytest.mark.parametrize("claim", ["From-Process", "Cron-From", "cron-from"])
def test_schedule_cannot_claim_a_sender(node: ServerThread, client: NodeClient, claim: str) -> None:
    pid = spawn_trusting(client)
    forged = build_message(ATTACKER, pid, action="Eval", data=b"Pwned = 'yes'", tags=[(claim, OWNER.address)])
    error = expect("PERMISSION_DENIED", client.schedule, forged)
    assert claim.lower() in error.details.lower()
    assert evaluate(client, pid, "return tostring(Pwned)") == "nil"
    healthy(node, client, pid)


def test_schedule_stream_cannot_claim_a_sender(node: ServerThread, client: NodeClient) -> None:
    pid = spawn_trusting(client)
    ok = build_message(ATTACKER, pid, action="Ping")
    forged = [
        build_message(ATTACKER, pid, action="Eval", data=b"Pwned = 'yes'", tags=[(claim, OWNER.address)])
        for claim in ("Cron-From", "From-Process")
    ]
    outcomes = list(client.schedule_stream([forged[0], ok, forged[1]]))
    assert isinstance(outcomes[1], type(client.schedule(ok)))  # the honest one went through
    for outcome in (outcomes[0], outcomes[2]):
        assert isinstance(outcome, ClientError) and outcome.code == "PERMISSION_DENIED", outcome
    assert evaluate(client, pid, "return tostring(Pwned)") == "nil"
    healthy(node, client, pid)


@pytest.mark.parametrize("claim", ["From-Process", "Cron-From"])
@pytest.mark.parametrize("signed", [True, False])
def test_dryrun_cannot_claim_a_sender(
    node: ServerThread, client: NodeClient, claim: str, signed: bool
) -> None:
    pid = spawn_trusting(client)
    evaluate(client, pid, "Handlers.add('who', 'Who', function(m) print('from ' .. tostring(m.From)) end)")
    message = build_message(ATTACKER, pid, action="Who", tags=[(claim, OWNER.address)])
    if not signed:
        message = message.with_signature(None)
    expect("PERMISSION_DENIED", client.dryrun, message)
    honest = client.dryrun(build_message(ATTACKER, pid, action="Who"))
    assert f"from {ATTACKER.address}" in str(honest.output)
    healthy(node, client, pid)


# -- push still sets From-Process --------------------------------------------------------------------------


def test_push_still_delivers_from_process(node: ServerThread, client: NodeClient) -> None:
    sender, receiver = spawn_trusting(client), spawn_trusting(client)
    evaluate(client, receiver, "Handlers.add('hi', 'Hi', function(m) LastFrom = m.From end)")
    code = f"Send({{ Target = '{receiver}', Action = 'Hi' }})"
    slot = client.schedule(build_message(OWNER, sender, action="Eval", data=code.encode())).slot
    client.push(sender, slot)
    assert evaluate(client, receiver, "return LastFrom") == sender
    healthy(node, client, receiver)


@pytest.mark.parametrize("claim", ["From-Process", "Cron-From"])
def test_forwarding_cannot_claim_a_sender(tmp_path: Path, claim: str) -> None:
    # A node that forwards to the process's scheduler checks the claim before forwarding anything.
    home = ServerThread(make_config(tmp_path / "home")).start()
    front = ServerThread(make_config(tmp_path / "front", follow_redirects=True)).start()
    try:
        with NodeClient(home.address) as to_home, NodeClient(front.address) as to_front:
            record = sign_location(
                Location("", home.address, nonce=1, ttl_ms=600_000, timestamp=NOW()),
                home.node.signer,
            )
            to_front.scheduler.RegisterLocation(
                scheduler_pb2.RegisterLocationRequest(location=location_to_pb(record))
            )
            process = build_process(
                ATTACKER,
                module=encode_id(runtime_module().id),
                scheduler=home.node.address,
                device="lua@5.3a",
                tags=[(claim, OWNER.address)],
            )
            expect("PERMISSION_DENIED", to_front.schedule, process)
            expect("NOT_FOUND", to_home.get_slot, encode_id(process.id))  # nothing reached home
            assert_node_healthy(front.address)
            assert_node_healthy(home.address)
            pid = spawn_aos(to_home, OWNER)
            assert_process_computes(to_home, pid)
    finally:
        front.stop()
        home.stop()
