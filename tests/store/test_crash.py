"""SIGKILL a writing child process at random moments; every write it acknowledged must survive.

Each cycle starts tests/store/crash_writer.py on the same directory, waits until it is writing, kills it
after 50-300 ms, reopens the store here and checks every acknowledgement of every cycle so far: the key
is present, its object is present and verifies, and each (cycle, thread) holds exactly the keys
0..counter (batches atomic, applied in order). As DESIGN.md §4 notes, a process kill cannot reveal a
missing fsync (the page cache survives it); this test covers atomicity, ordering and ack-after-commit.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from store import LmdbStore, read_u64

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("crash_writer.py")
CYCLES = 20
BUDGET_S = 15.0
THREADS = 4


def run_cycle(path: Path, cycle: int, rng: random.Random, stderr_path: Path) -> list[tuple[str, str]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    with stderr_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), str(cycle), str(THREADS)],
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            cwd=ROOT,
        )
    assert proc.stdout is not None
    lines: list[bytes] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line == b"ready\n":
                ready.set()
            else:
                lines.append(line)
        ready.set()  # EOF: the child died (or was killed)

    reader = threading.Thread(target=pump)
    reader.start()
    try:
        if not ready.wait(30) or proc.poll() is not None:
            pytest.fail(f"crash_writer did not start: {stderr_path.read_text()[-2000:]}")
        time.sleep(rng.uniform(0.05, 0.3))
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join(30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, stderr_path.read_text()[-2000:]
    assert b"Traceback" not in stderr_path.read_bytes(), stderr_path.read_text()[-2000:]
    acked = []
    for line in lines:
        if line.endswith(b"\n"):  # a line cut by the kill was never fully reported: not an ack
            key, hexdigest = line.decode().split()
            acked.append((key, hexdigest))
    return acked


def verify(path: Path, acked: dict[str, str]) -> int:
    with LmdbStore(path) as store, store.read() as view:
        for key, hexdigest in acked.items():
            d = bytes.fromhex(hexdigest)
            assert view.get("acked", key.encode()) == d, f"acknowledged write {key} lost"
            assert view.get_object(d) is not None, f"object of {key} lost"
        present = 0
        for counter_key, value in view.range("counter"):
            top = read_u64(value)
            keys = [k for k, _ in view.prefix("acked", counter_key + b"/")]
            assert sorted(int(k.rsplit(b"/", 1)[1]) for k in keys) == list(range(top + 1))
            present += len(keys)
        assert present >= len(acked)
        return present


@pytest.mark.slow
def test_sigkill_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "db"
    rng = random.Random()
    acked: dict[str, str] = {}
    deadline = time.monotonic() + BUDGET_S
    cycles = 0
    while cycles < CYCLES and time.monotonic() < deadline:
        new = run_cycle(path, cycles, rng, tmp_path / f"stderr-{cycles}.txt")
        acked.update(new)
        present = verify(path, acked)
        # Committed but never acknowledged (killed between commit and reply) is allowed, not the reverse.
        assert present >= len(acked)
        cycles += 1
    assert cycles >= 5, f"only {cycles} cycles fit in {BUDGET_S} s"
    assert len(acked) > 100 * cycles // 10, f"too few acknowledged writes ({len(acked)})"
