"""Pure evaluation metrics: answer correctness, retrieval, passages, refusals, citations, cost.

No I/O, so each metric is checkable by hand; a docstring's first line is its report definition.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from rag.answer import Answer, Sentence
from rag.questions import Question

__all__ = [
    "METRICS",
    "aggregate",
    "best_f1",
    "citation_precision",
    "citation_recall",
    "correct_refusal",
    "false_refusal",
    "hit_at",
    "is_correct",
    "latency_stats",
    "metric_definitions",
    "mrr",
    "normalize",
    "passage_hit_at",
    "passage_mrr",
    "percentile",
    "question_correct",
    "recall_at",
    "score_answer",
    "token_f1",
    "usage_totals",
]

LATENCY_KEYS = ("retrieve", "first_token", "total")
HIT_KS = (1, 3, 5)

_UNITS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_TENS_RE = re.compile(rf"\b({'|'.join(_TENS)})(?:[\s-]+({'|'.join(_UNITS[1:10])}))?\b")
_UNITS_RE = re.compile(rf"\b({'|'.join(_UNITS)})\b")
_ARTICLES = frozenset({"a", "an", "the"})


def _number_words(match: re.Match[str]) -> str:
    """Replace a matched English number word (0-99) with its digits."""
    if match.group(0) in _UNITS:
        return str(_UNITS.index(match.group(0)))
    tens = (_TENS.index(match.group(1)) + 2) * 10
    return str(tens + (_UNITS.index(match.group(2)) if match.group(2) else 0))


def normalize(text: str) -> str:
    """Lowercase; drop accents, punctuation, a/an/the; '6,300'→'6300', 'six'→'6', %→percent."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("%", " percent ").replace("per cent", "percent")
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    text = _TENS_RE.sub(_number_words, text)
    text = _UNITS_RE.sub(_number_words, text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    text = re.sub(r"[^\w\s.]|_", " ", text)
    return " ".join(t for t in text.split() if t not in _ARTICLES)


def _contains(haystack_norm: str, needle: str) -> bool:
    """True when the normalised needle occurs in the normalised haystack as whole words."""
    n = normalize(needle)
    return bool(n) and f" {n} " in f" {haystack_norm} "


def is_correct(answer_text: str, q: Question) -> bool:
    """Correct text: normalised, it holds an acceptable answer and all answer_all facts as words."""
    if not q.answers and not q.answer_all:
        return False
    text = normalize(answer_text)
    any_ok = not q.answers or any(_contains(text, a) for a in q.answers)
    return any_ok and all(_contains(text, a) for a in q.answer_all)


def question_correct(q: Question, answer_text: str, abstained: bool) -> bool:
    """Accuracy: unanswerable → the answer abstained; answerable → not abstained and is_correct."""
    if q.unanswerable:
        return abstained
    return not abstained and is_correct(answer_text, q)


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


def hit_at(k: int, ranked_article_ids: Sequence[str], gold_ids: Sequence[str]) -> float:
    """Hit@k: 1 if any of the top-k retrieved article ids is a gold article, else 0."""
    return 1.0 if set(ranked_article_ids[:k]) & set(gold_ids) else 0.0


def recall_at(k: int, ranked_article_ids: Sequence[str], gold_ids: Sequence[str]) -> float:
    """Recall@k: share of distinct gold articles found among the top-k retrieved (0 if no gold)."""
    gold = set(gold_ids)
    return len(gold & set(ranked_article_ids[:k])) / len(gold) if gold else 0.0


def mrr(ranked: Sequence[str], gold: Sequence[str], k: int = 10) -> float:
    """MRR@k: 1/rank of the first gold article within the top k retrieved, 0 if none."""
    wanted = set(gold)
    for rank, article_id in enumerate(ranked[:k], 1):
        if article_id in wanted:
            return 1.0 / rank
    return 0.0


def _passage_ranks(ranked_texts: Sequence[str], snippets: Sequence[str], k: int) -> list[int]:
    """1-based ranks (within k) of passages whose text contains some normalised snippet."""
    ranks = []
    for rank, text in enumerate(ranked_texts[:k], 1):
        norm = normalize(text)
        if any(_contains(norm, s) for s in snippets):
            ranks.append(rank)
    return ranks


def passage_hit_at(k: int, ranked_texts: Sequence[str], snippets: Sequence[str]) -> float:
    """Passage hit@k: 1 if one of the top-k passage texts contains a gold snippet (normalised)."""
    return 1.0 if _passage_ranks(ranked_texts, snippets, k) else 0.0


def passage_mrr(ranked_texts: Sequence[str], snippets: Sequence[str], k: int = 10) -> float:
    """Passage MRR@k: 1/rank of the first passage containing a gold snippet, 0 if none."""
    ranks = _passage_ranks(ranked_texts, snippets, k)
    return 1.0 / ranks[0] if ranks else 0.0


def correct_refusal(unanswerable: bool, abstained: bool) -> bool:
    """Correct refusal rate: share of unanswerable questions where the answer abstained."""
    return unanswerable and abstained


def false_refusal(unanswerable: bool, abstained: bool) -> bool:
    """False refusal rate: share of answerable questions where the answer abstained."""
    return not unanswerable and abstained


def citation_recall(sentences: Sequence[Sentence]) -> float | None:
    """Citation recall: share of answer sentences that have ≥1 citation and are judged supported."""
    if not sentences:
        return None
    return sum(1 for s in sentences if s.citations and s.supported) / len(sentences)


def citation_precision(sentences: Sequence[Sentence]) -> float | None:
    """Citation precision: share of (sentence, citation) pairs whose sentence is supported."""
    if not sentences:
        return None
    pairs = sum(len(s.citations) for s in sentences)
    if pairs == 0:
        return 0.0
    return sum(len(s.citations) for s in sentences if s.supported) / pairs


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
        "f1": doc(best_f1),
        "correct_refusal_rate": doc(correct_refusal),
        "false_refusal_rate": doc(false_refusal),
        "citation_precision": doc(citation_precision),
        "citation_recall": doc(citation_recall),
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


def score_answer(q: Question, answer: Answer, *, retrieval_only: bool = False) -> dict[str, Any]:
    """Per-question metrics of one answer; None where a metric does not apply."""
    ranked = [p.article_id for p in answer.passages]
    texts = [p.text for p in answer.passages]
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
    cited = not answer.abstained
    m.update(
        accuracy=question_correct(q, answer.text, answer.abstained),
        f1=None if q.unanswerable else best_f1("" if answer.abstained else answer.text, q),
        correct_refusal_rate=correct_refusal(True, answer.abstained) if q.unanswerable else None,
        false_refusal_rate=None if q.unanswerable else false_refusal(False, answer.abstained),
        citation_precision=citation_precision(answer.sentences) if cited else None,
        citation_recall=citation_recall(answer.sentences) if cited else None,
    )
    return m


_ANSWER_METRICS = (
    "accuracy",
    "f1",
    "correct_refusal_rate",
    "false_refusal_rate",
    "citation_precision",
    "citation_recall",
)
_RETRIEVAL_METRICS = (
    *(f"hit@{k}" for k in HIT_KS),
    "recall@5",
    "mrr@10",
    "passage_hit@5",
    "passage_mrr@10",
)
METRICS = (*_ANSWER_METRICS, *_RETRIEVAL_METRICS)


def aggregate(rows: Sequence[dict]) -> tuple[dict[str, float | None], dict[str, int]]:
    """Mean of every metric over the rows where it is defined (True=1), and those rows' count."""
    values: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for key in METRICS:
        got = [float(r["metrics"][key]) for r in rows if r["metrics"].get(key) is not None]
        values[key] = sum(got) / len(got) if got else None
        counts[key] = len(got)
    return values, counts
