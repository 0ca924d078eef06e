"""Citation metrics: hand-computed evidence recall and precision, the judge's ALCE scores,
point support and the verifier diagnostic."""

from __future__ import annotations

import pytest

from rag.citation_metrics import (
    evidence_precision,
    evidence_recall,
    judged_citations,
    point_support,
    verifier_flagged,
)
from rag.citations import Sentence
from rag.questions import Evidence


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
