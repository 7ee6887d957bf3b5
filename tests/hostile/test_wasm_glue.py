"""Hostile arguments to the glue imports real AOS binaries use (a module controls every pointer and length):
each ends the call with an error, never a host crash, a hang or an unbounded allocation."""

from __future__ import annotations

import pytest
import wasmtime

from aonode.devices.wasm.imports import HostIO, ProcExit
from tests.devices.wasm.test_glue_imports import GLUE32, WEAVEDRIVE, Instance

ID = "c" * 43


def test_weavedrive_read_into_memory_it_does_not_have_fails_the_call() -> None:
    inst = Instance(WEAVEDRIVE, HostIO(read_data={ID: b"z" * 100_000}.get))
    inst.write(100, f"/data/{ID}\0".encode())
    fd = inst.call("open", 100)
    with pytest.raises((wasmtime.WasmtimeError, wasmtime.Trap, IndexError, ProcExit)):
        inst.call("read", fd, 65536 - 10, 0x7FFF_FFFF)  # past the end of the one-page memory


def test_weavedrive_open_of_a_path_without_nul_or_out_of_memory_finds_nothing() -> None:
    inst = Instance(WEAVEDRIVE, HostIO(read_data={ID: b"x"}.get))
    inst.write(0, b"/" * 65536)
    assert inst.call("open", 0) == 0
    assert inst.call("open", 0x7FFF_FFF0) == 0


def test_weavedrive_descriptors_are_bounded_per_slot() -> None:
    inst = Instance(WEAVEDRIVE, HostIO(read_data={ID: b"x"}.get))
    inst.write(100, f"/data/{ID}\0".encode())
    fds = [inst.call("open", 100) for _ in range(100)]
    assert len({fd for fd in fds if fd}) == 64 and fds[-1] == 0


def test_strftime_with_pointers_outside_memory_fails_the_call() -> None:
    inst = Instance(GLUE32)
    inst.write(200, b"%Y\0")
    with pytest.raises((wasmtime.WasmtimeError, wasmtime.Trap, IndexError, ProcExit)):
        inst.call("strftime", 1000, 256, 200, 0x7FFF_FFF0)
    with pytest.raises((wasmtime.WasmtimeError, wasmtime.Trap, IndexError, ProcExit)):
        inst.call("strftime", 65534, 256, 200, 100)  # result written past the end


def test_the_format_parser_refuses_mangled_binaries_with_a_format_error() -> None:
    """Spawn reads every module's imports and exports (formats.parse): any bytes end in FormatError."""
    import contextlib
    import random

    from aonode.devices.wasm import formats

    good = bytes(
        wasmtime.wat2wasm(
            '(module (import "env" "exit" (func (param i32))) (memory (export "memory") 1)'
            ' (func (export "handle") (param i32 i32) (result i32) (i32.const 0))'
            ' (func (export "malloc") (param i32) (result i32) (i32.const 0)))'
        )
    )
    rnd = random.Random(7)
    for _ in range(2000):
        mangled = bytearray(good[: rnd.randint(0, len(good))])
        for _ in range(rnd.randint(0, 6)):
            if mangled:
                mangled[rnd.randrange(len(mangled))] = rnd.randrange(256)
        with contextlib.suppress(formats.FormatError):
            formats.resolve(bytes(mangled), None)
