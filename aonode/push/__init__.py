"""push@1.0: deliver a slot's spawns and outbox to their targets, recursively, bounded and idempotent.

`Pusher.push(process, slot)` computes the slot, schedules every spawn (a new process, with a `Spawned`
notice back to its parent) and outbox message (signed by the node, `From-Process` = the pushing process)
on its target's schedule, here or on the target's scheduler node, and pushes the slots that created,
depth first; it returns the delivery tree. `Pusher.start` does the same in the background and `get`
reads its progress. See `engine.py` for the theory of operation and docs/push.md for the user's view.
"""

from aonode.push.config import PushConfig, PushNode, PushReport, RemotePusher, trim_result
from aonode.push.engine import Pusher

__all__ = ["PushConfig", "PushNode", "PushReport", "Pusher", "RemotePusher", "trim_result"]
