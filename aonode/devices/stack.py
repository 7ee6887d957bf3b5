"""stack@1.0: several devices run in order on the same slot (a fold), as HyperBEAM's `dev_stack` in Fold mode.

A process names `Execution-Device: stack@1.0` and an ordered `Execution-Stack` (a repeated tag, or one
comma-separated value; `Device-Stack` is accepted too) of device names. Every device of the stack is
created from the registry and initialised with the process's context (its own node settings, if any).

Per slot the stack folds the devices over the assignment and its message:
- a device that implements `StackAware.compute_step(step)` sees the result so far (`step.prior`, None before
  the first device), the pass number, its position and its sibling devices, and returns a `StepOutcome`:
  its result (which becomes the result so far) and an action: `"ok"` (go on to the next device), `"skip"`
  (stop the fold: the slot's result is this one) or `"pass"` (start again at the first device with the pass
  number + 1, while it is below `Passes`; at the last pass a `"pass"` counts as `"ok"`);
- any other device runs `compute(assignment, message)` on the first pass only (running it again would apply
  the message to its state twice) and its result replaces the result so far, as every HyperBEAM device
  sets `results` on the state it is handed;
- a result with `error` set stops the fold: it is the slot's result.
`Passes` (tag, default 1, at most 16) bounds the passes. The slot's result is the result at the end of the
fold (an empty Result when no device produced one). The stack can snapshot when all its devices can.
Nesting stack@1.0 inside a stack is refused.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, runtime_checkable

from aonode.devices.base import Device, DeviceError, DeviceRegistry, ProcessContext
from aonode.model import Assignment, Message, Result

MAX_PASSES = 16

Action = Literal["ok", "skip", "pass"]


@dataclass(frozen=True)
class Step:
    """What a stack-aware device is given for one step of the fold."""

    assignment: Assignment
    message: Message
    prior: Result | None
    """The result so far (None before any device produced one)."""
    pass_number: int
    """1-based."""
    passes: int
    index: int
    """This device's position in the stack (0-based)."""
    stack: Sequence[Device]
    """Every device of the stack, in order (this one included)."""


@dataclass(frozen=True)
class StepOutcome:
    result: Result
    action: Action = "ok"


@runtime_checkable
class StackAware(Protocol):
    """A device that takes part in a stack's fold knowing the result so far."""

    def compute_step(self, step: Step) -> StepOutcome: ...


@runtime_checkable
class Patchable(Protocol):
    """A device whose public state can be deep-merged with a patch (e.g. lua@5.3a's `base`)."""

    def apply_patch(self, patch: Mapping[str, Any]) -> None: ...


def stack_names(process: Message) -> list[str]:
    """The device names of a process's stack, in order."""
    names: list[str] = []
    for tag in ("Execution-Stack", "Device-Stack"):
        for value in process.tag_values(tag):
            names += [n.strip() for n in value.split(",") if n.strip()]
        if names:
            break
    return names


class StackDevice(Device):
    name = "stack@1.0"

    def __init__(
        self, registry: DeviceRegistry, device_settings: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self._registry = registry
        self._settings = device_settings or {}
        self.devices: list[Device] = []
        self.passes = 1

    @property
    def can_snapshot(self) -> bool:  # type: ignore[override]
        return bool(self.devices) and all(d.can_snapshot for d in self.devices)

    def init(self, context: ProcessContext) -> None:
        names = stack_names(context.process)
        if not names:
            raise DeviceError("stack@1.0: the process names no Execution-Stack")
        if self.name in names:
            raise DeviceError("stack@1.0 cannot be nested in a stack")
        self.passes = _passes(context.process)
        try:
            for name in names:
                device = self._registry.create(name)
                self.devices.append(device)
                device.init(replace(context, settings=self._settings.get(name, {})))
        except BaseException:
            self.close()
            raise

    def compute(self, assignment: Assignment, message: Message) -> Result:
        result = self._fold(assignment, message)
        # A wall-clock stop of any device makes the slot's result timing-dependent: the engine must see it.
        self.last_slot_nondeterministic = any(d.last_slot_nondeterministic for d in self.devices)
        return result

    def interrupt(self) -> None:
        for device in list(self.devices):
            device.interrupt()

    def _fold(self, assignment: Assignment, message: Message) -> Result:
        prior: Result | None = None
        pass_number = 1
        i = 0
        while i < len(self.devices):
            device = self.devices[i]
            if isinstance(device, StackAware):
                step = Step(assignment, message, prior, pass_number, self.passes, i, self.devices)
                outcome = device.compute_step(step)
            elif pass_number == 1:
                outcome = StepOutcome(device.compute(assignment, message))
            else:
                i += 1
                continue
            prior = outcome.result
            if prior.error or outcome.action == "skip":
                break
            if outcome.action == "pass" and pass_number < self.passes:
                pass_number += 1
                i = 0
                continue
            i += 1
        return prior if prior is not None else Result()

    def snapshot(self) -> bytes | None:
        if not self.can_snapshot:
            return None
        parts = [struct.pack(">I", len(self.devices))]
        for device in self.devices:
            data = device.snapshot()
            if data is None:
                return None
            parts += (struct.pack(">Q", len(data)), data)
        return b"".join(parts)

    def restore(self, data: bytes) -> None:
        try:
            (count,) = struct.unpack_from(">I", data, 0)
            if count != len(self.devices):
                raise ValueError(f"{count} devices in the snapshot, {len(self.devices)} in the stack")
            pos = 4
            pieces = []
            for _ in range(count):
                (n,) = struct.unpack_from(">Q", data, pos)
                pieces.append(data[pos + 8 : pos + 8 + n])
                pos += 8 + n
            if pos != len(data):
                raise ValueError("trailing bytes")
        except (struct.error, ValueError) as exc:
            raise DeviceError(f"stack@1.0: not a stack snapshot: {exc}") from None
        for device, piece in zip(self.devices, pieces, strict=True):
            device.restore(piece)

    def memory_bytes(self) -> int:
        return sum(d.memory_bytes() for d in self.devices)

    def close(self) -> None:
        devices, self.devices = self.devices, []
        for device in devices:
            device.close()


def _passes(process: Message) -> int:
    text = process.tag("Passes")
    if text is None:
        return 1
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_PASSES:
        raise DeviceError(
            f"stack@1.0: Passes must be a whole number from 1 to {MAX_PASSES}, got {text[:32]!r}"
        )
    return int(text)
