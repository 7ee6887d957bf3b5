"""ANS-104 items through the scheduler whichever way signatures are checked (inline, threads, worker
processes, which receive the stored bytes): a forged item is refused, good ones get slots beside our own
messages, a resent item gets its slot back, and the stored schedule verifies (verify_schedule decodes and
verifies each message by its own format)."""

from __future__ import annotations

from typing import Any

import pytest

from aonode import ans104
from aonode.crypto import Ed25519Signer
from aonode.errors import InvalidArgument
from aonode.ids import encode_id
from aonode.model import Assignment, Message
from aonode.scheduler import verify_schedule
from store import MemoryStore
from tests.scheduler.helpers import make_scheduler, message_to, run

SIGNER = Ed25519Signer.from_private_bytes(b"s" * 32)
MODES: dict[str, dict[str, Any]] = {
    "inline": {},
    "threads": {"verify_threads": 2},
    "processes": {"verify_processes": 1, "verify_chunk": 8},
}


@pytest.mark.parametrize("mode", list(MODES))
def test_items_schedule_alike_in_every_mode(mode: str) -> None:
    with MemoryStore() as store:
        sched = make_scheduler(store, **MODES[mode])
        proc = ans104.build(SIGNER, tags=[("Type", "Process")])
        pid = encode_id(proc.id)
        items = [ans104.build(SIGNER, target=pid, tags=[("N", str(i))]) for i in range(12)]
        forged = ans104.decode(ans104.build(SIGNER, target=pid, data=b"a").raw[:-1] + b"b")

        async def go() -> None:
            assert (await sched.schedule(proc)).slot == 0
            with pytest.raises(InvalidArgument, match="signature"):
                await sched.schedule(forged)
            batch: list[Message] = [*items[:6], forged, message_to(proc.id), *items[6:], items[2]]
            results = await sched.schedule_many(batch)
            assert isinstance(results[6], InvalidArgument)
            ok = [r for r in results if isinstance(r, Assignment)]
            assert [a.slot for a in ok[:-1]] == list(range(1, 14))
            assert ok[-1] == ok[2] and ok[2].message == items[2].id

        try:
            run(go(), timeout=60)
        finally:
            sched.close()
        verify_schedule(store, proc.id).raise_for_problems()
