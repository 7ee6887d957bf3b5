"""Cron tasks as records: the task dataclass, its persisted form (table `cron_tasks`), the configuration,
and the tick message a task schedules.

Table `cron_tasks`: key = task ID (32 bytes), value = the task as canonical JSON (sorted keys, data in
base64url). One row per live task; a row is rewritten after every tick or failure and deleted when the
task stops (a one-off task also when it has fired).

A tick message is built by the node and signed with its wallet. Its content is a function of the task and
the tick number only: target the process, anchor = ID-sized digest of (task, tick), the caller's tags
(without the reserved names, `RESERVED_TAGS`), then `Cron: true`, `Cron-Task`, `Cron-Tick`, `Cron-Time`
(the tick's time on the task's grid, not the wall clock) and, for a user task, `Cron-From` = the address
that signed the task's request (the process sees it as `From`; the node's signature vouches only for the
timing and for having verified that request). With the default Ed25519 node wallet the signature
is deterministic, so the same tick always has the same message ID, and the scheduler's idempotency
answers a re-fired tick with the assignment it already has: that is what makes a tick exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from blake3 import blake3

from aonode.cron.requests import CONTROL_TAGS
from aonode.crypto import Signer, sign_message
from aonode.errors import InvalidArgument
from aonode.ids import b64url_decode, b64url_encode, decode_id, encode_id
from aonode.model import Message, Tag
from aonode.scheduler.relay import CRON_FROM_TAG, RELAYED_TAGS
from store import u64

TABLE = "cron_tasks"

Origin = Literal["user", "process"]

# Tags only the node sets on a tick message (lower case); a caller's tags with these names are dropped.
NODE_TAGS = frozenset({"cron", "cron-task", "cron-tick", "cron-time", "type", "data-protocol", "variant"})
# Every name a caller's (or a Process's Cron-Tag-) tags may not put on a tick: the node's own tags, the
# identity claims (relay.py: a process takes From from them), the tags only push sets, and the request's
# control tags. Dropped, whatever their case.
RESERVED_TAGS = (
    NODE_TAGS
    | CONTROL_TAGS
    | frozenset(n.lower() for n in (*RELAYED_TAGS, "From-Slot", "Outbox-Index", "Spawn-Index"))
)

# Requests of user tasks (requests.py), key = task ID: b"R" + the signed request (its canonical encoding)
# while the task lives; b"T" + u64 end time once it has ended, so its request cannot create it again.
REQUESTS_TABLE = "cron_requests"
LIVE_REQUEST = b"R"
ENDED_REQUEST = b"T"

# The tag a Process carries to get process-level cron, and the prefix of tags copied onto its ticks.
PROCESS_INTERVAL_TAG = "Cron-Interval"
PROCESS_TAG_PREFIX = "cron-tag-"


@dataclass(frozen=True)
class CronConfig:
    """Cron settings (the `[cron]` section of the node's config file)."""

    max_catch_up: int = 100
    """After downtime (or a long failure), at most this many due ticks of a task are fired, back to back:
    the latest ones; older missed ticks are skipped (counted in `skipped`), never fired late."""
    min_interval_ms: int = 100
    """Shortest interval accepted, for tasks and for a Process's `Cron-Interval`."""
    backoff_base_ms: int = 200
    """Delay before the first retry of a failing tick; doubled per consecutive failure."""
    backoff_max_ms: int = 60_000
    """Cap of the retry delay."""
    scan_interval_ms: int = 2_000
    """How often new processes scheduled here are checked for a `Cron-Interval` tag."""
    max_push_slots: int = 1_000
    """Most slots one call of a `push` path task pushes; the rest wait for its next tick."""
    max_tasks_per_creator: int = 100
    """Most live user tasks one creator (request signer) may have; more is RESOURCE_EXHAUSTED."""
    max_tasks: int = 10_000
    """Most live user tasks on the node, all creators together (wallets are free to make)."""
    max_task_bytes: int = 1 << 20
    """Largest tick content a task may carry (its data plus its tags' names and values), since a live
    task is held in memory; more is RESOURCE_EXHAUSTED."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> CronConfig:
        known = {f.name for f in fields(cls)}
        given = {k.replace("-", "_"): v for k, v in (values or {}).items()}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidArgument(f"cron config: unknown setting(s) {', '.join(unknown)}")
        config = cls(**{k: int(v) for k, v in given.items()})
        if (
            min(
                config.max_catch_up,
                config.min_interval_ms,
                config.scan_interval_ms,
                config.max_push_slots,
                config.max_tasks_per_creator,
                config.max_tasks,
                config.max_task_bytes,
            )
            < 1
        ):
            raise InvalidArgument(
                "cron config: max_catch_up, min_interval_ms, scan_interval_ms, max_push_slots, "
                "max_tasks_per_creator, max_tasks, max_task_bytes must be >= 1"
            )
        if not 1 <= config.backoff_base_ms <= config.backoff_max_ms:
            raise InvalidArgument("cron config: need 1 <= backoff_base_ms <= backoff_max_ms")
        return config


@dataclass(frozen=True)
class CronTask:
    """One timer. Times are ms since the Unix epoch. Tick `tick` is due at `next_run`; the next ones follow
    every `interval_ms` (0 for a one-off task). While failing, the next attempt is at `retry_at`."""

    task: str
    process: str
    tags: tuple[Tag, ...]
    data: bytes
    interval: str
    interval_ms: int
    next_run: int
    tick: int = 0
    runs: int = 0
    failures: int = 0
    last_error: str = ""
    retry_at: int = 0
    skipped: int = 0
    origin: Origin = "user"
    created: int = 0
    path: str = ""
    """Empty for a task that schedules messages; `now` or `push` for one that calls that path on its
    process (`calls.py`); then `tags` and `data` are empty."""
    cursor: int = 0
    """Of a `push` task: the first slot it has not pushed yet. Of a `now` task: the slot after the last
    one it computed."""
    creator: str = ""
    """The address that signed the task's request; its ticks carry it as `Cron-From`, so the process
    sees it as `From`. Empty for a process's own cron (and for tasks created before requests were signed):
    their ticks come from the node."""

    @property
    def due(self) -> int:
        """When the task next tries to fire."""
        return self.retry_at if self.failures else self.next_run

    @property
    def key(self) -> bytes:
        return decode_id(self.task, "task")

    def encode(self) -> bytes:
        doc = asdict(self)
        doc["tags"] = [[t.name, t.value] for t in self.tags]
        doc["data"] = b64url_encode(self.data)
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> CronTask:
        doc = json.loads(raw)
        doc["tags"] = tuple(Tag(n, v) for n, v in doc["tags"])
        doc["data"] = b64url_decode(doc["data"])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in known})

    def to_json(self) -> dict[str, Any]:
        """As the CLI prints it."""
        return {
            "task": self.task,
            "process": self.process,
            "interval": self.interval,
            "next-run": self.due,
            "tick": self.tick,
            "runs": self.runs,
            "failures": self.failures,
            "last-error": self.last_error,
            "skipped": self.skipped,
            "origin": self.origin,
            "tags": [[t.name, t.value] for t in self.tags],
            "path": self.path,
            "cursor": self.cursor,
            "creator": self.creator,
        }

    def advanced(self, cursor: int | None = None) -> CronTask:
        """After tick `tick` was scheduled (or its path called, which reached `cursor`)."""
        return replace(
            self,
            cursor=self.cursor if cursor is None else cursor,
            tick=self.tick + 1,
            next_run=self.next_run + self.interval_ms,
            runs=self.runs + 1,
            failures=0,
            last_error="",
            retry_at=0,
        )


def process_task_id(process: bytes) -> str:
    """The task of a Process's own cron: one per process, the same on every start."""
    return encode_id(blake3(b"aonode/cron/process\x00" + process).digest())


def tick_anchor(task: str, tick: int) -> str:
    return encode_id(blake3(b"aonode/cron/tick\x00" + decode_id(task, "task") + u64(tick)).digest())


def caller_tags(tags: tuple[Tag, ...]) -> tuple[Tag, ...]:
    return tuple(t for t in tags if t.name.lower() not in RESERVED_TAGS)


def tick_message(task: CronTask, signer: Signer) -> Message:
    """Tick `task.tick` of `task`, signed by the node: the same content for the same (task, tick)."""
    tags = [
        Tag("Data-Protocol", "ao"),
        Tag("Variant", "ao.TN.1"),
        Tag("Type", "Message"),
        *caller_tags(task.tags),
        Tag("Cron", "true"),
        Tag("Cron-Task", task.task),
        Tag("Cron-Tick", str(task.tick)),
        Tag("Cron-Time", str(task.next_run)),
    ]
    if task.creator:
        tags.append(Tag(CRON_FROM_TAG, task.creator))
    message = Message(
        target=task.process, anchor=tick_anchor(task.task, task.tick), tags=tuple(tags), data=task.data
    )
    return sign_message(message, signer)


def process_cron_tags(process: Message) -> tuple[Tag, ...]:
    """The tags of a Process's cron ticks: its `Cron-Tag-<Name>: V` tags as `<Name>: V`."""
    n = len(PROCESS_TAG_PREFIX)
    return tuple(
        Tag(t.name[n:], t.value)
        for t in process.tags
        if t.name.lower().startswith(PROCESS_TAG_PREFIX) and len(t.name) > n
    )
