"""A node in one process for the push tests: memory (or LMDB) store, the real scheduler, compute engine
and lua@5.3a device, and a Pusher; AOS processes on the built-in runtime booted from Lua source."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from aonode.compute import ComputeConfig, ComputeEngine
from aonode.crypto import Signer, sign_message
from aonode.devices.aos import runtime_module
from aonode.devices.registry import default_registry
from aonode.ids import ProcessId, encode_id
from aonode.model import Message, Tag
from aonode.push import PushConfig, Pusher, PushNode
from aonode.scheduler import Scheduler, SchedulerConfig
from store import ObjectStore
from tests.scheduler.helpers import CLIENT_KEY, NODE_KEY

_nonce = itertools.count()

PING_SELF = """
Handlers.add("ping", "Ping", function(msg)
  local c = tonumber(msg.Count)
  if c < 10 then
    Send({Target = ao.id, Action = "Ping", Count = tostring(c + 1)})
  else
    print("Done.")
  end
end)
"""

BOUNCE = """
Handlers.add("kick", "Kick", function(msg) Send({Target = msg.Data, Action = "Ping"}) end)
Handlers.add("ping", "Ping", function(msg) Send({Target = msg.From, Action = "Ping"}) end)
"""


@dataclass
class Node:
    store: ObjectStore
    scheduler: Scheduler
    engine: ComputeEngine
    pusher: Pusher
    signer: Signer

    @classmethod
    def open(cls, store: ObjectStore, config: PushConfig | None = None, signer: Signer = NODE_KEY) -> Node:
        scheduler = Scheduler(store, signer, SchedulerConfig())
        engine = ComputeEngine(store, scheduler, default_registry(), ComputeConfig())
        return cls(store, scheduler, engine, Pusher(store, scheduler, engine, signer, config), signer)

    def with_config(self, config: PushConfig) -> Pusher:
        return Pusher(self.store, self.scheduler, self.engine, self.signer, config)

    async def spawn(self, boot: str, *tags: tuple[str, str], authority: str | None = None) -> ProcessId:
        """An AOS process whose On-Boot code is `boot`, trusting relays signed by this node."""
        all_tags = [
            Tag("Type", "Process"),
            Tag("Module", encode_id(runtime_module().id)),
            Tag("Execution-Device", "lua@5.3a"),
            Tag("Scheduler", self.scheduler.address),
            Tag("Authority", authority or self.scheduler.address),
            Tag("On-Boot", "Data"),
            Tag("Nonce", str(next(_nonce))),
            *(Tag(k, v) for k, v in tags),
        ]
        process = sign_message(Message(tags=tuple(all_tags), data=boot.encode()), CLIENT_KEY)
        assignment = await self.scheduler.schedule(process)
        return ProcessId(assignment.process)

    async def send(self, process: bytes, action: str, data: str = "", *tags: tuple[str, str]) -> int:
        m = Message(
            target=encode_id(process),
            anchor=f"n{next(_nonce)}",
            tags=(Tag("Action", action), *(Tag(k, v) for k, v in tags)),
            data=data.encode(),
        )
        return (await self.scheduler.schedule(sign_message(m, CLIENT_KEY))).slot

    def head(self, process: bytes) -> int:
        return self.scheduler.head(process).slot

    async def outputs(self, process: bytes) -> list[str]:
        """Output data of every slot (computing them)."""
        out = []
        for slot in range(self.head(process) + 1):
            out.append((await self.engine.compute(process, slot)).result.output.data)
        return out

    async def close(self) -> None:
        await self.pusher.close()
        self.scheduler.close()
        self.engine.close()


def deliveries(tree: PushNode) -> list[PushNode]:
    return [n for n in tree.walk() if n.kind != "root"]


def stops(tree: PushNode) -> list[str]:
    return [n.stopped for n in tree.walk() if n.stopped]
