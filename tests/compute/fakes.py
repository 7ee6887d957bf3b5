"""Deterministic test devices for the engine and stack tests (no Lua needed).

`FakeDevice` (`fake@1.0`) folds each message into a running blake3 state and reports it in `Output.data`;
message data steers it: `error` gives an error Result (state unchanged), `crash` raises DeviceError (a host
fault), `crash-once` does so the first time a given process/slot is seen, `patch` emits a PATCH outbox
message plus an ordinary one, `send:X` emits a message with data X, `sleep` sleeps 5 ms (GIL released).
Every compute is counted in `CALLS[(process, slot)]`, and concurrency is tracked in `ACTIVE`/`MAX_ACTIVE`.
`SnapDevice` (`fakesnap@1.0`) is the same with snapshot/restore.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any, ClassVar

from blake3 import blake3

from aonode.devices.base import Device, DeviceError, ProcessContext
from aonode.model import Assignment, Message, Output, Result, Tag

CALLS: Counter[tuple[bytes, int]] = Counter()
CONTEXTS: list[ProcessContext] = []
_crashed: set[tuple[bytes, int]] = set()
_active_lock = threading.Lock()
ACTIVE = [0]
MAX_ACTIVE = [0]


def reset() -> None:
    CALLS.clear()
    CONTEXTS.clear()
    _crashed.clear()
    ACTIVE[0] = 0
    MAX_ACTIVE[0] = 0
    SnapDevice.restores.clear()


def deep_merge(base: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        elif isinstance(value, Mapping):
            base[key] = {}
            deep_merge(base[key], value)
        else:
            base[key] = value


class FakeDevice(Device):
    name = "fake@1.0"
    memory: ClassVar[int] = 1000
    salt: ClassVar[bytes] = b""

    def __init__(self) -> None:
        self.pid = b""
        self.state = b""
        self.count = 0
        self.base: dict[str, Any] = {}
        self.context: ProcessContext | None = None
        self.closed = 0

    def init(self, context: ProcessContext) -> None:
        self.context = context
        CONTEXTS.append(context)
        self.pid = bytes(context.process_id)
        self.state = blake3(self.pid + self.salt).digest()

    def compute(self, assignment: Assignment, message: Message) -> Result:
        CALLS[(self.pid, assignment.slot)] += 1
        with _active_lock:
            ACTIVE[0] += 1
            MAX_ACTIVE[0] = max(MAX_ACTIVE[0], ACTIVE[0])
        try:
            return self._compute(assignment, message)
        finally:
            with _active_lock:
                ACTIVE[0] -= 1

    def _compute(self, assignment: Assignment, message: Message) -> Result:
        data = message.data
        key = (self.pid, assignment.slot)
        if data == b"crash" or (data == b"crash-once" and key not in _crashed):
            _crashed.add(key)
            raise DeviceError(f"injected host fault at slot {assignment.slot}")
        if data == b"error":
            return Result(error=f"boom at slot {assignment.slot}")
        if data == b"raise":
            raise RuntimeError("a bug in the device")
        if data == b"sleep":
            time.sleep(0.005)
        self.state = blake3(self.state + assignment.message + data).digest()
        self.count += 1
        messages: list[Message] = []
        if data == b"patch":
            messages = [
                Message(target="", tags=(Tag("Action", "Before"),)),
                Message(tags=(Tag("method", "PATCH"), Tag("x", "banana"))),
                Message(tags=(Tag("Action", "After"),)),
            ]
        elif data.startswith(b"send:"):
            messages = [Message(tags=(Tag("Action", "Reply"),), data=data[5:])]
        out = (
            f"{assignment.slot}:{self.count}:{self.state.hex()[:16]}:{json.dumps(self.base, sort_keys=True)}"
        )
        return Result(output=Output(data=out), messages=tuple(messages))

    def apply_patch(self, patch: Mapping[str, Any]) -> None:
        deep_merge(self.base, patch)

    def memory_bytes(self) -> int:
        return self.memory

    def close(self) -> None:
        self.closed += 1


class SnapDevice(FakeDevice):
    name = "fakesnap@1.0"
    can_snapshot = True
    restores: ClassVar[list[int]] = []

    def snapshot(self) -> bytes | None:
        return json.dumps({"state": self.state.hex(), "count": self.count, "base": self.base}).encode()

    def restore(self, data: bytes) -> None:
        doc = json.loads(data)
        self.state = bytes.fromhex(doc["state"])
        self.count = doc["count"]
        self.base = doc["base"]
        SnapDevice.restores.append(self.count)
