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

**A real AOS binary** (`--module FILE`; by default the wasm64 conformance fixture
`../shared/conformance/wasm/aos2-wasm64-legacy-eh.wasm` when present, see `default_aos_module`). The module
is published as `aos` publishes one (`Compute-Limit` 9e12, `Memory-Limit` 1-gb; its format detected from
the binary) on a node with the default configuration, and one process spawned untimed (it compiles and, for
legacy exception handling, translates the module: its time is a note). Then, per run:
(e) `first_slot`: a new process's spawn (its Process message scheduled) and slot 0 computed, ms;
(f) `eval`: `EVALS` `Action=Eval` messages (`return 1+1`, from the owner) scheduled (not timed), then one
    `Now` computes them all (timed), slots/s;
(g) `eval_floor`: the same binary's `handle` called directly on wasmtime (a `WasmDevice`'s instance, so the
    same imports and limits) on the same message and env JSON, prepared beforehand; timed: the host
    imports' per-slot reset, fuel, `malloc` and write of both strings, `handle`, reading the result,
    `free`. No engine, no JSON building or parsing, no store: the cost of the binary itself.
Ratio: `aos_vs_floor` = (f) / (g). The same per CPU second (`eval_cpu`: the node process's user + system
time, every thread, during the `Now`; `eval_floor_cpu`: the floor thread's CPU time) and their ratio
`aos_vs_floor_cpu`: on a machine shared with other work the wall-time figures measure the neighbours too.
With `--module` only (e)-(g) run; without it (a)-(d) run, and (e)-(g)
when the fixture is present.

`aonode bench wasm-idle` (`bench_wasm_idle`): a node with the default configuration, `IDLE` processes of the
AOS binary (or of the C module when there is none) spawned and each computed through slot 0 and one Eval,
then left idle. Figures, per run on a fresh node: `rss_idle` (the node's VmRSS with every process idle,
MiB), `rss_anon_idle` (its RssAnon), `rss_base` (VmRSS after the first process, which compiled the module);
the bound they are checked against is docs/compute.md's, "Live workers and memory".
"""

from __future__ import annotations

import os
import struct
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
from aonode.devices.wasm import WasmDevice, iface, runtime
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

EVALS = 1_000
"""Eval messages per run of the AOS figures (engine and floor)."""

EVAL_CODE = b"return 1+1"
"""A small eval: what the goal of 1,000 slots/s is about."""

IDLE = 500
"""Processes left idle by `aonode bench wasm-idle`."""

AOS_TAGS = (("Compute-Limit", "9000000000000"), ("Memory-Limit", "1-gb"))
"""What `aos` publishes a module with (its format is detected from the binary)."""

AOS_LIMITS = Limits(instructions=9_000_000_000_000, memory_bytes=1024**3)
"""The limits those tags give (the floor's device gets them too)."""

DEFAULT_FIXTURE = "aos2-wasm64-legacy-eh.wasm"


def default_aos_module() -> Path | None:
    """The wasm64 AOS conformance fixture, when present: under `$AONODE_CONFORMANCE/wasm`, else
    `../shared/conformance/wasm` from the project root or from the working directory."""
    bases = [Path(os.environ["AONODE_CONFORMANCE"])] if os.environ.get("AONODE_CONFORMANCE") else []
    bases += [
        Path(__file__).resolve().parents[2].parent / "shared" / "conformance",
        Path.cwd().parent / "shared" / "conformance",
    ]
    for base in bases:
        path = base / "wasm" / DEFAULT_FIXTURE
        if path.is_file():
            return path
    return None


def module_wasm() -> bytes:
    """The AOS-style C module (package data)."""
    return resources.files("aonode.bench").joinpath("aos.wasm").read_bytes()


def _schedule_all(client: NodeClient, messages: list[Message]) -> None:
    for outcome in client.schedule_stream(messages, frame=200):
        if not isinstance(outcome, Assignment):
            raise RuntimeError(f"scheduling failed: {outcome}")


def _counts(signer: Signer, process: str, count: int) -> list[Message]:
    return [build_message(signer, process, action="Count") for _ in range(count)]


def bench_wasm(runs: int, say: Callable[[str], None], module: Path | None = None) -> Report:
    report = Report("wasm")
    signer = Ed25519Signer.generate()
    if module is None:
        _c_module_figures(report, runs, signer, say)
        module = default_aos_module()
        if module is None:
            report.notes.append(f"no AOS binary ({DEFAULT_FIXTURE} absent): AOS figures not measured")
    if module is not None:
        _aos_figures(report, runs, signer, module, say)
    return report


def _c_module_figures(report: Report, runs: int, signer: Signer, say: Callable[[str], None]) -> None:
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


def _publish_aos(client: NodeClient, signer: Signer, wasm: bytes) -> Message:
    module = build_module(signer, wasm, CONTENT_TYPE, AOS_TAGS)
    client.publish(module)
    return module


def _spawn(client: NodeClient, signer: Signer, module: Message, scheduler: str) -> tuple[Message, str]:
    """A new process on `module`, computed through slot 0; raises when slot 0 fails."""
    process = build_process(signer, module=encode_id(module.id), scheduler=scheduler, device=NAME)
    client.schedule(process)
    pid = encode_id(process.id)
    done = client.compute(pid, 0)
    if done.result.error:
        raise RuntimeError(f"slot 0 of a process on the module failed: {done.result.error[:500]}")
    return process, pid


def _aos_figures(report: Report, runs: int, signer: Signer, path: Path, say: Callable[[str], None]) -> None:
    wasm = path.read_bytes()
    report.notes.append(
        f"AOS figures: {path.name} ({len(wasm):,} bytes), {EVALS:,} evals of {EVAL_CODE.decode()!r}"
    )
    with tempfile.TemporaryDirectory(prefix="aonode-bench-") as tmp:
        node = LocalNode(Path(tmp) / "node").start()
        assert node.proc is not None
        node_pid = node.proc.pid
        try:
            with NodeClient(node.address, timeout=600) as client:
                module = _publish_aos(client, signer, wasm)
                scheduler = client.info().address
                say(f"{path.name}: first process (compiles the module)")
                start = time.perf_counter()
                _spawn(client, signer, module, scheduler)
                report.notes.append(
                    f"first slot of the first process (module compiled/translated): "
                    f"{(time.perf_counter() - start) * 1000:,.0f} ms"
                )
                for run in range(runs):
                    say(f"run {run + 1}/{runs}: spawn + slot 0, then {EVALS:,} evals through the engine")
                    start = time.perf_counter()
                    process, pid = _spawn(client, signer, module, scheduler)
                    report.add("first_slot", (time.perf_counter() - start) * 1000, "ms")
                    evals = [build_message(signer, pid, action="Eval", data=EVAL_CODE) for _ in range(EVALS)]
                    _schedule_all(client, evals)
                    start = time.perf_counter()
                    cpu = _cpu_seconds(node_pid)
                    computed = client.now(pid)
                    report.add("eval", EVALS / (time.perf_counter() - start), "slots/s")
                    report.add("eval_cpu", EVALS / max(_cpu_seconds(node_pid) - cpu, 1e-3), "slots/cpu-s")
                    if computed.slot != EVALS or computed.result.error:
                        raise RuntimeError(
                            f"eval failed at slot {computed.slot}: {computed.result.error[:500]}"
                        )
                    say(f"run {run + 1}/{runs}: floor ({EVALS:,} direct handle calls)")
                    floor, floor_cpu = _handle_floor(module, process, evals)
                    report.add("eval_floor", floor, "slots/s")
                    report.add("eval_floor_cpu", floor_cpu, "slots/cpu-s")
        finally:
            node.stop()
    report.figures["first_slot"].higher_is_better = False
    report.ratio("aos_vs_floor", "eval", "eval_floor")
    report.ratio("aos_vs_floor_cpu", "eval_cpu", "eval_floor_cpu")


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) process `pid` has used, seconds (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _handle_floor(module: Message, process: Message, evals: list[Message]) -> tuple[float, float]:
    """`handle` of the module's instance called directly on the same inputs as the engine's run; slots/s of
    wall time and of this thread's CPU time (the `_cpu` figures: on a machine shared with other work the
    wall-time ones measure the neighbours too).

    The device is used for what it sets up (imports of the module's format, limits, slot 0) and for its
    instance; the loop then does only what any host must: reset the imports' per-slot state (stdout is
    bounded per slot), fuel, writing the two strings, the call, reading the result, freeing the strings."""
    pid = ProcessId(process.id)
    chain = next_hash_chain(pid, pid)
    slot0 = Assignment(pid, 0, pid, 1_000, hash_chain=chain)
    device = WasmDevice()
    device.init(ProcessContext(pid, process, slot0, module, AOS_LIMITS))
    try:
        if device.compute(slot0, process).error:
            raise RuntimeError("floor: slot 0 failed")
        module_id = encode_id(module.id)
        inputs = []
        for slot, message in enumerate(evals, start=1):
            chain = next_hash_chain(chain, message.id)
            inputs.append(
                iface.message_json(
                    message,
                    module_id=module_id,
                    slot=slot,
                    timestamp=1_000 + slot,
                    block_height=0,
                    epoch=0,
                    hash_chain=chain,
                )
                + b"\0"
            )
        env = iface.env_json(bytes(pid), process, module) + b"\0"
        inst = device._inst  # the device's Store and instance: the same binary, imports and limits
        assert inst is not None
        refill = getattr(device, "_refill", None)
        io = device._io  # the host imports' per-slot state (stdout, random seed): reset as for any slot
        seeds = [bytes(pid) + struct.pack("<Q", slot) for slot in range(1, len(inputs) + 1)]
        ticks = max(1, int(AOS_LIMITS.wall_seconds / runtime.EPOCH_TICK) + 1)
        start = time.perf_counter()
        cpu = time.thread_time()
        for msg, seed in zip(inputs, seeds, strict=True):
            io.clear(seed)
            if refill is not None:
                refill(inst)
            else:
                inst.store.set_fuel(AOS_LIMITS.instructions)
            # The wall-clock backstop, renewed per call as the device does: 1,000 calls of a slow binary
            # on a loaded machine outlast one deadline (the call then trapped as interrupted).
            inst.store.set_epoch_deadline(ticks)
            msg_ptr = inst.malloc(len(msg))
            inst.memory.write(msg_ptr, msg)
            env_ptr = inst.malloc(len(env))
            inst.memory.write(env_ptr, env)
            out = inst.handle(msg_ptr, env_ptr)
            raw = inst.memory.read_cstring(out, 64 * MiB)
            if inst.free is not None:
                inst.free(env_ptr)
                inst.free(msg_ptr)
            if not raw:
                raise RuntimeError("floor: handle returned nothing")
        wall = time.perf_counter() - start
        return len(inputs) / wall, len(inputs) / max(time.thread_time() - cpu, 1e-3)
    finally:
        device.close()


def _rss(pid: int) -> tuple[float, float]:
    """VmRSS and RssAnon of process `pid`, MiB (Linux /proc)."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["RssAnon"]


def bench_wasm_idle(runs: int, say: Callable[[str], None], module: Path | None = None) -> Report:
    """`aonode bench wasm-idle`: the node's memory with `IDLE` idle wasm processes (module docstring)."""
    report = Report("wasm-idle")
    signer = Ed25519Signer.generate()
    path = module or default_aos_module()
    wasm = path.read_bytes() if path is not None else module_wasm()
    report.notes.append(f"{IDLE} processes of {path.name if path else 'the C test module'}")
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="aonode-bench-") as tmp:
            node = LocalNode(Path(tmp) / "node").start()
            try:
                assert node.proc is not None
                with NodeClient(node.address, timeout=600) as client:
                    published = _publish_aos(client, signer, wasm)
                    scheduler = client.info().address
                    _spawn(client, signer, published, scheduler)
                    report.add("rss_base", _rss(node.proc.pid)[0], "MiB")
                    for i in range(IDLE):
                        if i % 50 == 0:
                            say(f"run {run + 1}/{runs}: process {i + 1}/{IDLE}")
                        _, pid = _spawn(client, signer, published, scheduler)
                        message = build_message(signer, pid, action="Eval", data=EVAL_CODE)
                        client.compute(pid, client.schedule(message).slot)
                    time.sleep(1.0)  # let in-flight check-ins and evictions settle
                    rss, anon = _rss(node.proc.pid)
                    report.add("rss_idle", rss, "MiB")
                    report.add("rss_anon_idle", anon, "MiB")
            finally:
                node.stop()
    for key in ("rss_base", "rss_idle", "rss_anon_idle"):
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
