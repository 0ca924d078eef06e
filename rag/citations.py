"""Citation parsing and verification: pure functions over the answer text and its passages.

A claim is supported by a passage when most of its content words are there, every figure and
name it states appears in that passage, and the passage is about what the question asks (it
names the question's names).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.chunking import sentence_spans
from rag.text import CLAIM_STOPWORDS, stem, strip_accents
from rag.tuning import TUNED, Tuning

CITATION = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_WORD = re.compile(r"[^\W_]+(?:[’'-][^\W_]+)*")
NUMBER = r"\b\d{1,2}:\d\d\b|\d[\d,.]*\d|\d"  # what a figure is; a clock time is one
_NUMBER = re.compile(NUMBER)


@dataclass
class Passage:
    """A numbered piece of an article given to the LLM; `start:end` spans the article text."""

    n: int
    chunk_id: str
    article_id: str
    title: str
    source: str
    date: str
    url: str
    text: str
    start: int
    end: int
    score: float = 0.0
    similarity: float = 0.0


@dataclass
class Citation(Passage):
    """A passage cited by the answer; `support` spans the supporting sentence in the article."""

    support: tuple[int, int] | None = None

    @classmethod
    def of(cls, passage: Passage, support: tuple[int, int] | None) -> Citation:
        return cls(**vars(passage), support=support)


@dataclass
class Sentence:
    """One sentence of the answer with the passages that back it."""

    text: str
    citations: list[int] = field(default_factory=list)
    supported: bool = True
    reason: str = ""
    attached: bool = False
    phrase: str = ""  # the answer phrase, when the text is only that phrase: "36 [3]."


def fold(text: str) -> str:
    """Lowercase, strip accents and curl apostrophes straight so 'Guzmán’s' matches
    "guzman's"."""
    return strip_accents(text.lower().replace("’", "'"))


def content_words(text: str) -> set[str]:
    """Stemmed non-stopwords of a text, citation markers removed."""
    words = _WORD.findall(fold(CITATION.sub(" ", text)))
    return {stem(w) for w in words if w not in CLAIM_STOPWORDS and not w.isdigit()}


def figures(text: str) -> set[str]:
    """Numbers stated in a text, without separators: '6,300' -> '6300'."""
    found = {re.sub(r"[,.](?=\d{3}\b)", "", n).rstrip(".,") for n in _NUMBER.findall(text)}
    return {n.replace(",", "") for n in found}


def names(text: str) -> set[str]:
    """Capitalised words that are not sentence-initial: names, places, organisations (a
    possessive as its name: "Peru's" is checked as "peru").

    >>> sorted(names("The VRAEM is Peru's main coca region."))
    ['peru', 'vraem']
    """
    found = set()
    for s, e in sentence_spans(text):
        words = _WORD.findall(CITATION.sub(" ", text[s:e]))
        found.update(
            fold(w).removesuffix("'s")
            for w in words[1:]
            if w[0].isupper() and fold(w) not in CLAIM_STOPWORDS
        )
    return found


def parse_numbers(marker_body: str) -> list[int]:
    """'1, 3' -> [1, 3]."""
    return [int(n) for n in re.findall(r"\d+", marker_body)]


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """Answer sentences with the citation numbers attached to each (markers removed).

    A marker right after a sentence's full stop belongs to that sentence.
    >>> split_answer("Gas workers were taken [1]. They were freed. [2]")
    [('Gas workers were taken.', [1]), ('They were freed.', [2])]
    """
    moved = re.sub(r"([.!?])\s*((?:\[[\d,;\s]+\]\s*)+)", r" \2\1 ", text)
    result = []
    for s, e in sentence_spans(moved):
        part = moved[s:e]
        numbers = [n for m in CITATION.finditer(part) for n in parse_numbers(m.group(1))]
        clean = re.sub(r"\s+([.,;:!?])", r"\1", CITATION.sub("", part))
        clean = re.sub(r"\s{2,}", " ", clean).strip()
        if clean:
            result.append((clean, list(dict.fromkeys(numbers))))
    return result


def lexical_support(claim: str, passage: str) -> float:
    """Share of the claim's content words found in the passage (1.0 when it has none)."""
    words = content_words(claim)
    return len(words & content_words(passage)) / len(words) if words else 1.0


def topic_names(question: str, passages: Sequence[Passage]) -> set[str]:
    """Names in the question that single out some passages (not those nearly all share)."""
    texts = [fold(p.text) for p in passages]
    return {n for n in names(question) if sum(n in t for t in texts) <= len(texts) / 2}


def check(
    claim: str,
    passage: Passage,
    question: str,
    topic: set[str] = frozenset(),
    needed: float = TUNED.lexical_support,
) -> str:
    """Why `passage` does not support `claim` ('' when it does): a figure or name it lacks, not
    about the `topic` (see topic_names), or under `needed` of the claim's content words."""
    text = fold(passage.text + " " + passage.title)
    missing_figures = figures(claim) - figures(passage.text) - figures(question)
    if missing_figures:
        return f"{', '.join(sorted(missing_figures))} is not in passage [{passage.n}]"
    missing_names = {n for n in names(claim) - names(question) if n not in text}
    if missing_names:
        return f"{', '.join(sorted(missing_names))} is not in passage [{passage.n}]"
    if topic and not any(n in text for n in topic):
        return f"passage [{passage.n}] is not about {', '.join(sorted(topic))}"
    if lexical_support(claim, passage.text) >= needed:
        return ""
    return f"passage [{passage.n}] does not say this"


def verify(
    claims: Sequence[tuple[str, list[int]]],
    passages: Sequence[Passage],
    question: str,
    tuning: Tuning = TUNED,
) -> list[Sentence]:
    """Judge each claim against its cited passages; attach a citation the model forgot.
    Citation numbers that point at no passage are dropped."""
    by_n = {p.n: j for j, p in enumerate(passages)}
    topic = topic_names(question, passages)
    sentences = []
    needed = tuning.lexical_support
    for claim, cited in claims:
        valid = [n for n in cited if n in by_n]
        reasons = {n: check(claim, passages[by_n[n]], question, topic, needed) for n in valid}
        good = [n for n in valid if not reasons[n]]
        if good:
            sentences.append(Sentence(claim, good))
        elif valid:
            reason = "; ".join(reasons[n] for n in valid)
            sentences.append(Sentence(claim, valid, supported=False, reason=reason))
        else:
            sentences.append(_attach(claim, passages, question, topic, needed))
    return sentences


def _attach(
    claim: str,
    passages: Sequence[Passage],
    question: str,
    topic: set[str],
    needed: float,
) -> Sentence:
    """An uncited claim: cite the best passage that clearly supports it, else flag it."""
    if not content_words(claim):
        return Sentence(claim)
    ranked = sorted(
        range(len(passages)),
        key=lambda j: (lexical_support(claim, passages[j].text), -j),
        reverse=True,
    )
    for j in ranked[:3]:
        if not check(claim, passages[j], question, topic, needed):
            return Sentence(claim, [passages[j].n], attached=True)
    return Sentence(claim, supported=False, reason="no passage supports this")


def support_span(claim: str, passage: Passage) -> tuple[int, int] | None:
    """Article offsets of the passage sentence that best matches the claim."""
    best, span = 0.0, None
    for s, e in sentence_spans(passage.text):
        score = lexical_support(claim, passage.text[s:e])
        if score > best:
            best, span = score, (passage.start + s, passage.start + e)
    return span
