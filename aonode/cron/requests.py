"""Signed cron requests: how a creator asks for a task or stops one, and what the node checks.

A request is an AO `Message` signed by the creator's wallet (any scheme the node verifies), never
accepted unsigned. Its content is the whole request, so nothing about the task can be changed in transit,
and its ID names the task:

- `Once` / `Every`: target = the process; tags = control tags (below) followed by the tags of the tick
  message; data = the tick's data; anchor = a random nonce (so two equal requests make two tasks). The
  task ID is the request's message ID: a replayed request answers the task it created (idempotent), and
  once that task has ended (stopped, or a one-off that fired) the request is refused for good.
- `Stop`: target = the task ID; tags `Cron-Op: Stop`; anchor a random nonce. It must be signed by the
  task's creator.

Control tags (names compare case-insensitively; each at most once; none reaches a tick):

| tag | value |
|---|---|
| `Cron-Op` | `Once`, `Every` or `Stop` (must match the RPC called) |
| `Cron-Interval` | Every: the interval, `N-unit` |
| `Cron-At` | Once: ms since the Unix epoch (ASCII digits) |
| `Cron-In` | Once: a delay, `N-unit` (exactly one of `Cron-At`, `Cron-In`) |
| `Cron-Path` | optional: `now` or `push`, a task that calls that path instead of sending a message |

A malformed, unsigned or badly signed request is INVALID_ARGUMENT (`InvalidCronRequest`; a bad signature
is the codebase's `SignatureError`, also INVALID_ARGUMENT), as for any message the node refuses.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aonode.crypto import Signer, sign_message, verify_message
from aonode.errors import InvalidArgument
from aonode.ids import encode_id, is_id
from aonode.model import Message, Tag

Op = Literal["Once", "Every", "Stop"]

OP_TAG = "Cron-Op"
INTERVAL_TAG = "Cron-Interval"
AT_TAG = "Cron-At"
IN_TAG = "Cron-In"
PATH_TAG = "Cron-Path"
CONTROL_TAGS = frozenset(n.lower() for n in (OP_TAG, INTERVAL_TAG, AT_TAG, IN_TAG, PATH_TAG))

_OPS: dict[str, Op] = {"once": "Once", "every": "Every", "stop": "Stop"}


class InvalidCronRequest(InvalidArgument):
    """A cron request that is not a well-formed request signed by its creator."""


@dataclass(frozen=True)
class CronRequest:
    """A verified request. `id` (the request's message ID) is the task ID of a Once/Every request."""

    id: str
    op: Op
    creator: str
    target: str
    tags: tuple[Tag, ...]
    """The tick's tags: the request's tags without the control tags (reserved names are dropped later)."""
    data: bytes
    interval: str | None
    at: int | None
    delay: str | None
    path: str
    message: Message


def build_request(
    signer: Signer,
    op: Op,
    target: str,
    *,
    tags: Sequence[tuple[str, str]] | Sequence[Tag] = (),
    data: bytes = b"",
    interval: str | None = None,
    at: int | None = None,
    delay: str | None = None,
    path: str = "",
    anchor: str | None = None,
) -> Message:
    """A request signed by `signer`: `op` on `target` (the process; for Stop, the task ID)."""
    control = [Tag(OP_TAG, op)]
    if interval is not None:
        control.append(Tag(INTERVAL_TAG, interval))
    if at is not None:
        control.append(Tag(AT_TAG, str(at)))
    if delay is not None:
        control.append(Tag(IN_TAG, delay))
    if path:
        control.append(Tag(PATH_TAG, path))
    rest = [t if isinstance(t, Tag) else Tag(t[0], t[1]) for t in tags]
    message = Message(
        target=target,
        anchor=secrets.token_urlsafe(24) if anchor is None else anchor,
        tags=(*control, *rest),
        data=data,
    )
    return sign_message(message, signer)


def parse_request(message: Message, expected: Op) -> CronRequest:
    """Check `message` is a well-formed request for `expected`, signed by its creator; raise
    `InvalidCronRequest` (or `SignatureError`) otherwise."""
    what = "the task to stop" if expected == "Stop" else "the process the task sends to"
    if not is_id(message.target):
        raise InvalidCronRequest(
            f"request: target must be {what} (a 43-character ID), got {message.target!r:.80}"
        )
    message.validate()
    if message.signature is None:
        raise InvalidCronRequest(
            "request: unsigned; a cron request must be signed by its creator's wallet (docs/cron.md)"
        )
    verify_message(message)
    control: dict[str, str] = {}
    rest: list[Tag] = []
    for t in message.tags:
        key = t.name.lower()
        if key in CONTROL_TAGS:
            if key in control:
                raise InvalidCronRequest(f"request: tag {t.name} given twice")
            control[key] = t.value
        else:
            rest.append(t)
    op = _OPS.get(control.get(OP_TAG.lower(), "").lower())
    if op is None:
        raise InvalidCronRequest(f"request: tag {OP_TAG} must be Once, Every or Stop")
    if op != expected:
        raise InvalidCronRequest(f"request: {OP_TAG} is {op}, but this is {expected}")
    allowed = {
        "Once": {AT_TAG, IN_TAG, PATH_TAG},
        "Every": {INTERVAL_TAG, PATH_TAG},
        "Stop": set(),
    }[op]
    extra = sorted(k for k in control if k != OP_TAG.lower() and k not in {a.lower() for a in allowed})
    if extra:
        raise InvalidCronRequest(f"request: tag(s) {', '.join(extra)} do not apply to {op}")
    if op == "Stop" and (rest or message.data):
        raise InvalidCronRequest("request: a Stop request carries no other tags and no data")
    at: int | None = None
    at_text = control.get(AT_TAG.lower())
    if at_text is not None:
        if not (at_text.isascii() and at_text.isdigit() and 0 < len(at_text) <= 19):
            raise InvalidCronRequest(f"request: {AT_TAG} must be ms since the Unix epoch (digits)")
        at = int(at_text)
        if at == 0:
            raise InvalidCronRequest(f"request: {AT_TAG} must be a time in ms since the Unix epoch, > 0")
    delay = control.get(IN_TAG.lower())
    if op == "Once" and (at is None) == (delay is None):
        raise InvalidCronRequest(
            f"request: give exactly one of {AT_TAG} (ms since the epoch) or {IN_TAG} (an interval)"
        )
    interval = control.get(INTERVAL_TAG.lower())
    if op == "Every" and interval is None:
        raise InvalidCronRequest(f"request: {INTERVAL_TAG} required (N-unit)")
    owner = message.owner_address
    assert owner is not None  # signed
    return CronRequest(
        id=encode_id(message.id),
        op=op,
        creator=str(owner),
        target=message.target,
        tags=tuple(rest),
        data=message.data,
        interval=interval,
        at=at,
        delay=delay,
        path=control.get(PATH_TAG.lower(), ""),
        message=message,
    )
