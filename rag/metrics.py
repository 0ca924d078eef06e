"""Pure evaluation metrics: answer correctness, retrieval, passages, refusals, citations, cost.

No I/O, so each metric is checkable by hand; a docstring's first line is its report definition.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer import Answer
from rag.citations import Passage, Sentence
from rag.questions import Evidence, Question
from rag.text import normalize

__all__ = [
    "METRICS",
    "Paired",
    "aggregate",
    "article_ranking",
    "best_f1",
    "candidates",
    "conflict_surfaced",
    "correct_refusal",
    "evidence_precision",
    "evidence_recall",
    "false_disagreement",
    "false_refusal",
    "judged_citations",
    "hit_at",
    "is_correct",
    "is_refusal",
    "nugget_recall",
    "paired",
    "point_support",
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
    "score_text",
    "strict_correct",
    "strip_markers",
    "token_f1",
    "usage_totals",
    "verifier_flagged",
    "wrong_shown",
]

LATENCY_KEYS = ("retrieve", "first_token", "total")
HIT_KS = (1, 3, 5)


# The scorer's own readings of an answer text, the same for every system it compares: the
# `[n]` markers it strips, the refusals and disagreements it recognises, the candidate values
# it counts. None of them asks the pipeline what it meant.
_MARKERS = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_REFUSAL = re.compile(
    r"articles do not say|do(?:es)? not (?:say|mention|contain|provide|specify|state|answer)|"
    r"no (?:information|mention)|not (?:mentioned|stated|specified|provided)|cannot answer|"
    r"can't answer|cannot determine|don'?t know|do not know|unable to (?:answer|determine)|"
    r"no answer (?:found|in)",
    re.IGNORECASE,
)
_DISAGREE = re.compile(r"disagree|conflicting|contradict", re.IGNORECASE)
_SEGMENTS = re.compile(r";|\s·\s|\n+|”\s*“")


def strip_markers(text: str) -> str:
    """The text without its citation markers, so '[3]' is never read as the answer '3'.

    >>> strip_markers("Two people died [3][4]. Police came [1, 2].")
    'Two people died . Police came .'
    """
    return " ".join(_MARKERS.sub(" ", text).split())


def is_refusal(text: str) -> bool:
    """Refusals: the answer text says the articles do not answer (one pattern for all systems)."""
    return bool(_REFUSAL.search(text))


def candidates(text: str) -> list[str]:
    """The answer's separate candidate segments: split at ';', ' · ', line breaks and between
    quotes, markers stripped. 'Sources disagree: 46 [3]; 52 [2].' has two."""
    found = [strip_markers(part).strip(" .") for part in _SEGMENTS.split(text)]
    return [part for part in found if part]


def _contains(haystack_norm: str, needle: str) -> bool:
    """True when the normalised needle occurs in the normalised haystack as whole words."""
    n = normalize(needle)
    return bool(n) and f" {n} " in f" {haystack_norm} "


def is_correct(answer_text: str, q: Question) -> bool:
    """Correct text: markers stripped, it holds an acceptable answer and all answer_all facts."""
    if not q.answers and not q.answer_all:
        return False
    text = normalize(strip_markers(answer_text))
    any_ok = not q.answers or any(_contains(text, a) for a in q.answers)
    return any_ok and all(_contains(text, a) for a in q.answer_all)


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


def article_ranking(chunks: Sequence[Passage]) -> list[str]:
    """Distinct article ids in the order their first chunk was ranked."""
    return list(dict.fromkeys(c.article_id for c in chunks))


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


def _covers(snippet: str, cited: str) -> bool:
    """Does cited text cover a gold snippet: it contains it, or is a 6+-word part of it?"""
    a, b = normalize(snippet), normalize(cited)
    if not a or not b:
        return False
    return f" {a} " in f" {b} " or (len(b.split()) >= 6 and f" {b} " in f" {a} ")


def evidence_recall(evidence: Sequence[Evidence], cited: Sequence[tuple[str, str]]) -> float | None:
    """Evidence recall: share of gold snippets (gold articles if no snippet) the citations cover.

    `cited` holds (article id, cited text) per citation; None when there is no gold evidence.
    """
    if not evidence:
        return None
    found = sum(
        any(_covers(e.snippet, text) for _, text in cited)
        if e.snippet
        else any(article == e.article for article, _ in cited)
        for e in evidence
    )
    return found / len(evidence)


def evidence_precision(
    evidence: Sequence[Evidence], cited: Sequence[tuple[str, str]]
) -> float | None:
    """Citation precision (gold): share of citations covering a gold snippet or a gold article.

    Article-only evidence accepts any citation from that article; None without citations.
    """
    if not evidence or not cited:
        return None
    snippets = [e.snippet for e in evidence if e.snippet]
    articles = {e.article for e in evidence if not e.snippet}
    good = sum(
        article in articles or any(_covers(s, text) for s in snippets) for article, text in cited
    )
    return good / len(cited)


def verifier_flagged(shown: Sequence[Sentence], left_out: Sequence[Sentence]) -> float | None:
    """Sentences our verifier flagged: share of the answer's claims it marked or left out.

    A diagnostic of our own verifier, not a citation metric.
    """
    total = len(shown) + len(left_out)
    if not total:
        return None
    return (sum(1 for s in shown if not s.supported) + len(left_out)) / total


JUDGE_RECALL_DOC = (
    "Citation recall (judge, ALCE): share of claims entailed by their cited passages together, "
    "as judged by an independent model."
)
JUDGE_PRECISION_DOC = (
    "Citation precision (judge, ALCE): share of citations needed: the claim is entailed and "
    "the citation supports it alone or the others do not without it."
)


def judged_citations(
    claims: Sequence[tuple[str, Sequence[str]]], entails: Callable[[str, str], bool]
) -> tuple[float | None, float | None]:
    """(recall, precision) of citations in the ALCE way; `entails(premise, claim)` is the judge.

    `claims` holds each claim with the texts of its citations. None where nothing is defined.
    """
    if not claims:
        return None, None
    entailed, needed, total = 0, 0, 0
    for claim, texts in claims:
        total += len(texts)
        if not texts or not entails("\n".join(texts), claim):
            continue
        entailed += 1
        if len(texts) == 1:
            needed += 1
            continue
        for i, text in enumerate(texts):
            rest = "\n".join(t for j, t in enumerate(texts) if j != i)
            needed += entails(text, claim) or not entails(rest, claim)
    return entailed / len(claims), (needed / total if total else None)


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
    return sum(any(_contains(text, p) for p in nugget) for nugget in nuggets) / len(nuggets)


_STOP = frozenset(
    "about after also and are been before being but can could did does for from had has have "
    "her his its into more most not other over said says some such than that their them then "
    "there these they this those through under were what when where which while who whom whose "
    "why will with would".split()
)


_MONTHS = "january february march april may june july august september october november december"
_REPORTED = re.compile(r"\(reported ([^)]*)\)")


def _dated_by(note: str, dates: Sequence[str]) -> bool:
    """Is a '(reported 3 May 2024)' note one of the cited articles' ISO dates?

    >>> _dated_by("3 May 2024", ["2024-05-03"]), _dated_by("May 2024", ["2023-05-03"])
    (True, False)
    """
    words = note.lower().replace(",", " ").split()
    said = {int(w) for w in words if w.isdigit()}
    said |= {i + 1 for i, m in enumerate(_MONTHS.split()) if m in words}
    return any(said <= {int(x) for x in re.findall(r"\d+", d[:10])} for d in dates if d)


def _supported(point: str, cited: str, dates: Sequence[str] = ()) -> bool:
    """Does the cited text hold the point's figures and names and most of its content words
    (a word matches on its first five letters, for inflections)? A '(reported …)' note is
    held when it is the date of a cited article."""
    got = normalize(cited).split()
    have, stems = set(got), {w[:5] for w in got}
    point = _REPORTED.sub(lambda m: "" if _dated_by(m[1], dates) else m[0], strip_markers(point))
    words = normalize(point).split()
    figures = [w for w in words if any(c.isdigit() for c in w)]
    names = {normalize(m) for m in re.findall(r"(?<=\w )[A-Z][\w’'-]+", point)}
    content = [w for w in words if len(w) > 2 and w not in _STOP and not w.isdigit()]
    if any(f not in have for f in figures) or any(n and n[:5] not in stems for n in names):
        return False
    return not content or sum(w[:5] in stems for w in content) / len(content) >= 0.6


def point_support(points: Sequence[tuple[str, Sequence[str], Sequence[str]]]) -> float | None:
    """Point support: share of shown points (claims) whose cited sentences hold their figures,
    names and most content words; a quote counts as supported by what it quotes. Each point is
    (text, cited sentences, cited articles' dates)."""
    if not points:
        return None
    return sum(bool(t) and _supported(p, " ".join(t), d) for p, t, d in points) / len(points)


def useful(recall: float, refused: bool) -> bool:
    """Useful answers: share of open questions answered with nugget recall of at least 0.5."""
    return not refused and recall >= 0.5


def bare_refusal(refused: bool) -> bool:
    """Bare refusals: share of answerable open questions the answer refused."""
    return refused


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
