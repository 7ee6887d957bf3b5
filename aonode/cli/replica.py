"""`aonode replica`: the node's replicas of other nodes' processes (docs/replication.md).

`add --from HOST:PORT (--process P ... | --all)` and `remove REPLICA` are operator actions: they are
signed with the wallet (`--wallet`; it must be the node's own wallet, DATA/node-wallet.json, or an address
in `[replication] operators`) and carry the current time (`Issued-At`), so a copied request cannot be
replayed later. `list` prints one line per replica; `status [P]` one line per followed process: stored and
leader slot, lag in slots and ms, slots verified, result digests agreed/diverged, the scheduler whose
signatures count now (after a hand-off, the new one), and the last error.
`--json` prints the replicas as the node answers them.

`promote P --wallet OWNER [--leader HOST:PORT]` is the hand-off (docs/replication.md): it reads the node's
address, its last slot of P and the records it holds, signs a scheduler record with the owner's wallet
(Scheduler = the node, From-Slot = its last slot + 1, Nonce = now in ms or above the last), sends it to
the node (which then schedules P), then once to the old leader (the node keeps sending it until it
answers), and reports whether the old leader had assigned slots the new schedule lacks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from aonode.cli.common import (
    IdCommand,
    emit,
    expand,
    fail,
    json_option,
    node_option,
    report_errors,
    wallet_option,
)
from aonode.client import ClientError, NodeClient
from aonode.crypto import sign_message
from aonode.model import Message, Tag
from aonode.replication.handoff import build_record
from aonode.rpc.convert import message_to_pb
from aonode.v1 import replication_pb2 as pb
from aonode.wallet import load_wallet


def _request(wallet_path: Path, action: str, tags: list[tuple[str, str]]) -> Message:
    signer = load_wallet(expand(wallet_path))
    all_tags = [Tag("Action", action), Tag("Issued-At", str(int(time.time() * 1000)))]
    all_tags += [Tag(k, v) for k, v in tags]
    return sign_message(Message(tags=tuple(all_tags)), signer)


def _call(node: str, method: str, request: Any) -> Any:
    with NodeClient(node) as client:
        return client._unary(getattr(client.replication, method), request)


def replica_json(r: pb.Replica) -> dict[str, Any]:
    return {
        "id": r.id,
        "leader": r.leader,
        "processes": list(r.processes),
        "all": r.all,
        "state": r.state,
        "last_error": r.last_error,
        "origin": r.origin,
        "status": [
            {
                "process": p.process,
                "scheduler": p.scheduler,
                "stored_slot": p.stored_slot,
                "leader_slot": p.leader_slot,
                "lag_slots": max(0, p.leader_slot - p.stored_slot),
                "lag_ms": p.lag_ms,
                "verified": p.verified,
                "agreed": p.agreed,
                "diverged": p.diverged,
                "compared_slot": p.compared_slot,
                "last_divergence": p.last_divergence,
            }
            for p in r.process_status
        ],
        "equivocations": [
            {"process": e.process, "slot": e.slot, "first": e.first.hex(), "second": e.second.hex()}
            for e in r.equivocations
        ],
    }


def replica_line(r: pb.Replica) -> str:
    what = "all processes" if r.all else f"{len(r.processes)} process(es)"
    line = f"{r.id} from {r.leader} {what} {r.state} ({r.origin})"
    if r.last_error:
        line += f": {r.last_error}"
    if r.equivocations:
        line += f" [{len(r.equivocations)} equivocation(s)]"
    return line


def status_line(r: pb.Replica, p: pb.ReplicaProcess) -> str:
    lag = max(0, p.leader_slot - p.stored_slot)
    line = (
        f"{p.process} slot {p.stored_slot}/{p.leader_slot} lag {lag} slots {p.lag_ms} ms "
        f"verified {p.verified} agreed {p.agreed} diverged {p.diverged} [{r.state}]"
    )
    if p.scheduler:
        line += f" scheduler {p.scheduler}"
    if p.last_divergence:
        line += f" last divergence: {p.last_divergence}"
    if r.last_error:
        line += f" error: {r.last_error}"
    return line


@click.group()
def replica() -> None:
    """Replicas of other nodes' processes: verified, stored, recomputed and compared (read replicas)."""


@replica.command()
@click.option("--from", "leader", required=True, help="The leader node, HOST:PORT.")
@click.option("--process", "processes", multiple=True, help="A process to follow (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Follow every process the leader schedules.")
@click.option(
    "--recompute/--no-recompute", default=True, show_default=True, help="Compute here and compare results."
)
@node_option
@wallet_option
@json_option
@report_errors
def add(
    leader: str,
    processes: tuple[str, ...],
    everything: bool,
    recompute: bool,
    node: str,
    wallet_path: Path,
    as_json: bool,
) -> None:
    """Follow --process P ... (or --all) of the node at --from (an operator action: the node's wallet)."""
    if not processes and not everything:
        fail("give --process P (repeatable) or --all", code=2)
    tags = [("Leader", leader), *(("Process", p) for p in processes)]
    if everything:
        tags.append(("All", "true"))
    if not recompute:
        tags.append(("Recompute", "false"))
    request = _request(wallet_path, "Add-Replica", tags)
    r = _call(node, "AddReplica", pb.AddReplicaRequest(authorization=message_to_pb(request))).replica
    emit(replica_json(r), as_json, lambda: f"added {replica_line(r)}")


@replica.command(cls=IdCommand)
@click.argument("replica_id")
@node_option
@wallet_option
@json_option
@report_errors
def remove(replica_id: str, node: str, wallet_path: Path, as_json: bool) -> None:
    """Stop following and forget REPLICA (its stored schedules stay, read-only)."""
    request = _request(wallet_path, "Remove-Replica", [("Replica", replica_id)])
    r = _call(node, "RemoveReplica", pb.RemoveReplicaRequest(authorization=message_to_pb(request))).replica
    emit(replica_json(r), as_json, lambda: f"removed {replica_line(r)}")


@replica.command(name="list")
@node_option
@json_option
@report_errors
def list_(node: str, as_json: bool) -> None:
    """List the node's replicas."""
    replicas = _call(node, "ListReplicas", pb.ListReplicasRequest()).replicas
    emit(
        {"replicas": [replica_json(r) for r in replicas]},
        as_json,
        lambda: "\n".join(replica_line(r) for r in replicas) or "no replicas",
    )


@replica.command(cls=IdCommand)
@click.argument("process", required=False, default="")
@node_option
@json_option
@report_errors
def status(process: str, node: str, as_json: bool) -> None:
    """Per followed process (or only PROCESS): slots, lag, verified, agreed/diverged, last error."""
    replicas = _call(node, "ListReplicas", pb.ListReplicasRequest(process=process)).replicas
    lines = [
        status_line(r, p) for r in replicas for p in r.process_status if not process or p.process == process
    ]
    emit(
        {"replicas": [replica_json(r) for r in replicas]}, as_json, lambda: "\n".join(lines) or "no replicas"
    )


@replica.command(cls=IdCommand)
@click.argument("process")
@click.option(
    "--leader",
    default="",
    help="The old leader, HOST:PORT, told to stop scheduling (default: the leader the replica follows).",
)
@click.option("--url", default="", help="Where clients reach the new scheduler (default: --node).")
@click.option("--nonce", type=int, default=0, help="The record's nonce (default: now in ms, above the last).")
@click.option(
    "--wait",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds to let the replica catch up with a reachable old leader first.",
)
@node_option
@wallet_option
@json_option
@report_errors
def promote(
    process: str,
    leader: str,
    url: str,
    nonce: int,
    wait: float,
    node: str,
    wallet_path: Path,
    as_json: bool,
) -> None:
    """Hand PROCESS over to the node (--node), which holds it as a replica: it stops following it and
    schedules it from the slot after the last one it holds, continuing the same chain with its own key.
    --wallet must be the process's owner (or an Authority it names): it signs the scheduler record."""
    owner = load_wallet(expand(wallet_path))
    with NodeClient(node) as client:
        address = client.info().address
        held, _ = client.scheduler_records(process)
        last = max((_nonce(r) for r in held), default=0)
        if not leader:
            replicas = client._unary(
                client.replication.ListReplicas, pb.ListReplicasRequest(process=process)
            ).replicas
            leader = replicas[0].leader if replicas else ""
        if leader and wait > 0:
            _catch_up(client, process, _slot_of(leader, process), wait)
        for attempt in range(3):
            # The slot after the last one the replica holds; if it stores more of a live old leader's
            # slots meanwhile, it refuses the record ("holds slots"), and a new one starts after them.
            head = int(client.get_slot(process).current_slot)
            nonce = max(nonce, last + 1, int(time.time() * 1000))
            record = build_record(owner, process, address, nonce, head + 1, url or node)
            try:
                reply = client.put_scheduler_record(record)
                break
            except ClientError as exc:
                if attempt == 2 or exc.code != "FAILED_PRECONDITION" or "holds slots" not in exc.details:
                    raise
                last = nonce
    old: dict[str, Any] = {"node": leader, "reached": False}
    if leader:
        try:
            with NodeClient(leader, timeout=10, retry_attempts=1) as to_leader:
                r = to_leader.put_scheduler_record(record)
            old.update(reached=True, role=r.role, head_slot=r.head_slot, orphaned=r.orphaned)
        except ClientError as exc:
            old["error"] = f"{exc.code}: {exc.details}"
    document = {
        "process": process,
        "scheduler": address,
        "from_slot": head + 1,
        "nonce": nonce,
        "role": reply.role,
        "old_leader": old,
    }
    emit(document, as_json, lambda: _promote_text(document))


def _slot_of(node: str, process: str) -> int:
    """The node's last slot of `process`, -1 when it cannot be reached or does not hold it."""
    try:
        with NodeClient(node, timeout=5, retry_attempts=1) as client:
            return int(client.get_slot(process).current_slot)
    except ClientError:
        return -1


def _catch_up(client: NodeClient, process: str, target: int, wait: float) -> None:
    """Give the replica up to `wait` seconds to hold `target` (fewer of a live leader's slots orphaned)."""
    deadline = time.monotonic() + wait
    while target >= 0 and time.monotonic() < deadline:
        if int(client.get_slot(process).current_slot) >= target:
            return
        time.sleep(0.2)


def _nonce(record: Message) -> int:
    value = record.tag("Nonce") or ""
    return int(value) if value.isascii() and value.isdigit() else 0


def _promote_text(d: dict[str, Any]) -> str:
    line = (
        f"promoted: {d['scheduler']} schedules {d['process']} from slot {d['from_slot']} (nonce {d['nonce']})"
    )
    old = d["old_leader"]
    if not old["node"]:
        return line + "; no old leader known to tell"
    if not old["reached"]:
        return (
            line + f"; old leader {old['node']} not reached ({old.get('error', '')}): the new scheduler "
            "keeps sending it the record"
        )
    line += f"; old leader {old['node']} now redirects (its last slot {old['head_slot']})"
    if old["orphaned"]:
        line += (
            f"; WARNING: {old['orphaned']} slot(s) it assigned from slot {d['from_slot']} on are not in "
            "the new schedule: the new scheduler assigns their messages again (new slots) when it "
            "delivers the record to it"
        )
    return line
