"""Simulated power loss: a node under a scheduling load loses its unsynced writes at random moments,
and no acknowledged assignment may be lost (reliability.md §6 B2, issue 10 "Keep it fixed").

A SIGKILL alone cannot show a missing fsync: the page cache survives a process crash. So the node runs
under `powercut.c` (compiled here with gcc, loaded with LD_PRELOAD), which journals an undo record before
every write to the store's `data.mdb` and forgets them at each fsync/fdatasync of it (docs/store.md,
"Power loss"). A cut is: SIGKILL the node at a random moment while client threads schedule messages
(each reply is an acknowledged assignment: process, slot, message ID), then roll the data file back
through the journal (the unsynced writes vanish, as they would from a disk losing power), then restart.
After each cut:

- the stored schedule of every process verifies (dense slots, hash chain, signatures, head record:
  `verify_schedule`, run offline on the rolled-back file before the node reopens it);
- every acknowledged message is at its acknowledged slot (GetSchedule from the restarted node);
- re-sending an acknowledged message returns its slot (idempotent, no second slot);
- the node serves (health SERVING; at the end an owner's Eval still computes).

The control runs the same node with LMDB's sync forced off (`sync=False, metasync=False`, patched in
by a launcher: the node has no setting that turns durability off, on purpose). It must lose
acknowledged assignments on the first cuts, which shows the harness can fail.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aonode.client import ClientError, NodeClient, build_message
from aonode.ids import decode_id, encode_id
from aonode.model import Message
from aonode.scheduler.verify import verify_schedule
from aonode.testing import LocalNode
from store import LmdbStore
from tests.hostile.support import OWNER, assert_node_healthy, assert_process_computes, spawn_aos

SHIM_SOURCE = Path(__file__).with_name("powercut.c")
CUTS = 30
CONTROL_MAX_CUTS = 3
CLIENT_THREADS = 3
LOAD_SECONDS = (0.1, 0.6)
SECTOR = 512  # how long the load runs before each cut, uniform at random

# The control's launcher: the node with every LMDB environment opened without sync (MDB_NOSYNC).
_NOSYNC_LAUNCHER = (
    "import runpy, sys, lmdb\n"
    "_open = lmdb.open\n"
    "lmdb.open = lambda *a, **k: _open(*a, **{**k, 'sync': False, 'metasync': False})\n"
    "sys.argv[0] = 'aonode'\n"
    "runpy.run_module('aonode', run_name='__main__')\n"
)

_RECORD = struct.Struct("<cQQQQ")


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: the power-cut shim (tests/faults/powercut.c) cannot be built")
    out = tmp_path_factory.mktemp("powercut") / "powercut.so"
    subprocess.run(
        [
            gcc,
            "-O2",
            "-Wall",
            "-Werror",
            "-shared",
            "-fPIC",
            "-o",
            str(out),
            str(SHIM_SOURCE),
            "-ldl",
            "-lpthread",
        ],
        check=True,
        capture_output=True,
    )
    return out


def roll_back(journal: Path, target: Path, partial: random.Random | None = None) -> tuple[int, int]:
    """Apply the shim's journal to `target`: undo records newest first, then the durable (O_DSYNC)
    writes oldest first. Returns (records, bytes rolled back); the journal is emptied.

    With `partial`, the disk is taken to have written some unsynced writes anyway, in any order: each
    one is, at random, lost (undone), kept, or torn (its first 512-byte sectors kept, the rest lost).
    This is sound for LMDB because the writes between two syncs go to distinct pages."""
    raw = journal.read_bytes() if journal.exists() else b""
    records: list[tuple[bytes, int, int, int, bytes]] = []
    at = 0
    while at + _RECORD.size <= len(raw):
        kind, offset, old_size, length, n = _RECORD.unpack_from(raw, at)
        end = at + _RECORD.size + n
        if end > len(raw):
            break  # torn by the kill mid-append: its data write never happened
        records.append((kind, offset, old_size, length, raw[at + _RECORD.size : end]))
        at = end
    undone = 0
    kept_end = 0  # the file reaches at least the end of every write the disk kept (or kept part of)
    with open(target, "r+b") as f:
        for kind, offset, old_size, length, old in reversed(records):
            if kind != b"U":
                continue
            fate = partial.choice(("lost", "kept", "torn")) if partial else "lost"
            if fate == "torn" and length <= SECTOR:
                fate = "lost"
            if fate == "kept":
                kept_end = max(kept_end, offset + length)
                continue
            cut = 0  # the bytes of this write that reached the disk: none, or its first sectors (torn)
            if fate == "torn" and partial is not None:
                cut = partial.randrange(1, -(-length // SECTOR)) * SECTOR
                kept_end = max(kept_end, offset + cut)
            if cut < len(old):
                f.seek(offset + cut)
                f.write(old[cut:])
                undone += len(old) - cut
            f.truncate(max(old_size, kept_end))
        for kind, offset, _, _, data in records:
            if kind == b"D":
                f.seek(offset)
                f.write(data)
    journal.write_bytes(b"")
    return len(records), undone


class ShimmedNode(LocalNode):
    """A LocalNode whose process runs under the power-cut shim (and, for the control, without sync)."""

    def __init__(self, data: Path, shim: Path, journal: Path, *, sync: bool) -> None:
        super().__init__(data)
        self.shim, self.journal, self.sync = shim, journal, sync

    @property
    def target(self) -> Path:
        return self.data / "store" / "data.mdb"

    def start(self, timeout: float = 60.0) -> ShimmedNode:
        launcher = ["-m", "aonode"] if self.sync else ["-c", _NOSYNC_LAUNCHER]
        command = [
            sys.executable, *launcher, "serve", "--data", str(self.data), "--listen", self.address,
            "--log-level", self.log_level, "--log-format", "json",
        ]  # fmt: skip
        env = dict(
            os.environ,
            LD_PRELOAD=str(self.shim),
            POWERCUT_TARGET=str(self.target),
            POWERCUT_JOURNAL=str(self.journal),
        )
        log = open(self.data.parent / f"{self.data.name}.log", "ab")  # noqa: SIM115 (handed to the child)
        self.proc = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        log.close()
        self.wait_serving(timeout)
        return self


@dataclass
class Ack:
    process: str
    slot: int
    message: str
    sent: Message | None = None


@dataclass
class Run:
    cuts: int = 0
    acked: list[Ack] = field(default_factory=list)
    lost: int = 0
    broken_chains: list[str] = field(default_factory=list)
    journal_records: int = 0
    cuts_with_unsynced: int = 0
    partial_cuts: int = 0
    rolled_back_bytes: int = 0
    seconds: float = 0.0

    def summary(self, name: str) -> str:
        return (
            f"power loss [{name}]: {self.cuts} cuts, {len(self.acked)} acknowledged assignments, "
            f"{self.lost} lost, {len(self.broken_chains)} chain failures ({self.partial_cuts} cuts kept or "
            f"tore part of the unsynced writes), {self.journal_records} unsynced "
            f"writes ({self.rolled_back_bytes} bytes) rolled back in {self.cuts_with_unsynced} cuts, "
            f"{self.seconds:.1f} s"
        )


def _load(address: str, processes: list[str], acked: list[Ack], stop: threading.Event, seed: int) -> None:
    """Schedule messages until the node dies or `stop` is set; record each acknowledged assignment."""
    rng = random.Random(seed)
    with NodeClient(address, timeout=10, retry_attempts=1) as client:
        while not stop.is_set():
            pid = rng.choice(processes)
            message = build_message(OWNER, pid, action="Ping", data=rng.randbytes(rng.randrange(0, 600)))
            try:
                assignment = client.schedule(message)
            except ClientError:
                return  # the node is gone (UNAVAILABLE): this message may or may not be committed
            acked.append(Ack(pid, assignment.slot, encode_id(message.id), message))


def _check(node: ShimmedNode, processes: list[str], run: Run) -> None:
    """After a rollback: verify the chains offline, then restart and look for every ack."""
    store = LmdbStore(node.target.parent)
    try:
        for pid in processes:
            report = verify_schedule(store, decode_id(pid), verify_messages=False)
            if not report.ok:
                run.broken_chains.append(report.summary())
    finally:
        store.close()
    node.start()
    with NodeClient(node.address, timeout=30) as client:
        stored: dict[tuple[str, int], str] = {}
        for pid in processes:
            with contextlib.suppress(ClientError):  # unknown process: its spawn was lost (the control)
                stored.update({(pid, a.slot): encode_id(a.message) for a in client.iter_schedule(pid)})
        run.lost = sum(1 for a in run.acked if stored.get((a.process, a.slot)) != a.message)


def _power_cuts(base: Path, shim: Path, *, sync: bool, cuts: int, stop_at_loss: bool) -> Run:
    rng = random.Random(1010 if sync else 2020)
    node = ShimmedNode(base / "node", shim, base / "journal", sync=sync)
    run = Run()
    started = time.monotonic()
    node.start()
    try:
        with NodeClient(node.address, timeout=30) as client:
            processes = [spawn_aos(client) for _ in range(2)]
            run.acked += [Ack(pid, 0, pid) for pid in processes]
        for _ in range(cuts):
            stop = threading.Event()
            threads = [
                threading.Thread(target=_load, args=(node.address, processes, run.acked, stop, rng.random()))
                for _ in range(CLIENT_THREADS)
            ]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(*LOAD_SECONDS))
            node.kill()  # SIGKILL: the cut
            stop.set()
            for t in threads:
                t.join(timeout=30)
            # Every other cut of the sync run keeps or tears a random part of the unsynced writes.
            partial = rng if sync and run.cuts % 2 else None
            records, undone = roll_back(node.journal, node.target, partial)
            run.partial_cuts += partial is not None
            run.cuts += 1
            run.journal_records += records
            run.rolled_back_bytes += undone
            run.cuts_with_unsynced += records > 0
            _check(node, processes, run)
            last = run.acked[-1]
            if sync and last.sent is not None:
                _assert_idempotent(node.address, last, last.sent)
            if stop_at_loss and run.lost:
                break
        if sync:
            assert_node_healthy(node.address)
            with NodeClient(node.address, timeout=60) as client:
                assert_process_computes(client, processes[0])
    finally:
        run.seconds = time.monotonic() - started
        node.kill()
    return run


def _assert_idempotent(address: str, ack: Ack, message: Message) -> None:
    """Re-scheduling an acknowledged message (as a client retrying after the cut would) returns the
    slot it already holds: no second slot."""
    with NodeClient(address, timeout=30) as client:
        again = client.schedule(message)
        assert (encode_id(again.process), again.slot) == (ack.process, ack.slot)
        assert client.get_assignment(ack.message).slot == ack.slot


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Iterator[list[str]]:
    lines: list[str] = []
    yield lines
    with capsys.disabled():
        for line in lines:
            print(f"\n{line}", end="")


def test_power_loss_keeps_every_acknowledged_assignment(
    tmp_path: Path, shim: Path, report: list[str], record_property: Callable[[str, object], None]
) -> None:
    run = _power_cuts(tmp_path, shim, sync=True, cuts=CUTS, stop_at_loss=False)
    report.append(run.summary("sync on"))
    record_property("power_loss", run.summary("sync on"))
    assert run.cuts >= 30
    assert run.journal_records > 0, "the shim saw no unsynced write: it is not in the write path"
    assert run.broken_chains == []
    assert run.lost == 0
    assert len(run.acked) > 10 * run.cuts


def test_power_loss_control_without_sync_loses_data(
    tmp_path: Path, shim: Path, report: list[str], record_property: Callable[[str, object], None]
) -> None:
    run = _power_cuts(tmp_path, shim, sync=False, cuts=CONTROL_MAX_CUTS, stop_at_loss=True)
    report.append(run.summary("control: sync off"))
    record_property("power_loss_control", run.summary("control: sync off"))
    assert run.lost > 0, "with sync off a power cut must lose acknowledged assignments: the harness is blind"


def test_roll_back_restores_the_synced_state(tmp_path: Path) -> None:
    """The applier alone: undo records newest first restore bytes and size, durable records stay."""
    target, journal = tmp_path / "f", tmp_path / "j"
    target.write_bytes(b"AAAA")

    def record(kind: bytes, offset: int, old_size: int, length: int, data: bytes) -> bytes:
        return _RECORD.pack(kind, offset, old_size, length, len(data)) + data

    # write "BB" at 2 (old "AA", size 4), durable "C" at 0, then "DDDD" at 3 (old "B", size 4): file
    # is now "CABDDDD"; a torn trailing record is ignored.
    target.write_bytes(b"CABDDDD")
    journal.write_bytes(
        record(b"U", 2, 4, 2, b"AA")
        + record(b"D", 0, 4, 1, b"C")
        + record(b"U", 3, 4, 4, b"B")
        + b"U\x00\x01"
    )
    assert roll_back(journal, target) == (3, 3)
    assert target.read_bytes() == b"CAAA"
    assert journal.read_bytes() == b""


class _Fates(random.Random):
    """Decides every write's fate in the order given (newest first), and tears after one sector."""

    def __init__(self, *fates: str) -> None:
        super().__init__(0)
        self.fates = list(fates)

    def choice(self, seq: object) -> str:  # type: ignore[override]
        return self.fates.pop(0)

    def randrange(self, *args: object) -> int:  # type: ignore[override]
        return 1


def test_partial_roll_back_keeps_and_tears_writes(tmp_path: Path) -> None:
    """Partial loss: a kept write stays, even where an older lost write's undo would shrink the file;
    a torn write keeps its first sector and loses the rest."""
    target, journal = tmp_path / "f", tmp_path / "j"
    s = SECTOR
    # Synced: "a" * s. Then three unsynced writes: "b" * s appended at s (the file grows to 2s), "c" * 2s
    # over 0..2s, "d" * s appended at 2s (3s).
    target.write_bytes(b"c" * 2 * s + b"d" * s)
    journal.write_bytes(
        _RECORD.pack(b"U", s, s, s, 0)
        + _RECORD.pack(b"U", 0, 2 * s, 2 * s, 2 * s)
        + b"a" * s
        + b"b" * s
        + _RECORD.pack(b"U", 2 * s, 2 * s, s, 0)
    )
    # newest first: "d" kept, "c" torn after one sector, "b" lost
    roll_back(journal, target, _Fates("kept", "torn", "lost"))
    assert target.read_bytes() == b"c" * s + b"b" * s + b"d" * s
