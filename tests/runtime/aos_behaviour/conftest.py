"""The AOS behaviour suite's runtimes: every test runs, through a real node over gRPC, on the built-in
runtime (`lua@5.3a`) and on each WASM AOS fixture in `../shared/conformance/wasm/` (read-only binaries
of real AOS builds; see that folder's README). A fixture that is absent fails under CI and is skipped
elsewhere (as tests/conformance does); a fixture that is present but that the node cannot spawn or compute
fails every test of it, with the node's own error: the node runs all three, so that is a regression."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

from aonode.client import ClientError, NodeClient, build_message, build_module, build_process
from aonode.crypto import Ed25519Signer, Signer
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.model import Assignment, Result
from tests.conformance.conftest import FIXTURES_DIR
from tests.conftest import ServerThread, make_config, plain

CONFORMANCE = FIXTURES_DIR  # ../shared/conformance/wasm, or $AONODE_CONFORMANCE/wasm

# name -> (file, extra module tags); the ao Module-Format of each file is in the fixtures' README
WASM_FIXTURES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "aos2-wasm64": (
        "aos2-wasm64-legacy-eh.wasm",
        (("Module-Format", "wasm64-unknown-emscripten-draft_2024_02_15"),),
    ),
    "aos-wasm32-em4": ("aos-wasm32-emscripten4.wasm", (("Module-Format", "wasm32-unknown-emscripten4"),)),
    "aos-wasm32-metered": (
        "aos-wasm32-emscripten-metered.wasm",
        (("Module-Format", "wasm32-unknown-emscripten"),),
    ),
}
MODULE_TAGS = (("Input-Encoding", "JSON-1"), ("Output-Encoding", "JSON-1"), ("Memory-Limit", "1-gb"))
WASM_DEVICE = "wasm64@1.0"

OWNER = Ed25519Signer.from_private_bytes(b"O" * 32)
STRANGER = Ed25519Signer.from_private_bytes(b"S" * 32)


@dataclass
class Runtime:
    """How to spawn an AOS process on one runtime of the node."""

    name: str
    module: str
    device: str

    @property
    def builtin(self) -> bool:
        return self.device == "lua@5.3a"


def output_text(result: Result) -> str:
    """A result's output text without colours and surrounding whitespace. AOS 1 (the metered fixture)
    answers an Eval with the table `{json, output, prompt}` where AOS 2 gives the text: the same value,
    presented differently, so both read the same here (an absent `output` is the empty text)."""
    text = plain(result.output.data).strip()
    if text.startswith("{") and '"prompt"' in text:
        try:
            table = json.loads(text)
        except ValueError:
            return text
        if isinstance(table, dict) and "prompt" in table:
            value = table.get("output", "")
            return (value if isinstance(value, str) else json.dumps(value)).strip()
    return text


class AosProcess:
    """One process on a runtime, driven over gRPC; outputs and errors come back without colour codes."""

    def __init__(self, client: NodeClient, pid: str, runtime: Runtime) -> None:
        self.client, self.pid, self.runtime = client, pid, runtime

    def send(
        self,
        action: str | None = None,
        data: str = "",
        tags: Sequence[tuple[str, str]] = (),
        signer: Signer = OWNER,
    ) -> tuple[Assignment, Result]:
        message = build_message(signer, self.pid, action=action, data=data.encode(), tags=list(tags))
        assignment = self.client.schedule(message)
        result = self.client.compute(self.pid, assignment.slot).result
        return assignment, result

    def eval(self, code: str, signer: Signer = OWNER) -> Result:
        return self.send("Eval", code, signer=signer)[1]

    def ok(self, code: str) -> str:
        """Output of an Eval that must succeed, without colours and surrounding whitespace."""
        r = self.eval(code)
        assert not r.error, plain(r.error)
        return output_text(r)


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    running = ServerThread(make_config(tmp_path_factory.mktemp("aos-behaviour") / "node")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(node: ServerThread) -> Iterator[NodeClient]:
    with NodeClient(node.address, timeout=120) as c:
        yield c


@functools.cache
def _wasm_module(name: str) -> bytes:
    file, _ = WASM_FIXTURES[name]
    return (CONFORMANCE / file).read_bytes()


_unavailable: dict[str, str] = {}


def _spawn(client: NodeClient, runtime: Runtime, tags: Sequence[tuple[str, str]] = (), data: str = "") -> str:
    node_address = client.info().address
    all_tags = list(tags)
    if not any(n == "Authority" for n, _ in all_tags):
        all_tags.append(("Authority", node_address))
    process = build_process(
        OWNER,
        module=runtime.module,
        scheduler=node_address,
        device=runtime.device,
        tags=all_tags,
        data=data.encode(),
    )
    client.schedule(process)
    return encode_id(process.id)


def _runtime(client: NodeClient, name: str) -> Runtime:
    if name == "builtin":
        return Runtime(name, encode_id(runtime_module().id), "lua@5.3a")
    if name in _unavailable:
        pytest.fail(_unavailable[name])
    file, tags = WASM_FIXTURES[name]
    if not (CONFORMANCE / file).exists():
        message = f"{file} is not in {CONFORMANCE}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    module = build_module(OWNER, _wasm_module(name), "application/wasm", tags=[*tags, *MODULE_TAGS])
    runtime = Runtime(name, encode_id(module.id), WASM_DEVICE)
    try:
        client.publish(module)
        pid = _spawn(client, runtime)
        probe = AosProcess(client, pid, runtime).eval("return 1 + 1")
    except ClientError as exc:
        _unavailable[name] = f"the node cannot spawn {file} ({WASM_DEVICE}): {exc}"
        pytest.fail(_unavailable[name])
    if probe.error or "2" not in plain(probe.output.data):
        _unavailable[name] = (
            f"the node cannot compute {file} ({WASM_DEVICE}): {plain(probe.error or probe.output.data)[:300]}"
        )
        pytest.fail(_unavailable[name])
    return runtime


@pytest.fixture(params=["builtin", *WASM_FIXTURES])
def runtime(request: pytest.FixtureRequest, client: NodeClient) -> Runtime:
    """The test module's `FIXTURES_DISAGREE` maps (test name, runtime) to the reason the behaviour differs
    on that runtime (docs/runtime.md, "Where the fixtures disagree"): just that parameter is a strict
    xfail, so a fixture or node change that makes it pass is noticed."""
    disagree: dict[tuple[str, str], str] = getattr(request.module, "FIXTURES_DISAGREE", {})
    reason = disagree.get((request.node.originalname, request.param))
    if reason is not None:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=reason))
    return _runtime(client, request.param)


Spawn = Callable[..., AosProcess]


@pytest.fixture
def spawn(client: NodeClient, runtime: Runtime) -> Spawn:
    """spawn(tags=(), data="") -> AosProcess on the test's runtime (Authority = the node unless given)."""

    def make(tags: Sequence[tuple[str, str]] = (), data: str = "") -> AosProcess:
        return AosProcess(client, _spawn(client, runtime, tags, data), runtime)

    return make


@pytest.fixture
def proc(spawn: Spawn) -> AosProcess:
    return spawn()
