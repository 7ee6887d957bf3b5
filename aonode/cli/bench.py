"""`aonode bench NAME`: run a benchmark; print a table, or with --json one document (DESIGN §8)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from aonode.bench import BENCHMARKS, MODULE_BENCHMARKS, load


@click.command()
@click.argument("name", type=click.Choice(sorted(BENCHMARKS)))
@click.option(
    "--runs", type=click.IntRange(min=1), default=3, show_default=True, help="Repetitions per figure."
)
@click.option(
    "--size", type=click.IntRange(min=100), default=None, help="replicate: assignments to catch up [20,000]."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--module",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="wasm, wasm-idle: the WASM binary to measure (a real AOS module).",
)
def bench(name: str, runs: int, size: int | None, as_json: bool, module: Path | None) -> None:
    """Run benchmark NAME and report the median of --runs runs of each figure."""

    def say(text: str) -> None:
        click.echo(f"... {text}", err=True)

    if size is not None:
        if name != "replicate":
            raise click.UsageError("--size applies to the replicate benchmark")
        from aonode.bench.replicate import bench_replicate

        report = bench_replicate(runs, say, size)
    elif module is not None:
        if name not in MODULE_BENCHMARKS:
            raise click.UsageError(f"--module applies to {', '.join(sorted(MODULE_BENCHMARKS))}, not {name}")
        report = load(name)(runs, say, module=module)
    else:
        report = load(name)(runs, say)
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else report.to_text())
