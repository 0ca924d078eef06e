"""The Answer and how it is put together: verified claims with their citations, an
abstention naming the closest sentence, or quotes when the model cannot help. Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from rag.answering.asks import asking_clause
from rag.answering.phrasing import about_time, dated, phrased
from rag.answering.verify import Verdict
from rag.citations import (
    CITATION,
    Citation,
    Passage,
    Sentence,
    content_words,
    parse_numbers,
    split_answer,
    support_span,
    verify,
)
from rag.tuning import TUNED, Tuning

ABSTAIN_TEXT = "The articles do not say."
QUOTE_LABEL = "The articles say:"
CLOSEST = 3  # passages a refusal lists
_REFUSAL = re.compile(
    r"articles do not say|do(?:es)? not (?:say|mention|contain|provide|specify|answer)|"
    r"no information|not (?:mentioned|stated|specified)|cannot answer|can't answer|"
    r"don't know|do not know|unable to answer",
    re.IGNORECASE,
)


@dataclass
class Answer:
    """The final result of one question, whatever path produced it."""

    question: str
    query: str
    text: str
    abstained: bool
    mode: Literal["generated", "extractive"]
    citations: list[Citation] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    left_out: list[Sentence] = field(default_factory=list)
    disagreement: bool = False
    notice: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    second_look: bool = False  # the model read the next best sentences once more
    kind: str = "factoid"  # what the question asks for (rag.answering.kinds): a phrase, or points
    confidence: float | None = None  # the fitted decision's probability that it is right
    signals: dict[str, float] = field(default_factory=dict)  # what that decision read


def render_text(sentences: list[Sentence]) -> str:
    """The answer text with markers at each sentence's end: 'Claim [1][3].'

    Markers a sentence already holds inline stay where they are.
    """
    parts = []
    for s in sentences:
        inline = {n for m in CITATION.finditer(s.text) for n in parse_numbers(m.group(1))}
        marks = "".join(f"[{n}]" for n in s.citations if n not in inline)
        body = s.text
        if marks and body[-1:] in ".!?":
            body = f"{body[:-1]} {marks}{body[-1]}"
        elif marks:
            body = f"{body} {marks}."
        parts.append(body)
    return " ".join(parts)


def citations_of(sentences: list[Sentence], passages: list[Passage]) -> list[Citation]:
    """The cited passages in order of first citation; each sentence passage is its support."""
    by_n = {p.n: p for p in passages}
    cited = dict.fromkeys(n for s in sentences for n in s.citations if n in by_n)
    return [Citation.of(by_n[n], (by_n[n].start, by_n[n].end)) for n in cited]


def quoted(
    question: str, query: str, chosen: list[Passage], passages: list[Passage], label: str = ""
) -> Answer:
    """The `chosen` sentences quoted with their citations, after a `label` if given."""
    sentences = [Sentence(f"“{' '.join(p.text.split())}”", [p.n]) for p in chosen]
    text = render_text(sentences)
    return Answer(
        question=question,
        query=query,
        text=f"{label} {text}" if label else text,
        abstained=False,
        mode="extractive",
        citations=citations_of(sentences, passages),
        sentences=sentences,
        passages=passages,
    )


def extractive(question: str, query: str, passages: list[Passage], notice: str) -> Answer:
    """Quote the (at most two) evidence sentences that best match the query, with citations."""
    wanted = content_words(query)
    ranked = sorted(passages, key=lambda p: (-len(content_words(p.text) & wanted), -p.score, p.n))
    answer = quoted(question, query, ranked[:2], passages)
    answer.notice = notice
    return answer


def points_text(sentences: list[Sentence]) -> str:
    """Cited points as a short list, one per line ('- Point [2].'); one point as a sentence."""
    if len(sentences) == 1:
        return render_text(sentences)
    return "\n".join(f"- {render_text([s])}" for s in sentences)


def answer_from_points(
    question: str,
    query: str,
    verdict: Verdict,
    passages: list[Passage],
    speaking: list[Passage],
) -> Answer:
    """The points a verdict keeps; when none, the `speaking` sentences quoted under "The
    articles say:"; when none speaks to the question, an abstention."""
    if verdict.abstained and speaking:
        answer = quoted(question, query, speaking, passages, QUOTE_LABEL)
        answer.left_out = verdict.left_out
        return answer
    if verdict.abstained:
        answer = abstention(question, query, passages, verdict.left_out)
        titles = list(dict.fromkeys(" ".join(p.title.split()) for p in passages if p.title))
        if titles:  # what the closest articles are about, not one stray sentence
            answer.text = (
                f"{ABSTAIN_TEXT} The closest articles: "
                + "; ".join(f"“{t}”" for t in titles[:3])
                + "."
            )
        return answer
    return _claims(question, query, verdict, passages, points_text(verdict.sentences))


def _claims(
    question: str, query: str, verdict: Verdict, passages: list[Passage], text: str
) -> Answer:
    """The Answer showing a verdict's claims as `text`, with their citations."""
    return Answer(
        question,
        query,
        text,
        False,
        "generated",
        citations=citations_of(verdict.sentences, passages),
        sentences=verdict.sentences,
        passages=passages,
        left_out=verdict.left_out,
        disagreement=verdict.disagreement,
    )


def closest(passages: list[Passage], k: int = CLOSEST) -> list[Passage]:
    """The `k` best-scored passages, best first: what a refusal quotes and lists."""
    return sorted(passages, key=lambda p: (-p.score, p.n))[:k]


def abstention(
    question: str, query: str, passages: list[Passage], left_out: list[Sentence]
) -> Answer:
    """'The articles do not say', naming what the closest sentence does say."""
    text = ABSTAIN_TEXT
    if passages:
        best = closest(passages)[0]
        text += f" The closest they come: “{' '.join(best.text.split())}” [{best.n}]"
    return Answer(question, query, text, True, "generated", passages=passages, left_out=left_out)


def joined(first: Verdict, asked: list[str], again: dict[str, Verdict]) -> Verdict:
    """The first verdict over the question's `asked` parts (or the question alone) with what
    a second look found for those in `again`; a part neither answers is named unanswered."""
    answered = [] if first.abstained else [q for q in asked if q not in first.unanswered]
    answered += [q for q, v in again.items() if not v.abstained]
    seen = {s.text for s in first.left_out}  # a phrase refused on both tries is listed once
    later = [s for v in again.values() for s in v.left_out if s.text not in seen]
    return Verdict(
        first.sentences + [s for v in again.values() for s in v.sentences],
        first.left_out + later,
        disagreement=first.disagreement or any(v.disagreement for v in again.values()),
        added=first.added + [p for v in again.values() for p in v.added],
        unanswered=[q for q in asked if q not in answered] if len(asked) > 1 else [],
    )


def answer_from_verdict(question: str, query: str, verdict: Verdict, read: list[Passage]) -> Answer:
    """The Answer a verdict allows over the sentences the model `read`: its claims with
    citations, or an abstention."""
    if verdict.abstained:
        return abstention(question, query, read, verdict.left_out)
    known = {p.n for p in read}  # a rival may cite a sentence the model read on a first try
    passages = read + list({p.n: p for p in verdict.added if p.n not in known}.values())
    missing = [f"The articles do not answer: {asking_clause(q)}" for q in verdict.unanswered]
    verdict.sentences = [
        worded(question, s, passages, verdict.disagreement) for s in verdict.sentences
    ]
    answer = _claims(question, query, verdict, passages, render_text(verdict.sentences))
    answer.notice = " ".join(missing)
    return answer


def worded(question: str, sentence: Sentence, passages: list[Passage], disagree: bool) -> Sentence:
    """A bare answer phrase ("36 [3].") said as a sentence built from the question or its cited
    sentence; with its articles' dates when the question is about time or sources disagree."""
    by_n = {p.n: p for p in passages}
    cited = [by_n[n] for n in sentence.citations if n in by_n]
    said = phrased(question, sentence.phrase, cited) if sentence.phrase else ""
    if said:
        sentence = replace(sentence, text=render_text([replace(sentence, text=f"{said}.")]))
    if disagree or about_time(question):
        marked = render_text([sentence])
        if (text := dated(marked, passages)) != marked:
            sentence = replace(sentence, text=text)
    return sentence


def free_text_answer(
    question: str, query: str, raw: str, passages: list[Passage], tuning: Tuning = TUNED
) -> Answer:
    """The answer from an unconstrained reply: sentences with [n] markers, each verified."""
    claims = split_answer(raw)
    if not raw or _REFUSAL.search(raw):
        return abstention(question, query, passages, [])
    if not claims:  # only markers, e.g. "[1]": quote what the model pointed at
        cited = {n for m in CITATION.finditer(raw) for n in parse_numbers(m.group(1))}
        pointed = [p for p in passages if p.n in cited] or passages
        answer = extractive(question, query, pointed, "The model only pointed at passages.")
        answer.passages = passages
        return answer
    checked = verify(claims, passages, query, tuning)
    shown = [s for s in checked if s.supported]
    left_out = [s for s in checked if not s.supported]
    if not shown:
        return abstention(question, query, passages, left_out)
    by_n = {p.n: p for p in passages}
    citations = {
        n: Citation.of(by_n[n], support_span(s.text, by_n[n])) for s in shown for n in s.citations
    }
    return Answer(
        question,
        query,
        render_text(shown),
        False,
        "generated",
        citations=list(citations.values()),
        sentences=shown,
        passages=passages,
        left_out=left_out,
    )
