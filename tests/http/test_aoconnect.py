"""The real `@permaweb/aoconnect` (npm, tests/http/js) against a real node (`aonode serve --http`), in
legacy mode (MU, CU and gateway URLs all the node) and mainnet mode (HyperBEAM's paths): spawn, an Eval,
a handler that replies, result, results and dryrun (and, in legacy mode, monitor and assign), on the
built-in Lua runtime and on a real WASM AOS module (published as an ANS-104 item by `aonode module publish`).

The npm packages come from tests/http/js/package-lock.json (`npm ci --prefix tests/http/js`, which
`make test` and .ci/run do); without them the tests skip locally and fail in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aonode.cli import cli
from aonode.client import NodeClient
from aonode.testing import LocalNode, free_port
from tests.conftest import plain

JS = Path(__file__).parent / "js"
CONFORMANCE = Path(
    os.environ.get("AONODE_CONFORMANCE", Path(__file__).parents[2].parent / "shared" / "conformance")
)
WASM = CONFORMANCE / "wasm" / "aos-wasm32-emscripten4.wasm"


def _need_js() -> None:
    missing = shutil.which("node") is None or not (JS / "node_modules" / "@permaweb" / "aoconnect").is_dir()
    if missing:
        if os.environ.get("CI"):
            pytest.fail("tests/http/js/node_modules is missing: run `npm ci --prefix tests/http/js`")
        pytest.skip("aoconnect is not installed (npm ci --prefix tests/http/js)")


@pytest.fixture(scope="module")
def http_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, str]]:
    _need_js()
    data = tmp_path_factory.mktemp("aoconnect") / "node"
    data.mkdir()
    port = free_port()
    node = LocalNode(data, "--http", f"127.0.0.1:{port}").start()
    try:
        yield node, f"http://127.0.0.1:{port}"
    finally:
        node.stop()


def run_aoconnect(mode: str, url: str, scheduler: str, module: str) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "aoconnect.mjs", mode, url, scheduler, module],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"aoconnect failed:\n{done.stderr[-4000:]}"
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def check(out: dict[str, Any]) -> None:
    assert len(out["process"]) == 43
    assert plain(out["eval"]["Output"]["data"]) == "42" and not out["eval"]["Error"]
    replies = out["ping"]["Messages"]
    assert [m["Data"] for m in replies] == ["pong 41"]
    assert replies[0]["Target"] == out["wallet"]  # the reply goes to the wallet that sent Ping
    edges = out["results"]["edges"]
    assert edges and edges[0]["cursor"] == "3"  # DESC: the newest slot first
    assert [m["Data"] for m in edges[0]["node"]["Messages"]] == ["pong 41"]
    assert plain(out["dryrun"]["Output"]["data"]) == "X is 41"
    if out["mode"] == "legacy":  # the ID of the signed monitor request aoconnect sent
        assert len(out["monitor"]) == 43 and len(out["unmonitor"]) == 43
        # assign(): an assignment ID, the same one again (idempotent); the process refuses the
        # assignment as AOS 2 does (it declared no assignable), with a note to the Ping's sender.
        assert len(out["assignment"]) == 43 and out["assignedAgain"] == out["assignment"]
        notes = out["assigned"]["Messages"]
        assert [m["Data"] for m in notes] == ["Assignment is not trusted by this process!"]
        assert notes[0]["Target"] == out["wallet"]


def publish_wasm(node: LocalNode, tmp: Path) -> str:
    if not WASM.is_file():
        message = f"conformance fixture {WASM} is absent (expected at ../shared/conformance)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    wallet = tmp / "publisher.json"
    runner = CliRunner()
    assert runner.invoke(cli, ["wallet", "new", "--out", str(wallet)]).exit_code == 0
    published = runner.invoke(
        cli,
        ["module", "publish", str(WASM), "--format", "wasm32-unknown-emscripten4", "--memory-limit", "1-gb",
         "--wallet", str(wallet), "--node", node.address, "--json"],
    )  # fmt: skip
    assert published.exit_code == 0, published.output
    module_id: str = json.loads(published.output)["id"]
    return module_id


@pytest.mark.parametrize("mode", ["legacy", "mainnet"])
def test_aoconnect_on_the_builtin_runtime(http_node: tuple[LocalNode, str], mode: str) -> None:
    node, url = http_node
    with NodeClient(node.address) as client:
        info = client.info()
    check(run_aoconnect(mode, url, info.address, info.runtime_module))


@pytest.mark.parametrize("mode", ["legacy", "mainnet"])
def test_aoconnect_on_a_wasm_aos_module(http_node: tuple[LocalNode, str], mode: str, tmp_path: Path) -> None:
    node, url = http_node
    module = publish_wasm(node, tmp_path)
    with NodeClient(node.address) as client:
        scheduler = client.info().address
        # The module is an ANS-104 item, served with the tags aoconnect's legacy spawn checks.
        assert client.get_message(module).tag("Module-Format") == "wasm32-unknown-emscripten4"
    check(run_aoconnect(mode, url, scheduler, module))
