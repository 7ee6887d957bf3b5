"""Child process of test_crash.py: write from several threads until killed, reporting every ack.

Usage: crash_writer.py DIR CYCLE THREADS

Prints "ready" once the store is open, then, for every write() that RETURNED, one line
"<key> <object digest hex>" (flushed). Each batch stores a random object, its key in "acked", and bumps
the thread's counter under a precondition on its previous value, so the parent can check that batches
are atomic and applied in order: for every (cycle, thread) the keys present are exactly 0..counter.
The map starts tiny so that kills also land during map growth.
"""

from __future__ import annotations

import random
import sys
import threading

from store import LmdbStore, WriteBatch, u64


def main() -> None:
    path, cycle, n_threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = LmdbStore(path, map_size=256 << 10)
    out = threading.Lock()

    def worker(t: int) -> None:
        rng = random.Random(f"{cycle}/{t}")
        counter_key = f"{cycle}/{t}".encode()
        i = 0
        while True:
            key = f"{cycle}/{t}/{i}"
            b = WriteBatch()
            d = b.put_object(rng.randbytes(rng.randint(0, 6000)))
            b.put("acked", key.encode(), d)
            b.require("counter", counter_key, None if i == 0 else u64(i - 1))
            b.put("counter", counter_key, u64(i))
            store.write(b)
            with out:
                sys.stdout.write(f"{key} {d.hex()}\n")
                sys.stdout.flush()
            i += 1

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(n_threads)]
    print("ready", flush=True)
    for th in threads:
        th.start()
    for th in threads:
        th.join()  # forever: the parent kills us


if __name__ == "__main__":
    main()
