"""Benchmarks, run as commands (`aonode bench NAME`), never as timed tests.

A benchmark measures figures over repeated runs and reports each as the median of its runs, with every
run's value kept; ratios are computed from medians measured in the same invocation. `--json` prints
`{"bench": NAME, "figures": {KEY: {"value", "unit", "runs"}}, "ratios": {KEY: X}}` (DESIGN §8).
Each benchmark starts what it needs (a node on a temp dir, in its own process) and stops it afterwards.
"""

from __future__ import annotations

import importlib
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figure:
    unit: str
    runs: list[float] = field(default_factory=list)
    higher_is_better: bool = True

    @property
    def value(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")


@dataclass
class Report:
    bench: str
    figures: dict[str, Figure] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, value: float, unit: str) -> None:
        self.figures.setdefault(key, Figure(unit)).runs.append(value)

    def ratio(self, key: str, numerator: str, denominator: str) -> None:
        bottom = self.figures[denominator].value
        self.ratios[key] = self.figures[numerator].value / bottom if bottom else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "figures": {
                key: {"value": round(f.value, 3), "unit": f.unit, "runs": [round(r, 3) for r in f.runs]}
                for key, f in self.figures.items()
            },
            "ratios": {key: round(value, 3) for key, value in self.ratios.items()},
            "notes": self.notes,
        }

    def to_text(self) -> str:
        width = max((len(k) for k in self.figures), default=10)
        lines = [f"bench {self.bench} (median of runs)"]
        for key, f in self.figures.items():
            runs = ", ".join(f"{r:,.1f}" for r in f.runs)
            lines.append(f"  {key:<{width}}  {f.value:>12,.1f} {f.unit:<14} runs: {runs}")
        for key, value in self.ratios.items():
            lines.append(f"  {key:<{width}}  {value:>12.3f} (ratio)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


BenchFn = Callable[..., Report]
"""`(runs, say, **options) -> Report`."""


BENCHMARKS = {
    "schedule": "aonode.bench.schedule:bench_schedule",
    "compute": "aonode.bench.compute:bench_compute",
    "wasm": "aonode.bench.wasm:bench_wasm",
    "wasm-idle": "aonode.bench.wasm:bench_wasm_idle",
    "replicate": "aonode.bench.replicate:bench_replicate",
    "http": "aonode.bench.http:bench_http",
}

MODULE_BENCHMARKS = frozenset({"wasm", "wasm-idle"})
"""Benchmarks that take `--module FILE` (a WASM binary), passed to them as `module=Path`."""


def load(name: str) -> BenchFn:
    """The benchmark function (imported only when run: each pulls in what it measures)."""
    module, _, function = BENCHMARKS[name].partition(":")
    bench: BenchFn = getattr(importlib.import_module(module), function)
    return bench
