"""The data directory's lock: one holder at a time, released on release/close and when the holder dies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from store.lock import LOCK_FILE, DirectoryLock, DirectoryLockedError


def test_a_second_holder_is_refused_until_the_first_releases(tmp_path: Path) -> None:
    first = DirectoryLock(tmp_path).acquire()
    with pytest.raises(DirectoryLockedError, match=r"in use by another aonode process \(pid \d+\)"):
        DirectoryLock(tmp_path).acquire()
    first.release()
    with DirectoryLock(tmp_path):
        assert (tmp_path / LOCK_FILE).exists()


def test_the_lock_of_a_killed_process_is_free(tmp_path: Path) -> None:
    code = (
        f"from store.lock import DirectoryLock; DirectoryLock({str(tmp_path)!r}).acquire(); "
        "print('held', flush=True); input()"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        with pytest.raises(DirectoryLockedError, match=f"pid {holder.pid}"):
            DirectoryLock(tmp_path).acquire()
    finally:
        holder.kill()  # SIGKILL: no cleanup runs; the kernel drops the flock
        holder.wait()
    with DirectoryLock(tmp_path):  # the stale file does not block
        pass
