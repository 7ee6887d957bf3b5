"""`python -m aonode.compute.replay`: the same per-slot digests and hashpaths from separate OS processes with
different hash seeds, equal to what the node stored; `--check` reports a difference."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aonode.compute.replay import main
from aonode.ids import encode_id
from store import LmdbStore
from tests.compute import fakes
from tests.compute.helpers import engine, process_message, run, scheduler, spawn

REGISTRY = "tests.compute.helpers:registry"


def _node(path: Path) -> str:
    store = LmdbStore(path / "store")
    sched = scheduler(store)
    eng = engine(store, sched)
    try:
        pid = run(spawn(sched, process_message(), [f"m{i}" for i in range(30)] + ["error", "patch"]))
        run(eng.now(pid))
        return encode_id(pid)
    finally:
        eng.close()
        sched.close()
        store.close()


def _replay(data: Path, pid: str, seed: str) -> list[dict[str, object]]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run(
        [sys.executable, "-m", "aonode.compute.replay", str(data), pid, "--check", "--registry", REGISTRY],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    return [json.loads(line) for line in out.stdout.decode().splitlines()]


def test_replay_in_two_os_processes_gives_the_stored_results(tmp_path: Path) -> None:
    pid = _node(tmp_path)
    first = _replay(tmp_path, pid, "1")
    second = _replay(tmp_path, pid, "2")
    assert first == second
    assert len(first) == 33 and [line["slot"] for line in first] == list(range(33))
    assert all(line["stored"] == "same" for line in first)
    assert first[31]["error"] == "boom at slot 31"


def test_check_reports_a_difference(tmp_path: Path) -> None:
    pid = _node(tmp_path)
    fakes.FakeDevice.salt = b"another version"
    assert main([str(tmp_path), pid, "--check", "--registry", REGISTRY]) == 1
    assert main([str(tmp_path), pid, "--to", "3", "--registry", REGISTRY]) == 0
    assert main([str(tmp_path), encode_id(bytes(32)), "--registry", REGISTRY]) == 2
