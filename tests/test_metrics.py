"""Answer metrics: hand-computed values, the metric definitions, per-answer scoring."""

from __future__ import annotations

import pytest

from rag.answering.compose import Answer
from rag.citations import Citation, Passage, Sentence
from rag.metrics import (
    best_f1,
    correct_refusal,
    false_refusal,
    is_correct,
    is_refusal,
    metric_definitions,
    nugget_recall,
    question_correct,
    score_answer,
    score_text,
    strict_correct,
    token_f1,
)
from rag.questions import Evidence, Question
from rag.text import normalize, strip_markers

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


def test_refusal_truth_table() -> None:
    assert correct_refusal(True, True) and not correct_refusal(True, False)
    assert not correct_refusal(False, True)
    assert false_refusal(False, True) and not false_refusal(False, False)
    assert not false_refusal(True, True)


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
