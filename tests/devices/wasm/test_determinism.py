"""Two OS processes computing the same schedule produce byte-identical results and snapshots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]


def _run(module: str) -> bytes:
    return subprocess.run(
        [sys.executable, "-m", "tests.devices.wasm.run_schedule", module],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout


@pytest.mark.parametrize("module", ["counter", "aos"])
def test_same_schedule_same_bytes_in_two_processes(module: str) -> None:
    if module == "aos" and not (Path(__file__).parent / "modules" / "aos.wasm").exists():
        pytest.skip("aos.wasm is not built")
    first, second = _run(module), _run(module)
    assert first == second
    assert b'"results"' in first
