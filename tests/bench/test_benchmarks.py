"""The benchmark commands run end to end (at a tiny scale: these are smoke tests, not measurements)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aonode.bench import schedule
from aonode.cli import cli

AOS_C_MODULE = Path(__file__).parents[1] / "devices" / "wasm" / "modules" / "aos.wasm"


def _run(
    name: str, figures: set[str], may_be_zero: frozenset[str] = frozenset(), *options: str
) -> dict[str, Any]:
    """`aonode bench NAME --runs 1 --json [OPTIONS]`: the document, checked to hold exactly `figures`, each
    positive (or, for `may_be_zero`, not negative) with one run."""
    result = CliRunner().invoke(cli, ["bench", name, "--runs", "1", "--json", *options])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict) and document["bench"] == name
    assert set(document["figures"]) == figures
    for key, figure in document["figures"].items():
        assert len(figure["runs"]) == 1
        assert figure["value"] >= 0 if key in may_be_zero else figure["value"] > 0, key
    return document


def test_schedule_bench_reports_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CATCHUP": 600,
        "UNARY_CALLS": 100,
        "STREAM_MESSAGES": 200,
        "RATE_MESSAGES": 100,
    }.items():
        monkeypatch.setattr(schedule, name, value)
    monkeypatch.setattr(schedule, "WARM", 20)
    expected = {
        "echo",
        "schedule_unary",
        "schedule_stream",
        "latency_p50",
        "latency_p99",
        "subscribe_catchup",
        "subscribe_catchup_canonical",
    }
    # The node's CPU per call, read from /proc in clock ticks: a tiny run may see no tick pass.
    cpu = frozenset({"echo_node_cpu", "unary_node_cpu", "stream_node_cpu"})
    document = _run("schedule", expected | cpu, may_be_zero=cpu)
    assert document["ratios"]["schedule_vs_echo"] > 0
    assert all(document["figures"][key]["unit"] == "us/call" for key in cpu)


def test_wasm_bench_reports_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    from aonode.bench import wasm

    monkeypatch.setattr(wasm, "N", 40)
    monkeypatch.setattr(wasm, "SNAPSHOT_EVERY", 10)
    monkeypatch.setattr(wasm, "RESTORE_MIB", 2)
    monkeypatch.setattr(wasm, "GROW_STEP_KIB", 512)
    monkeypatch.setattr(wasm, "default_aos_module", lambda: None)  # the AOS figures: the next test
    expected = {"count", "snapshot_bytes", "snapshot_memory", "restore", "restore_from_store", "floor"}
    document = _run("wasm", expected)
    assert document["figures"]["snapshot_memory"]["value"] >= 2 * 1024 * 1024
    assert 0 < document["ratios"]["snapshot_vs_memory"] < 1
    assert document["ratios"]["engine_vs_floor"] > 0


def test_wasm_bench_measures_a_given_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--module FILE`: eval slots/s through a node, the binary's bare `handle` floor, first-slot latency
    (a real AOS binary in `aonode bench wasm`; the AOS-style C module here, to be quick)."""
    from aonode.bench import wasm

    monkeypatch.setattr(wasm, "EVALS", 20)
    keys = {"first_slot", "eval", "eval_floor", "eval_cpu", "eval_floor_cpu"}
    document = _run("wasm", keys, frozenset(), "--module", str(AOS_C_MODULE))
    figures = document["figures"]
    assert figures["eval"]["unit"] == figures["eval_floor"]["unit"] == "slots/s"
    assert figures["eval_cpu"]["unit"] == figures["eval_floor_cpu"]["unit"] == "slots/cpu-s"
    assert figures["first_slot"]["unit"] == "ms"
    assert document["ratios"]["aos_vs_floor"] == pytest.approx(
        figures["eval"]["value"] / figures["eval_floor"]["value"], abs=0.002
    )
    assert document["ratios"]["aos_vs_floor_cpu"] > 0


def test_wasm_idle_bench_reports_the_node_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from aonode.bench import wasm

    monkeypatch.setattr(wasm, "IDLE", 3)
    document = _run(
        "wasm-idle", {"rss_base", "rss_idle", "rss_anon_idle"}, frozenset(), "--module", str(AOS_C_MODULE)
    )
    assert all(figure["unit"] == "MiB" for figure in document["figures"].values())


def test_module_option_is_refused_where_it_does_not_apply() -> None:
    result = CliRunner().invoke(cli, ["bench", "schedule", "--module", str(AOS_C_MODULE)])
    assert result.exit_code == 2 and "--module applies to" in result.output


def test_wasm_bench_module_is_the_committed_test_module() -> None:
    from aonode.bench import wasm

    committed = Path(__file__).parents[1] / "devices" / "wasm" / "modules" / "aos.wasm"
    assert wasm.module_wasm() == committed.read_bytes(), "copy tests/devices/wasm/modules/aos.wasm"


def test_compute_bench_reports_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    from aonode.bench import compute

    monkeypatch.setattr(compute, "N", 30)
    monkeypatch.setattr(compute, "REPLAY", 80)
    document = _run("compute", {"eval", "transfer", "cold_replay", "floor"})
    assert all(figure["unit"] == "slots/s" for figure in document["figures"].values())
    figures = document["figures"]
    ratio = document["ratios"]["engine_vs_floor"]
    assert ratio > 0
    assert ratio == pytest.approx(figures["transfer"]["value"] / figures["floor"]["value"], abs=0.002)


def test_replicate_bench_reports_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    from aonode.bench import replicate

    monkeypatch.setattr(replicate, "LIVE", 50)
    result = CliRunner().invoke(cli, ["bench", "replicate", "--runs", "1", "--size", "200", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document["figures"]) == {"catchup", "verify_floor", "live_lag_p50", "live_lag_p99"}
    assert document["figures"]["catchup"]["value"] > 0 and document["ratios"]["catchup_vs_floor"] > 0
    assert CliRunner().invoke(cli, ["bench", "schedule", "--size", "200"]).exit_code == 2
