"""Helpers for the scheduler tests: node and client keys, signed messages, a scheduler factory, a store
that fails on demand, and `run` to drive a coroutine (pytest-asyncio is not a dependency)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from aonode.crypto import Ed25519Signer, Signer, sign_message
from aonode.ids import encode_id
from aonode.model import Message, Tag
from aonode.scheduler import Scheduler, SchedulerConfig
from store import ObjectStore, ReadView, StoreFullError, WriteBatch

T = TypeVar("T")

# One key per role for the whole session: Ed25519 key generation is cheap but not free.
NODE_KEY = Ed25519Signer.generate()
OTHER_NODE_KEY = Ed25519Signer.generate()
CLIENT_KEY = Ed25519Signer.generate()

_counter = itertools.count()


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run `coro` on a fresh event loop, failing after `timeout` seconds instead of hanging."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def process_message(scheduler: str | None = None, **tags: str) -> Message:
    """A signed Process message (unique per call)."""
    all_tags = [Tag("Type", "Process"), Tag("Nonce", str(next(_counter)))]
    if scheduler is not None:
        all_tags.append(Tag("Scheduler", scheduler))
    all_tags += [Tag(k, v) for k, v in tags.items()]
    return sign_message(Message(tags=tuple(all_tags), data=b"process"), CLIENT_KEY)


def message_to(process: bytes, data: bytes | None = None, signed: bool = True) -> Message:
    """A message for `process` (unique per call unless `data` is given)."""
    body = data if data is not None else f"message {next(_counter)}".encode()
    m = Message(target=encode_id(process), tags=(Tag("Action", "Eval"),), data=body)
    return sign_message(m, CLIENT_KEY) if signed else m


def make_scheduler(store: ObjectStore, signer: Signer = NODE_KEY, **config: Any) -> Scheduler:
    return Scheduler(store, signer, SchedulerConfig(**config))


class FailingStore(ObjectStore):
    """Delegates to `inner`, except that the submits numbered in `fail_at` (0-based, counted over all
    submits) fail with StoreFullError without reaching it, as a full map would."""

    def __init__(self, inner: ObjectStore, fail_at: set[int]) -> None:
        super().__init__()
        self.inner = inner
        self.fail_at = fail_at
        self.submits = 0

    def read(self) -> ReadView:
        return self.inner.read()

    def submit(self, batch: WriteBatch) -> Future[None]:
        n = self.submits
        self.submits += 1
        if n in self.fail_at:
            fut: Future[None] = Future()
            fut.set_exception(StoreFullError("injected: map full"))
            return fut
        return self.inner.submit(batch)

    def _on_writer_thread(self) -> bool:
        return False

    def stats(self) -> dict[str, int]:
        return self.inner.stats()

    def close(self) -> None:
        self.inner.close()
