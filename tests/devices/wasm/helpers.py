"""Shared set-up for the wasm64@1.0 tests: modules from `modules/`, a process context, and slots."""

from __future__ import annotations

from pathlib import Path

import wasmtime

from aonode.devices.base import Limits, ProcessContext
from aonode.devices.wasm import WasmDevice
from aonode.ids import ProcessId, next_hash_chain
from aonode.model import Assignment, Message, Tag

MODULES = Path(__file__).parent / "modules"


def module_bytes(name: str) -> bytes:
    """`name.wat` compiled with wasmtime's WAT compiler, or `name.wasm` as committed."""
    wat = MODULES / f"{name}.wat"
    if wat.exists():
        return bytes(wasmtime.wat2wasm(wat.read_text()))
    return (MODULES / f"{name}.wasm").read_bytes()


class Proc:
    """A process with a schedule being built slot by slot (dense slots, a real hash chain)."""

    def __init__(self, module: str, limits: Limits | None = None, settings: dict[str, object] | None = None):
        self.module = Message(tags=(Tag("Content-Type", "application/wasm"),), data=module_bytes(module))
        self.process = Message(
            tags=(Tag("Type", "Process"), Tag("Execution-Device", "wasm64@1.0")), data=b"p"
        )
        self.pid = ProcessId(self.process.id)
        self.chain = next_hash_chain(self.pid, self.pid)
        self.slot0 = Assignment(self.pid, 0, self.pid, 1_000, hash_chain=self.chain)
        self.context = ProcessContext(
            self.pid, self.process, self.slot0, self.module, limits or Limits(), settings or {}
        )
        self.next = 1

    def device(self) -> WasmDevice:
        d = WasmDevice()
        d.init(self.context)
        return d

    def slot(self, data: str = "", **tags: str) -> tuple[Assignment, Message]:
        m = Message(
            target="",
            anchor=f"a{self.next}",
            tags=tuple(Tag(k.replace("_", "-"), v) for k, v in tags.items()),
            data=data.encode(),
        )
        self.chain = next_hash_chain(self.chain, m.id)
        a = Assignment(self.pid, self.next, m.id, 1_000 + self.next, block_height=7, hash_chain=self.chain)
        self.next += 1
        return a, m
