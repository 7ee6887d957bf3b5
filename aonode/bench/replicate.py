"""`aonode bench replicate`: a follower catching up with a leader through Follow, verifying everything.

Two nodes run in their own processes on a temp dir (`LocalNode`). The leader holds `size` assignments of
one process (default 20,000, `--size`; the issue's 100,000 takes minutes on a 2-core machine), ~200-byte
Ed25519-signed messages. Figures, each the median of `runs` runs:
- `catchup` (slots/s): a fresh follower is told to replicate the process (`AddReplica`, signed by its
  node wallet, recompute off) and polled (GetSlot, every 20 ms) until its stored head is the leader's:
  Follow frames, every assignment's and message's signature and chain link verified, stored;
- `verify_floor` (slots/s): the same checks (`aonode.replication.check_frame`) over the same bytes (the
  frames read from the leader's Follow once, beforehand) in this process: no network, no store;
  ratio `catchup_vs_floor` (goal >= 0.7);
- `live_lag_p50` / `live_lag_p99` (ms): with the follower caught up, `live` messages are sent to the
  leader at 500 msg/s (open loop); for each, from the moment the leader's acknowledgement arrived here to
  the moment its slot arrived here on a SubscribeSchedule of the follower (i.e. after the follower
  committed it). The subscription's own delivery is included, so this is an upper bound (goal p99 <= 50).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc

from aonode.bench import Report
from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.crypto import Ed25519Signer, Signer, sign_message
from aonode.ids import decode_id, encode_id
from aonode.model import Message, Tag
from aonode.replication import Chain, check_frame
from aonode.rpc.convert import message_to_pb
from aonode.testing import LocalNode
from aonode.v1 import replication_pb2 as pb
from aonode.v1 import replication_pb2_grpc, scheduler_pb2, scheduler_pb2_grpc
from aonode.wallet import load_wallet

SIZE = 20_000
LIVE = 1_500
RATE = 500.0


def bench_replicate(runs: int, say: Callable[[str], None], size: int = SIZE) -> Report:
    report = Report("replicate")
    signer = Ed25519Signer.generate()
    with (
        tempfile.TemporaryDirectory(prefix="aonode-bench-") as tmp,
        LocalNode(Path(tmp) / "leader") as leader,
        NodeClient(leader.address, retry_attempts=1) as to_leader,
    ):
        module = to_leader.publish(build_module(signer, b"-- bench module\n", "text/x-lua"))
        process_msg = build_process(
            signer, module=module, scheduler=to_leader.info().address, device="lua@5.3a"
        )
        to_leader.schedule(process_msg)
        pid = encode_id(process_msg.id)
        say(f"filling the leader to {size:,} assignments")
        for _ in to_leader.schedule_stream(
            (build_message(signer, pid, data=b"replicate me") for _ in range(size - 1)), frame=200
        ):
            pass
        head = to_leader.get_slot(pid).current_slot
        frames = _frames(leader.address, pid, head)
        for run in range(runs):
            say(f"run {run + 1}/{runs}: verify floor")
            start = time.perf_counter()
            chain = Chain(decode_id(pid))
            for assignments, messages in frames:
                check_frame(chain, assignments, messages)
            report.add("verify_floor", (head + 1) / (time.perf_counter() - start), "slots/s")

            say(f"run {run + 1}/{runs}: catch-up of {head + 1:,} slots")
            with (
                LocalNode(Path(tmp) / f"follower{run}") as follower,
                NodeClient(follower.address) as to_follower,
            ):
                operator = load_wallet(follower.data / "node-wallet.json")
                start = time.perf_counter()
                _add(to_follower, operator, leader.address, pid)
                while _slot(to_follower, pid) < head:
                    time.sleep(0.02)
                report.add("catchup", (head + 1) / (time.perf_counter() - start), "slots/s")

                say(f"run {run + 1}/{runs}: live at {RATE:.0f} msg/s")
                lags, failed = _live(to_leader, to_follower, signer, pid, head + 1)
                head += LIVE - failed
                if failed:
                    report.notes.append(f"live run {run + 1}: {failed} messages failed")
                lags.sort()
                report.add("live_lag_p50", statistics.median(lags), "ms")
                report.add("live_lag_p99", lags[max(0, int(len(lags) * 0.99) - 1)], "ms")
            frames = _frames(leader.address, pid, head)
    report.ratio("catchup_vs_floor", "catchup", "verify_floor")
    for key in ("live_lag_p50", "live_lag_p99"):
        report.figures[key].higher_is_better = False
    return report


def _frames(address: str, pid: str, head: int) -> list[tuple[list[bytes], list[bytes]]]:
    """The leader's Follow frames for the whole schedule, in memory."""
    out: list[tuple[list[bytes], list[bytes]]] = []
    seen = 0
    with grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 << 20)]) as channel:
        stub = replication_pb2_grpc.ReplicationServiceStub(channel)
        call = stub.Follow(pb.FollowRequest(processes=[pb.FollowCursor(process=pid, from_slot=0)]))
        for r in call:
            if r.assignments:
                out.append((list(r.assignments), list(r.messages)))
                seen += len(r.assignments)
            if seen > head:
                call.cancel()
                break
    return out


def _add(client: NodeClient, operator: Signer, leader: str, pid: str) -> None:
    tags = [("Action", "Add-Replica"), ("Issued-At", str(int(time.time() * 1000))), ("Leader", leader)]
    tags += [("Process", pid), ("Recompute", "false")]
    request = sign_message(Message(tags=tuple(Tag(k, v) for k, v in tags)), operator)
    stub = replication_pb2_grpc.ReplicationServiceStub(client.channel)
    stub.AddReplica(pb.AddReplicaRequest(authorization=message_to_pb(request)), timeout=30)


def _slot(client: NodeClient, pid: str) -> int:
    try:
        return int(client.get_slot(pid).current_slot)
    except Exception:
        return -1


def _live(
    to_leader: NodeClient, to_follower: NodeClient, signer: Signer, pid: str, first: int
) -> tuple[list[float], int]:
    """Send LIVE messages at RATE; (lag in ms per slot, failed sends)."""
    requests = [
        scheduler_pb2.ScheduleRequest(message=message_to_pb(build_message(signer, pid, data=b"live")))
        for _ in range(LIVE)
    ]
    acked: dict[int, float] = {}
    arrived: dict[int, float] = {}
    lock = threading.Lock()
    done = threading.Semaphore(0)
    failed = 0

    def watch() -> None:
        for frame in to_follower.subscribe(pid, first):
            now = time.perf_counter()
            with lock:
                for a in frame.assignments:
                    arrived[a.slot] = now
                if len(arrived) >= LIVE - failed:
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    schedule = scheduler_pb2_grpc.SchedulerServiceStub(to_leader.channel).Schedule
    start = time.perf_counter()
    for i, request in enumerate(requests):
        delay = start + i / RATE - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        future = schedule.future(request, timeout=30)

        def finished(f: grpc.Future) -> None:
            nonlocal failed
            now = time.perf_counter()
            with lock:
                if f.exception() is None:
                    acked[f.result().assignment.slot] = now
                else:
                    failed += 1
            done.release()

        future.add_done_callback(finished)
    for _ in requests:
        done.acquire()
    watcher.join(timeout=60)
    with lock:
        return [max(0.0, (arrived[s] - t) * 1000) for s, t in acked.items() if s in arrived], failed
