"""The spawn check for lua@5.3a (compute/validate.py) over gRPC: a Process with no usable Lua module is
refused at Schedule, before its slot 0 exists, instead of failing every compute later."""

from __future__ import annotations

import pytest

from aonode.client import ClientError, NodeClient, build_module
from aonode.crypto import Ed25519Signer, sign_message
from aonode.devices.aos import runtime_module
from aonode.ids import encode_id
from aonode.model import Message, Tag
from tests.compute.lua_helpers import COUNTER_MODULE, needs_lua
from tests.conftest import ServerThread

pytestmark = needs_lua


def _process(scheduler: str, signer: Ed25519Signer, *extra: Tag, data: bytes = b"") -> Message:
    tags = (
        Tag("Data-Protocol", "ao"),
        Tag("Type", "Process"),
        Tag("Scheduler", scheduler),
        Tag("Execution-Device", "lua@5.3a"),
        *extra,
    )
    return sign_message(Message(tags=tags, data=data), signer)


def _refused(client: NodeClient, process: Message) -> ClientError:
    with pytest.raises(ClientError) as caught:
        client.schedule(process)
    with pytest.raises(ClientError) as absent:
        client.get_slot(encode_id(process.id))
    assert absent.value.code == "NOT_FOUND"
    return caught.value


def test_a_lua_process_without_a_usable_module_is_refused_at_schedule(server: ServerThread) -> None:
    user = Ed25519Signer.generate()
    with NodeClient(server.address, timeout=60) as client:
        me = client.info().address
        no_module = _refused(client, _process(me, user, data=b"hello"))
        assert no_module.code == "INVALID_ARGUMENT" and "needs a module" in no_module.details
        # A Content-Type that is not a Lua one is not an inline module.
        text_lua = _refused(client, _process(me, user, Tag("Content-Type", "text/lua"), data=b"x = 1"))
        assert text_lua.code == "INVALID_ARGUMENT"
        missing = _refused(client, _process(me, user, Tag("Module", "A" * 43)))
        assert missing.code == "FAILED_PRECONDITION" and "not in this node's store" in missing.details
        wasm = build_module(user, b"\0asm\x01\0\0\0", content_type="application/wasm")
        wasm_id = client.publish(wasm)
        not_lua = _refused(client, _process(me, user, Tag("Module", wasm_id)))
        assert not_lua.code == "INVALID_ARGUMENT" and "WASM binary" in not_lua.details


def test_usable_lua_modules_are_accepted(server: ServerThread) -> None:
    user = Ed25519Signer.generate()
    with NodeClient(server.address, timeout=60) as client:
        me = client.info().address
        # The built-in runtime is usable by ID although it is not in the store.
        runtime = client.schedule(_process(me, user, Tag("Module", encode_id(runtime_module().id))))
        assert runtime.slot == 0
        inline = _process(me, user, Tag("Content-Type", "text/x-lua"), data=COUNTER_MODULE.encode())
        assert client.schedule(inline).slot == 0
        stored = client.publish(build_module(user, COUNTER_MODULE.encode(), "text/x-lua"))
        assert client.schedule(_process(me, user, Tag("Module", stored))).slot == 0
