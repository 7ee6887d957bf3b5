"""The benchmark commands run end to end (at a tiny scale: these are smoke tests, not measurements)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aonode.bench import schedule
from aonode.cli import cli


def test_schedule_bench_reports_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CATCHUP": 600,
        "UNARY_CALLS": 100,
        "STREAM_MESSAGES": 200,
        "RATE_MESSAGES": 100,
    }.items():
        monkeypatch.setattr(schedule, name, value)
    monkeypatch.setattr(schedule, "WARM", 20)
    result = CliRunner().invoke(cli, ["bench", "schedule", "--runs", "1", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["bench"] == "schedule"
    expected = {
        "echo",
        "schedule_unary",
        "schedule_stream",
        "latency_p50",
        "latency_p99",
        "subscribe_catchup",
        "subscribe_catchup_canonical",
    }
    assert set(document["figures"]) == expected
    for figure in document["figures"].values():
        assert figure["value"] > 0 and len(figure["runs"]) == 1
    assert document["ratios"]["schedule_vs_echo"] > 0


def test_wasm_bench_reports_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    from aonode.bench import wasm

    monkeypatch.setattr(wasm, "N", 40)
    monkeypatch.setattr(wasm, "SNAPSHOT_EVERY", 10)
    monkeypatch.setattr(wasm, "RESTORE_MIB", 2)
    monkeypatch.setattr(wasm, "GROW_STEP_KIB", 512)
    result = CliRunner().invoke(cli, ["bench", "wasm", "--runs", "1", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["bench"] == "wasm"
    expected = {"count", "snapshot_bytes", "snapshot_memory", "restore", "restore_from_store", "floor"}
    assert set(document["figures"]) == expected
    for figure in document["figures"].values():
        assert figure["value"] > 0 and len(figure["runs"]) == 1
    assert document["figures"]["snapshot_memory"]["value"] >= 2 * 1024 * 1024
    assert 0 < document["ratios"]["snapshot_vs_memory"] < 1
    assert document["ratios"]["engine_vs_floor"] > 0


def test_wasm_bench_module_is_the_committed_test_module() -> None:
    from aonode.bench import wasm

    committed = Path(__file__).parents[1] / "devices" / "wasm" / "modules" / "aos.wasm"
    assert wasm.module_wasm() == committed.read_bytes(), "copy tests/devices/wasm/modules/aos.wasm"


def test_compute_bench_reports_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    from aonode.bench import compute

    monkeypatch.setattr(compute, "N", 30)
    monkeypatch.setattr(compute, "REPLAY", 80)
    result = CliRunner().invoke(cli, ["bench", "compute", "--runs", "1", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["bench"] == "compute"
    assert set(document["figures"]) == {"eval", "transfer", "cold_replay", "floor"}
    for figure in document["figures"].values():
        assert figure["value"] > 0 and len(figure["runs"]) == 1 and figure["unit"] == "slots/s"
    figures = document["figures"]
    ratio = document["ratios"]["engine_vs_floor"]
    assert ratio > 0
    assert ratio == pytest.approx(figures["transfer"]["value"] / figures["floor"]["value"], abs=0.002)
