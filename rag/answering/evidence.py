"""Evidence selection: the sentences of the retrieved chunks that can answer, within a budget.

Sentences are the unit of evidence. Each candidate sentence is scored by the rare question
words it and its article's title share (IDF-weighted) and by its chunk's rank in retrieval
(dense + keyword); the best fill a token budget,
a sentence that opens with a pronoun brings the sentence before it (which names the subject),
and the picks are grouped by article and numbered 1..n in reading order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.answering.candidates import ANAPHOR, Candidate, candidates, overlap, previous
from rag.answering.ranking import features
from rag.chunking import estimate_tokens
from rag.citations import Passage
from rag.logistic import Logistic
from rag.records import Hit, StoredArticle
from rag.text import terms
from rag.tuning import TUNED, Tuning

LINE_TOKENS = 3  # the "[n] " before each sentence


def score(
    cands: Sequence[Candidate], question: str, weights: dict[str, float], tuning: Tuning = TUNED
) -> list[float]:
    """One score per candidate: the rare question words it (and its title) holds, plus a
    little for its chunk's rank in retrieval."""
    wanted, credit = terms(question), tuning.title_credit
    return [
        tuning.overlap_weight
        * overlap(wanted, terms(c.text), weights, terms(c.article.title), credit)
        + tuning.rank_weight / c.hit_rank
        for c in cands
    ]


def pick(
    cands: Sequence[Candidate],
    budget: int,
    header_tokens: Callable[[StoredArticle], int],
    spread: bool = False,
    tuning: Tuning = TUNED,
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
            before = previous(c, by_end)
            if before is not None:
                group.insert(0, before)
        group = [g for g in group if (g.article.id, g.start) not in chosen]
        cost = sum(estimate_tokens(g.text) + LINE_TOKENS for g in group)
        cost += header_tokens(c.article) if c.article.id not in articles else 0
        if (
            not group
            or estimate_tokens(c.text) > tuning.max_sentence_tokens
            or used + cost > budget
        ):
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
    tuning: Tuning = TUNED,
) -> list[Candidate]:
    """The candidate sentences of the hits, each with its score for the question: the fitted
    `ranker`'s, or question-word overlap plus retrieval rank."""
    cands = candidates(hits, articles, tuning.min_sentence_words)
    if ranker is not None:
        values = ranker.scores(features(cands, question, weights))
    else:
        values = score(cands, question, weights, tuning)
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
    tuning: Tuning = TUNED,
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
            tuning,
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
