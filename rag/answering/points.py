"""Verification of a cited-points reply (definitions, explanations, summaries, lists).

A point has no answer phrase to find; it is kept when its cited sentences, read together,
hold every figure and name it states and most of its content words (`citations.check`), it
adds something the points before it did not say, and the kept points' sentences are about what
the question asks (its key terms). When none is kept but some sentences speak to the question,
those are quoted instead of a refusal. Pure functions: no model, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.answering.verify import Proposal, Verdict, asked_terms, coverage
from rag.citations import Passage, Sentence, check, content_words, fold, verify
from rag.tuning import TUNED, Tuning

QUOTED = 3  # sentences quoted when no point holds but the articles speak to the question


def _together(cited: Sequence[Passage]) -> Passage:
    """The cited sentences as one passage (a point may join facts of two sentences)."""
    return replace(
        cited[0],
        text=" ".join(p.text for p in cited),
        title=" ".join(dict.fromkeys(p.title for p in cited)),
    )


def _opening(text: str, cited: Sequence[Passage], question: str) -> str:
    """The point's first word when it is capitalised, not a common word and absent from its
    sentences, their titles and the question: 'Colombian rebels…' (a point opens with its
    subject, which `names` skips as sentence-initial)."""
    first = text.split(maxsplit=1)[0] if text.split() else ""
    word = fold(first.strip("\"“”'‘’(),.:;"))
    if not first[:1].isupper() or not content_words(word):
        return ""
    seen = fold(" ".join([question, *(f"{p.text} {p.title}" for p in cited)]))
    return "" if word in seen else f"{first.strip(',.:;')} is not in its sentences"


def check_point(
    point: Proposal, passages: Sequence[Passage], question: str, tuning: Tuning = TUNED
) -> Sentence:
    """The point as a claim: supported by its cited sentences (alone or together), or by the
    best shown sentence when it cites none, else left out with the reason."""
    text = " ".join(point.answer.split())
    by_n = {p.n: p for p in passages}
    cited = [by_n[n] for n in dict.fromkeys(point.evidence) if n in by_n]
    claim = verify([(text, [p.n for p in cited])], passages, question, tuning)[0]
    if not claim.supported and len(cited) > 1:
        why = check(text, _together(cited), question, needed=tuning.lexical_support)
        claim = Sentence(text, [p.n for p in cited], supported=not why, reason=why)
    holding = [by_n[n] for n in claim.citations if n in by_n]
    why = _opening(text, holding, question) if claim.supported else ""
    return replace(claim, supported=False, reason=why) if why else claim


def decide_points(
    question: str,
    points: Sequence[Proposal],
    passages: Sequence[Passage],
    weights: dict[str, float],
    tuning: Tuning = TUNED,
) -> Verdict:
    """The points that may be shown, and those left out with why."""
    kept: list[Sentence] = []
    left_out: list[Sentence] = []
    said: set[str] = set()
    for point in points:
        if not point.answer.strip():
            continue
        claim = check_point(point, passages, question, tuning)
        words = content_words(claim.text)
        if claim.supported and words and words <= said:
            claim = replace(claim, supported=False, reason="it repeats an earlier point")
        (kept if claim.supported else left_out).append(claim)
        said |= words if claim.supported else set()
    by_n = {p.n: p for p in passages}
    cited = [by_n[n] for s in kept for n in s.citations if n in by_n]
    wanted = asked_terms(question, passages)
    if kept and coverage(wanted, cited, weights) < tuning.key_term_coverage:
        why = "its sentences are not about what the question asks"
        left_out += [replace(s, supported=False, reason=why) for s in kept]
        kept = []
    return Verdict(kept, left_out)


def speaking(
    question: str, passages: Sequence[Passage], weights: dict[str, float], tuning: Tuning = TUNED
) -> list[Passage]:
    """The best (at most `QUOTED`) sentences that carry the question's key terms, best first:
    what to quote when no point holds; none when the articles do not speak to the question."""
    wanted = asked_terms(question, passages)
    scored = [(coverage(wanted, [p], weights), p.score, -p.n, p) for p in passages]
    relevant = [t for t in scored if t[0] >= tuning.key_term_coverage]
    relevant.sort(key=lambda t: t[:3], reverse=True)
    return [t[3] for t in relevant[:QUOTED]]
