"""The real AOS binaries of `../shared/conformance/wasm/` (relative to the project root; CI has them).

Absent: the tests fail loudly when `CI` is set (`CI=true`), and are skipped with the reason otherwise.
Each fixture is published as ao publishes an AOS module: its `Module-Format`, `Compute-Limit` 9e12 and
`Memory-Limit` 1-gb tags (what `aos` publishes), and the node reads the limits from those tags.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from aonode.client import NodeClient, build_module, build_process
from aonode.crypto import Signer
from aonode.ids import encode_id

ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = Path(os.environ.get("AONODE_CONFORMANCE", ROOT.parent / "shared" / "conformance")) / "wasm"


@dataclass(frozen=True)
class Fixture:
    name: str
    file: str
    format: str
    aos2: bool
    """AOS 2 (its `Output` is text; AOS 1 answers an eval with a JSON `{output, prompt}`)."""

    @property
    def path(self) -> Path:
        return FIXTURES_DIR / self.file

    def tags(self) -> list[tuple[str, str]]:
        return [
            ("Module-Format", self.format),
            ("Compute-Limit", "9000000000000"),
            ("Memory-Limit", "1-gb"),
            ("Input-Encoding", "JSON-1"),
            ("Output-Encoding", "JSON-1"),
        ]


FIXTURES = [
    Fixture(
        "wasm64-legacy-eh", "aos2-wasm64-legacy-eh.wasm", "wasm64-unknown-emscripten-draft_2024_02_15", True
    ),
    Fixture("wasm32-emscripten4", "aos-wasm32-emscripten4.wasm", "wasm32-unknown-emscripten4", True),
    Fixture(
        "wasm32-metered", "aos-wasm32-emscripten-metered.wasm", "wasm32-unknown-emscripten-metering", False
    ),
]


def require(fixture: Fixture) -> bytes:
    """The fixture's bytes; fails under CI, skips elsewhere, when it is absent."""
    if not fixture.path.is_file():
        message = f"conformance fixture {fixture.path} is absent (expected at ../shared/conformance)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return fixture.path.read_bytes()


def spawn_fixture(client: NodeClient, owner: Signer, fixture: Fixture) -> str:
    """Publish `fixture` as a module and schedule a wasm64@1.0 process on it whose `Authority` is the
    node (so the node's own messages, cron ticks among them, are trusted); its ID."""
    module = build_module(owner, require(fixture), "application/wasm", fixture.tags())
    client.publish(module)
    node = client.info().address
    process = build_process(
        owner, module=encode_id(module.id), scheduler=node, device="wasm64@1.0", tags=[("Authority", node)]
    )
    client.schedule(process)
    return encode_id(process.id)
