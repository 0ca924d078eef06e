"""The learned sentence ranker: what a candidate evidence sentence looks like to it, and its
fitted weights.

Each candidate sentence gets a few features the pipeline already has (the question's rare
words it and its title share, its chunk's retrieval rank and similarity, whether it states the
kind of thing asked, where it sits in its article). A logistic regression fitted on rtqa-dev's
gold snippets (`benchmarks/fit_ranker.py`, cross-validated by article) turns them into one
score; `rag/answering/ranker.json` holds the weights and the measurement behind them. Pure
functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from rag.answering.asks import kind
from rag.answering.candidates import Candidate, overlap, previous
from rag.logistic import Logistic, load
from rag.text import terms

FEATURES = (
    "overlap",  # share of the question's IDF mass in the sentence (title words count half)
    "own_overlap",  # ... in the sentence alone
    "title_overlap",  # ... in the article's title alone
    "hit_rank",  # 1 / rank of the chunk the sentence came from
    "similarity",  # the chunk's embedding similarity to the question
    "asks_kind",  # the question asks for a number, a time or a person
    "states_kind",  # ... and the sentence states one
    "lead",  # the sentence opens its article (first 400 characters)
    "position",  # how far into the article it starts (0..1)
    "length",  # log of its words
    "article_rank",  # 1 / rank of its article among the candidates
    "quote",  # it opens with a quotation mark
    "neighbour_overlap",  # the best own_overlap of the sentences right before and after it
    "article_best",  # the best own_overlap of any sentence of its article
    "matched",  # how many of the question's words it holds
    "figure",  # it states a figure
)
WEIGHTS_FILE = Path(__file__).with_name("ranker.json")
_DIGIT = re.compile(r"\d")
_TIME = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(?:monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|yesterday|today|week|month|year)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<=\w[\s,])[A-Z][a-z]+")


def _states(asked: str, text: str) -> bool:
    """Does the sentence state the kind of thing asked (a figure, a time, a name)?"""
    if asked == "number":
        return bool(_DIGIT.search(text))
    if asked == "when":
        return bool(_DIGIT.search(text) or _TIME.search(text))
    if asked == "who":
        return bool(_NAME.search(text))
    return False


def features(
    cands: Sequence[Candidate], question: str, weights: dict[str, float]
) -> list[list[float]]:
    """One row of FEATURES per candidate."""
    wanted, asked = terms(question), kind(question)
    article_rank: dict[str, int] = {}
    for c in sorted(cands, key=lambda c: c.hit_rank):
        article_rank.setdefault(c.article.id, len(article_rank) + 1)
    words = [terms(c.text) for c in cands]
    own_overlap = [overlap(wanted, w, weights) for w in words]
    best: dict[str, float] = {}
    for c, value in zip(cands, own_overlap, strict=True):
        best[c.article.id] = max(best.get(c.article.id, 0.0), value)
    of = {id(c): value for c, value in zip(cands, own_overlap, strict=True)}
    by_end = {(c.article.id, c.end): c for c in cands}
    before = {id(c): previous(c, by_end) for c in cands}
    after = {id(b): c for c in cands if (b := before[id(c)]) is not None}
    rows = []
    for c, own, alone in zip(cands, words, own_overlap, strict=True):
        text, title = c.text, terms(c.article.title)
        near = [of[id(n)] if n is not None else 0.0 for n in (before[id(c)], after.get(id(c)))]
        rows.append(
            [
                overlap(wanted, own, weights, title),
                alone,
                overlap(wanted, title, weights),
                1.0 / c.hit_rank,
                c.chunk_similarity,
                float(bool(asked)),
                float(_states(asked, text)),
                float(c.start < 400),
                c.start / max(len(c.article.text), 1),
                math.log(1 + len(text.split())),
                1.0 / article_rank[c.article.id],
                float(text.lstrip()[:1] in "\"“‘'"),
                max(near),
                best[c.article.id],
                float(len(wanted & own)),
                float(bool(_DIGIT.search(text))),
            ]
        )
    return rows


@lru_cache(maxsize=1)
def shipped() -> Logistic | None:
    """The weights shipped in rag/answering/ranker.json (None when there are none)."""
    loaded = load(WEIGHTS_FILE, FEATURES)
    return loaded[0] if loaded else None
