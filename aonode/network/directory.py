"""The process directory: find the scheduler of a process this node has never seen, among its peers.

`resolve(pid)` asks every lookup target (the peers, then nodes known from valid location records, at most
`max_targets`) at once for a `ProcessProof`; the first answer that verifies (`port.verify_proof`) wins, the
others are cancelled. A verified answer is kept the way hand work used to keep it: the Process message is
published here and the scheduler's location record learned, so the scheduler's routing (a Process
published here that names another scheduler is redirected there) takes over, for as long as that
location's TTL runs (gossip keeps it fresh; an expired record is not used). A forged answer is refused and
logged, and the next answer is considered.

Bounds, because anyone can name random process IDs: one lookup per process at a time (concurrent askers
share it); at most `max_in_flight` lookups at once (more: RESOURCE_EXHAUSTED, "retry"); a process no
target knew is remembered as unknown for `negative_ttl_ms` (LRU, at most `max_remembered`), so a flood of
the same unknown ID costs one lookup per window. Lookups never recurse: a node answers only from what it
holds, so one request costs at most `max_targets` outgoing calls.

When no target knew the process but some could not be asked (unreachable), the answer is UNAVAILABLE,
not "unknown": the process may live on the node that is down (a push retries then).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from aonode.errors import AonodeError, NotFound, ResourceExhausted, Unavailable
from aonode.ids import encode_id
from aonode.network.port import ForgedAnswerError, PeerPort, ProcessProof, verify_proof
from aonode.scheduler import Scheduler

log = logging.getLogger("aonode.network")


class DirectoryBusyError(ResourceExhausted):
    """Too many directory lookups at once; retry."""


@dataclass(frozen=True)
class DirectoryConfig:
    max_targets: int = 16
    """Most nodes one lookup asks (peers first)."""

    timeout: float = 5.0
    """Seconds each asked node gets to answer."""

    max_in_flight: int = 32
    """Lookups running at once; more are answered RESOURCE_EXHAUSTED."""

    negative_ttl_ms: int = 5_000
    """How long a process no node knew is answered unknown without asking again."""

    max_remembered: int = 10_000
    """Most unknown processes remembered (least recently asked forgotten first)."""


class ProcessDirectory:
    def __init__(
        self,
        scheduler: Scheduler,
        port: PeerPort | None,
        targets: Callable[[], list[str]],
        config: DirectoryConfig | None = None,
        *,
        accept_unsigned: bool = False,
    ) -> None:
        self._scheduler = scheduler
        self._port = port
        self._targets = targets
        self.config = config or DirectoryConfig()
        self._accept_unsigned = accept_unsigned
        self._unknown: OrderedDict[bytes, int] = OrderedDict()  # pid -> until (ms)
        self._running: dict[bytes, asyncio.Future[bool]] = {}
        self.refused = 0  # forged answers seen (for tests and logs)

    async def resolve(self, process: bytes) -> bool:
        """See `aonode.scheduler.config.Directory`."""
        if self._port is None:
            return False
        now = time.time_ns() // 1_000_000
        until = self._unknown.get(process)
        if until is not None:
            if until > now:
                self._unknown.move_to_end(process)
                return False
            del self._unknown[process]
        running = self._running.get(process)
        if running is not None:
            return await asyncio.shield(running)
        if len(self._running) >= self.config.max_in_flight:
            raise DirectoryBusyError(f"process directory: {len(self._running)} lookups running; retry later")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._running[process] = future
        try:
            found = await self._lookup(process)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: sharers re-raise it, nobody else needs to
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._running[process]
        future.set_result(found)
        return found

    def _remember_unknown(self, process: bytes) -> None:
        self._unknown[process] = time.time_ns() // 1_000_000 + self.config.negative_ttl_ms
        self._unknown.move_to_end(process)
        while len(self._unknown) > self.config.max_remembered:
            self._unknown.popitem(last=False)

    async def _lookup(self, process: bytes) -> bool:
        assert self._port is not None
        port = self._port
        targets = self._targets()[: self.config.max_targets]
        if not targets:
            return False  # nobody to ask: nothing to remember either
        pid = encode_id(process)
        unreachable = 0

        async def ask(url: str) -> tuple[str, ProcessProof | None, AonodeError | None]:
            try:
                proof = await asyncio.wait_for(port.lookup(url, process), self.config.timeout)
                return url, proof, None
            except TimeoutError:
                return url, None, Unavailable(f"{url} did not answer in {self.config.timeout:g} s")
            except AonodeError as exc:
                return url, None, exc

        tasks = [asyncio.ensure_future(ask(url)) for url in targets]
        try:
            for next_done in asyncio.as_completed(tasks):
                url, proof, error = await next_done
                if proof is None:
                    if isinstance(error, Unavailable):
                        unreachable += 1
                    elif error is not None and not isinstance(error, NotFound):
                        log.info("directory: %s answered about %s: %s", url, pid, error)
                    continue
                try:
                    scheduler = verify_proof(process, proof, accept_unsigned=self._accept_unsigned)
                except ForgedAnswerError as exc:
                    self.refused += 1
                    log.warning("directory: refused the answer of %s: %s", url, exc)
                    continue
                await self._keep(proof)
                log.info("directory: process %s is scheduled by %s (answered by %s)", pid, scheduler, url)
                return True
        finally:
            for task in tasks:
                task.cancel()
        if unreachable:
            raise Unavailable(
                f"process {pid} is not scheduled on this node, and {unreachable} of {len(targets)} "
                "nodes that might know it could not be asked; retry"
            )
        self._remember_unknown(process)
        return False

    async def _keep(self, proof: ProcessProof) -> None:
        """Store what the proof showed: the Process (so the scheduler redirects to its scheduler) and the
        location (if it is newer than the one known)."""
        await self._scheduler.locations.learn(proof.location)
        await self._scheduler.publish(proof.process)
