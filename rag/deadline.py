"""One wall-clock deadline for a whole reply: a daemon thread pumps the pieces of a blocking
reply generator, and the caller stops waiting when the deadline passes, however the HTTP client
blocks (connect, retries, slow reads)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any


class Expired(Exception):
    """The deadline passed before the reply was complete."""


class Pump:
    """Runs a blocking reply generator in a daemon thread, so the caller can wait with a
    wall-clock deadline however the HTTP client blocks (connect, retries, slow reads)."""

    def __init__(self, produce: Callable[[threading.Event], Iterator[str]]) -> None:
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(produce,), name="llm-reply", daemon=True
        )
        self._thread.start()

    def _run(self, produce: Callable[[threading.Event], Iterator[str]]) -> None:
        try:
            for piece in produce(self._stop):
                if self._stop.is_set():
                    return
                self._queue.put(("piece", piece))
            self._queue.put(("end", None))
        except BaseException as err:  # handed to the caller's thread
            self._queue.put(("error", err))

    def pieces(self, deadline_at: float) -> Iterator[str]:
        """The produced pieces; the producer's exception re-raised; Expired at the deadline."""
        while True:
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                raise Expired
            try:
                kind, value = self._queue.get(timeout=remaining)
            except queue.Empty:
                raise Expired from None
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value

    def stop(self) -> None:
        """Tell the producer to stop reading (it ends at its next piece or read timeout)."""
        self._stop.set()
