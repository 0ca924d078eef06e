"""The learned sentence ranker: its features, its shipped weights and how evidence uses them."""

from __future__ import annotations

import pytest
from test_candidates import TEXT, article, hit

from rag.answering.candidates import candidates
from rag.answering.evidence import scored
from rag.answering.ranking import FEATURES, features, shipped
from rag.logistic import Logistic

QUESTION = "How many gas workers were kidnapped in Cusco?"


def test_features_describe_each_candidate() -> None:
    cands = candidates([hit("a", 0, len(TEXT))], {"a": article("a")})
    rows = features(cands, QUESTION, {"": 0.0})
    assert len(rows) == len(cands) and all(len(r) == len(FEATURES) for r in rows)
    named = [dict(zip(FEATURES, r, strict=True)) for r in rows]
    kidnap = next(f for c, f in zip(cands, named, strict=True) if "kidnapp" in c.text)
    assert kidnap["asks_kind"] == 1.0 and kidnap["own_overlap"] > 0


def test_the_shipped_weights_load_and_score_probabilities() -> None:
    ranker = shipped()
    assert ranker is not None
    assert Logistic.from_dict(ranker.to_dict(), FEATURES) == ranker
    cands = candidates([hit("a", 0, len(TEXT))], {"a": article("a")})
    got = scored([hit("a", 0, len(TEXT))], {"a": article("a")}, QUESTION, {"": 0.0}, ranker)
    assert len(got) == len(cands) and all(0.0 < c.score < 1.0 for c in got)
    with pytest.raises(ValueError, match="other features"):
        Logistic.from_dict(ranker.to_dict() | {"features": ["overlap"]}, FEATURES)
