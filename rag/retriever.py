"""Hybrid retrieval: articles ranked by fused dense, chunk-keyword and article-keyword scores.

Each retriever's scores are min-max normalised over its candidates and an article takes its
best chunk's score from each (an article's whole text is scored once), so a strong keyword
ranking is not pulled down by a weak dense one the way reciprocal-rank fusion did (measured
on the news dev set: docs/measurements.md, "Retrieval quality on the news dev set"). Articles
dated inside the question's time window get a small lift, never a filter. Each article then
contributes its best chunks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from rag.dates import in_window
from rag.embeddings import Embedder
from rag.filters import Filters
from rag.records import Hit
from rag.store import Store
from rag.tuning import TUNED, Tuning


def normalised(scores: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Min-max scale to 0..1, keeping each key's best score (all 1.0 when they tie).

    >>> normalised([("a", 3.0), ("b", 1.0), ("a", 2.0)])
    {'a': 1.0, 'b': 0.0}
    """
    best: dict[str, float] = {}
    for key, value in scores:
        best[key] = max(best.get(key, value), value)
    if not best:
        return {}
    lo, hi = min(best.values()), max(best.values())
    return {k: (v - lo) / (hi - lo) if hi > lo else 1.0 for k, v in best.items()}


def fuse(
    parts: Sequence[tuple[dict[str, float], float]],
    dates: dict[str, str],
    window: tuple[str, str] | None,
    date_boost: float,
) -> list[tuple[str, float]]:
    """Articles by weighted sum of normalised scores, plus the date lift (`date_boost` of the
    best score); best first."""
    total: dict[str, float] = {}
    for scores, weight in parts:
        for key, value in scores.items():
            total[key] = total.get(key, 0.0) + weight * value
    if window and total:
        lift = date_boost * max(total.values())
        for key in total:
            if in_window(dates.get(key, ""), window):
                total[key] += lift
    return sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))


def spread(ranked: Iterable[list[str]], k: int, tuning: Tuning = TUNED) -> list[str]:
    """Chunk ids from articles' chunk lists (best article first): each article's first
    `per_article` chunks, then their next ones; stops reading articles once k are chosen.

    >>> spread([["a1", "a2", "a3"], ["b1"]], 4)
    ['a1', 'a2', 'b1', 'a3']
    """
    first: list[str] = []
    rest: list[str] = []
    for chunks in ranked:
        first += chunks[: tuning.per_article]
        rest += chunks[tuning.per_article : tuning.max_per_article]
        if len(first) >= k:
            break
    return (first + rest)[:k]


def retrieve(
    query: str,
    store: Store,
    embedder: Embedder,
    *,
    k: int,
    candidates: int = 50,
    hybrid: bool = True,
    filters: Filters | None = None,
    window: tuple[str, str] | None = None,
    timings: dict[str, float] | None = None,
    tuning: Tuning = TUNED,
) -> list[Hit]:
    """Top-k chunks for a query from the best articles; `window` (ISO first, last) lifts
    articles dated inside it; `timings` (if given) receives per-stage seconds."""
    t0 = time.perf_counter()

    def timed_keyword() -> tuple[list[tuple[str, float]], list[tuple[str, float]], float]:
        if not hybrid:
            return [], [], 0.0
        chunks = store.keyword_search(query, candidates, filters)
        articles = store.article_search(query, candidates, filters)
        return chunks, articles, time.perf_counter() - t0

    # BM25 runs beside the query embedding and Chroma search (SQLite releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        keyword_job = pool.submit(timed_keyword)
        dense = store.dense_search(embedder.embed_query(query), candidates, filters)
        dense_time = time.perf_counter() - t0
        keyword, by_article, keyword_time = keyword_job.result()
    chunks = store.chunks(list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in keyword])))
    owner = {cid: c.article_id for cid, c in chunks.items()}
    parts = [
        (normalised([(owner[c], s) for c, s in dense if c in owner]), tuning.dense_weight),
        (
            normalised([(owner[c], s) for c, s in keyword if c in owner]),
            tuning.chunk_keyword_weight,
        ),
        (normalised(by_article), tuning.article_keyword_weight),
    ]
    dates = {a.id: a.date for a in store.articles_by_id({*owner.values(), *dict(by_article)})}
    ranked = fuse(parts, dates, window, tuning.date_boost)[:k]
    per_article: dict[str, list[str]] = {a: [] for a, _ in ranked}
    for cid in _chunk_order(dense, keyword):
        if owner.get(cid) in per_article:
            per_article[owner[cid]].append(cid)
    # an article found by its whole text only shows its best-matching chunks
    most = tuning.max_per_article
    lists = (per_article[a] or store.best_chunks(query, a, most) for a, _ in ranked)
    chosen = spread(lists, k, tuning)
    chunks |= store.chunks([c for c in chosen if c not in chunks])
    score = dict(ranked)
    similarity = dict(dense)
    dense_rank = {cid: i for i, (cid, _) in enumerate(dense, start=1)}
    keyword_rank = {cid: i for i, (cid, _) in enumerate(keyword, start=1)}
    hits = [
        Hit(
            chunks[cid],
            score[chunks[cid].article_id],
            similarity.get(cid),
            dense_rank.get(cid),
            keyword_rank.get(cid),
        )
        for cid in chosen
        if cid in chunks
    ]
    if timings is not None:
        timings["dense"] = dense_time
        timings["keyword"] = keyword_time
        timings["retrieve"] = time.perf_counter() - t0
    return hits


def _chunk_order(
    dense: Sequence[tuple[str, float]], keyword: Sequence[tuple[str, float]]
) -> list[str]:
    """Chunks in order of their best rank in either list (ties: dense first)."""
    best: dict[str, tuple[int, int]] = {}
    for which, ranking in enumerate((dense, keyword)):
        for rank, (cid, _) in enumerate(ranking):
            best[cid] = min(best.get(cid, (rank, which)), (rank, which))
    return sorted(best, key=lambda cid: best[cid])
