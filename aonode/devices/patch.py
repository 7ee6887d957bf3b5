"""patch@1.0: turns outbox messages marked as patches into changes of the process's state, as HyperBEAM's
`dev_patch` in `patches` mode with `patch-from: /results/outbox` and `patch-to: /`.

Inside a stack (it is `StackAware`), it takes the result so far and moves every outbox message whose tag
`method` is `PATCH` (any case) or whose tag `device` is `patch@1.0` out of the outbox; each one, in outbox
order, is turned into a mapping and deep-merged into the state of the first device of the stack that has
`apply_patch` (e.g. lua@5.3a's `base`). The other outbox messages stay, in order.

A patch message as a mapping: its tags with lower-cased names, except `method` and a `device` naming
patch@1.0 (markers, not state); a name with `/` sets a nested path (`cache/balances` → `{cache: {balances:
...}}`, as HyperBEAM's `hb_ao:set`); a name given several times becomes a list of its values; non-empty
`data` is set under `data` (UTF-8 text, else unpadded base64url). `target` and `anchor` are the envelope and
are not merged. A patch in a stack without a patchable device is a host fault (DeviceError): the process
definition cannot work. Alone (not in a stack) the device computes an empty result. It holds no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aonode.devices.base import Device, DeviceError, ProcessContext
from aonode.devices.stack import Patchable, Step, StepOutcome
from aonode.model import Assignment, Message, Result, data_to_text

NAME = "patch@1.0"


def is_patch(message: Message) -> bool:
    method = message.tag("method")
    return (method is not None and method.upper() == "PATCH") or message.tag("device") == NAME


def patch_mapping(message: Message) -> dict[str, Any]:
    """The mapping a patch message merges into the state."""
    out: dict[str, Any] = {}
    seen: set[tuple[str, ...]] = set()
    for tag in message.tags:
        key = tag.name.lower()
        if key == "method" or (key == "device" and tag.value == NAME):
            continue
        path = tuple(p for p in key.split("/") if p)
        if path:
            _set(out, path, tag.value, path in seen)
            seen.add(path)
    if message.data:
        out["data"] = data_to_text(message.data)
    return out


def _set(tree: dict[str, Any], path: tuple[str, ...], value: str, repeated: bool) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    leaf = path[-1]
    if repeated:
        old = node.get(leaf)
        node[leaf] = [*old, value] if isinstance(old, list) else [old, value]
    else:
        node[leaf] = value


def split_patches(messages: Sequence[Message]) -> tuple[list[Message], list[Message]]:
    """(patches, the rest), each in outbox order."""
    patches: list[Message] = []
    rest: list[Message] = []
    for m in messages:
        (patches if is_patch(m) else rest).append(m)
    return patches, rest


class PatchDevice(Device):
    name = NAME
    can_snapshot = True

    def init(self, context: ProcessContext) -> None:
        pass

    def compute(self, assignment: Assignment, message: Message) -> Result:
        return Result()

    def compute_step(self, step: Step) -> StepOutcome:
        prior = step.prior if step.prior is not None else Result()
        patches, rest = split_patches(prior.messages)
        if not patches:
            return StepOutcome(prior)
        target = next((d for d in step.stack if d is not self and isinstance(d, Patchable)), None)
        if target is None:
            raise DeviceError("patch@1.0: no device of the stack can take a patch (none has apply_patch)")
        for patch in patches:
            target.apply_patch(patch_mapping(patch))
        return StepOutcome(replace(prior, messages=tuple(rest)))

    def snapshot(self) -> bytes | None:
        return b""

    def restore(self, data: bytes) -> None:
        if data:
            raise DeviceError("patch@1.0 holds no state; its snapshot is empty")
