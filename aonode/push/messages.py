"""The messages a push delivers, built by the node from a result's spawns and outbox, and the intent
records that fix them.

Every delivery has an origin `(process, slot, kind, index)`: kind 0 an outbox message, 1 a spawn, 2 the
`Spawned` notice for spawn `index`. The node builds the delivered message from the entry (target, anchor,
tags, data), removes the tags only it may set (`From-Process`, `From-Slot`, `Outbox-Index`, `Spawn-Index`,
whoever wrote them), appends its own (`From-Process` = the pushing process, `From-Slot`, and the index),
and signs it with the node wallet. The origin tags make the content, and so the ID, unique per origin:
two identical outbox entries of different slots are two messages, not one deduplicated by the scheduler.

Intent table `push_intents`: key `process (32) ‖ u64(slot) ‖ u8(kind) ‖ u32(index)`, value the digest of
the signed message's encoding (an object). It is written, durably, before the message is scheduled, and a
later push of the same slot re-uses the stored message instead of signing again. Scheduling is idempotent
on the message ID, so re-scheduling the stored message returns the assignment it already has: each origin
is delivered at most once, whatever the wallet's signature scheme (RSA-PSS signatures are randomised, so a
fresh signature would be a fresh ID).
"""

from __future__ import annotations

import struct

from aonode.codec import decode_message, encode_message
from aonode.compute.definition import is_inline_module
from aonode.crypto import Signer, sign_message
from aonode.ids import encode_id
from aonode.model import Message, Tag
from store import ReadView, WriteBatch

INTENTS = "push_intents"

MESSAGE, SPAWN, SPAWNED = 0, 1, 2
KIND_NAMES = {MESSAGE: "message", SPAWN: "spawn", SPAWNED: "spawned"}

# Tags only the node sets on what it delivers (lower case).
NODE_TAGS = frozenset({"from-process", "from-slot", "outbox-index", "spawn-index"})

_KEY = struct.Struct(">QBI")


def intent_key(process: bytes, slot: int, kind: int, index: int) -> bytes:
    return process + _KEY.pack(slot, kind, index)


def read_intent(view: ReadView, key: bytes) -> Message | None:
    ref = view.get(INTENTS, key)
    if ref is None:
        return None
    raw = view.get_object(ref)
    return None if raw is None else decode_message(raw)


def add_intent(batch: WriteBatch, key: bytes, message: Message) -> None:
    batch.require(INTENTS, key, None)  # a concurrent push of the same slot wins or loses as a whole
    batch.put(INTENTS, key, batch.put_object(encode_message(message)))


def _own_tags(entry: Message) -> list[Tag]:
    return [t for t in entry.tags if t.name.lower() not in NODE_TAGS]


def outbox_message(process: bytes, slot: int, index: int, entry: Message, signer: Signer) -> Message:
    """An outbox entry as delivered. A `Type` tag other than `Message` is rewritten: an outbox entry
    tagged `Type=Process` would otherwise be scheduled as a new process, bypassing the spawn rules."""
    tags = [Tag(t.name, "Message") if t.name.lower() == "type" else t for t in _own_tags(entry)]
    tags += [
        Tag("From-Process", encode_id(process)),
        Tag("From-Slot", str(slot)),
        Tag("Outbox-Index", str(index)),
    ]
    return sign_message(
        Message(target=entry.target, anchor=entry.anchor, tags=tuple(tags), data=entry.data), signer
    )


def spawn_message(
    process: bytes,
    slot: int,
    index: int,
    entry: Message,
    parent: Message | None,
    scheduler: str,
    signer: Signer,
) -> Message:
    """A spawn as delivered: a Process (target empty) owned by the spawning process (`From-Process`).

    `Module` missing: the spawning process's `Module` and `Execution-Device` (AOS's `Spawn(msg)` means
    "my own module"; the device goes with the module, so it is inherited only with it), unless the spawn
    is its own inline Lua module (a Lua `Content-Type`, compute.definition). `Scheduler` missing: this
    node (the spawn is scheduled where its parent is). `Type=Process` is ensured."""
    tags = [t for t in _own_tags(entry) if t.name.lower() != "type"]
    names = {t.name.lower() for t in tags}
    extra = [Tag("Type", "Process")]
    if "module" not in names and parent is not None and not is_inline_module(entry):
        for name in ("Module", "Execution-Device"):
            value = parent.tag(name)
            if value is not None and name.lower() not in names:
                extra.append(Tag(name, value))
    if "scheduler" not in names:
        extra.append(Tag("Scheduler", scheduler))
    tags = extra + tags
    tags += [
        Tag("From-Process", encode_id(process)),
        Tag("From-Slot", str(slot)),
        Tag("Spawn-Index", str(index)),
    ]
    return sign_message(Message(anchor=entry.anchor, tags=tuple(tags), data=entry.data), signer)


def spawned_notice(
    process: bytes, slot: int, index: int, spawn: Message, child: bytes, signer: Signer
) -> Message:
    """The notice sent back to the spawning process (AOS's `Spawn(...).onReply` waits for
    `{Action = "Spawned", From = ao.id, Reference = <the spawn's Reference>}`), relayed for it."""
    tags = [
        Tag("Data-Protocol", "ao"),
        Tag("Variant", "ao.TN.1"),
        Tag("Type", "Message"),
        Tag("Action", "Spawned"),
        Tag("Process", encode_id(child)),
    ]
    reference = spawn.tag("Reference")
    if reference is not None:
        tags += [Tag("Reference", reference), Tag("X-Reference", reference)]
    tags += [
        Tag("From-Process", encode_id(process)),
        Tag("From-Slot", str(slot)),
        Tag("Spawn-Index", str(index)),
    ]
    return sign_message(Message(target=encode_id(process), tags=tuple(tags), data=b""), signer)
