"""One writer at a time per index directory: an OS file lock on `index_dir/writer.lock`.

Writers (`rag index`, `rag remove`, a rebuild, the app's uploads and removals) hold it; readers
never take it. It is an flock, so the OS drops it when its holder dies: a killed run's lock is
taken over at once. It is re-entrant within a thread and exclusive between threads and processes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from rag.errors import StoreError

LOCK_NAME = "writer.lock"
APP_LOCK_NAME = "app.lock"  # held by a serving app for its life: a rebuild refuses meanwhile

_locks: dict[str, FileLock] = {}
_registry = threading.Lock()


class IndexBusy(StoreError):
    """Another writer holds the index; the message names it and says what to do."""


def _lock_for(index_dir: Path, name: str = LOCK_NAME) -> FileLock:
    """The one FileLock object of this process for an index directory (and lock name)."""
    key = os.path.join(os.path.realpath(index_dir), name)
    with _registry:
        if key not in _locks:
            _locks[key] = FileLock(key)
        return _locks[key]


def serve_index(index_dir: Path) -> None:
    """Mark the index as served by this process until it exits (a second app just serves too)."""
    lock = _lock_for(index_dir, APP_LOCK_NAME)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return
    _write_holder(index_dir, "the app", APP_LOCK_NAME)


def serving_app(index_dir: Path) -> str:
    """Who serves the index from another process ("pid 123, the app"), or ''."""
    lock = FileLock(os.path.join(os.path.realpath(index_dir), APP_LOCK_NAME))
    if _lock_for(index_dir, APP_LOCK_NAME).is_locked:
        return ""  # this process: it knows what it does
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return holder(index_dir, name=APP_LOCK_NAME) or "an app"
    lock.release()
    return ""


def holder(index_dir: Path, settle: float = 0.0, name: str = LOCK_NAME) -> str:
    """Who holds (or last held) the lock, from the lock file: "pid 123, rag index", or "".

    A holder writes its name just after it takes the lock, so a writer that arrives in between
    reads an empty file: `settle` seconds is how long to look again before giving up.
    """
    deadline = time.monotonic() + settle
    while True:
        try:
            who = (Path(index_dir) / name).read_text(encoding="utf-8").strip()[:200]
        except OSError:
            who = ""
        if who or time.monotonic() >= deadline:
            return who
        time.sleep(0.05)


def busy_message(index_dir: Path, settle: float = 0.0) -> str:
    """The sentence a second writer sees (without what it will do about it)."""
    who = holder(index_dir, settle)
    if who.startswith(f"pid {os.getpid()},") or who == f"pid {os.getpid()}":
        return f"This process is already writing to {index_dir}/ ({who})."
    return f"Another indexing run ({who or 'unknown process'}) is using {index_dir}/."


def is_held(index_dir: Path) -> bool:
    """Does the calling thread hold the writer lock of `index_dir`?"""
    return _lock_for(index_dir).is_locked


@contextmanager
def writing(
    index_dir: Path,
    what: str,
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the writer lock of `index_dir` for the block.

    Busy: with `wait`, tell `on_wait` (once) and wait for the lock; without, raise IndexBusy.
    `what` ("rag index", "app upload") is written into the lock file for the others' message.
    """
    index_dir = Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"Cannot open the index in {index_dir}: {err.strerror}.") from None
    lock = _lock_for(index_dir)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        message = busy_message(index_dir, settle=2.0)
        if not wait:
            raise IndexBusy(f"{message} Try again when it has finished.") from None
        if on_wait is not None:
            on_wait(f"{message} Waiting for it to finish… (Ctrl-C stops waiting)")
        lock.acquire()
    try:
        if lock.lock_counter == 1:
            _write_holder(index_dir, what)
        yield
    finally:
        lock.release()


def _write_holder(index_dir: Path, what: str, name: str = LOCK_NAME) -> None:
    """Record who holds the lock (the lock itself is the flock, not this text)."""
    try:
        with open(Path(index_dir) / name, "r+", encoding="utf-8") as fh:
            fh.write(f"pid {os.getpid()}, {what}\n")
            fh.truncate()
    except OSError:
        pass  # only the message gets vaguer
