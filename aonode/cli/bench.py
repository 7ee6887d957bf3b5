"""`aonode bench NAME`: run a benchmark; print a table, or with --json one document (DESIGN §8)."""

from __future__ import annotations

import json

import click

from aonode.bench import BENCHMARKS, load


@click.command()
@click.argument("name", type=click.Choice(sorted(BENCHMARKS)))
@click.option(
    "--runs", type=click.IntRange(min=1), default=3, show_default=True, help="Repetitions per figure."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def bench(name: str, runs: int, as_json: bool) -> None:
    """Run benchmark NAME and report the median of --runs runs of each figure."""
    report = load(name)(runs, lambda text: click.echo(f"... {text}", err=True))
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else report.to_text())
