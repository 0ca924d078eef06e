"""Metrics: hand-computed values of every metric, their definitions, per-answer scoring."""

from __future__ import annotations

import pytest

from rag.answer import Answer, Passage, Sentence
from rag.metrics import (
    best_f1,
    citation_precision,
    citation_recall,
    correct_refusal,
    false_refusal,
    hit_at,
    is_correct,
    latency_stats,
    metric_definitions,
    mrr,
    normalize,
    passage_hit_at,
    passage_mrr,
    percentile,
    question_correct,
    recall_at,
    score_answer,
    token_f1,
    usage_totals,
)
from rag.questions import Evidence, Question

A2 = "002_7aa918d89e1f6618"


def test_normalize_unifies_case_punctuation_articles_and_numbers() -> None:
    assert normalize("The  Shining-Path, an ARMY!") == "shining path army"
    assert normalize("6,300 kg") == normalize("6300 kg") == "6300 kg"
    assert normalize("Thirty-six workers") == "36 workers"
    assert normalize("twenty one") == "21"
    assert normalize("Sixteen people") == "16 people"
    assert normalize("75%") == normalize("75 percent") == "75 percent"
    assert normalize("Apurímac") == "apurimac"
    assert normalize("costs 1.5 million.") == "costs 1.5 million"
    assert normalize("") == ""


def _q(**kw: object) -> Question:
    base: dict = {"id": "q", "question": "?", "type": "single"}
    base.update(kw)
    return Question(**base)


def test_is_correct_containment_any_answer_and_all_facts() -> None:
    q = _q(answers=["36", "thirty-six"])
    assert is_correct("Thirty-six workers were kidnapped.", q)
    assert is_correct("They took 36.", q)
    assert not is_correct("They took 360 workers.", q)  # whole words only
    assert not is_correct("", q)
    both = _q(answer_all=["52", "46"])
    assert is_correct("One says 52 bases, another 46.", both)
    assert not is_correct("There are 52 bases.", both)
    mixed = _q(answers=["Gabriel"], answer_all=["Quispe"])
    assert is_correct("Gabriel, i.e. Quispe", mixed)
    assert not is_correct("Gabriel", mixed)
    assert not is_correct("anything", _q(type="unanswerable"))  # nothing to match


def test_question_correct_uses_abstention_for_unanswerable() -> None:
    unans = _q(type="unanswerable")
    assert question_correct(unans, "I don't know.", abstained=True)
    assert not question_correct(unans, "It was 5 million.", abstained=False)
    ans = _q(answers=["36"])
    assert question_correct(ans, "36", abstained=False)
    assert not question_correct(ans, "36", abstained=True)


def test_token_f1_hand_computed() -> None:
    # pred tokens [cat, sat], gold [cat, sat, down]: P=1, R=2/3, F1=0.8
    assert token_f1("The cat sat", "cat sat down") == pytest.approx(0.8)
    assert token_f1("", "") == 1.0
    assert token_f1("", "cat") == 0.0
    assert token_f1("cat", "") == 0.0
    assert token_f1("dog", "cat") == 0.0
    q = _q(answers=["36"], answer_all=[])
    # "36 workers" vs "36": P=1/2, R=1 -> 2/3
    assert best_f1("36 workers", q) == pytest.approx(2 / 3)
    q2 = _q(answers=[], answer_all=["52", "46"])
    assert best_f1("52 and 46", q2) == pytest.approx(0.8)  # P=2/3, R=1
    assert best_f1("x", _q(type="unanswerable")) == 0.0


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


def test_refusal_truth_table() -> None:
    assert correct_refusal(True, True) and not correct_refusal(True, False)
    assert not correct_refusal(False, True)
    assert false_refusal(False, True) and not false_refusal(False, False)
    assert not false_refusal(True, True)


def test_citation_precision_recall_hand_computed() -> None:
    sentences = [
        Sentence("Supported and cited.", citations=[1], supported=True),
        Sentence("Cited twice, unsupported.", citations=[1, 2], supported=False),
        Sentence("Uncited.", citations=[], supported=True),
    ]
    # recall: only sentence 1 is cited and supported -> 1/3
    assert citation_recall(sentences) == pytest.approx(1 / 3)
    # precision: 3 (sentence, citation) pairs, 1 with a supported sentence -> 1/3
    assert citation_precision(sentences) == pytest.approx(1 / 3)
    assert citation_recall([]) is None
    assert citation_precision([]) is None
    uncited = [Sentence("No citations at all.", supported=True)]
    assert citation_recall(uncited) == 0.0
    assert citation_precision(uncited) == 0.0
    good = [Sentence("a", [1], True), Sentence("b", [2, 3], True)]
    assert citation_recall(good) == 1.0 and citation_precision(good) == 1.0


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


def test_metric_definitions_are_one_line_docstrings() -> None:
    defs = metric_definitions()
    for key in ("accuracy", "citation_precision", "citation_recall", "hit@5", "mrr@10", "latency"):
        assert defs[key] and "\n" not in defs[key]
    assert defs["hit@5"].startswith("Hit@5")


def _passage(n: int, article: str, text: str = "text") -> Passage:
    return Passage(n, f"{article}#{n}", article, "t", "s", "2020", "u", text, 0, len(text))


def test_score_answer_abstained_has_no_citation_metrics() -> None:
    q = _q(answers=["2"], evidence=[Evidence(A2, "Two soldiers were also killed")])
    ans = Answer("?", "?", "I don't know.", True, "generated", passages=[_passage(1, A2)])
    m = score_answer(q, ans)
    assert m["accuracy"] is False and m["false_refusal_rate"] is True
    assert m["correct_refusal_rate"] is None
    assert m["citation_precision"] is None and m["citation_recall"] is None
    assert m["f1"] == 0.0 and m["hit@1"] == 1.0 and m["passage_hit@5"] == 0.0
    unans = _q(type="unanswerable")
    m = score_answer(unans, ans)
    assert m["accuracy"] is True and m["correct_refusal_rate"] is True
    assert m["hit@1"] is None and m["f1"] is None
    m = score_answer(q, ans, retrieval_only=True)
    assert m["accuracy"] is None and m["hit@1"] == 1.0
