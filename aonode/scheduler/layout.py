"""The scheduler's tables and key layouts in the store (also in docs/scheduler.md).

All integers are 8-byte big-endian (`store.u64`), so byte order is numeric order and a slot range is one
cursor scan. IDs are their 32 raw bytes.

| table              | key                          | value                                                 |
|--------------------|------------------------------|-------------------------------------------------------|
| objects (store's)  | blake3(bytes)                | encoded messages and assignments (content-addressed)  |
| `messages`         | message ID                   | digest of the encoded message object                  |
| `assignments`      | process ‖ u64(slot)          | digest of the encoded, signed assignment object       |
| `assigned`         | message ID ‖ process         | u64(slot): the message's slot on that process         |
| `heads`            | process                      | head record (below); one row per process              |
| `locations`        | address (UTF-8)              | encoded, signed location record (`codec`)             |

Head record, 81 bytes: `0x01` (version) ‖ u64(slot) ‖ hash_chain(32) ‖ u64(timestamp ms) ‖
digest of the slot's assignment object(32). It is the schedule's tip: every schedule write replaces it under
a precondition on its previous value, which is what keeps slots dense when writes are pipelined (a write
whose predecessor did not commit fails its precondition instead of leaving a gap).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from store import u64

MESSAGES = "messages"
ASSIGNMENTS = "assignments"
ASSIGNED = "assigned"
HEADS = "heads"
LOCATIONS = "locations"

HEAD_VERSION = 1
_HEAD = struct.Struct(">BQ32sQ32s")
HEAD_LEN = _HEAD.size


def slot_key(process: bytes, slot: int) -> bytes:
    """Key of `assignments`: process ‖ u64(slot)."""
    return process + u64(slot)


def assigned_key(message_id: bytes, process: bytes) -> bytes:
    """Key of `assigned`: message ID ‖ process (a prefix scan on the message ID finds every process)."""
    return message_id + process


@dataclass(frozen=True, slots=True)
class HeadRecord:
    """The committed tip of one schedule."""

    slot: int
    hash_chain: bytes
    timestamp: int
    assignment_digest: bytes

    def encode(self) -> bytes:
        return _HEAD.pack(HEAD_VERSION, self.slot, self.hash_chain, self.timestamp, self.assignment_digest)

    @classmethod
    def decode(cls, raw: bytes) -> HeadRecord:
        if len(raw) != HEAD_LEN or raw[0] != HEAD_VERSION:
            raise ValueError(f"not a version-{HEAD_VERSION} head record ({len(raw)} bytes)")
        _, slot, chain, timestamp, digest = _HEAD.unpack(raw)
        return cls(slot, chain, timestamp, digest)
