"""Helpers for the lua@5.3a tests: a process on a LuaDevice, driven slot by slot."""

from __future__ import annotations

from collections.abc import Sequence

from aonode.crypto import Signer, sign_message
from aonode.devices.base import Limits, ProcessContext
from aonode.devices.lua import LuaDevice
from aonode.ids import ProcessId, encode_id, next_hash_chain
from aonode.model import Assignment, Message, Result, Tag

T0 = 1_700_000_000_123

# Runs the message's data as Lua and puts what it returns into the output.
RUNNER = r"""
function compute(base, req, opts)
  local f, err = load(req.body.data, "=slot")
  if not f then error(err, 0) end
  local r = f(base, req)
  base.results = {output = {data = tostring(r)}}
  return base
end
"""


class LuaProc:
    """A process whose module is `source`; `send` assigns the next slot to a message and computes it."""

    def __init__(
        self,
        source: str,
        *,
        tags: Sequence[tuple[str, str]] = (),
        signer: Signer | None = None,
        limits: Limits | None = None,
    ) -> None:
        process = Message(tags=(Tag("Type", "Process"), *(Tag(n, v) for n, v in tags)), data=b"process")
        self.process = sign_message(process, signer) if signer is not None else process
        self.pid = ProcessId(self.process.id)
        self.id = encode_id(self.pid)
        self.chain = next_hash_chain(self.pid, self.process.id)
        self.slot = 0
        self.device = LuaDevice()
        first = self.assignment(self.process)
        module = Message(tags=(Tag("Content-Type", "application/lua"),), data=source.encode())
        self.device.init(ProcessContext(self.pid, self.process, first, module, limits or Limits()))

    def assignment(self, message: Message, slot: int | None = None) -> Assignment:
        slot = self.slot if slot is None else slot
        return Assignment(
            process=self.pid,
            slot=slot,
            message=message.id,
            timestamp=T0 + slot * 1000,
            block_height=100 + slot,
            epoch=2,
            hash_chain=self.chain,
        )

    def send(self, message: Message) -> Result:
        self.slot += 1
        self.chain = next_hash_chain(self.chain, message.id)
        return self.device.compute(self.assignment(message), message)

    def run(self, code: str, tags: Sequence[tuple[str, str]] = ()) -> Result:
        """Send a message whose data is `code` (for RUNNER-style modules)."""
        return self.send(
            Message(tags=tuple(Tag(n, v) for n, v in tags), data=code.encode(), anchor=str(self.slot))
        )
