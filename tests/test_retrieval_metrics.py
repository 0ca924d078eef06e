"""Retrieval metrics: hand-computed hit@k, recall@k, MRR over articles and passages."""

from __future__ import annotations

import pytest

from rag.retrieval_metrics import hit_at, mrr, passage_hit_at, passage_mrr, recall_at


def test_hit_recall_mrr_hand_computed() -> None:
    ranked = ["a", "b", "c", "a"]
    assert hit_at(1, ranked, ["c"]) == 0.0
    assert hit_at(3, ranked, ["c"]) == 1.0
    assert hit_at(5, [], ["c"]) == 0.0
    assert hit_at(5, ranked, []) == 0.0
    assert recall_at(5, ranked, ["a", "d"]) == 0.5
    assert recall_at(1, ranked, ["a", "c"]) == 0.5
    assert recall_at(5, ranked, []) == 0.0
    assert mrr(ranked, ["c"]) == pytest.approx(1 / 3)
    assert mrr(ranked, ["b", "c"]) == 0.5
    assert mrr(ranked, ["c"], k=2) == 0.0
    assert mrr([], ["c"]) == 0.0
    assert mrr(ranked, []) == 0.0


def test_passage_hit_and_mrr_use_normalised_snippets() -> None:
    texts = ["Nothing here.", "THE KIDNAPPING of 36 natural-gas workers, earlier", "x"]
    snippets = ["the kidnapping of 36 natural gas workers"]
    assert passage_hit_at(1, texts, snippets) == 0.0
    assert passage_hit_at(2, texts, snippets) == 1.0
    assert passage_mrr(texts, snippets) == 0.5
    assert passage_mrr(texts, snippets, k=1) == 0.0
    assert passage_hit_at(5, [], snippets) == 0.0
    assert passage_hit_at(5, texts, []) == 0.0
    assert passage_mrr(texts, []) == 0.0
