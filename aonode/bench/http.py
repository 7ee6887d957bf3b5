"""`aonode bench http`: ANS-104 messages through the HTTP gateway against the same through gRPC.

A node runs in its own process (`aonode serve --http`) on a temp dir; the load comes from this process.
Messages are ANS-104 data items signed in advance by an Arweave-style RSA-4096 wallet (signature type 1,
as aoconnect sends them; ~700 bytes of data), targeting one process on the built-in runtime. Signing takes
~6 ms per item (measured on the 2-core VM), so items are signed by a pool of processes before anything
is timed, fresh ones for every leg (a message already scheduled is answered from its existing slot, which
would flatter a leg).

Figures, each the median of `runs` runs, both legs in every run (their order alternating):
- `http_post`: `POST /` (aoconnect legacy's MU route) from 16 concurrent HTTP clients (aiohttp, keep-alive),
  each answered once the message is durably scheduled (the node's group commit);
- `grpc_schedule`: `SchedulerService.Schedule` of the same kind of items (the `bytes ans104` form) from 16
  concurrent callers;
- `http_node_cpu`, `grpc_node_cpu`: the node process's CPU per message (µs), where /proc can be read.
Ratio `http_vs_grpc` = `http_post` / `grpc_schedule` (goal ≥ 0.6, and ≥ 700 msg/s on the 2-core VM).
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from aonode.bench import Report
from aonode.bench.schedule import _add_cpu, _concurrent
from aonode.client import NodeClient, build_process, new_anchor
from aonode.crypto import Ed25519Signer, RsaPssSigner
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.testing import LocalNode, free_port
from aonode.v1 import scheduler_pb2, scheduler_pb2_grpc, types_pb2

CALLERS = 16
ITEMS = 1500
WARM = 200
DATA = b"x" * 700


def _sign_batch(jwk: dict[str, str], process: str, count: int) -> list[bytes]:
    """`count` items for `process` (in a pool worker: RSA-4096 signing is the slow part)."""
    from aonode import ans104
    from aonode.model import Tag

    signer = RsaPssSigner.from_jwk(jwk)
    tags = [
        Tag("Data-Protocol", "ao"),
        Tag("Variant", "ao.TN.1"),
        Tag("Type", "Message"),
        Tag("Action", "Bench"),
    ]
    return [
        ans104.build(signer, target=process, anchor=new_anchor(), tags=tags, data=DATA).raw
        for _ in range(count)
    ]


def _sign(pool: ProcessPoolExecutor, jwk: dict[str, str], process: str, count: int) -> list[bytes]:
    workers = max(1, os.cpu_count() or 1)
    share = -(-count // workers)
    futures = [pool.submit(_sign_batch, jwk, process, min(share, count - i)) for i in range(0, count, share)]
    return [raw for f in futures for raw in f.result()]


async def _post_all(url: str, items: list[bytes], callers: int) -> tuple[float, list[str]]:
    import aiohttp

    errors: list[str] = []
    index = 0
    connector = aiohttp.TCPConnector(limit=callers)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal index
            while index < len(items):
                body = items[index]
                index += 1
                async with session.post(
                    url, data=body, headers={"Content-Type": "application/octet-stream"}
                ) as reply:
                    await reply.read()
                    if reply.status != 200:
                        errors.append(f"{reply.status}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(callers)))
        return len(items) / (time.perf_counter() - start), errors


def _post(url: str, items: list[bytes]) -> tuple[float, list[str]]:
    gc.collect()
    gc.freeze()
    return asyncio.run(_post_all(url, items, CALLERS))


def bench_http(runs: int, say: Callable[[str], None]) -> Report:
    report = Report("http")
    wallet = RsaPssSigner.generate()
    jwk = wallet.to_jwk()
    owner = Ed25519Signer.generate()
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="aonode-bench-") as tmp,
        LocalNode(Path(tmp) / "node", "--http", f"127.0.0.1:{port}") as node,
        NodeClient(node.address, retry_attempts=1) as client,
        ProcessPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool,
    ):
        url = f"http://127.0.0.1:{port}/"
        process_msg = build_process(
            owner, module=encode_id(runtime_module().id), scheduler=client.info().address, device="lua@5.3a"
        )
        client.schedule(process_msg)
        process = encode_id(process_msg.id)
        schedule = scheduler_pb2_grpc.SchedulerServiceStub(client.channel).Schedule

        def grpc_requests(items: list[bytes]) -> list[scheduler_pb2.ScheduleRequest]:
            return [scheduler_pb2.ScheduleRequest(message=types_pb2.Message(ans104=raw)) for raw in items]

        say(f"signing {2 * WARM} RSA-4096 items to warm up")
        warm = _sign(pool, jwk, process, 2 * WARM)
        _post(url, warm[:WARM])
        _concurrent(schedule, grpc_requests(warm[WARM:]), CALLERS)

        for run in range(runs):
            say(f"run {run + 1}/{runs}: signing {2 * ITEMS} RSA-4096 items")
            items = _sign(pool, jwk, process, 2 * ITEMS)
            http_items, grpc_items = items[:ITEMS], grpc_requests(items[ITEMS:])
            for leg in ("http", "grpc") if run % 2 == 0 else ("grpc", "http"):
                say(f"run {run + 1}/{runs}: {leg}")
                cpu = node.cpu_seconds()
                if leg == "http":
                    rate, errors = _post(url, http_items)
                    if errors:
                        report.notes.append(f"http run {run + 1}: {len(errors)} failed ({errors[0]})")
                    report.add("http_post", rate, "msg/s")
                else:
                    rate = _concurrent(schedule, grpc_items, CALLERS)
                    report.add("grpc_schedule", rate, "msg/s")
                _add_cpu(report, f"{leg}_node_cpu", cpu, node.cpu_seconds(), ITEMS)
        expected = 1 + 2 * WARM + runs * 2 * ITEMS
        held = client.get_slot(process).current_slot + 1
        if held != expected:
            report.notes.append(f"the schedule holds {held} slots, {expected} were sent")
    report.ratio("http_vs_grpc", "http_post", "grpc_schedule")
    for key in ("http_node_cpu", "grpc_node_cpu"):
        if key in report.figures:
            report.figures[key].higher_is_better = False
    return report
