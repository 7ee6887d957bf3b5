"""`python -m aonode.compute.replay`: the same per-slot digests and hashpaths from separate OS processes with
different hash seeds, equal to what the node stored; `--check` reports a difference. For wasm64@1.0 (the C
module) also the snapshot manifest digests (`--snapshot-every`), which name every memory page by digest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aonode.compute import layout
from aonode.compute.replay import main
from aonode.ids import decode_id, encode_id
from store import LmdbStore
from tests.compute import fakes
from tests.compute.helpers import engine, process_message, run, scheduler, spawn
from tests.compute.lua_helpers import action
from tests.compute.test_wasm_engine import spawn_aos
from tests.devices.wasm.helpers import MODULES

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


def _replay(data: Path, pid: str, seed: str, *extra: str) -> list[dict[str, object]]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "aonode.compute.replay",
            str(data),
            pid,
            "--check",
            "--registry",
            REGISTRY,
            *extra,
        ],
        env=env,
        capture_output=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert out.returncode == 0, f"replay exited {out.returncode}: {out.stderr.decode()[-4000:]}"
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


def _wasm_node(path: Path) -> str:
    """A wasm64@1.0 process on the C module: ~60 slots of Count/Set/Send/Fail/Trap (and Get), computed
    by the node with a snapshot every 7 slots."""
    store = LmdbStore(path / "store")
    sched = scheduler(store)
    eng = engine(store, sched, snapshot_every=7)
    try:
        pid = spawn_aos(sched)
        kinds = [
            ("Count", "", ()), ("Set", "v", (("Key", "k"),)), ("Send", "hi", (("Recipient", "R" * 43),)),
            ("Fail", "", ()), ("Count", "", ()), ("Trap", "", ()), ("Get", "", (("Key", "k"),)),
        ]  # fmt: skip
        for i in range(60):
            name, data, tags = kinds[i % len(kinds)]
            run(sched.schedule(action(pid, name, f"{data}{i}" if data else "", f"w{i}", *tags)))
        assert run(eng.now(pid)).slot == 60
        return encode_id(pid)
    finally:
        eng.close()
        sched.close()
        store.close()


def test_wasm_replay_in_two_os_processes_gives_the_stored_results_and_snapshots(tmp_path: Path) -> None:
    if not (MODULES / "aos.wasm").exists():
        pytest.skip("aos.wasm is not built")
    pid = _wasm_node(tmp_path)
    first = _replay(tmp_path, pid, "1", "--snapshot-every", "7")
    second = _replay(tmp_path, pid, "2", "--snapshot-every", "7")
    assert first == second
    slots = [line for line in first if "slot" in line]
    snaps = [line for line in first if "snapshot" in line]
    assert [line["slot"] for line in slots] == list(range(61))
    assert all(line["stored"] == "same" for line in first)
    assert [line["snapshot"] for line in snaps] == list(range(7, 61, 7))
    errors = [str(line["error"]) for line in slots if line["error"]]
    assert any(e.startswith("wasm trap:") for e in errors) and len(errors) >= 16
    with LmdbStore(tmp_path / "store") as store, store.read() as view:
        stored = {s: layout.nearest_snapshot(view, decode_id(pid), s) for s in range(7, 61, 7)}
    assert {s: encode_id(ref.manifest) for s, ref in stored.items() if ref} == {
        line["snapshot"]: line["manifest"] for line in snaps
    }


def test_a_process_id_beginning_with_a_dash_is_an_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One real ID in 64 begins with "-"; argparse once read it as an option and stopped with a usage error
    # (a random process ID failed CI that way). Now it reaches replay, which looks for the process.
    dashed = "-0fJLRPBuxhC6ayilcIDLkyVHXr9keefbPKvTQOWzy8"
    assert main([str(tmp_path / "data"), dashed, "--to", "3"]) == 2
    assert f"process {dashed} is not scheduled" in capsys.readouterr().err
