"""Citation metrics: do an answer's citations hold the gold evidence and what its points say?

Each is the scorer's own check of the cited text (or an independent judge's), never the
pipeline's verifier, whose flags are reported apart as a diagnostic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.citations import Sentence
from rag.questions import Evidence
from rag.text import normalize, strip_markers

__all__ = [
    "JUDGE_PRECISION_DOC",
    "JUDGE_RECALL_DOC",
    "evidence_precision",
    "evidence_recall",
    "judged_citations",
    "point_support",
    "verifier_flagged",
]


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
