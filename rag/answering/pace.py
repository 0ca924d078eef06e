"""How fast this process's model answers, measured on its own answers, for the wait estimate.

A fixed guess promised "about 7 s" on a machine busy enough to take a minute: the estimate is
the prompt read at the measured speed plus the measured writing time, and says "busy machine"
when the last answers ran well below this process's usual speed.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from dataclasses import dataclass, field

KEPT = 50  # answers remembered
RECENT = 2  # the last answers, compared with the usual speed
BUSY = 0.6  # the last answers read at under this share of the usual speed: a busy machine
MIN_SECONDS = 0.2  # a first token sooner than this measures nothing (a cached prompt)


@dataclass
class Pace:
    """Prompt tokens read per second and seconds spent writing, per measured answer.

    >>> pace = Pace()
    >>> pace.estimate(600)
    'first answer of this process: timing it'
    >>> for _ in range(3):
    ...     pace.learn(600, to_first=10.0, writing=4.0)
    >>> pace.estimate(600)
    'about 14 s'
    >>> pace.learn(600, to_first=40.0, writing=8.0); pace.learn(600, to_first=40.0, writing=8.0)
    >>> pace.estimate(600)
    'about 48 s, busy machine: the last answers were slower than usual'
    """

    speeds: deque[float] = field(default_factory=lambda: deque(maxlen=KEPT))
    writing: deque[float] = field(default_factory=lambda: deque(maxlen=KEPT))
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def learn(self, prompt_tokens: int, to_first: float, writing: float) -> None:
        """Fold in one answer: `to_first` seconds to its first token, `writing` after it."""
        if to_first < MIN_SECONDS:
            return
        with self.lock:
            self.speeds.append(prompt_tokens / to_first)
            self.writing.append(max(0.0, writing))

    def busy(self) -> bool:
        """Did the last answers read the prompt well below the usual speed of the answers
        before them?"""
        with self.lock:
            speeds = list(self.speeds)
        if len(speeds) <= RECENT:
            return False
        usual = statistics.median(speeds[:-RECENT])
        return statistics.mean(speeds[-RECENT:]) < BUSY * usual

    def seconds(self, prompt_tokens: int) -> int | None:
        """The expected seconds for a prompt of that size, from the last answers (None before
        any was measured)."""
        with self.lock:
            speeds, writing = list(self.speeds)[-RECENT:], list(self.writing)[-RECENT:]
        if not speeds:
            return None
        return max(1, round(prompt_tokens / statistics.mean(speeds) + statistics.mean(writing)))

    def estimate(self, prompt_tokens: int) -> str:
        """'about 14 s', with 'busy machine…' when the last answers were slow."""
        seconds = self.seconds(prompt_tokens)
        if seconds is None:
            return "first answer of this process: timing it"
        busy = ", busy machine: the last answers were slower than usual" if self.busy() else ""
        return f"about {seconds} s{busy}"
