"""A process on the built-in AOS runtime, driven slot by slot through the lua@5.3a device."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence

import pytest

from aonode.crypto import Ed25519Signer, Signer, sign_assignment, sign_message
from aonode.devices.aos import runtime_module
from aonode.devices.base import Device, ProcessContext
from aonode.devices.lua import LuaDevice
from aonode.ids import ProcessId, encode_id, next_hash_chain
from aonode.model import Assignment, Message, Result, Tag

T0 = 1_700_000_000_000

_ANSI = re.compile("\x1b\\[[0-9;]*m")


def plain(text: str) -> str:
    """Text without ANSI colour codes (the runtime colours output as AOS does)."""
    return _ANSI.sub("", text)


def uncoloured(r: Result) -> Result:
    """The result with the colour codes taken out of Output and Error, for tests about content."""
    out = dataclasses.replace(r.output, data=plain(r.output.data), prompt=plain(r.output.prompt))
    return dataclasses.replace(r, output=out, error=plain(r.error))


class Proc:
    """One process: its owner, its device, and a scheduler that assigns the next slot to each message."""

    def __init__(
        self, tags: Sequence[tuple[str, str]] = (), data: bytes = b"", owner: Ed25519Signer | None = None
    ) -> None:
        self.owner = owner or Ed25519Signer.generate()
        self.scheduler = Ed25519Signer.from_private_bytes(b"s" * 32)
        base_tags = [("Data-Protocol", "ao"), ("Type", "Process"), ("Name", "test-proc"), *tags]
        self.process = sign_message(
            Message(tags=tuple(Tag(n, v) for n, v in base_tags), data=data), self.owner
        )
        self.pid = ProcessId(self.process.id)
        self.id = encode_id(self.pid)
        self.slot = 0
        self.chain = next_hash_chain(self.pid, self.process.id)
        first = self._assignment(self.process, 0)
        self.device: Device = LuaDevice()
        self.device.init(
            ProcessContext(
                process_id=self.pid, process=self.process, process_assignment=first, module=runtime_module()
            )
        )
        self.boot = self.device.compute(first, self.process)

    def _assignment(self, message: Message, slot: int) -> Assignment:
        a = Assignment(
            process=self.pid,
            slot=slot,
            message=message.id,
            timestamp=T0 + slot * 1000,
            block_height=1000 + slot,
            hash_chain=self.chain,
        )
        return sign_assignment(a, self.scheduler)

    def deliver(self, message: Message, raw: bool = False) -> Result:
        """Compute the next slot; the result without colour codes unless `raw`."""
        self.slot += 1
        self.chain = next_hash_chain(self.chain, message.id)
        r = self.device.compute(self._assignment(message, self.slot), message)
        return r if raw else uncoloured(r)

    def message(
        self,
        tags: Sequence[tuple[str, str]] = (),
        data: str | bytes = b"",
        signer: Signer | None = None,
        target: str | None = None,
    ) -> Message:
        raw = data.encode() if isinstance(data, str) else data
        m = Message(
            target=self.id if target is None else target,
            tags=tuple(Tag(n, v) for n, v in tags),
            data=raw,
            anchor=f"{self.slot + 1:032d}",
        )
        return sign_message(m, signer or self.owner)

    def send(
        self,
        tags: Sequence[tuple[str, str]] = (),
        data: str | bytes = b"",
        signer: Signer | None = None,
        raw: bool = False,
    ) -> Result:
        return self.deliver(self.message(tags, data, signer), raw=raw)

    def eval(self, code: str, signer: Signer | None = None, raw: bool = False) -> Result:
        return self.send([("Action", "Eval")], code, signer, raw=raw)

    def ok(self, code: str) -> str:
        """Eval from the owner that must succeed; returns Output.data."""
        r = self.eval(code)
        assert r.error == "", r.error
        return r.output.data

    def close(self) -> None:
        self.device.close()


@pytest.fixture
def proc() -> Iterator[Proc]:
    p = Proc()
    yield p
    p.close()


def tags_of(m: Message) -> dict[str, str]:
    """A message's tags as name -> value (the first of repeated names)."""
    out: dict[str, str] = {}
    for t in m.tags:
        out.setdefault(t.name, t.value)
    return out
