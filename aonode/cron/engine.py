"""The `Cron` service: timers that schedule node-signed messages on processes, persisted and resumed.

Theory of operation (one asyncio event loop, the node's):

- **Creation** (`create`): a user task comes from a request signed by its creator (`requests.py`),
  verified off the loop; the task ID is the request's ID, so a replay answers the live task, waits for a
  creation in progress (`_pending`), or is refused once the task has ended (`_ending` until the
  request's tombstone in `cron_requests` is durable, then the tombstone). The task's row and its request
  are written in one batch. Limits: per creator, per node, per task size (`CronConfig`). `stop_signed`
  stops a task only for a request its creator signed.
- Every live task is a row of `cron_tasks` (`tasks.py`) mirrored in memory, and has one asyncio task
  (`_loop`) that sleeps until the task is due, fires it, and saves the new row. `start()` loads the rows
  and starts their loops; `close()` cancels them. Times are wall-clock ms since the epoch, since they
  must mean the same after a restart.
- **Firing** tick `n` builds the tick message (deterministic for (task, n)) and schedules it through the
  `Scheduler`; on success the row advances to tick `n+1` at `next_run + interval` (a one-off task is
  deleted). The row is saved *after* the tick is scheduled: a crash in between re-fires tick `n` on
  restart, which has the same message ID (Ed25519 signatures are deterministic) and so gets the
  assignment it already has. Each tick is scheduled exactly once; ticks stay on the task's grid
  (`start + n * interval`), they do not drift with the time a tick took.
- **Catch-up**: when more than `max_catch_up` ticks are due at once (after downtime, or after a long
  failure), the older ones are skipped (counted in `skipped`) and the latest `max_catch_up` are fired
  back to back; the schedule then continues on the grid.
- **Failure** (unknown target, a refused message, a full store): the same tick is retried after
  `backoff_base_ms * 2^(failures-1)`, capped at `backoff_max_ms`; `failures` (consecutive) and
  `last_error` are kept in the row and shown by `list_tasks()`. A failing task never spins.
- **Path tasks** (`path` = `now` or `push`, `calls.py`) call that path on the process through the
  `ProcessCalls` port instead of scheduling a message; their calls are idempotent, so the same row
  discipline gives "at least once, harmless if twice", and missed ticks collapse into one call.
- **Process-level cron**: a Process scheduled on this node with a `Cron-Interval` tag gets a task whose ID
  is derived from the process ID and whose grid starts at the Process's slot-0 timestamp (derived from the
  schedule, so the same after any restart). Processes are found by a scan of the scheduler's processes at
  start and every `scan_interval_ms` after (only processes not seen yet are read). Its ticks carry the
  Process's `Cron-Tag-<Name>` tags as `<Name>`. It cannot be stopped: it is part of the process definition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

from aonode.aio import durable
from aonode.codec import encode_message
from aonode.cron.calls import ProcessCalls, parse_path
from aonode.cron.interval import InvalidInterval, format_interval, parse_interval
from aonode.cron.requests import CronRequest, Op, build_request, parse_request
from aonode.cron.tasks import (
    ENDED_REQUEST,
    LIVE_REQUEST,
    PROCESS_INTERVAL_TAG,
    REQUESTS_TABLE,
    TABLE,
    CronConfig,
    CronTask,
    caller_tags,
    process_cron_tags,
    process_task_id,
    tick_message,
)
from aonode.crypto import Signer
from aonode.errors import (
    AlreadyExists,
    AonodeError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)
from aonode.ids import decode_id, encode_id, is_id
from aonode.model import Message, Tag
from aonode.scheduler import Scheduler, SchedulerClosedError, wall_clock_ms
from store import ObjectStore, StoreError, WriteBatch, u64

# List pages: at most this many tasks, and at most about this many bytes of task content (one task is
# always returned, so a page holds any task).
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1_000
MAX_PAGE_BYTES = 4 << 20


class CronRequestUsed(AlreadyExists):
    """A request whose task has ended (stopped, or a one-off that fired): it cannot create it again."""


class NotTaskCreator(PermissionDenied):
    """A Stop request signed by someone other than the task's creator."""


class TooManyTasks(ResourceExhausted):
    """A creator's (or the node's) live task limit, or the task size limit, was reached."""


log = logging.getLogger("aonode.cron")


class Cron:
    """Cron tasks of one node. Async methods run on the node's event loop; `list_tasks` from anywhere."""

    def __init__(
        self,
        store: ObjectStore,
        scheduler: Scheduler,
        signer: Signer,
        config: CronConfig | None = None,
        *,
        clock: Callable[[], int] = wall_clock_ms,
        calls: ProcessCalls | None = None,
    ) -> None:
        self._store = store
        self._calls = calls
        self._scheduler = scheduler
        self._signer = signer
        self.config = config or CronConfig()
        self._clock = clock
        self._tasks: dict[str, CronTask] = {}
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._seen: set[bytes] = set()
        self._scanner: asyncio.Task[None] | None = None
        self._firing: set[str] = set()
        # Requests being turned into tasks (task ID -> (creator, the task once created)): a concurrent
        # replay of one waits for it, and they count against the creator's limit.
        self._pending: dict[str, tuple[str, asyncio.Future[CronTask]]] = {}
        # Tasks that have ended but whose request's tombstone is not durable yet: a replay in that window
        # must not find the request live in the store and create the task again.
        self._ending: set[str] = set()
        self._closed = False
        # Ticks by outcome (`fired`, `failed`, `skipped`): the node's metrics read it.
        self.ticks: Counter[str] = Counter()

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the persisted tasks and start them; start the process scan (its first pass at once)."""
        for task in await asyncio.to_thread(self._load):
            self._tasks[task.task] = task
            self._spawn(task.task)
        self._scanner = asyncio.get_running_loop().create_task(self._scan_loop(), name="cron-scan")

    async def close(self, grace_s: float = 5.0) -> None:
        """Stop every timer. A tick being fired is let finish (its scheduling and its row's save) for up
        to `grace_s`, so the rows match the schedules after a clean stop; past that it is cancelled, and
        if its tick committed anyway the re-fire after a restart is answered with the existing
        assignment."""
        self._closed = True
        idle = [t for tid, t in self._loops.items() if tid not in self._firing]
        firing = [t for tid, t in self._loops.items() if tid in self._firing]
        for t in [*idle, *([self._scanner] if self._scanner else [])]:
            t.cancel()
        if firing:
            _, late = await asyncio.wait(firing, timeout=grace_s)
            for t in late:
                t.cancel()
        running = [*self._loops.values(), *([self._scanner] if self._scanner else [])]
        await asyncio.gather(*running, return_exceptions=True)
        self._loops.clear()

    # -- public API ----------------------------------------------------------------------------------------

    async def create(self, request: Message, op: Op) -> CronTask:
        """The task a signed Once/Every `request` asks for (requests.py); its ID is the request's ID. A
        replay answers the task it created; once that task has ended, `CronRequestUsed`."""
        # Off the loop: hashing and verifying a request of up to max_message_bytes takes milliseconds.
        req, encoded = await asyncio.to_thread(_parse_and_encode, request, op)
        existing = self._tasks.get(req.id)
        if existing is not None:
            return existing
        pending = self._pending.get(req.id)
        if pending is not None:
            return await asyncio.shield(pending[1])
        fut: asyncio.Future[CronTask] = asyncio.get_running_loop().create_future()
        self._check_limits(req.creator, _content_bytes(req.tags, req.data))
        self._pending[req.id] = (req.creator, fut)
        try:
            if req.id in self._ending or await asyncio.to_thread(self._request_ended, req.id):
                raise CronRequestUsed(
                    f"cron request {req.id} was used: its task has ended (stopped, or fired once); sign a "
                    "new request (a new anchor) to create another task"
                )
            now = self._clock()
            if op == "Every":
                assert req.interval is not None
                ms = parse_interval(req.interval, minimum_ms=self.config.min_interval_ms)
                interval, when = format_interval(ms), now + ms
            else:
                ms, interval = 0, ""
                if req.delay is not None:
                    when = now + parse_interval(req.delay)
                else:
                    assert req.at is not None
                    when = req.at
            task = self._new(req, interval, ms, when, now)
            await self._add(task, encoded)
        except asyncio.CancelledError:
            fut.cancel()
            raise
        except Exception as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: a failed request with no replay waiting is not an error to log
            raise
        else:
            fut.set_result(task)
            return task
        finally:
            del self._pending[req.id]

    async def once(
        self,
        process: str,
        *,
        tags: Sequence[Tag] = (),
        data: bytes = b"",
        at: int | None = None,
        delay: str | None = None,
        path: str = "",
        creator: Signer | None = None,
    ) -> CronTask:
        """Schedule one message at `at` (ms since the epoch; a past time fires at once) or after `delay`
        (an interval such as `10-seconds`); with `path`, call that path on the process instead. In-process
        callers: signs the request with `creator` (default: the node's wallet) and `create`s it."""
        if (at is None) == (delay is None):
            raise InvalidArgument("when: give exactly one of at (ms since the epoch) or in (an interval)")
        if at is not None and at <= 0:
            raise InvalidArgument("at: a time in ms since the Unix epoch, > 0")
        signer = creator or self._signer
        request = build_request(signer, "Once", process, tags=tags, data=data, at=at, delay=delay, path=path)
        return await self.create(request, "Once")

    async def every(
        self,
        process: str,
        interval: str,
        *,
        tags: Sequence[Tag] = (),
        data: bytes = b"",
        path: str = "",
        creator: Signer | None = None,
    ) -> CronTask:
        """Schedule a message every `interval`, the first one an interval from now; with `path`, call
        that path on the process instead. Signs the request with `creator` (default: the node's wallet)."""
        signer = creator or self._signer
        request = build_request(signer, "Every", process, tags=tags, data=data, interval=interval, path=path)
        return await self.create(request, "Every")

    async def stop_signed(self, request: Message) -> CronTask:
        """Stop the task a signed Stop `request` names (its target), if its signer created it:
        `NotTaskCreator` otherwise. A task from before requests were signed has the node as creator."""
        req = await asyncio.to_thread(parse_request, request, "Stop")
        task = self._tasks.get(req.target)
        if task is not None and task.origin == "user":
            creator = task.creator or str(self._signer.address)
            if req.creator != creator:
                raise NotTaskCreator(
                    f"cron task {task.task} was created by {creator}; only a Stop signed by that wallet "
                    f"stops it, not one signed by {req.creator}"
                )
        return await self.stop(req.target)

    async def stop(self, task_id: str) -> CronTask:
        """Stop and forget a task, unauthenticated (the wire calls `stop_signed`); NotFound for an unknown
        (or already finished one-off) task. When it returns, no tick of the task is in flight any more."""
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFound(f"cron task {task_id} not found")
        if task.origin == "process":
            raise FailedPrecondition(
                f"cron task {task_id} comes from process {task.process}'s {PROCESS_INTERVAL_TAG} tag, "
                "which is part of its definition"
            )
        del self._tasks[task_id]
        self._ending.add(task_id)
        try:
            loop = self._loops.pop(task_id, None)
            if loop is not None:
                if task_id in self._firing:
                    # Let the tick in flight land (its loop then finds the task gone and ends), so that no
                    # tick of this task appears after Stop has answered.
                    _, late = await asyncio.wait([loop], timeout=5.0)
                    for t in late:
                        t.cancel()
                else:
                    loop.cancel()
            await durable(self._store.submit(self._end_batch(task)))
        finally:
            self._ending.discard(task_id)
        return task

    def list_tasks(self) -> list[CronTask]:
        """Live tasks, oldest first."""
        return sorted(self._tasks.values(), key=lambda t: (t.created, t.task))

    def list_page(
        self,
        *,
        page_size: int = 0,
        page_token: str = "",
        process: str = "",
        creator: str = "",
        max_bytes: int = MAX_PAGE_BYTES,
    ) -> tuple[list[CronTask], str]:
        """One page of live tasks, oldest first, optionally only `process`'s or `creator`'s: at most
        `page_size` (0: 100; capped at 1,000) and about `max_bytes` of task content (at least one task).
        Returns the tasks and the token of the next page ("" after the last)."""
        if page_size < 0:
            raise InvalidArgument("page_size: >= 0")
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _parse_page_token(page_token)
        tasks = [
            t
            for t in self.list_tasks()
            if (not process or t.process == process)
            and (not creator or t.creator == creator)
            and (after is None or (t.created, t.task) > after)
        ]
        page: list[CronTask] = []
        used = 0
        for t in tasks:
            cost = _task_bytes(t)
            if len(page) >= size or (page and used + cost > max_bytes):
                last = page[-1]
                return page, f"{last.created}.{last.task}"
            page.append(t)
            used += cost
        return page, ""

    def get(self, task_id: str) -> CronTask:
        task = self._tasks.get(task_id)
        if task is None:
            raise NotFound(f"cron task {task_id} not found")
        return task

    async def scan(self) -> int:
        """Register the cron task of every process scheduled here, not seen yet, with a `Cron-Interval`
        tag. Returns how many were added."""
        pids = await asyncio.to_thread(self._scheduler.processes)
        new = [p for p in pids if p not in self._seen]
        if not new:
            return 0
        found = await asyncio.to_thread(self._inspect, new)
        added = 0
        for task in found:
            if task.task not in self._tasks and not self._closed:
                await self._add(task)
                added += 1
        self._seen.update(new)
        return added

    # -- internals -----------------------------------------------------------------------------------------

    def _new(self, req: CronRequest, interval: str, interval_ms: int, when: int, now: int) -> CronTask:
        process, tags, data = req.target, req.tags, req.data
        decode_id(process, "process")
        path = ""
        if req.path:
            path = parse_path(req.path, process)
            if tags or data:
                raise InvalidArgument("a task that calls a path sends no message: give no tags and no data")
            if self._calls is None:
                raise FailedPrecondition("this node's cron cannot call process paths (no compute engine)")
        task = CronTask(
            task=req.id,
            process=process,
            tags=caller_tags(tuple(tags)),
            data=data,
            interval=interval,
            interval_ms=interval_ms,
            next_run=when,
            created=now,
            path=path,
            creator=req.creator,
        )
        if not path:
            # Refuse what the scheduler would refuse at every tick (too many or too long tags, ...), now.
            tick_message(task, self._signer).validate()
        return task

    def _check_limits(self, creator: str, size: int) -> None:
        if size > self.config.max_task_bytes:
            raise TooManyTasks(
                f"cron task content is {size} bytes; this node's limit is {self.config.max_task_bytes}"
            )
        live = [t.creator for t in self._tasks.values() if t.origin == "user"]
        live += [c for c, _ in self._pending.values()]
        if len(live) >= self.config.max_tasks:
            raise TooManyTasks(f"this node has {len(live)} live cron tasks, its limit (max_tasks)")
        mine = sum(1 for c in live if c == creator)
        if mine >= self.config.max_tasks_per_creator:
            raise TooManyTasks(
                f"{creator} has {mine} live cron tasks, this node's limit (max_tasks_per_creator); stop one"
            )

    def _request_ended(self, task_id: str) -> bool:
        with self._store.read() as view:
            row = view.get(REQUESTS_TABLE, decode_id(task_id, "task"))
        return row is not None and bytes(row[:1]) == ENDED_REQUEST

    def _end_batch(self, task: CronTask) -> WriteBatch:
        """Delete the task's row; a signed request's record becomes a tombstone (so a replay cannot bring
        the task back)."""
        batch = WriteBatch()
        batch.delete(TABLE, task.key)
        if task.creator and task.origin == "user":
            batch.put(REQUESTS_TABLE, task.key, ENDED_REQUEST + u64(self._clock()))
        return batch

    async def _add(self, task: CronTask, request: bytes | None = None) -> None:
        batch = WriteBatch()
        batch.put(TABLE, task.key, task.encode())
        if request is not None:
            batch.put(REQUESTS_TABLE, task.key, LIVE_REQUEST + request)
        await durable(self._store.submit(batch))
        self._tasks[task.task] = task
        self._spawn(task.task)

    def _spawn(self, task_id: str) -> None:
        if not self._closed:
            loop = asyncio.get_running_loop()
            self._loops[task_id] = loop.create_task(self._loop(task_id), name=f"cron-{task_id[:8]}")

    def _load(self) -> list[CronTask]:
        out = []
        with self._store.read() as view:
            for key, raw in view.range(TABLE):
                try:
                    out.append(CronTask.decode(bytes(raw)))
                except (ValueError, KeyError, TypeError) as exc:
                    log.error("cron: unreadable task row %s: %s", encode_id(bytes(key)), exc)
        return out

    def _inspect(self, pids: Sequence[bytes]) -> list[CronTask]:
        """Worker thread: the process-level tasks of `pids` that do not exist yet."""
        out = []
        for pid in pids:
            task_id = process_task_id(pid)
            if task_id in self._tasks:
                continue
            try:
                process = self._scheduler.get_message(pid)
                text = process.tag(PROCESS_INTERVAL_TAG)
                if text is None:
                    continue
                ms = parse_interval(text, minimum_ms=self.config.min_interval_ms)
                spawned = self._scheduler.read_assignments(pid, 0, 1)[0].timestamp
            except InvalidInterval as exc:
                log.warning("cron: process %s has no cron: %s", encode_id(pid), exc)
                continue
            except AonodeError as exc:
                log.warning("cron: process %s not readable: %s", encode_id(pid), exc)
                continue
            out.append(
                CronTask(
                    task=task_id,
                    process=encode_id(pid),
                    tags=process_cron_tags(process),
                    data=b"",
                    interval=format_interval(ms),
                    interval_ms=ms,
                    next_run=spawned + ms,
                    origin="process",
                    created=spawned,
                )
            )
        return out

    async def _scan_loop(self) -> None:
        while not self._closed:
            try:
                await self.scan()
            except (AonodeError, StoreError) as exc:
                log.warning("cron: process scan failed: %s", exc)
            await asyncio.sleep(self.config.scan_interval_ms / 1000)

    async def _loop(self, task_id: str) -> None:
        while not self._closed:
            task = self._tasks.get(task_id)
            if task is None:
                return
            wait = task.due - self._clock()
            if wait > 0:
                await asyncio.sleep(wait / 1000)
                continue  # re-read: the task may have been stopped, the clock may have moved
            self._firing.add(task_id)
            try:
                await self._fire(task)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug: keep the loop alive, slowly
                log.exception("cron: task %s", task_id)
                self._firing.discard(task_id)
                await asyncio.sleep(self.config.backoff_max_ms / 1000)
            finally:
                self._firing.discard(task_id)

    async def _fire(self, task: CronTask) -> None:
        now = self._clock()
        if task.interval_ms and now >= task.next_run:
            due = (now - task.next_run) // task.interval_ms + 1
            skip = due - (1 if task.path else self.config.max_catch_up)
            if skip > 0:
                log.info("cron: task %s skips %d missed ticks", task.task, skip)
                self.ticks["skipped"] += skip
                task = replace(
                    task,
                    tick=task.tick + skip,
                    next_run=task.next_run + skip * task.interval_ms,
                    skipped=task.skipped + skip,
                )
        cursor: int | None = None
        try:
            if task.path:
                cursor = await self._call(task)
            else:
                await self._scheduler.schedule(tick_message(task, self._signer))
        except SchedulerClosedError:
            return
        except AonodeError as exc:
            if self._closed:
                return
            failures = task.failures + 1
            backoff = min(self.config.backoff_base_ms << min(failures - 1, 32), self.config.backoff_max_ms)
            log.info("cron: task %s tick %d failed (%d): %s", task.task, task.tick, failures, exc)
            self.ticks["failed"] += 1
            task = replace(task, failures=failures, last_error=f"{exc.status}: {exc}", retry_at=now + backoff)
        else:
            self.ticks["fired"] += 1
            if not task.interval_ms:
                await self._finish(task)
                return
            task = task.advanced(cursor)
        await self._save(task)

    async def _call(self, task: CronTask) -> int:
        """Call a path task's path; the task's new cursor."""
        if self._calls is None:
            raise FailedPrecondition("this node's cron cannot call process paths (no compute engine)")
        pid = decode_id(task.process, "process")
        if task.path == "push":
            return await self._calls.push(pid, task.cursor, self.config.max_push_slots)
        return await self._calls.now(pid) + 1

    async def _save(self, task: CronTask) -> None:
        if task.task not in self._tasks:  # stopped while it fired: do not bring the row back
            return
        self._tasks[task.task] = task
        batch = WriteBatch()
        batch.put(TABLE, task.key, task.encode())
        try:
            await durable(self._store.submit(batch))
        except StoreError as exc:
            # The tick is scheduled; a restart before the next save re-fires it, answered as existing.
            log.warning("cron: task %s not saved: %s", task.task, exc)

    async def _finish(self, task: CronTask) -> None:
        if self._tasks.pop(task.task, None) is None:
            return
        self._loops.pop(task.task, None)
        self._ending.add(task.task)
        try:
            with contextlib.suppress(StoreError):
                await durable(self._store.submit(self._end_batch(task)))
        finally:
            self._ending.discard(task.task)


def _parse_and_encode(request: Message, op: Op) -> tuple[CronRequest, bytes]:
    return parse_request(request, op), encode_message(request)


def _content_bytes(tags: Sequence[Tag], data: bytes) -> int:
    """A tick's content as the task limits count it: its data plus its tags' names and values, in UTF-8
    bytes (characters would let non-ASCII tags hold up to 4x the limit)."""
    return len(data) + sum(_utf8_len(t.name) + _utf8_len(t.value) for t in tags)


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _task_bytes(t: CronTask) -> int:
    return 256 + _content_bytes(t.tags, t.data)


def _parse_page_token(token: str) -> tuple[int, str] | None:
    """A List page token, `<created>.<task>` of the last task of the previous page."""
    if not token:
        return None
    created, _, task = token.partition(".")
    if not (created.isascii() and created.isdigit() and len(created) <= 20 and is_id(task)):
        raise InvalidArgument("page_token: not a token this node issued (<created ms>.<task ID>)")
    return int(created), task
