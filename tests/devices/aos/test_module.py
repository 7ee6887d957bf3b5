"""The Python API of the built-in runtime: one deterministic chunk, an unsigned module message."""

from __future__ import annotations

import pytest

from aonode.devices.aos import RUNTIME_VERSION, example_source, runtime_module, runtime_source


def test_source_is_one_deterministic_chunk() -> None:
    src = runtime_source()
    assert src == runtime_source()
    assert src.startswith(b"-- aonode-aos " + RUNTIME_VERSION.encode())
    assert b"\r\n" not in src
    assert f'local AOS_RUNTIME_VERSION = "{RUNTIME_VERSION}"'.encode() in src
    for name in (b'"json"', b'".handlers"', b'".ao"', b'".process"'):
        assert b"_PRELOAD[" + name + b"]" in src


def test_module_message() -> None:
    m = runtime_module()
    assert m.signature is None
    assert m.data == runtime_source()
    assert [(t.name, t.value) for t in m.tags] == [
        ("Data-Protocol", "ao"),
        ("Type", "Module"),
        ("Content-Type", "text/x-lua"),
        ("Module-Format", "lua@5.3a"),
        ("Name", "aonode-aos"),
        ("Version", RUNTIME_VERSION),
    ]
    assert bytes(m.id) == bytes(m.content_digest)
    m.validate()


def test_examples() -> None:
    assert b'Handlers.add("Transfer"' in example_source("token")
    with pytest.raises(ValueError):
        example_source("nope")
    with pytest.raises(ValueError):
        example_source("../__init__")
