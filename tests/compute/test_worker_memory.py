"""Idle wasm processes on a real node (`aonode serve` in its own OS process) keep its memory under the
worker cache's byte bound: each process grows its linear memory, computes, and is left idle; the node's
RssAnon grows by at most `max_worker_memory` plus a margin, not by the sum of the processes' memories.

Scaled down (the figure for 500 idle AOS processes is `aonode bench wasm-idle`'s, in docs/compute.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.wasm.device import NAME
from aonode.ids import encode_id
from aonode.testing import LocalNode

MODULE = Path(__file__).parents[1] / "devices" / "wasm" / "modules" / "aos.wasm"
MiB = 1024 * 1024
PROCESSES = 32
GROW_KIB = 6144
"""Each process touches this much more memory: unbounded, the node keeps every process's linear memory
(about 7 MiB each: RssAnon grew by 220 MiB with the bound set to 4 GiB, by 15 MiB with 24 MiB)."""
CACHE_MIB = 24
MARGIN_MIB = 48
"""Allocator slack, gRPC buffers and the Python objects of the processes' definitions and results."""


def _rss_anon(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc")


Spawn = Callable[[NodeClient, Ed25519Signer, str, str], None]
"""Spawns one process (client, signer, module ID, scheduler address) and leaves it idle."""


def _rss_growth(tmp_path: Path, spawn: Spawn, processes: int) -> int:
    """Bytes of RssAnon a node bounded at CACHE_MIB grows by over `processes - 1` spawns, after a first
    one that compiles the module and warms the node's buffers and threads up."""
    config = tmp_path / "node.toml"
    config.write_text(f"[compute]\nmax_worker_memory_mib = {CACHE_MIB}\n", encoding="utf-8")
    signer = Ed25519Signer.generate()
    with LocalNode(tmp_path / "node", "--config", str(config)) as node, NodeClient(node.address) as client:
        assert node.proc is not None
        module = build_module(signer, MODULE.read_bytes(), "application/wasm")
        client.publish(module)
        scheduler = client.info().address
        spawn(client, signer, encode_id(module.id), scheduler)
        base = _rss_anon(node.proc.pid)
        for _ in range(processes - 1):
            spawn(client, signer, encode_id(module.id), scheduler)
        return _rss_anon(node.proc.pid) - base


def _spawn_and_grow(client: NodeClient, signer: Ed25519Signer, module: str, scheduler: str) -> None:
    process = build_process(signer, module=module, scheduler=scheduler, device=NAME)
    client.schedule(process)
    pid = encode_id(process.id)
    grow = build_message(signer, pid, action="Grow", data=str(GROW_KIB).encode())
    done = client.compute(pid, client.schedule(grow).slot)
    assert done.result.error == "" and done.result.output.data == "grown"


def test_idle_wasm_processes_stay_within_the_worker_memory_bound(tmp_path: Path) -> None:
    grown = _rss_growth(tmp_path, _spawn_and_grow, PROCESSES)
    assert grown <= (CACHE_MIB + MARGIN_MIB) * MiB, f"RssAnon grew by {grown / MiB:.0f} MiB"


BIG = 2 * MiB
BIG_MESSAGES = 16
"""Messages of BIG bytes per process: a wasm64@1.0 worker keeps the messages since its last checkpoint
(up to 99) to undo a trapping slot, so an idle worker can hold far more than its linear memory."""


def _spawn_and_send_big(client: NodeClient, signer: Ed25519Signer, module: str, scheduler: str) -> None:
    process = build_process(signer, module=module, scheduler=scheduler, device=NAME)
    client.schedule(process)
    pid = encode_id(process.id)
    for i in range(BIG_MESSAGES):
        message = build_message(signer, pid, action="Count", data=bytes([65 + i]) * BIG)
        client.schedule(message)
    assert client.now(pid).result.error == ""


def test_messages_held_by_idle_wasm_workers_count_against_the_bound(tmp_path: Path) -> None:
    grown = _rss_growth(tmp_path, _spawn_and_send_big, 6)
    # Unbounded, the five workers would hold 5 × 32 MiB of messages.
    assert grown <= (CACHE_MIB + MARGIN_MIB) * MiB, f"RssAnon grew by {grown / MiB:.0f} MiB"
