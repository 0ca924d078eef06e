"""Metrics: hand-computed values of every metric, their definitions, per-answer scoring."""

from __future__ import annotations

import pytest

from rag.answer import Answer
from rag.citations import Citation, Passage, Sentence
from rag.metrics import (
    best_f1,
    correct_refusal,
    evidence_precision,
    evidence_recall,
    false_refusal,
    hit_at,
    is_correct,
    is_refusal,
    judged_citations,
    latency_stats,
    metric_definitions,
    mrr,
    normalize,
    nugget_recall,
    paired,
    passage_hit_at,
    passage_mrr,
    percentile,
    point_support,
    question_correct,
    recall_at,
    score_answer,
    score_text,
    strict_correct,
    strip_markers,
    token_f1,
    usage_totals,
    verifier_flagged,
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


def test_evidence_recall_and_citation_precision_hand_computed() -> None:
    gold = [Evidence("a", "36 natural gas workers"), Evidence("b", "six days after")]
    cited = [("a", "The kidnapping of 36 natural gas workers was claimed."), ("c", "Unrelated.")]
    # one of two snippets covered; one of two citations covers a snippet
    assert evidence_recall(gold, cited) == 0.5
    assert evidence_precision(gold, cited) == 0.5
    assert evidence_recall(gold, []) == 0.0 and evidence_precision(gold, []) is None
    assert evidence_recall([], cited) is None and evidence_precision([], cited) is None
    # article-only gold: any citation from the article counts
    assert evidence_recall([Evidence("c")], cited) == 1.0
    assert evidence_precision([Evidence("c")], cited) == 0.5
    # a cited sentence of 6+ words inside a longer two-sentence snippet covers it
    long = [Evidence("a", "He fled. Police said the suspect drove a stolen blue van north.")]
    assert evidence_recall(long, [("a", "Police said the suspect drove a stolen blue van")]) == 1
    assert evidence_recall(long, [("a", "He fled.")]) == 0.0


def test_gold_metrics_ignore_the_verifier() -> None:
    """Gold evidence in an article the answer does not cite scores 0, supported or not."""
    q = _q(answers=["PWNED"], evidence=[Evidence("gold", "the real answer is here")])
    wrong = Citation(1, "x#0", "other", "t", "s", "d", "u", "PWNED", 0, 5, support=(0, 5))
    answer = Answer(
        "?",
        "?",
        "PWNED [1]",
        False,
        "generated",
        citations=[wrong],
        sentences=[Sentence("PWNED", [1], supported=True)],
    )
    m = score_answer(q, answer)
    assert m["evidence_recall"] == 0.0 and m["citation_precision_gold"] == 0.0
    assert m["verifier_flagged"] == 0.0


def test_verifier_flagged_counts_marked_and_left_out_claims() -> None:
    shown = [Sentence("a", [1]), Sentence("b", [2], supported=False)]
    assert verifier_flagged(shown, [Sentence("c", supported=False)]) == pytest.approx(2 / 3)
    assert verifier_flagged([], []) is None


def test_judged_citations_follow_alce() -> None:
    facts = {"P1": {"c1"}, "P2": {"c2"}, "P3": set()}

    def entails(premise: str, claim: str) -> bool:
        return any(claim in facts[p] for p in premise.split("\n"))

    claims = [("c1", ["P1", "P3"]), ("c2", ["P2"]), ("c3", ["P1"]), ("c1", [])]
    recall, precision = judged_citations(claims, entails)
    # c1 entailed (P3 not needed), c2 entailed, c3 not, uncited c1 not -> recall 2/4
    assert recall == 0.5
    # citations: P1 needed, P3 not, P2 needed, P1 for c3 not -> 2/4
    assert precision == 0.5
    assert judged_citations([], entails) == (None, None)


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
    for key in ("accuracy", "evidence_recall", "citation_precision_gold", "hit@5", "latency"):
        assert defs[key] and "\n" not in defs[key]
    assert defs["hit@5"].startswith("Hit@5")


def _passage(n: int, article: str, text: str = "text") -> Passage:
    return Passage(n, f"{article}#{n}", article, "t", "s", "2020", "u", text, 0, len(text))


def test_score_answer_abstained_recalls_no_evidence() -> None:
    q = _q(answers=["2"], evidence=[Evidence(A2, "Two soldiers were also killed")])
    ans = Answer("?", "?", "I don't know.", True, "generated", retrieved=[_passage(1, A2)])
    m = score_answer(q, ans)
    assert m["accuracy"] is False and m["false_refusal_rate"] is True
    assert m["correct_refusal_rate"] is None
    assert m["evidence_recall"] == 0.0 and m["citation_precision_gold"] is None
    assert m["f1"] == 0.0 and m["hit@1"] == 1.0 and m["passage_hit@5"] == 0.0
    unans = _q(type="unanswerable")
    m = score_answer(unans, ans)
    assert m["accuracy"] is True and m["correct_refusal_rate"] is True
    assert m["hit@1"] is None and m["f1"] is None
    m = score_answer(q, ans, retrieval_only=True)
    assert m["accuracy"] is None and m["hit@1"] == 1.0


def test_citation_markers_are_never_answer_words() -> None:
    """'[3]' is a citation, not the answer '3' (fault: 'Two people died [3].' scored right)."""
    q = _q(answers=["3"], type="numeric")
    assert not is_correct("Two people died [3].", q)
    assert not is_correct("Jordan Nwora [8][3].", q)
    assert is_correct("Three people died [1].", q)
    assert strip_markers("A [1, 2] b [3;4] c [5–7].") == "A b c ."


def test_strict_accuracy_rejects_competing_candidates() -> None:
    """Listing several values is not an answer to a one-answer question."""
    q = _q(answers=["52"], type="numeric")
    assert question_correct(q, "46 bases [1]; 52 bases [2].", False)  # containment is fooled
    assert not strict_correct(q, "46 bases [1]; 52 bases [2].", False)
    assert not strict_correct(q, "Sources disagree: 52 [2]; 46 [3].", False)
    assert strict_correct(q, "The VRAEM has 52 military bases [2].", False)
    assert strict_correct(q, "52 [2]; 52 bases [4].", False)  # the same value twice is one
    both = _q(answer_all=["52", "46"], type="conflict")
    assert strict_correct(both, "Sources disagree: 52 [2]; 46 [3].", False)


def test_wrong_shown_counts_answered_but_not_strictly_right() -> None:
    q = _q(answers=["52"], type="numeric")
    assert score_text(q, "46 bases [1].")["wrong_shown"] is True
    assert score_text(q, "The articles do not say.")["wrong_shown"] is False
    assert score_text(q, "52 bases [1].")["wrong_shown"] is False
    unans = _q(type="unanswerable")
    assert score_text(unans, "Ten people [1].")["wrong_shown"] is True
    assert score_text(unans, "The articles do not say.")["correct_refusal_rate"] is True


def test_conflicts_surfaced_only_when_the_gold_values_are_shown() -> None:
    """Saying 'disagree' is not enough: both gold values must be there (fault: own flag)."""
    q = _q(answer_all=["52", "46"], type="conflict")
    assert score_text(q, "Sources disagree: 52 [2]; 46 [3].")["conflict_surfaced"] is True
    assert score_text(q, "Sources disagree: 52 [2]; 78 [3].")["conflict_surfaced"] is False
    assert score_text(q, "52 [2]; 46 [3].")["conflict_surfaced"] is False
    other = _q(answers=["36"], type="numeric")
    assert score_text(other, "Sources disagree: 36 [1]; 30 [2].")["false_disagreement"] is True
    assert score_text(other, "36 [1].")["false_disagreement"] is False


def test_refusals_are_read_from_the_text_for_every_system() -> None:
    assert is_refusal("The articles do not say. The closest they come: “x” [1]")
    assert is_refusal("The context does not mention the ransom.")
    assert not is_refusal("The articles say: “Ransom was paid” [1].")


def test_nugget_recall_and_useful_answers() -> None:
    q = _q(type="open", nuggets=[["Apurimac"], ["Ene"], ["Mantaro"], ["coca"]])
    text = "The VRAEM is the valley of the Apurímac, Ene and Mantaro rivers [1]."
    assert nugget_recall(text, q.nuggets) == 0.75
    m = score_text(q, text)
    assert m["useful"] is True and m["bare_refusal"] is False
    m = score_text(q, "The articles do not say.")
    assert m["useful"] is False and m["bare_refusal"] is True and m["nugget_recall"] == 0.0


def test_point_support_needs_figures_names_and_words_of_the_cited_text() -> None:
    cited = ["Peru's army killed 7 rebels in the VRAEM valley in August."]
    assert point_support([("The army killed 7 rebels in the VRAEM [1].", cited, [])]) == 1.0
    assert point_support([("The army killed 9 rebels in the VRAEM [1].", cited, [])]) == 0.0
    assert point_support([("The army met Colombian Generals [1].", cited, [])]) == 0.0
    assert point_support([("The army killed 7 rebels [1].", [], [])]) == 0.0
    assert point_support([]) is None


def test_a_reported_date_is_held_by_the_cited_articles_date_only() -> None:
    cited = ["Peru's army killed 7 rebels in the VRAEM valley."]
    point = "The army killed 7 rebels in the VRAEM (reported 3 May 2024) [1]."
    assert point_support([(point, cited, ["2024-05-03"])]) == 1.0
    assert point_support([(point, cited, ["2024-05-04"])]) == 0.0
    assert point_support([(point, cited, [])]) == 0.0


def test_paired_interval_excludes_zero_only_for_a_real_difference() -> None:
    same = paired([1, 0] * 20, [0, 1] * 20)
    assert same.wins == same.losses == 20 and same.low < 0 < same.high
    better = paired([0] * 30 + [1] * 10, [1] * 40)
    assert better.diff == 0.75 and better.low > 0 and better.losses == 0
