"""An exclusive lock on a directory, held for a process's life: one node per data directory.

Two nodes on one data directory would both write the same LMDB environment (LMDB allows it: each
transaction is serialised by LMDB's own lock) while each keeps its schedule heads in memory, so their
writes race and clients see "schedule changed concurrently". The lock is `flock(LOCK_EX | LOCK_NB)` on a
file in the directory (`LOCK_FILE`), taken before anything else is opened. The kernel releases it when its
descriptor closes, including when the process dies (kill -9), so a stale lock file never blocks a restart;
the file's content (the holder's pid) is only for the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from store.base import StoreError

LOCK_FILE = "aonode.lock"


class DirectoryLockedError(StoreError):
    """Another process holds the directory's lock."""


class DirectoryLock:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.path = Path(directory) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> DirectoryLock:
        """Take the lock, or raise DirectoryLockedError naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DirectoryLockedError(
                f"data directory {self.path.parent} is in use by another aonode process (pid {holder}); "
                "a directory serves one node at a time"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> DirectoryLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()
