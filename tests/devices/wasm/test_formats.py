"""AO module formats (formats.py): detection from the binary, the `Module-Format` tag checked against it,
the exports every format calls; and, through a real node over gRPC, a module that could never compute is
refused at spawn with INVALID_ARGUMENT."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import wasmtime

from aonode.client import ClientError, NodeClient, build_module, build_process
from aonode.crypto import Ed25519Signer
from aonode.devices.wasm import formats
from aonode.ids import encode_id
from tests.conformance.conftest import FIXTURES, Fixture, require
from tests.conftest import ServerThread, make_config

USER = Ed25519Signer.generate()


def wat(imports: str = "", exports: str = "handle malloc", memory: str = "1") -> bytes:
    funcs = "".join(
        f'(func (export "{name}") (param i32 i32) (result i32) (i32.const 0))' for name in exports.split()
    )
    return bytes(wasmtime.wat2wasm(f'(module {imports} (memory (export "memory") {memory}) {funcs})'))


@pytest.mark.parametrize(
    ("imports", "memory", "expected"),
    [
        ("", "1", "wasm32-unknown-emscripten3"),
        ('(import "env" "getTempRet0" (func (result i32)))', "1", "wasm32-unknown-emscripten"),
        ('(import "env" "_emscripten_system" (func (param i32) (result i32)))', "1",
         "wasm32-unknown-emscripten4"),
        ('(import "metering" "usegas" (func (param i32)))', "1", "wasm32-unknown-emscripten-metering"),
        ("", "i64 1", "wasm64-unknown-emscripten-draft_2024_02_15"),
        ('(import "metering" "usegas" (func (param i64)))', "i64 1",
         "wasm64-unknown-emscripten-draft_2024_10_16-metering"),
    ],
)  # fmt: skip
def test_detected_from_the_binary(imports: str, memory: str, expected: str) -> None:
    assert formats.resolve(wat(imports, memory=memory), None) == expected


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.name for f in FIXTURES])
def test_the_fixtures_are_detected_as_what_they_are(fixture: Fixture) -> None:
    assert formats.resolve(require(fixture), None) == fixture.format


def test_a_declared_format_wins_when_it_fits() -> None:
    assert formats.resolve(wat(), "wasm32-unknown-emscripten2") == "wasm32-unknown-emscripten2"


@pytest.mark.parametrize(
    ("code", "declared", "says"),
    [
        (wat(), "wasm32-unknown-unknown", "is not a format this node runs"),
        (wat(), "wasm64-unknown-emscripten-draft_2024_02_15", "which has a 32-bit memory"),
        (wat(memory="i64 1"), "wasm32-unknown-emscripten4", "which has a 64-bit (memory64) memory"),
        (wat(exports="handle"), None, "does not export malloc"),
        (wat(exports="malloc"), None, "does not export handle"),
        (bytes(wasmtime.wat2wasm('(module (func (export "handle")))')), None, "has no memory"),
        (b"not wasm", None, "not a WebAssembly binary"),
    ],
    ids=["unknown", "wasm64-on-32", "wasm32-on-64", "no-malloc", "no-handle", "no-memory", "not-wasm"],
)
def test_refused(code: bytes, declared: str | None, says: str) -> None:
    with pytest.raises(formats.FormatError, match=re.escape(says)):
        formats.resolve(code, declared)


MINIFIED_UNKNOWN_LETTER = bytes(
    wasmtime.wat2wasm(
        '(module (import "a" "zz" (func)) (memory (export "E") 1)'
        ' (func (export "G") (param i32 i32) (result i32) (i32.const 0))'
        ' (func (export "J") (param i32) (result i32) (i32.const 0)))'
    )
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[NodeClient]:
    server = ServerThread(make_config(tmp_path / "node")).start()
    try:
        with NodeClient(server.address, timeout=60) as c:
            yield c
    finally:
        server.stop()


def spawn(client: NodeClient, code: bytes, tags: list[tuple[str, str]]) -> ClientError:
    module = build_module(USER, code, "application/wasm", tags)
    client.publish(module)
    process = build_process(
        USER, module=encode_id(module.id), scheduler=client.info().address, device="wasm64@1.0"
    )
    with pytest.raises(ClientError) as caught:
        client.schedule(process)
    with pytest.raises(ClientError):
        client.get_slot(encode_id(process.id))  # nothing written
    return caught.value


def test_spawn_refuses_a_module_that_could_never_compute(client: NodeClient) -> None:
    for code, tags, says in [
        (wat(exports="malloc"), [], "does not export handle"),
        (wat(), [("Module-Format", "wasm64-unknown-emscripten-draft_2024_02_15")], "32-bit memory"),
        (wat(), [("Module-Format", "nonsense")], "is not a format"),
        (wat('(import "b" "zz" (func))'), [], "b.zz"),  # minified names of no glue this node knows
        (MINIFIED_UNKNOWN_LETTER, [], "a.zz"),  # the minified glue has no such letter
    ]:
        error = spawn(client, code, tags)
        assert error.code == "INVALID_ARGUMENT" and says in error.details


def test_the_minified_glue_is_checked_through_its_letters() -> None:
    good = bytes(
        wasmtime.wat2wasm(
            '(module (import "a" "h" (func (result i32))) (memory (export "E") 1)'
            ' (func (export "G") (param i32 i32) (result i32) (i32.const 0))'
            ' (func (export "J") (param i32) (result i32) (i32.const 0)))'
        )
    )
    assert formats.resolve(good, None) == "wasm32-unknown-emscripten"
    with pytest.raises(formats.FormatError, match="only the glue of wasm32-unknown-emscripten"):
        formats.resolve(good, "wasm32-unknown-emscripten4")
    no_handle = bytes(
        wasmtime.wat2wasm('(module (import "a" "h" (func (result i32))) (memory (export "E") 1))')
    )
    with pytest.raises(formats.FormatError, match="does not export handle, malloc"):
        formats.resolve(no_handle, None)
