"""cron@1.0: persistent timers that schedule node-signed messages on processes.

`Cron.create` / `stop_signed` take requests signed by a task's creator (`requests.py`); each tick carries
the creator as `Cron-From`, which the process sees as `From`. `Cron.once` / `every` / `stop` /
`list_page` manage tasks (`tasks.CronTask`, rows of `cron_tasks`); each
tick is a message built deterministically from (task, tick number), signed by the node's wallet and scheduled
through the `Scheduler`, so a re-fired tick is answered with its existing assignment (exactly once). A
Process with a `Cron-Interval` tag gets its own task. A task may instead call a path (`now`, `push`) on its
process (`calls.py`). `engine.py` has the theory of operation,
`interval.py` the interval syntax, docs/cron.md the user's view.
"""

from aonode.cron.calls import EngineCalls, ProcessCalls, parse_path
from aonode.cron.engine import Cron
from aonode.cron.interval import InvalidInterval, format_interval, parse_interval
from aonode.cron.requests import CronRequest, InvalidCronRequest, build_request, parse_request
from aonode.cron.tasks import CronConfig, CronTask, process_task_id, tick_message

__all__ = [
    "Cron",
    "CronConfig",
    "CronRequest",
    "CronTask",
    "EngineCalls",
    "InvalidCronRequest",
    "InvalidInterval",
    "ProcessCalls",
    "build_request",
    "format_interval",
    "parse_interval",
    "parse_path",
    "parse_request",
    "process_task_id",
    "tick_message",
]
