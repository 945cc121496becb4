"""One writer at a time per index directory: an OS-level lock held for a writer's whole read-modify-write.

``write_lock(directory)`` takes ``fcntl.flock`` on ``directory/.write.lock`` and records the holder's pid in
it. Another writer (a process, or a thread with its own descriptor) that finds it taken says once on stderr
"index DIR is being written by pid N, waiting…" and waits; with ``wait=False`` it raises ``IndexBusy`` (an
``IndexProblem``: the CLI prints it and exits 1) instead. The kernel releases a flock when its process dies, so
a writer killed with SIGKILL never blocks the next one; the file it leaves behind only names a dead pid.

The holder removes the file before it lets go, so an index directory holds no lock file between writes. A
waiter may then hold the lock of a removed file: it checks, once it has the lock, that its file is still the
one at the path, and starts over when not (the usual lock-file protocol). The lock is re-entrant within a
thread, so a writer may call another writer (``add_to_index`` -> ``extend_index``).

Example:
    >>> with write_lock(Path(".qa-index")):                 # doctest: +SKIP
    ...     index = load_index(Path(".qa-index"))           # the read happens under the lock
    ...     save_index(grown(index), Path(".qa-index"))
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from index.store import IndexProblem

LOCK_NAME = ".write.lock"

_held = threading.local()  # resolved directory -> depth, for this thread


class IndexBusy(IndexProblem):
    """The index is being written by another process and the caller chose not to wait."""


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def write_lock(directory: Path, wait: bool = True, notify: Callable[[str], None] = _say) -> Iterator[None]:
    """Hold the write lock of the index at ``directory`` (created when missing) for the ``with`` block."""
    directory = Path(directory)
    key = str(directory.resolve())
    depths = _held.__dict__.setdefault("depths", {})
    if depths.get(key):
        depths[key] += 1
        try:
            yield
        finally:
            depths[key] -= 1
        return
    fd, created = _acquire(directory, wait, notify)
    depths[key] = 1
    try:
        yield
    finally:
        depths[key] = 0
        _release(directory / LOCK_NAME, fd)
        if created:  # a writer that wrote nothing (e.g. no article could be loaded) leaves no empty folder
            try:
                directory.rmdir()
            except OSError:
                pass


def _acquire(directory: Path, wait: bool, notify: Callable[[str], None]) -> tuple[int, bool]:
    """(the locked descriptor, whether the directory was created for it)."""
    path = directory / LOCK_NAME
    told = False
    while True:
        created = _make_dir(directory)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # a writer that created the folder removed it again, empty: make it anew
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                if not wait:
                    raise IndexBusy(f"index {directory} is being written by {holder}; try again when it is done "
                                    "(or leave out --no-wait to wait for it)") from None
                if not told:
                    notify(f"index {directory} is being written by {holder}, waiting…")
                    told = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, path):
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                return fd, created
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder removed this file when it let go: lock the one at the path now


def _make_dir(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True)
        return True
    except FileExistsError:
        return False


def _release(path: Path, fd: int) -> None:
    try:
        path.unlink(missing_ok=True)  # while still held: a waiter on this file sees it is gone and starts over
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_path = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_path.st_dev, on_path.st_ino)


def _holder(fd: int) -> str:
    """``pid N`` from the lock file; the holder writes it just after locking, so an empty file is retried."""
    for _ in range(20):
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return f"pid {text}"
        time.sleep(0.025)
    return "another process"
