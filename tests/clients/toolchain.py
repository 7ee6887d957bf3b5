"""Running the non-Python clients' toolchains from pytest.

A missing toolchain (go, node, the npm dependencies) fails under CI (`CI=true`, set by .ci/run, which
installs them) and skips elsewhere with the command that installs it, so a fresh clone on a laptop still
runs the rest of the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aonode.client import NodeClient
from tests.conftest import plain

ROOT = Path(__file__).resolve().parents[2]
GO_CLIENT = ROOT / "clients" / "go"
TS_CLIENT = ROOT / "clients" / "typescript"
GO_IMPORT = "aonode/clients/go"
# Debian's Go libraries (golang-google-grpc-dev, ...): no module proxy is needed or reachable.
DEBIAN_GOPATH = Path("/usr/share/gocode")


def require(available: bool, what: str, install: str) -> None:
    if available:
        return
    message = f"{what} missing: {install} (.ci/run installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    """Run a toolchain command; fail with its output if it fails."""
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def go_env(gopath: Path) -> dict[str, str]:
    """GOPATH mode over Debian's packaged sources: the client is linked into a temporary GOPATH under
    its import path, so the build needs no go.mod resolution and no network."""
    require(shutil.which("go") is not None, "go", "apt-get install golang-go")
    require(
        (DEBIAN_GOPATH / "src/google.golang.org/grpc").is_dir()
        and (DEBIAN_GOPATH / "src/lukechampine.com/blake3").is_dir(),
        "Debian's Go libraries",
        "apt-get install golang-google-grpc-dev golang-google-protobuf-dev"
        " golang-github-golang-protobuf-1-5-dev golang-lukechampine-blake3-dev",
    )
    link = gopath / "src" / GO_IMPORT
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(GO_CLIENT)
    # go needs a build cache; CI may run without HOME.
    cache = {} if os.environ.get("GOCACHE") or os.environ.get("HOME") else {"GOCACHE": str(gopath / "cache")}
    return {
        **os.environ,
        **cache,
        "GO111MODULE": "off",
        "GOPATH": f"{gopath}:{DEBIAN_GOPATH}",
        "GOPROXY": "off",
        "GOFLAGS": "",
        # Pure Go: no C compiler needed (and none is among the installed packages).
        "CGO_ENABLED": "0",
    }


def ts_ready() -> None:
    require(shutil.which("node") is not None, "node", "apt-get install nodejs npm")
    require(
        (TS_CLIENT / "node_modules" / ".bin" / "tsc").is_file(),
        "the TypeScript client's npm dependencies",
        "npm ci --prefix clients/typescript",
    )


def last_json_line(output: str) -> dict[str, Any]:
    lines = [line for line in output.splitlines() if line.startswith("{")]
    assert lines, f"no JSON line in:\n{output}"
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


def check_round_trip(output: str, address: str) -> None:
    """An example program's report (its last JSON line): the Eval at slot 1 answered 42 after the client
    verified slots 0 and 1, and what it verified is what the node holds."""
    report = last_json_line(output)
    assert plain(report["output"]) == "42"
    assert report["slot"] == 1 and report["verified_slots"] == 2
    with NodeClient(address) as client:
        computed = client.compute(report["process"], 1)
    assert plain(computed.result.output.data) == "42"
    assert computed.hashpath == report["hashpath"]
