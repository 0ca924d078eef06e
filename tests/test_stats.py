"""Run statistics: percentiles, latency, token usage and the paired bootstrap."""

from __future__ import annotations

import pytest

from rag.stats import latency_stats, paired, percentile, usage_totals


def test_percentiles_latency_and_usage() -> None:
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    stats = latency_stats([{"total": 1.0, "retrieve": 0.1}, {"total": 3.0}, {}])
    assert stats["total"] == {"p50": 2.0, "p95": pytest.approx(2.9), "n": 2}
    assert stats["retrieve"]["n"] == 1 and stats["retrieve"]["p50"] == 0.1
    assert stats["first_token"] == {"p50": None, "p95": None, "n": 0}
    assert usage_totals([]) == {"prompt_tokens": 0, "completion_tokens": 0}
    assert usage_totals([{"prompt_tokens": 10, "completion_tokens": 2}, {"prompt_tokens": 5}]) == {
        "prompt_tokens": 15,
        "completion_tokens": 2,
    }


def test_paired_interval_excludes_zero_only_for_a_real_difference() -> None:
    same = paired([1, 0] * 20, [0, 1] * 20)
    assert same.wins == same.losses == 20 and same.low < 0 < same.high
    better = paired([0] * 30 + [1] * 10, [1] * 40)
    assert better.diff == 0.75 and better.low > 0 and better.losses == 0
