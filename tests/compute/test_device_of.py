"""`device_of`: a Process from an AO client that names no execution device (aoconnect legacy) or
`genesis-wasm@1.0` (aoconnect mainnet) runs on the device its module's Module-Format implies."""

from __future__ import annotations

from aonode.compute.definition import device_of
from aonode.devices.aos import runtime_module
from aonode.model import Message, Tag


def process(*tags: tuple[str, str]) -> Message:
    return Message(tags=(Tag("Type", "Process"), *(Tag(n, v) for n, v in tags)))


WASM_MODULE = Message(tags=(Tag("Type", "Module"), Tag("Module-Format", "wasm32-unknown-emscripten4")))


def test_an_explicit_device_wins() -> None:
    assert device_of(process(("Execution-Device", "stack@1.0")), WASM_MODULE) == "stack@1.0"
    assert device_of(process(("Execution-Device", "lua@5.3a")), WASM_MODULE) == "lua@5.3a"


def test_no_device_or_genesis_wasm_follow_the_module() -> None:
    for named in ((), (("execution-device", "genesis-wasm@1.0"),)):
        assert device_of(process(*named), WASM_MODULE) == "wasm64@1.0"
        assert device_of(process(*named), runtime_module()) == "lua@5.3a"
        assert device_of(process(*named), None) == "lua@5.3a"
    # A module without Module-Format keeps the old default (a WASM binary there is refused at spawn).
    assert device_of(process(), Message(data=b"\0asm\x01\0\0\0")) == "lua@5.3a"
