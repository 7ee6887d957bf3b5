"""Child process of the SIGKILL test (`test_crash.py`): a Scheduler on an LmdbStore under load.

`python -m tests.scheduler.crash_child DIR START` loads the pre-signed messages the parent wrote to
DIR/messages.bin, re-sends the messages before START that the parent names in DIR/resend.txt (they must
get their old slots), then schedules messages START.. from several concurrent tasks, printing one line per
acknowledged assignment, `index slot message-hex hash-chain-hex`, flushed at once, until it is killed.
"""

from __future__ import annotations

import asyncio
import struct
import sys
from pathlib import Path

from aonode.codec import decode_message
from aonode.crypto import Ed25519Signer
from aonode.model import Assignment, Message
from aonode.scheduler import Scheduler
from store import LmdbStore

NODE_SEED = bytes(range(32))
TASKS = 4


def load_messages(path: Path) -> list[Message]:
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        out.append(decode_message(data[pos + 4 : pos + 4 + n]))
        pos += 4 + n
    return out


def ack(index: int, a: Assignment) -> None:
    sys.stdout.write(f"{index} {a.slot} {a.message.hex()} {a.hash_chain.hex()}\n")
    sys.stdout.flush()


async def main(directory: Path, start: int) -> None:
    messages = load_messages(directory / "messages.bin")
    resend = [int(x) for x in (directory / "resend.txt").read_text().split()]
    store = LmdbStore(directory / "db")
    sched = Scheduler(store, Ed25519Signer.from_private_bytes(NODE_SEED))
    for i in resend:
        ack(i, await sched.schedule(messages[i]))
    queue = iter(range(start, len(messages)))

    async def worker() -> None:
        for i in queue:
            ack(i, await sched.schedule(messages[i]))

    await asyncio.gather(*(worker() for _ in range(TASKS)))
    sys.stdout.write("done\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
