"""Scraping a node's /metrics over HTTP and reading the samples back with prometheus_client's parser."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(address: str, path: str = "/metrics") -> Samples:
    """Every sample of `http://address/metrics`, keyed by (sample name, labels)."""
    with urllib.request.urlopen(f"http://{address}{path}", timeout=30) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain")
        text = reply.read().decode()
    return parse(text)


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: Samples, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The sample `name` with exactly `labels` (0 when absent: a counter child not created yet)."""
    return samples.get((name, frozenset((labels or {}).items())), 0.0)


def delta(after: Samples, before: Samples, name: str, labels: Mapping[str, str] | None = None) -> float:
    return value(after, name, labels) - value(before, name, labels)
