"""Evidence selection: the sentences of the retrieved chunks that can answer, within a budget.

Sentences are the unit of evidence. Each candidate sentence is scored by the rare question
words it and its article's title share (IDF-weighted) and by its chunk's rank in retrieval
(dense + keyword); the best fill a token budget,
a sentence that opens with a pronoun brings the sentence before it (which names the subject),
and the picks are grouped by article and numbered 1..n in reading order.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.chunking import estimate_tokens, sentence_spans
from rag.citations import Passage
from rag.logistic import Logistic
from rag.ranking import features
from rag.retriever import Hit
from rag.store import StoredArticle
from rag.text import strip_stopwords

# Weights of the sentence score (tuned on the seed and news dev sets; benchmarks/evidence.py
# measures how often the answer is among the picked sentences).
OVERLAP_WEIGHT = 1.0
RANK_WEIGHT = 0.15
TITLE_CREDIT = 0.5  # a question term in the title only, not in the sentence
MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_TOKENS = 90
LINE_TOKENS = 3  # the "[n] " before each sentence
ANAPHOR = re.compile(
    r"^[\"“]?(he|she|it|they|his|her|its|their|this|that|these|those|the (?:group|company|"
    r"man|woman|agency|department|official|officials|suspect|victim|team|company's))\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


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


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    """Porter's original algorithm in Snowball's C (PyStemmer): nltk's gave the same stems for
    78,025 of 78,031 news words, and its import (sklearn, scipy) cost each process 92 MB."""
    import Stemmer

    return Stemmer.Stemmer("porter").stemWord


def terms(text: str) -> set[str]:
    """Porter-stemmed, accent-free, stopword-free words: the keyword index's own terms.

    >>> sorted(terms("The workers were kidnapped"))
    ['kidnap', 'worker']
    """
    folded = unicodedata.normalize("NFKD", strip_stopwords(text))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    stem = _stemmer()
    return {stem(w) for w in _WORD.findall(folded)}


def idf(doc_freq: dict[str, int], total: int) -> dict[str, float]:
    """BM25's inverse document frequency of each term (unknown terms count as rare)."""
    return {t: math.log((total - df + 0.5) / (df + 0.5) + 1.0) for t, df in doc_freq.items()} | {
        "": 0.0
    }


def candidates(hits: Sequence[Hit], articles: dict[str, StoredArticle]) -> list[Candidate]:
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
            if (article.id, s) in seen or len(article.text[s:e].split()) < MIN_SENTENCE_WORDS:
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
) -> float:
    """Share of the question's IDF mass found in the sentence (0..1); a term found only in the
    article's title counts `TITLE_CREDIT`, so sentences of one article do not all tie."""
    default = max(weights.values(), default=1.0) or 1.0
    total = sum(weights.get(t, default) for t in question_terms)
    if not total:
        return 0.0
    own = question_terms & sentence_terms
    titled = (question_terms & title_terms) - own
    found = sum(weights.get(t, default) for t in own)
    return (found + TITLE_CREDIT * sum(weights.get(t, default) for t in titled)) / total


def score(cands: Sequence[Candidate], question: str, weights: dict[str, float]) -> list[float]:
    """One score per candidate: the rare question words it (and its title) holds, plus a
    little for its chunk's rank in retrieval."""
    wanted = terms(question)
    return [
        OVERLAP_WEIGHT * overlap(wanted, terms(c.text), weights, terms(c.article.title))
        + RANK_WEIGHT / c.hit_rank
        for c in cands
    ]


def pick(
    cands: Sequence[Candidate],
    budget: int,
    header_tokens: Callable[[StoredArticle], int],
    spread: bool = False,
) -> list[Candidate]:
    """The best-scored candidates whose tokens (plus one header per article) fit in `budget`;
    `spread` takes each article's best in turn (a summary or a list draws on many articles).

    A picked sentence that opens with a pronoun takes the sentence before it along.
    """
    by_end = {(c.article.id, c.end): c for c in cands}
    chosen: dict[tuple[str, int], Candidate] = {}
    used, articles = 0, set()
    # Best first: putting each article's best sentence first (for another article's figure)
    # held the answer less often on rtqa-dev (0.746 against 0.711, paired +0.035 [+0.005,
    # +0.070]) and on the short questions' dev part (+0.033 [-0.033, +0.100]).
    for c in _in_turn(cands) if spread else sorted(cands, key=lambda c: -c.score):
        group = [c]
        if ANAPHOR.match(c.text):
            before = _previous(c, by_end)
            if before is not None:
                group.insert(0, before)
        group = [g for g in group if (g.article.id, g.start) not in chosen]
        cost = sum(estimate_tokens(g.text) + LINE_TOKENS for g in group)
        cost += header_tokens(c.article) if c.article.id not in articles else 0
        if not group or estimate_tokens(c.text) > MAX_SENTENCE_TOKENS or used + cost > budget:
            continue
        for g in group:
            chosen[(g.article.id, g.start)] = g
        used += cost
        articles.add(c.article.id)
    return list(chosen.values())


def _in_turn(cands: Sequence[Candidate]) -> list[Candidate]:
    """Candidates round by round: each article's best (best article first), then each one's
    second best, and so on."""
    by_article: dict[str, list[Candidate]] = {}
    for c in sorted(cands, key=lambda c: -c.score):
        by_article.setdefault(c.article.id, []).append(c)
    rounds = max((len(group) for group in by_article.values()), default=0)
    return [group[i] for i in range(rounds) for group in by_article.values() if i < len(group)]


def _previous(c: Candidate, by_end: dict[tuple[str, int], Candidate]) -> Candidate | None:
    """The candidate sentence that ends right before `c` (whitespace between), if any."""
    gap = c.article.text[: c.start]
    end = len(gap.rstrip())
    return by_end.get((c.article.id, end))


def number(chosen: Sequence[Candidate], first: int = 1) -> list[Passage]:
    """Numbered passages: articles in order of their best sentence, sentences in text order."""
    best: dict[str, float] = {}
    for c in chosen:
        best[c.article.id] = max(best.get(c.article.id, -1e9), c.score)
    ordered = sorted(chosen, key=lambda c: (-best[c.article.id], c.article.id, c.start))
    return [
        passage(n, c.article, c.chunk_id, c.text, (c.start, c.end), c.score, c.chunk_similarity)
        for n, c in enumerate(ordered, first)
    ]


def passage(
    n: int,
    article: StoredArticle,
    chunk_id: str,
    text: str,
    span: tuple[int, int],
    score: float,
    similarity: float,
) -> Passage:
    """Passage `n`: `text`, at `span` of the article, with where it came from."""
    start, end = span
    return Passage(
        n=n,
        chunk_id=chunk_id,
        article_id=article.id,
        title=article.title,
        source=article.source,
        date=article.date,
        url=article.url,
        text=text,
        start=start,
        end=end,
        score=score,
        similarity=similarity,
    )


def scored(
    hits: Sequence[Hit],
    articles: dict[str, StoredArticle],
    question: str,
    weights: dict[str, float],
    ranker: Logistic | None = None,
) -> list[Candidate]:
    """The candidate sentences of the hits, each with its score for the question: the fitted
    `ranker`'s, or question-word overlap plus retrieval rank."""
    cands = candidates(hits, articles)
    if ranker is not None:
        values = ranker.scores(features(cands, question, weights))
    else:
        values = score(cands, question, weights)
    for c, value in zip(cands, values, strict=True):
        c.score = value
    return cands


def select(
    hits: Sequence[Hit],
    articles: dict[str, StoredArticle],
    question: str,
    weights: dict[str, float],
    budget: int,
    header_tokens: Callable[[StoredArticle], int],
) -> list[Passage]:
    """The evidence sentences for a question, numbered, within `budget` estimated tokens
    (`header_tokens`: what an article's heading costs in the prompt)."""
    return select_parts([scored(hits, articles, question, weights)], budget, header_tokens)[0]


def select_parts(
    parts: Sequence[Sequence[Candidate]],
    budget: int,
    header_tokens: Callable[[StoredArticle], int],
    shown: Sequence[Passage] = (),
    spread: bool = False,
) -> list[list[Passage]]:
    """The evidence for each question part (its scored candidates) not among `shown`, each
    within the whole `budget` since each part is asked in a prompt of its own; numbered
    together after `shown`, so a sentence two parts share has one number."""
    taken = {(p.article_id, p.start) for p in shown}
    picked = [
        pick(
            [c for c in cands if (c.article.id, c.start) not in taken],
            budget,
            header_tokens,
            spread,
        )
        for cands in parts
    ]
    union: dict[tuple[str, int], Candidate] = {}
    for chosen in picked:
        for c in chosen:
            union.setdefault((c.article.id, c.start), c)
    first = max((p.n for p in shown), default=0) + 1
    numbered = {(p.article_id, p.start): p for p in number(list(union.values()), first)}
    return [
        sorted((numbered[(c.article.id, c.start)] for c in chosen), key=lambda p: p.n)
        for chosen in picked
    ]


def spare(cands: Sequence[Candidate], shown: Sequence[Passage], limit: int = 30) -> list[Passage]:
    """The best `limit` scored candidates that did not fit in the prompt, numbered after the
    shown ones: where another article's figure for the thing asked may be found."""
    taken = {(p.article_id, p.start) for p in shown}
    rest = sorted(
        (c for c in cands if (c.article.id, c.start) not in taken), key=lambda c: -c.score
    )
    return number(rest[:limit], first=max((p.n for p in shown), default=0) + 1)
