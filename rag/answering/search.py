"""Search for one question: retrieval deep enough to rank articles, the evidence sentences
within the prompt budget, the next best ones for a second look, and spare ones for rivals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rag.answering import evidence, prompt, ranking
from rag.answering.candidates import Candidate, idf
from rag.answering.engine import Engine
from rag.answering.kinds import POINT_KINDS, SPREAD_KINDS, QuestionKind
from rag.answering.parts import parts
from rag.chunking import estimate_tokens
from rag.citations import Passage
from rag.dates import date_window
from rag.filters import Filters
from rag.records import Hit, StoredArticle
from rag.retriever import retrieve
from rag.settings import Settings
from rag.text import terms

RANK_CHUNKS_PER_ARTICLE = 3  # chunks retrieved per article ranked for the eval's metrics


@dataclass
class Found:
    """What retrieval gives one question: ranked chunks, evidence sentences, term weights,
    the retrieved articles' texts (article id -> text), the best others that did not fit,
    for a two-part question each part's own evidence sentences, and for each part (or the
    question) the next best sentences within the budget (`second`, read when the first ones
    answer nothing)."""

    retrieved: list[Passage]
    passages: list[Passage]
    weights: dict[str, float]
    texts: dict[str, str] = field(default_factory=dict)
    spare: list[Passage] = field(default_factory=list)
    parts: list[list[Passage]] = field(default_factory=list)
    second: list[list[Passage]] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)


def ranked_chunk(rank: int, hit: Hit, article: StoredArticle) -> Passage:
    """A retrieved chunk as a Passage numbered by its rank (what retrieval metrics score)."""
    chunk, similarity = hit.chunk, hit.similarity if hit.similarity is not None else 0.0
    span = (chunk.start, chunk.end)
    return evidence.passage(rank, article, chunk.id, chunk.text, span, hit.score, similarity)


def evidence_budget(settings: Settings, question: str, today: str, points: bool = False) -> int:
    """Tokens left for evidence sentences once instructions, date and question are counted
    (a question answered in `points` gets the larger `points_prompt_tokens`)."""
    fixed = prompt.messages(question, [], today, points)
    whole = settings.points_prompt_tokens if points else settings.prompt_tokens
    return whole - sum(estimate_tokens(m["content"]) for m in fixed)


def search_hits(
    question: str,
    engine: Engine,
    depth: int,
    *,
    filters: Filters | None = None,
    hybrid: bool | None = None,
    today: str = "",
    timings: dict[str, float] | None = None,
) -> list[Hit]:
    """The top `depth` chunks of one hybrid retrieval with the engine's settings, articles
    dated in the question's time window (`today`: when it is asked) lifted."""
    settings = engine.settings
    return retrieve(
        question,
        engine.store,
        engine.embedder,
        k=depth,
        candidates=max(settings.candidates, settings.rank_depth),
        hybrid=settings.hybrid if hybrid is None else hybrid,
        filters=filters,
        window=date_window(question, today or date.today().isoformat()),
        timings=timings,
        tuning=settings.tuning,
    )


def ranked_chunks(hits: list[Hit], articles: dict[str, StoredArticle]) -> list[Passage]:
    """Hits as Passages numbered by rank, with their articles' metadata (hits whose article
    is gone are dropped)."""
    return [
        ranked_chunk(rank, hit, articles[hit.chunk.article_id])
        for rank, hit in enumerate(hits, 1)
        if hit.chunk.article_id in articles
    ]


def _header_tokens(article: StoredArticle) -> int:
    return estimate_tokens(prompt.header(article.title, article.source, article.date))


def find_passages(
    query: str,
    engine: Engine,
    *,
    filters: Filters | None = None,
    top_k: int | None = None,
    hybrid: bool | None = None,
    today: str = "",
    timings: dict[str, float] | None = None,
    kind: QuestionKind = "factoid",
) -> Found:
    """Retrieve chunks deep enough to rank `rank_depth` articles, and pick evidence sentences
    from the top `top_k` chunks; each part of a two-part question is searched on its own. A
    question answered in points (`kind`) gets a larger budget, and a summary, list or
    comparison sentences from as many articles as fit."""
    settings = engine.settings
    k = top_k or settings.top_k
    today = today or date.today().isoformat()

    def search(question: str, depth: int) -> list[Hit]:
        return search_hits(
            question, engine, depth, filters=filters, hybrid=hybrid, today=today, timings=timings
        )

    hits = search(query, max(k, settings.rank_depth * RANK_CHUNKS_PER_ARTICLE))
    points = kind in POINT_KINDS
    questions = [query] if points else parts(query)
    searches = [(q, search(q, k) if len(questions) > 1 else hits[:k]) for q in questions]
    seen = {h.chunk.article_id for _, got in [(query, hits), *searches] for h in got}
    articles = {a.id: a for i in seen if (a := engine.store.article(i)) is not None}
    ranked = ranked_chunks(hits, articles)
    doc_freq = engine.store.doc_freqs(sorted(terms(query)))
    weights = idf(doc_freq, engine.store.count_chunks())
    budget = evidence_budget(settings, query, today, points)
    ranker = ranking.shipped() if settings.learned_ranker else None
    tuning = settings.tuning
    scored = [evidence.scored(got, articles, q, weights, ranker, tuning) for q, got in searches]
    spread = kind in SPREAD_KINDS
    each = evidence.select_parts(scored, budget, _header_tokens, spread=spread, tuning=tuning)
    passages = sorted({p.n: p for group in each for p in group}.values(), key=lambda p: p.n)
    texts = {a.id: a.text for a in articles.values()}
    if points:  # points have no second look and no rival values
        return Found(ranked, passages, weights, texts, candidates=scored[0])
    second = evidence.select_parts(scored, budget, _header_tokens, shown=passages, tuning=tuning)
    if len(scored) > 1:  # rivals are for a one-part question only
        return Found(ranked, passages, weights, texts, parts=each, second=second)
    spare = evidence.spare(scored[0], passages + second[0])
    return Found(ranked, passages, weights, texts, spare, second=second, candidates=scored[0])
