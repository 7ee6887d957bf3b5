"""`aonode bench wasm`: the wasm64@1.0 device through the compute engine, its snapshots, and the bare floor.

The module is the emscripten-built AOS-style C module of the tests (`tests/devices/wasm/modules/aos.c`),
shipped as package data (`aonode/bench/aos.wasm`, a copy of the committed `aos.wasm`; a test keeps the two
identical), so the benchmark runs from an installed package as well as from the repository.

A node runs in its own process on a temp dir with `snapshot_every = 100` (its TOML config). The module is
published, and for each run a new process spawned on it, N `Count` messages scheduled (not timed), then
one `Now` computes them all (timed: schedule reads, the slots, results and hashpaths stored durably,
and a snapshot every 100 slots). The other figures are measured in this process. Figures, each the median
of `runs` runs:
(a) `count`: `Action=Count` slots through the engine, slots/s;
(b) `snapshot_bytes`: what storing a snapshot adds to the store (new 64 KiB pages, the manifest and the
    `snapshots` row: `layout.put_snapshot`'s batch) after one `Count` slot on a process whose memory was
    grown to `RESTORE_MIB` MiB, next to `snapshot_memory`, the memory size;
(c) `restore`: `WasmDevice.restore` of that memory's snapshot on a freshly initialised device (a new
    Store and instance, memory grown and overwritten), ms; `restore_from_store`: the same plus reading the
    snapshot's pages from an LMDB store (`layout.load_snapshot_pages`), which is what the engine does;
(d) `floor`: the messages of (a) fed straight to a `WasmDevice` in this process, without the engine; each
    floor run follows its engine run, so both see the machine in the same state.
Ratios: `engine_vs_floor` = (a) / (d); `snapshot_vs_memory` = (b) bytes / memory size.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from aonode.bench import Report
from aonode.client import NodeClient, build_message, build_module, build_process
from aonode.compute import layout
from aonode.crypto import Ed25519Signer, Signer
from aonode.devices.base import Limits, ProcessContext
from aonode.devices.wasm import WasmDevice
from aonode.devices.wasm.device import NAME
from aonode.ids import ProcessId, encode_id, next_hash_chain
from aonode.model import Assignment, Message
from aonode.testing import LocalNode
from store import LmdbStore, MemoryStore, ObjectStore, WriteBatch

N = 5_000
"""Count messages per run (engine and floor)."""

SNAPSHOT_EVERY = 100
"""The node's `snapshot_every` during the benchmark."""

RESTORE_MIB = 64
"""Memory size (MiB) the process is grown to for the snapshot-size and restore figures."""

GROW_STEP_KIB = 8 * 1024
"""Grow in steps of this many KiB (each is one `Grow` slot, within the slot's fuel)."""

MiB = 1024 * 1024
CONTENT_TYPE = "application/wasm"


def module_wasm() -> bytes:
    """The AOS-style C module (package data)."""
    return resources.files("aonode.bench").joinpath("aos.wasm").read_bytes()


def _schedule_all(client: NodeClient, messages: list[Message]) -> None:
    for outcome in client.schedule_stream(messages, frame=200):
        if not isinstance(outcome, Assignment):
            raise RuntimeError(f"scheduling failed: {outcome}")


def _counts(signer: Signer, process: str, count: int) -> list[Message]:
    return [build_message(signer, process, action="Count") for _ in range(count)]


def bench_wasm(runs: int, say: Callable[[str], None]) -> Report:
    report = Report("wasm")
    signer = Ed25519Signer.generate()
    wasm = module_wasm()
    with tempfile.TemporaryDirectory(prefix="aonode-bench-") as tmp:
        config = Path(tmp) / "node.toml"
        config.write_text(f"snapshot_every = {SNAPSHOT_EVERY}\n", encoding="utf-8")
        node = LocalNode(Path(tmp) / "node", "--config", str(config)).start()
        try:
            with NodeClient(node.address, timeout=600) as client:
                module = build_module(signer, wasm, CONTENT_TYPE)
                client.publish(module)
                scheduler = client.info().address
                for run in range(runs):
                    # A new process per run: the host's message/env buffers are never freed (see the
                    # report's note), so a process's memory, and with it the snapshot cost, grows by about
                    # 0.7 KiB per slot; fresh processes keep the runs comparable.
                    process = build_process(
                        signer, module=encode_id(module.id), scheduler=scheduler, device=NAME
                    )
                    client.schedule(process)
                    pid = encode_id(process.id)
                    client.now(pid)  # slot 0 (and compiling the module, the first time): not timed
                    say(f"run {run + 1}/{runs}: {N:,} Count slots through the engine")
                    _schedule_all(client, _counts(signer, pid, N))
                    start = time.perf_counter()
                    computed = client.now(pid)
                    report.add("count", N / (time.perf_counter() - start), "slots/s")
                    # Slot 0, the Process message, has no Action: a Count too.
                    if computed.result.error or computed.result.output.data != f"count={N + 1}":
                        raise RuntimeError(f"unexpected result at slot {computed.slot}: {computed.result}")
                    # The floor right after its engine run (the node idles meanwhile): on a shared machine
                    # a ratio of figures taken minutes apart measures the machine's drift.
                    say(f"run {run + 1}/{runs}: floor (device only)")
                    report.add("floor", _floor(signer, wasm), "slots/s")
        finally:
            node.stop()
        _state_figures(report, runs, signer, wasm, Path(tmp) / "snapshots", say)
    report.ratio("engine_vs_floor", "count", "floor")
    report.ratio("snapshot_vs_memory", "snapshot_bytes", "snapshot_memory")
    for key in ("snapshot_bytes", "restore", "restore_from_store"):
        report.figures[key].higher_is_better = False
    return report


class _Process:
    """A wasm64@1.0 process on the module, computed in this process with dense slots."""

    def __init__(self, signer: Signer, wasm: bytes, limits: Limits) -> None:
        self.signer = signer
        self.module = build_module(signer, wasm, CONTENT_TYPE)
        self.process = build_process(signer, module=encode_id(self.module.id), scheduler="", device=NAME)
        self.pid = ProcessId(self.process.id)
        self.chain = next_hash_chain(self.pid, self.pid)
        slot0 = Assignment(self.pid, 0, self.pid, 1_000, hash_chain=self.chain)
        self.context = ProcessContext(self.pid, self.process, slot0, self.module, limits)
        self.next = 1

    def device(self) -> WasmDevice:
        device = WasmDevice()
        device.init(self.context)
        return device

    def slots(self, count: int, action: str = "Count", data: bytes = b"") -> list[tuple[Assignment, Message]]:
        out = []
        for _ in range(count):
            m = build_message(self.signer, encode_id(self.pid), action=action, data=data)
            self.chain = next_hash_chain(self.chain, m.id)
            out.append((Assignment(self.pid, self.next, m.id, 1_000 + self.next, hash_chain=self.chain), m))
            self.next += 1
        return out


def _memory_size(snapshot: bytes) -> int:
    """The linear memory length recorded in a wasm64@1.0 snapshot's trailer."""
    return int.from_bytes(snapshot[-13:-5], "little")


def _grow(proc: _Process, device: WasmDevice, size: int) -> bytes:
    """Grow the process's memory to at least `size` bytes with `Grow` slots; returns the snapshot."""
    snap = device.snapshot()
    assert snap is not None
    while _memory_size(snap) < size:
        kib = min(GROW_STEP_KIB, max(64, (size - _memory_size(snap)) // 1024))
        ((a, m),) = proc.slots(1, "Grow", str(kib).encode())
        r = device.compute(a, m)
        if r.error:
            raise RuntimeError(f"growing the memory failed at {_memory_size(snap)} bytes: {r.error}")
        snap = device.snapshot()
        assert snap is not None
    return snap


def _put(store: ObjectStore, pid: bytes, slot: int, snapshot: bytes) -> int:
    """Store `snapshot` as the engine does; returns the bytes the batch added (new pages, manifest, row)."""
    batch = WriteBatch()
    with store.read() as view:
        layout.put_snapshot(batch, view, pid, slot, NAME, snapshot)
    store.write(batch)
    return batch.nbytes


def _state_figures(
    report: Report, runs: int, signer: Signer, wasm: bytes, tmp: Path, say: Callable[[str], None]
) -> None:
    limits = Limits(instructions=10**10, memory_bytes=2 * RESTORE_MIB * MiB)
    proc = _Process(signer, wasm, limits)
    device = proc.device()
    say(f"growing a process's memory to {RESTORE_MIB} MiB")
    snap = _grow(proc, device, RESTORE_MIB * MiB)
    memory = MemoryStore()
    lmdb = LmdbStore(tmp)
    try:
        _put(memory, proc.pid, proc.next - 1, snap)
        changed = []
        for run in range(runs):
            say(f"run {run + 1}/{runs}: snapshot after one Count slot, restore of {RESTORE_MIB} MiB")
            ((a, m),) = proc.slots(1)
            if device.compute(a, m).error:
                raise RuntimeError(f"Count failed at slot {a.slot}")
            before = snap
            snap_b = device.snapshot()
            assert snap_b is not None
            snap = snap_b
            report.add("snapshot_bytes", _put(memory, proc.pid, a.slot, snap), "bytes")
            report.add("snapshot_memory", _memory_size(snap), "bytes")
            changed.append(_pages_changed(before, snap))
            fresh = proc.device()
            start = time.perf_counter()
            fresh.restore(snap)
            report.add("restore", (time.perf_counter() - start) * 1000, "ms")
            _check_same(proc, device, fresh)
            fresh.close()
            _put(lmdb, proc.pid, a.slot, snap)
            manifest = _manifest(lmdb, proc.pid, a.slot)
            fresh = proc.device()
            start = time.perf_counter()
            with lmdb.read() as view:
                _, pages = layout.load_snapshot_pages(view, manifest)
            fresh.restore_chunks(pages)
            report.add("restore_from_store", (time.perf_counter() - start) * 1000, "ms")
            _check_same(proc, device, fresh)
            fresh.close()
        report.notes.append(
            f"a Count slot changed {'/'.join(map(str, changed))} of "
            f"{-(-len(snap) // layout.SNAPSHOT_PAGE)} snapshot pages ({layout.SNAPSHOT_PAGE // 1024} KiB)"
        )
    finally:
        device.close()
        memory.close()
        lmdb.close()


def _manifest(store: ObjectStore, pid: bytes, slot: int) -> bytes:
    with store.read() as view:
        ref = layout.nearest_snapshot(view, pid, slot)
    assert ref is not None and ref.slot == slot
    return ref.manifest


def _pages_changed(a: bytes, b: bytes) -> int:
    page = layout.SNAPSHOT_PAGE
    return sum(a[off : off + page] != b[off : off + page] for off in range(0, max(len(a), len(b)), page))


def _check_same(proc: _Process, live: WasmDevice, restored: WasmDevice) -> None:
    """The restored device computes the next slot exactly as the live one would (checked, not timed)."""
    saved = live.snapshot()
    assert saved is not None
    position = proc.next, proc.chain
    ((a, m),) = proc.slots(1)
    proc.next, proc.chain = position  # not a real slot: the next one takes its place
    want, got = live.compute(a, m), restored.compute(a, m)
    live.restore(saved)
    if want.digest != got.digest:
        raise RuntimeError(f"restored state computes differently: {got} != {want}")


def _floor(signer: Signer, wasm: bytes) -> float:
    """The Count messages through a bare WasmDevice, without the engine."""
    proc = _Process(signer, wasm, Limits())
    device = proc.device()
    device.compute(proc.context.process_assignment, proc.process)
    slots = proc.slots(N)
    start = time.perf_counter()
    for assignment, message in slots:
        result = device.compute(assignment, message)
        if result.error:
            raise RuntimeError(f"floor: slot {assignment.slot}: {result.error}")
    elapsed = time.perf_counter() - start
    device.close()
    return N / elapsed
