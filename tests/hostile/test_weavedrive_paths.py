"""Hostile use of WeaveDrive's `/tx/`, `/block/` paths and of `fd_seek` on drive files (a module controls
every path, descriptor, offset and pointer): each answers "not found", EINVAL or EBADF, or ends the call
with an error, never a host crash or an unbounded allocation."""

from __future__ import annotations

import struct

import pytest
import wasmtime

from aonode.devices.wasm.imports import EBADF, EINVAL, ESUCCESS, HostIO, ProcExit
from aonode.model import Message
from tests.devices.wasm.test_glue_imports import Instance

ID = "c" * 43

SEEKING = """
(module
  (import "env" "__asyncjs__weavedrive_open" (func $open (param i32 i32) (result i32)))
  (import "env" "__asyncjs__weavedrive_read" (func $read (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "open") (param i32) (result i32) (call $open (local.get 0) (i32.const 0)))
  (func (export "read") (param i32 i32 i32) (result i32)
    (call $read (local.get 0) (local.get 1) (local.get 2)))
  (func (export "seek") (param i32 i32 i32 i32 i32) (result i32)
    (call $seek (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4))))
"""


def _instance(data: bytes = b"0123456789") -> Instance:
    io = HostIO(read_data={ID: data}.get, read_message={ID: Message(data=data)}.get, block=(5, b"\0" * 32))
    return Instance(SEEKING, io)


def _open(inst: Instance, path: str) -> int:
    inst.write(100, path.encode() + b"\0")
    return int(inst.call("open", 100))


def test_seek_bad_whence_negative_or_unknown_fd_answers_an_errno() -> None:
    inst = _instance()
    fd = _open(inst, f"/data/{ID}")
    assert inst.call("seek", fd, 0, 0, 9, 200) == EINVAL  # no such whence
    assert inst.call("seek", fd, -1 & 0xFFFF_FFFF, -1 & 0xFFFF_FFFF, 0, 200) == EINVAL  # before the start
    assert inst.call("seek", 555, 0, 0, 0, 200) == EBADF
    with pytest.raises((wasmtime.WasmtimeError, wasmtime.Trap, IndexError, ProcExit)):
        inst.call("seek", fd, 0, 0, 0, 65536 - 4)  # the new offset written past the end of memory


def test_seek_far_past_the_end_reads_nothing() -> None:
    inst = _instance()
    fd = _open(inst, f"/data/{ID}")
    assert inst.call("seek", fd, 0, 0x7FFF_FFFF, 0, 200) == ESUCCESS
    assert struct.unpack("<Q", inst.read(200, 8))[0] == 0x7FFF_FFFF << 32
    assert inst.call("read", fd, 300, 100) == 0
    assert inst.call("seek", fd, 3, 0, 2, 200) == ESUCCESS  # SEEK_END + 3
    assert struct.unpack("<Q", inst.read(200, 8))[0] == 13


@pytest.mark.parametrize(
    "path",
    [
        "/block/99999999999999999999",
        "/block/-1",
        "/block/4",
        "/tx/short",
        "/tx/" + "B" * 43,
        "/headers/1",
        "/tx/",
    ],
)
def test_paths_that_name_nothing_served_are_not_found(path: str) -> None:
    assert _open(_instance(), path) == 0


def test_a_header_read_writes_only_the_header_and_stays_in_memory() -> None:
    inst = _instance()
    fd = _open(inst, "/block/5")
    assert fd != 0
    inst.write(300, b"\xee" * 200)
    assert inst.call("read", fd, 300, 100) == 100  # the JS drive answers the count asked
    assert inst.read(300, 12) == b'{"height":5,' and inst.read(399, 1) == b"\xee"
    with pytest.raises((wasmtime.WasmtimeError, wasmtime.Trap, IndexError, ProcExit)):
        inst.call("read", fd, 65536 - 10, 0x7FFF_FFFF)
