"""The gateway's write routes and aoconnect-legacy reads with ANS-104 items built here (aonode.ans104):
POST schedule/push under a process, MU `POST /` (spawn, module, message), CU result/results/dry-run,
SU reads, GraphQL for modules, monitor."""

from __future__ import annotations

import json
from pathlib import Path

from aonode import ans104
from aonode.client import NodeClient, new_anchor
from aonode.crypto import Ed25519Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.model import Tag
from tests.conftest import ServerThread, make_config, plain, wait_for
from tests.gateway.conftest import Http

USER = Ed25519Signer.generate()
RUNTIME = encode_id(runtime_module().id)


def process_item(scheduler: str, *extra: tuple[str, str]) -> ans104.Ans104Message:
    tags = [("Data-Protocol", "ao"), ("Variant", "ao.TN.1"), ("Type", "Process"), ("Module", RUNTIME),
            ("Scheduler", scheduler), ("Authority", scheduler), *extra]  # fmt: skip
    return ans104.build(USER, anchor=new_anchor(), tags=[Tag(n, v) for n, v in tags], data=b"1984")


def message_item(pid: str, action: str, data: str = "") -> ans104.Ans104Message:
    tags = [Tag("Data-Protocol", "ao"), Tag("Type", "Message"), Tag("Action", action)]
    return ans104.build(USER, target=pid, anchor=new_anchor(), tags=tags, data=data)


def spawn(http: Http, scheduler: str) -> str:
    proc = process_item(scheduler)
    reply = http.post("/", proc.raw)
    assert reply.status == 200, reply.text
    assert reply.json()["id"] == encode_id(proc.id) and reply.json()["slot"] == 0
    return encode_id(proc.id)


def test_mu_spawn_message_and_cu_results(http: Http, grpc_client: NodeClient) -> None:
    pid = spawn(http, grpc_client.info().address)
    ids = []
    for code in ("X = 1", "X = X + 1", "return X * 10"):
        sent = message_item(pid, "Eval", code)
        reply = http.post("/", sent.raw)
        assert reply.status == 200 and reply.json()["id"] == encode_id(sent.id)
        ids.append(encode_id(sent.id))
    result = http.get(f"/result/{ids[2]}?process-id={pid}").json()
    assert plain(result["Output"]["data"]) == "20"
    assert set(result) >= {"Output", "Messages", "Spawns", "Assignments", "Error", "GasUsed"}
    asc = http.get(f"/results/{pid}?limit=2").json()["edges"]
    assert [e["cursor"] for e in asc] == ["0", "1"]
    after = http.get(f"/results/{pid}?from=1&limit=10").json()["edges"]
    assert [e["cursor"] for e in after] == ["2", "3"]
    desc = http.get(f"/results/{pid}?sort=DESC&limit=2").json()["edges"]
    assert [e["cursor"] for e in desc] == ["3", "2"]
    assert plain(desc[0]["node"]["Output"]["data"]) == "20"
    dry = {
        "Target": pid,
        "Owner": "nobody",
        "Tags": [{"name": "Action", "value": "Eval"}],
        "Data": "return 1",
    }
    dryrun = http.post(f"/dry-run?process-id={pid}", json.dumps(dry).encode(), "application/json").json()
    # Eval is the owner's only: a dry-run's claimed Owner proves nothing, so it is not the owner.
    assert plain(dryrun["Output"]["data"]) != "1" and grpc_client.get_slot(pid).current_slot == 3


def test_su_reads(http: Http, grpc_client: NodeClient) -> None:
    pid = spawn(http, grpc_client.info().address)
    sent = message_item(pid, "Eval", "return 7")
    assert http.post("/", sent.raw).status == 200
    page = http.get(f"/{pid}").json()
    assert [e["node"]["assignment"]["tags"][2] for e in page["edges"]] == [
        {"name": "Nonce", "value": "0"},
        {"name": "Nonce", "value": "1"},
    ]
    assert page["edges"][1]["node"]["message"]["id"] == encode_id(sent.id)
    assert page["edges"][1]["node"]["message"]["owner"]["address"] == str(USER.address)
    assert not page["page_info"]["has_next_page"]
    late = page["edges"][1]["node"]["assignment"]["tags"][5]["value"]  # Timestamp
    assert http.get(f"/{pid}?from={late}").json()["edges"] == []
    assert len(http.get(f"/{pid}?from-nonce=1&to-nonce=1").json()["edges"]) == 1
    raw = http.get(f"/{encode_id(sent.id)}~ans104@1.0")
    assert raw.status == 200 and raw.body == sent.raw and raw.headers["content-type"] == "application/ans104"
    assert http.get(f"/{RUNTIME}~ans104@1.0").status == 404  # not stored, and not an item
    one = http.get(f"/{encode_id(sent.id)}?process-id={pid}").json()
    assert one["message"]["data"] == "return 7"
    assert {"name": "Nonce", "value": "1"} in one["assignment"]["tags"]
    assert http.get("/").json()["Address"] == grpc_client.info().address
    assert http.get("/timestamp").status == 200


def test_hyperpath_post_schedule_and_push(http: Http, grpc_client: NodeClient) -> None:
    scheduler = grpc_client.info().address
    proc = process_item(scheduler)
    pid = encode_id(proc.id)
    spawned = http.post("/push", proc.raw, "application/ans104")
    assert spawned.status == 200 and spawned.headers["process"] == pid
    sent = message_item(pid, "Eval", "return 3 * 3")
    scheduled = http.post(f"/{pid}~process@1.0/schedule", sent.raw, "application/ans104")
    assert scheduled.status == 200 and scheduled.json()["slot"] == 1
    again = http.post(f"/{pid}~process@1.0/schedule", sent.raw, "application/ans104")
    assert again.json()["slot"] == 1  # idempotent: the slot it has
    pushed = http.post(f"/{pid}~process@1.0/push", message_item(pid, "Eval", "return 4").raw)
    assert pushed.status == 200 and pushed.json()["slot"] == 2 and pushed.json()["push"]
    computed = http.post(f"/{pid}~process@1.0/compute/results=2", b"")
    assert plain(computed.json()["raw"]["Output"]["data"]) == "4"
    by_id = http.get(f"/{pid}~process@1.0/compute/results={encode_id(sent.id)}").json()
    assert by_id["slot"] == 1 and plain(by_id["results"]["Output"]["data"]) == "9"
    via_scheduler = http.post("/~scheduler@1.0/schedule", message_item(pid, "Eval", "return 5").raw)
    assert via_scheduler.status == 200 and via_scheduler.json()["slot"] == 3
    dry = http.post(f"/{pid}~process@1.0/as=execution/compute&Action=Eval", message_item(pid, "x", "1").raw)
    assert dry.status == 200 and "raw" in dry.json()


def test_graphql_lists_modules_and_processes(http: Http, grpc_client: NodeClient) -> None:
    scheduler = grpc_client.info().address
    tags = [
        ("Data-Protocol", "ao"),
        ("Type", "Module"),
        ("Module-Format", "lua@5.3a"),
        ("Input-Encoding", "JSON-1"),
        ("Output-Encoding", "JSON-1"),
        ("Content-Type", "text/x-lua"),
    ]
    module = ans104.build(
        USER, tags=[Tag(n, v) for n, v in tags], data=b"function compute(base, req) return base end"
    )
    stored = http.post("/modules", module.raw)
    assert stored.status == 200 and stored.json()["id"] == encode_id(module.id)
    pid = spawn(http, scheduler)
    query = {
        "query": "query($ids: [ID!]!) { transactions(ids: $ids) "
        "{ edges { node { owner { address } tags { name value } } } } }",
        "variables": {"transactionIds": [RUNTIME, encode_id(module.id), pid, "A" * 43]},
    }
    edges = http.post("/graphql", json.dumps(query).encode(), "application/json").json()["data"][
        "transactions"
    ]["edges"]
    assert [e["node"]["id"] for e in edges] == [RUNTIME, encode_id(module.id), pid]
    runtime_tags = {t["name"]: t["value"] for t in edges[0]["node"]["tags"]}
    assert runtime_tags["Type"] == "Module" and runtime_tags["Input-Encoding"] == "JSON-1"
    assert edges[1]["node"]["owner"]["address"] == str(USER.address)
    inline = {"query": f'{{ transactions(ids: ["{pid}"]) {{ edges {{ node {{ id }} }} }} }}'}
    assert (
        len(
            http.post("/graphql", json.dumps(inline).encode(), "application/json").json()["data"][
                "transactions"
            ]["edges"]
        )
        == 1
    )


def test_monitor_keeps_a_process_computed(
    http_server: ServerThread, http: Http, grpc_client: NodeClient
) -> None:
    pid = spawn(http, grpc_client.info().address)
    monitor = message_item(pid, "Monitor").raw
    started = http.request("POST", f"/monitor/{pid}", monitor)
    assert started.status == 200, started.text
    task = started.json()["task"]
    assert http.request("POST", f"/monitor/{pid}", monitor).json()["task"] == task  # one task per process
    tasks = [t for t in http_server.node.cron.list_tasks() if t.process == pid]
    assert [t.path for t in tasks] == ["now"]
    stopped = http.request("DELETE", f"/monitor/{pid}", monitor)
    assert stopped.status == 200 and stopped.json()["stopped"] == [task]
    wait_for(lambda: not [t for t in http_server.node.cron.list_tasks() if t.process == pid])
    assert http.request("POST", f"/monitor/{'A' * 43}", monitor).status == 404
    assert http.request("POST", f"/monitor/{pid}", b"").status == 400
    stranger = ans104.build(
        Ed25519Signer.generate(), target=pid, anchor=new_anchor(), tags=[Tag("A", "b")]
    ).raw
    refused = http.request("POST", f"/monitor/{pid}", stranger)
    assert refused.status == 403 and not [t for t in http_server.node.cron.list_tasks() if t.process == pid]


def test_legacy_push_delivers_outboxes(tmp_path: Path) -> None:
    """With `[gateway] legacy_push`, `POST /` also pushes the slot, as ao's MU cranks: a process's Send
    reaches the other process without anyone calling push."""
    config = make_config(tmp_path / "n", http="127.0.0.1:0", extra={"gateway": {"legacy_push": True}})
    server = ServerThread(config).start()
    try:
        assert server.running is not None and server.running.http is not None
        http = Http(server.running.http.url)
        with NodeClient(server.address) as client:
            scheduler = client.info().address
            a, b = spawn(http, scheduler), spawn(http, scheduler)
            sent = http.post("/", message_item(a, "Eval", f'Send({{Target = "{b}", Action = "Hello"}})').raw)
            assert sent.status == 200 and sent.json()["push"]
            wait_for(lambda: client.get_slot(b).current_slot == 1, timeout=60)
            delivered = client.get_schedule(b, 1, 1, include_messages=True).messages[0]
            assert delivered.tag("From-Process") == a and delivered.tag("Action") == "Hello"
    finally:
        server.stop()
