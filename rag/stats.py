"""Statistics over an eval run: latency percentiles, token usage, paired comparisons.

Paired bootstrap intervals tell a real difference between two systems from question-set noise.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Paired",
    "latency_stats",
    "paired",
    "percentile",
    "usage_totals",
]

LATENCY_KEYS = ("retrieve", "first_token", "total")


def percentile(values: Sequence[float], p: float) -> float | None:
    """p-th percentile with linear interpolation between closest ranks (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def latency_stats(timings: Sequence[dict[str, float]]) -> dict[str, dict[str, float | None]]:
    """Latency: p50 and p95 seconds of each timing key ('retrieve', 'first_token', 'total')."""
    out: dict[str, dict[str, float | None]] = {}
    for key in LATENCY_KEYS:
        values = [float(t[key]) for t in timings if isinstance(t.get(key), int | float)]
        out[key] = {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}
    return out


def usage_totals(usages: Sequence[dict[str, int]]) -> dict[str, int]:
    """Token usage: sums of prompt_tokens and completion_tokens (and other counters)."""
    totals: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0}
    for usage in usages:
        for key, value in usage.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + int(value)
    return totals


@dataclass(frozen=True)
class Paired:
    """A paired comparison of system B against A on the same questions."""

    n: int
    wins: int
    losses: int
    diff: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.diff:+.3f} [{self.low:+.3f}, {self.high:+.3f}] ({self.wins}W/{self.losses}L)"


def paired(a: Sequence[float], b: Sequence[float], rounds: int = 2000, seed: int = 0) -> Paired:
    """Mean of b − a with a 95% paired-bootstrap interval, and the questions b wins and loses.

    >>> str(paired([0, 0, 1, 1], [1, 1, 1, 1]))
    '+0.500 [+0.000, +1.000] (2W/0L)'
    """
    d = [float(y) - float(x) for x, y in zip(a, b, strict=True)]
    n = len(d)
    if not n:
        return Paired(0, 0, 0, 0.0, 0.0, 0.0)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(d, k=n)) / n for _ in range(rounds))
    low, high = means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]
    wins, losses = sum(x > 0 for x in d), sum(x < 0 for x in d)
    return Paired(n, wins, losses, sum(d) / n, low, high)
