"""Answer metrics (right, strictly right, refused, conflicts, nuggets) and each answer's scores.

Every system's answer text is read the same way, by the scorer alone; `score_answer` adds the
retrieval and citation metrics of `rag.retrieval_metrics` and `rag.citation_metrics`, and
`aggregate` averages a run. No I/O, so each metric is checkable by hand; a docstring's first
line is its report definition.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from rag.answering.compose import Answer
from rag.citation_metrics import (
    JUDGE_PRECISION_DOC,
    JUDGE_RECALL_DOC,
    evidence_precision,
    evidence_recall,
    point_support,
    verifier_flagged,
)
from rag.questions import Question
from rag.retrieval_metrics import (
    article_ranking,
    hit_at,
    mrr,
    passage_hit_at,
    passage_mrr,
    recall_at,
)
from rag.stats import latency_stats, usage_totals
from rag.text import contains, normalize, strip_markers

__all__ = [
    "METRICS",
    "aggregate",
    "best_f1",
    "candidates",
    "conflict_surfaced",
    "correct_refusal",
    "false_disagreement",
    "false_refusal",
    "is_correct",
    "is_refusal",
    "metric_definitions",
    "nugget_recall",
    "question_correct",
    "score_answer",
    "score_text",
    "strict_correct",
    "token_f1",
    "wrong_shown",
]

HIT_KS = (1, 3, 5)


# The scorer's own readings of an answer text, the same for every system it compares: the
# refusals and disagreements it recognises, the candidate values it counts (its `[n]` markers
# stripped by `rag.text.strip_markers`). None of them asks the pipeline what it meant.
_REFUSAL = re.compile(
    r"articles do not say|do(?:es)? not (?:say|mention|contain|provide|specify|state|answer)|"
    r"no (?:information|mention)|not (?:mentioned|stated|specified|provided)|cannot answer|"
    r"can't answer|cannot determine|don'?t know|do not know|unable to (?:answer|determine)|"
    r"no answer (?:found|in)",
    re.IGNORECASE,
)
_DISAGREE = re.compile(r"disagree|conflicting|contradict", re.IGNORECASE)
_SEGMENTS = re.compile(r";|\s·\s|\n+|”\s*“")


def is_refusal(text: str) -> bool:
    """Refusals: the answer text says the articles do not answer (one pattern for all systems)."""
    return bool(_REFUSAL.search(text))


def candidates(text: str) -> list[str]:
    """The answer's separate candidate segments: split at ';', ' · ', line breaks and between
    quotes, markers stripped. 'Sources disagree: 46 [3]; 52 [2].' has two."""
    found = [strip_markers(part).strip(" .") for part in _SEGMENTS.split(text)]
    return [part for part in found if part]


def is_correct(answer_text: str, q: Question) -> bool:
    """Correct text: markers stripped, it holds an acceptable answer and all answer_all facts."""
    if not q.answers and not q.answer_all:
        return False
    text = normalize(strip_markers(answer_text))
    any_ok = not q.answers or any(contains(text, a) for a in q.answers)
    return any_ok and all(contains(text, a) for a in q.answer_all)


def question_correct(q: Question, answer_text: str, abstained: bool) -> bool:
    """Accuracy (containment): unanswerable → refused; answerable → answered and is_correct."""
    if q.unanswerable:
        return abstained
    return not abstained and is_correct(answer_text, q)


def strict_correct(q: Question, answer_text: str, abstained: bool) -> bool:
    """Strict accuracy: as accuracy, and for a one-answer question every candidate segment of
    the answer holds an accepted answer (two competing values are wrong)."""
    ok = question_correct(q, answer_text, abstained)
    if not ok or q.unanswerable or q.answer_all:
        return ok
    return all(is_correct(part, q) for part in candidates(answer_text))


def wrong_shown(q: Question, strict_ok: bool, abstained: bool) -> bool:
    """Wrong shown: share of all questions answered (not refused) and not strictly correct."""
    return not abstained and not strict_ok


def token_f1(pred: str, gold: str) -> float:
    """Token F1 (SQuAD): harmonic mean of precision and recall of shared normalised tokens."""
    p, g = normalize(pred).split(), normalize(gold).split()
    if not p and not g:
        return 1.0
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def best_f1(answer_text: str, q: Question) -> float:
    """F1: the best token_f1 of the answer against each acceptable answer (answer_all joined)."""
    golds = list(q.answers) + ([" ".join(q.answer_all)] if q.answer_all else [])
    return max((token_f1(answer_text, g) for g in golds), default=0.0)


def correct_refusal(unanswerable: bool, abstained: bool) -> bool:
    """Correct refusal rate: share of unanswerable questions where the answer abstained."""
    return unanswerable and abstained


def false_refusal(unanswerable: bool, abstained: bool) -> bool:
    """False refusal rate: share of answerable questions where the answer abstained."""
    return not unanswerable and abstained


def metric_definitions() -> dict[str, str]:
    """Summary metric name → its one-line definition, taken from the metric's docstring."""

    def doc(fn: Callable[..., Any], k: int | None = None) -> str:
        line = (fn.__doc__ or "").strip().splitlines()[0]
        if k is not None:
            line = line.replace("@k", f"@{k}").replace("top-k", f"top-{k}")
            line = line.replace("top k", f"top {k}")
        return line

    defs = {
        "accuracy": doc(question_correct),
        "strict_accuracy": doc(strict_correct),
        "f1": doc(best_f1),
        "wrong_shown": doc(wrong_shown),
        "nugget_recall": doc(nugget_recall),
        "useful": doc(useful),
        "bare_refusal": doc(bare_refusal),
        "point_support": doc(point_support),
        "extractive": "Quoted answers: share of answers that quote sentences instead of claims.",
        "second_look": "Second looks: share of answers for which the model read on once.",
        "correct_refusal_rate": doc(correct_refusal),
        "false_refusal_rate": doc(false_refusal),
        "conflict_surfaced": doc(conflict_surfaced),
        "false_disagreement": doc(false_disagreement),
        "evidence_recall": doc(evidence_recall),
        "citation_precision_gold": doc(evidence_precision),
        "verifier_flagged": doc(verifier_flagged),
        "judge_citation_recall": JUDGE_RECALL_DOC,
        "judge_citation_precision": JUDGE_PRECISION_DOC,
    }
    for k in HIT_KS:
        defs[f"hit@{k}"] = doc(hit_at, k)
    defs["recall@5"] = doc(recall_at, 5)
    defs["mrr@10"] = doc(mrr, 10)
    defs["passage_hit@5"] = doc(passage_hit_at, 5)
    defs["passage_mrr@10"] = doc(passage_mrr, 10)
    defs["latency"] = doc(latency_stats)
    defs["usage"] = doc(usage_totals)
    return defs


def conflict_surfaced(q: Question, answer_text: str) -> bool:
    """Conflicts surfaced: share of conflict questions whose answer shows every gold value
    (answer_all, markers stripped) and says the sources disagree."""
    return is_correct(answer_text, q) and bool(_DISAGREE.search(answer_text))


def false_disagreement(answer_text: str) -> bool:
    """False disagreements: share of other answered answerable questions said to disagree."""
    return bool(_DISAGREE.search(answer_text))


def nugget_recall(answer_text: str, nuggets: Sequence[Sequence[str]]) -> float | None:
    """Nugget recall: share of an open question's key facts (any phrasing) in the answer text,
    markers stripped."""
    if not nuggets:
        return None
    text = normalize(strip_markers(answer_text))
    return sum(any(contains(text, p) for p in nugget) for nugget in nuggets) / len(nuggets)


def useful(recall: float, refused: bool) -> bool:
    """Useful answers: share of open questions answered with nugget recall of at least 0.5."""
    return not refused and recall >= 0.5


def bare_refusal(refused: bool) -> bool:
    """Bare refusals: share of answerable open questions the answer refused."""
    return refused


def score_text(q: Question, text: str) -> dict[str, Any]:
    """The answer metrics any system's answer text earns, read by the scorer alone (an open
    question, with nuggets and no one answer, by its nuggets)."""
    refused = is_refusal(text)
    if q.nuggets and not q.answers:
        recall = 0.0 if refused else nugget_recall(text, q.nuggets) or 0.0
        return {"nugget_recall": recall, "useful": useful(recall, refused),
                "bare_refusal": bare_refusal(refused)}  # fmt: skip
    strict = strict_correct(q, text, refused)
    answerable = not q.unanswerable
    return {
        "accuracy": question_correct(q, text, refused),
        "strict_accuracy": strict,
        "f1": best_f1("" if refused else strip_markers(text), q) if answerable else None,
        "wrong_shown": wrong_shown(q, strict, refused),
        "correct_refusal_rate": correct_refusal(True, refused) if q.unanswerable else None,
        "false_refusal_rate": false_refusal(False, refused) if answerable else None,
        "conflict_surfaced": conflict_surfaced(q, text) if q.type == "conflict" else None,
        "false_disagreement": (
            false_disagreement(text)
            if answerable and q.type != "conflict" and not refused
            else None
        ),
    }


def score_answer(q: Question, answer: Answer, *, retrieval_only: bool = False) -> dict[str, Any]:
    """Per-question metrics of one answer; None where a metric does not apply.

    Retrieval metrics read `answer.retrieved` (ranked chunks, not the passages given to the
    LLM): article metrics over its distinct articles in rank order, passage metrics over its
    chunks. Answer metrics read the answer's text (`score_text`) and its citations.
    """
    ranked = article_ranking(answer.retrieved)
    texts = [p.text for p in answer.retrieved]
    gold, snippets = q.gold_articles, q.snippets
    has_gold = bool(gold) and not q.unanswerable
    m: dict[str, Any] = {}
    for k in HIT_KS:
        m[f"hit@{k}"] = hit_at(k, ranked, gold) if has_gold else None
    m["recall@5"] = recall_at(5, ranked, gold) if has_gold else None
    m["mrr@10"] = mrr(ranked, gold, 10) if has_gold else None
    has_snip = bool(snippets) and not q.unanswerable
    m["passage_hit@5"] = passage_hit_at(5, texts, snippets) if has_snip else None
    m["passage_mrr@10"] = passage_mrr(texts, snippets, 10) if has_snip else None
    if retrieval_only:
        return {key: None for key in _ANSWER_METRICS} | m
    m.update(score_text(q, answer.text))
    refused = is_refusal(answer.text)
    cited = [] if refused else [(c.article_id, c.text) for c in answer.citations]
    evidence = [] if q.unanswerable else q.evidence
    by_n = {p.n: p for p in answer.passages}
    cited_by = [(s.text, [by_n[n] for n in s.citations if n in by_n]) for s in answer.sentences]
    points = [(text, [p.text for p in ps], [p.date for p in ps]) for text, ps in cited_by]
    m.update(
        evidence_recall=evidence_recall(evidence, cited),
        citation_precision_gold=evidence_precision(evidence, cited),
        point_support=None if refused else point_support(points),
        extractive=not refused and answer.mode == "extractive",
        second_look=answer.second_look,
        verifier_flagged=(None if refused else verifier_flagged(answer.sentences, answer.left_out)),
    )
    return m


_ANSWER_METRICS = (
    "accuracy",
    "strict_accuracy",
    "f1",
    "wrong_shown",
    "correct_refusal_rate",
    "false_refusal_rate",
    "evidence_recall",
    "citation_precision_gold",
    "conflict_surfaced",
    "false_disagreement",
    "nugget_recall",
    "useful",
    "bare_refusal",
    "point_support",
    "extractive",
    "second_look",
    "verifier_flagged",
)
JUDGE_METRICS = ("judge_citation_recall", "judge_citation_precision")
_RETRIEVAL_METRICS = (
    *(f"hit@{k}" for k in HIT_KS),
    "recall@5",
    "mrr@10",
    "passage_hit@5",
    "passage_mrr@10",
)
METRICS = (*_ANSWER_METRICS, *JUDGE_METRICS, *_RETRIEVAL_METRICS)


def aggregate(rows: Sequence[dict]) -> tuple[dict[str, float | None], dict[str, int]]:
    """Mean of every metric over the rows where it is defined (True=1), and those rows' count."""
    values: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for key in METRICS:
        got = [float(r["metrics"][key]) for r in rows if r["metrics"].get(key) is not None]
        values[key] = sum(got) / len(got) if got else None
        counts[key] = len(got)
    return values, counts
