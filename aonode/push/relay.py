"""The relay budget: how many messages the node may relay to one process in a time window.

Push bounds (hops, pair, fan-out, per-push budget) hold within one push, but a loop can outlive every
push: a cron `push` task on two processes that answer each other pushes the slots the last tick created,
each tick extends the ping-pong by up to `max_depth` hops, and it never ends (seen at ~70 slots/s). The
budget is across pushes: a token bucket per target process, `limit` tokens, refilled continuously at
`limit` per `window_ms`; a delivery takes one token or is refused. A refused delivery breaks the chain
(the slot it would have created is never made, so nothing pushes on from it), so the loop ends once it
has used the budget; a process receiving relayed messages at less than the refill rate never notices.

Memory: one entry per process relayed to lately; a bucket that has refilled completely is forgotten (it
is the same as no entry), and at most `max_tracked` are kept (the least recently used go first, which
only errs towards allowing). The buckets live in memory: a restart refills them. Time is the node's
monotonic clock, so the decision is not deterministic; it is an operator's guard, like a rate limit,
not part of any process's semantics (what it refuses is recorded in the push tree).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from aonode.errors import ResourceExhausted


class RelayLimitExceeded(ResourceExhausted):
    """The target received its relay budget's worth of messages in the window."""


class RelayBudget:
    def __init__(
        self,
        limit: int,
        window_ms: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 65_536,
    ) -> None:
        if limit < 0 or window_ms <= 0:
            raise ValueError("relay limit must be >= 0 and its window > 0")
        self.limit = limit
        self.window_ms = window_ms
        self._rate = limit / (window_ms / 1000)  # tokens per second
        self._clock = clock
        self._max_tracked = max_tracked
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()  # target -> (tokens, at)

    def take(self, target: bytes, name: str) -> None:
        """Spend one token of `target`'s bucket, or raise RelayLimitExceeded (`name`: how to call it)."""
        if self.limit == 0:
            return
        now = self._clock()
        tokens, at = self._buckets.pop(target, (float(self.limit), now))
        tokens = min(float(self.limit), tokens + (now - at) * self._rate)
        if tokens < 1:
            self._buckets[target] = (tokens, now)
            raise RelayLimitExceeded(
                f"process {name} was relayed {self.limit} messages in {self.window_ms / 1000:g} s "
                "(the node's relay_limit)"
            )
        self._buckets[target] = (tokens - 1, now)
        self._forget(now)

    def _forget(self, now: float) -> None:
        while len(self._buckets) > self._max_tracked:
            self._buckets.popitem(last=False)
        # The oldest entry is the one most likely refilled; dropping refilled ones keeps memory to the
        # processes relayed to within about one window.
        while self._buckets:
            target, (tokens, at) = next(iter(self._buckets.items()))
            if tokens + (now - at) * self._rate < self.limit:
                break
            del self._buckets[target]
