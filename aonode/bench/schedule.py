"""`aonode bench schedule`: durable, signed scheduling against the bare RPC it rides on.

A node runs in its own process on a temp dir; the load comes from this process. Messages are ~1 KB,
Ed25519-signed in advance (signing is not what is measured). Figures, each the median of `runs` runs:
(a) `echo`: NodeService.Echo of the same messages, 16 concurrent callers (the bare gRPC baseline);
(b) `schedule_unary`: SchedulerService.Schedule, 16 concurrent callers;
(c) `schedule_stream`: one ScheduleStream, frames of 100 messages;
(d) `latency_p50` / `latency_p99`: unary Schedule at a fixed 500 requests/s (open loop: latency counts from
    the moment a request was due, so a stall is not hidden);
(e) `subscribe_catchup`: a subscriber reading 100,000 committed assignments from slot 0, as protobuf
    fields; `subscribe_catchup_canonical`: the same in the canonical (stored, signed) encoding.
Ratio `schedule_vs_echo` = (b) / (a).

Where /proc can be read, the node process's CPU (user + system) per call is reported too: `echo_node_cpu`,
`unary_node_cpu`, `stream_node_cpu` (µs per call or assignment), and `unary_cpu_vs_echo`. Within one
invocation it varied ±2-15% between runs where throughput varied more, but it still moves with the host
(unary 822 µs on a quiet minute, 1,188 µs on a loaded one): compare it within an invocation, or as the
ratio, when judging a change to the node's own cost.

The client runs without retries (`retry_attempts=1`): the bare channel is what is measured, and a call the
node fails is reported in the notes instead of being repeated behind the figure.

Before each timed section the load generator freezes its heap (`gc.freeze`): a full collection over the
pre-built messages stalls this process for ~20 ms, which the open-loop latency figure would charge to the
node.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import grpc

from aonode.bench import Report
from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.crypto import Ed25519Signer, Signer
from aonode.ids import encode_id
from aonode.model import Message
from aonode.rpc.convert import message_to_pb
from aonode.testing import LocalNode
from aonode.v1 import node_pb2, node_pb2_grpc, scheduler_pb2, scheduler_pb2_grpc

CALLERS = 16
DATA = b"x" * 700  # with tags, anchor and signature: ~1 KB on the wire
CATCHUP = 100_000
UNARY_CALLS = 4_000
STREAM_MESSAGES = 20_000
RATE_MESSAGES = 2_000
WARM = 400


def _messages(signer: Signer, process: str, count: int) -> list[Message]:
    tags = [("Bench", "schedule"), ("Content-Type", "text/plain")]
    return [build_message(signer, process, action="Bench", data=DATA, tags=tags) for _ in range(count)]


def _concurrent(method: Callable[..., object], requests: Sequence[object], callers: int) -> float:
    """Call method(request) for every request from `callers` threads; return calls per second."""
    _quiet_heap()
    counter = itertools.count()
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                i = next(counter)
            if i >= len(requests):
                return
            method(requests[i], timeout=30)

    threads = [threading.Thread(target=worker) for _ in range(callers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(requests) / (time.perf_counter() - start)


def _quiet_heap() -> None:
    gc.collect()
    gc.freeze()


def _fixed_rate(
    stub: scheduler_pb2_grpc.SchedulerServiceStub, requests: list[bytes], rate: float
) -> tuple[list[float], list[str]]:
    """Send at `rate`/s regardless of replies; latency (ms) from each request's due time to its reply
    (infinite for a failed request), and the failures' errors."""
    method = stub.Schedule
    _quiet_heap()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    done = threading.Semaphore(0)
    start = time.perf_counter()
    for i, request in enumerate(requests):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        future = method.future(scheduler_pb2.ScheduleRequest.FromString(request), timeout=30)

        def finished(f: grpc.Future, due: float = due) -> None:
            elapsed = (time.perf_counter() - due) * 1000
            error = f.exception()
            with lock:
                latencies.append(elapsed if error is None else float("inf"))
                if error is not None:
                    errors.append(f"{type(error).__name__}: {error}"[:300])
            done.release()

        future.add_done_callback(finished)
    for _ in requests:
        done.acquire()
    return latencies, errors


def bench_schedule(runs: int, say: Callable[[str], None]) -> Report:
    report = Report("schedule")
    signer = Ed25519Signer.generate()
    with (
        tempfile.TemporaryDirectory(prefix="aonode-bench-") as tmp,
        LocalNode(Path(tmp) / "node") as node,
        NodeClient(node.address, retry_attempts=1) as client,
    ):
        module = client.publish(build_module(signer, b"-- bench module\n", "text/x-lua"))
        process_msg = build_process(signer, module=module, scheduler=client.info().address, device="lua@5.3a")
        client.schedule(process_msg)
        process = encode_id(process_msg.id)
        channel = client.channel
        echo = node_pb2_grpc.NodeServiceStub(channel).Echo
        schedule = scheduler_pb2_grpc.SchedulerServiceStub(channel).Schedule

        def batch(count: int) -> list[Message]:
            return _messages(signer, process, count)

        say("warming up")
        warm = [message_to_pb(m) for m in batch(WARM)]
        _concurrent(echo, [node_pb2.EchoRequest(message=m) for m in warm], CALLERS)
        _concurrent(schedule, [scheduler_pb2.ScheduleRequest(message=m) for m in warm], CALLERS)

        for run in range(runs):
            say(f"run {run + 1}/{runs}: echo, unary schedule")
            msgs = [message_to_pb(m) for m in batch(UNARY_CALLS)]
            cpu = node.cpu_seconds()
            rate = _concurrent(echo, [node_pb2.EchoRequest(message=m) for m in msgs], CALLERS)
            report.add("echo", rate, "rpc/s")
            cpu = _add_cpu(report, "echo_node_cpu", cpu, node.cpu_seconds(), len(msgs))
            rate = _concurrent(schedule, [scheduler_pb2.ScheduleRequest(message=m) for m in msgs], CALLERS)
            report.add("schedule_unary", rate, "assignments/s")
            _add_cpu(report, "unary_node_cpu", cpu, node.cpu_seconds(), len(msgs))

            say(f"run {run + 1}/{runs}: stream")
            stream_msgs = batch(STREAM_MESSAGES)
            cpu = node.cpu_seconds()
            start = time.perf_counter()
            outcomes = list(client.schedule_stream(stream_msgs, frame=100))
            elapsed = time.perf_counter() - start
            _add_cpu(report, "stream_node_cpu", cpu, node.cpu_seconds(), len(outcomes))
            failures = sum(1 for o in outcomes if not hasattr(o, "slot"))
            if failures:
                report.notes.append(f"stream run {run + 1}: {failures} messages failed")
            report.add("schedule_stream", len(outcomes) / elapsed, "assignments/s")

            say(f"run {run + 1}/{runs}: fixed 500 req/s")
            timed = [
                scheduler_pb2.ScheduleRequest(message=message_to_pb(m)).SerializeToString()
                for m in batch(RATE_MESSAGES)
            ]
            latencies, errors = _fixed_rate(scheduler_pb2_grpc.SchedulerServiceStub(channel), timed, 500.0)
            latencies.sort()
            if errors:
                report.notes.append(f"fixed-rate run {run + 1}: {len(errors)} requests failed: {errors[0]}")
            report.add("latency_p50", statistics.median(latencies), "ms")
            report.add("latency_p99", latencies[int(len(latencies) * 0.99) - 1], "ms")

        # What the node holds, not what was sent: a request that failed under load has no slot, and a
        # catch-up waiting for 100,000 assignments that do not exist would wait forever.
        total = client.get_slot(process).current_slot + 1
        while total < CATCHUP:
            say(f"filling the schedule to {CATCHUP:,} assignments")
            for _ in client.schedule_stream(_fill(signer, process, CATCHUP - total), frame=200):
                pass
            total = client.get_slot(process).current_slot + 1
        for run in range(runs):
            say(f"run {run + 1}/{runs}: subscriber catch-up")
            report.add("subscribe_catchup", _catchup(node.address, process, False), "assignments/s")
            report.add("subscribe_catchup_canonical", _catchup(node.address, process, True), "assignments/s")

    report.ratio("schedule_vs_echo", "schedule_unary", "echo")
    if "unary_node_cpu" in report.figures and "echo_node_cpu" in report.figures:
        report.ratio("unary_cpu_vs_echo", "unary_node_cpu", "echo_node_cpu")
    for key in ("latency_p50", "latency_p99", "echo_node_cpu", "unary_node_cpu", "stream_node_cpu"):
        if key in report.figures:
            report.figures[key].higher_is_better = False
    return report


def _add_cpu(report: Report, key: str, before: float | None, after: float | None, calls: int) -> float | None:
    """Record the node's CPU per call (µs) between two readings, when both exist; returns `after`."""
    if before is not None and after is not None and calls:
        report.add(key, (after - before) / calls * 1e6, "us/call")
    return after


def _fill(signer: Signer, process: str, count: int) -> Iterator[Message]:
    for _ in range(count):
        yield build_message(signer, process, data=b"fill")


def _catchup(address: str, process: str, canonical: bool) -> float:
    with NodeClient(address, retry_attempts=1) as client:
        seen = 0
        start = time.perf_counter()
        for frame in client.subscribe(process, 0, canonical=canonical):
            seen += len(frame.encoded_assignments) if canonical else len(frame.assignments)
            if seen >= CATCHUP:
                break
        return seen / (time.perf_counter() - start)
