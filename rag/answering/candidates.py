"""Candidate evidence sentences: every sentence of the retrieved chunks and one beyond either
edge, and how much of a question's rare words a sentence (or its title) holds. The evidence
picker, the sentence ranker and the checks of an answer all read sentences this way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.chunking import sentence_spans
from rag.records import Hit, StoredArticle
from rag.tuning import TUNED

ANAPHOR = re.compile(
    r"^[\"“]?(he|she|it|they|his|her|its|their|this|that|these|those|the (?:group|company|"
    r"man|woman|agency|department|official|officials|suspect|victim|team|company's))\b",
    re.IGNORECASE,
)


@dataclass
class Candidate:
    """A sentence of a retrieved article: where it is and how it came."""

    article: StoredArticle
    start: int
    end: int
    hit_rank: int
    chunk_id: str
    chunk_similarity: float
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.article.text[self.start : self.end]


def idf(doc_freq: dict[str, int], total: int) -> dict[str, float]:
    """BM25's inverse document frequency of each term (unknown terms count as rare)."""
    return {t: math.log((total - df + 0.5) / (df + 0.5) + 1.0) for t, df in doc_freq.items()} | {
        "": 0.0
    }


def candidates(
    hits: Sequence[Hit],
    articles: dict[str, StoredArticle],
    min_words: int = TUNED.min_sentence_words,
) -> list[Candidate]:
    """Every sentence of each hit's chunk plus one sentence beyond either edge, once each."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    spans_of: dict[str, list[tuple[int, int]]] = {}
    for rank, hit in enumerate(hits, 1):
        article = articles.get(hit.chunk.article_id)
        if article is None:
            continue
        spans = spans_of.setdefault(article.id, sentence_spans(article.text))
        inside = [i for i, (s, e) in enumerate(spans) if s < hit.chunk.end and e > hit.chunk.start]
        if not inside:
            continue
        for i in range(max(inside[0] - 1, 0), min(inside[-1] + 2, len(spans))):
            s, e = spans[i]
            if (article.id, s) in seen or len(article.text[s:e].split()) < min_words:
                continue
            seen.add((article.id, s))
            similarity = hit.similarity if hit.similarity is not None else 0.0
            out.append(Candidate(article, s, e, rank, hit.chunk.id, similarity))
    return out


def overlap(
    question_terms: set[str],
    sentence_terms: set[str],
    weights: dict[str, float],
    title_terms: set[str] | frozenset[str] = frozenset(),
    title_credit: float = TUNED.title_credit,
) -> float:
    """Share of the question's IDF mass found in the sentence (0..1); a term found only in the
    article's title counts `title_credit`, so sentences of one article do not all tie. Sums are
    exact (fsum): a set's order changes between processes, and a float sum in another order
    could break a tie the other way."""
    default = max(weights.values(), default=1.0) or 1.0
    total = math.fsum(weights.get(t, default) for t in question_terms)
    if not total:
        return 0.0
    own = question_terms & sentence_terms
    titled = (question_terms & title_terms) - own
    found = math.fsum(weights.get(t, default) for t in own)
    return (found + title_credit * math.fsum(weights.get(t, default) for t in titled)) / total


def previous(c: Candidate, by_end: dict[tuple[str, int], Candidate]) -> Candidate | None:
    """The candidate sentence that ends right before `c` (whitespace between), if any."""
    gap = c.article.text[: c.start]
    end = len(gap.rstrip())
    return by_end.get((c.article.id, end))
