"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rag.chunking import Chunk
from rag.embeddings import Embedder
from rag.store import Filters, Store

RRF_K = 60


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with how each retriever ranked it (None: not found by that one)."""

    chunk: Chunk
    score: float
    similarity: float | None
    dense_rank: int | None
    keyword_rank: int | None


def rrf(rankings: list[list[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: sum of 1/(k + rank) over the rankings an id appears in.

    >>> rrf([["a", "b"], ["b", "c"]])[0][0]
    'b'
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def retrieve(
    query: str,
    store: Store,
    embedder: Embedder,
    *,
    k: int,
    candidates: int = 20,
    hybrid: bool = True,
    filters: Filters | None = None,
    timings: dict[str, float] | None = None,
) -> list[Hit]:
    """Top-k chunks for a query; `timings` (if given) receives per-stage seconds."""
    t0 = time.perf_counter()

    def timed_keyword() -> tuple[list[tuple[str, float]], float]:
        found = store.keyword_search(query, candidates, filters) if hybrid else []
        return found, time.perf_counter() - t0

    # BM25 runs beside the query embedding and Chroma search (SQLite releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        keyword_job = pool.submit(timed_keyword)
        dense = store.dense_search(embedder.embed_query(query), candidates, filters)
        dense_time = time.perf_counter() - t0
        keyword, keyword_time = keyword_job.result()
    dense_ids = [cid for cid, _ in dense]
    keyword_ids = [cid for cid, _ in keyword]
    fused = rrf([dense_ids, keyword_ids] if hybrid else [dense_ids])[:k]
    chunks = store.chunks([cid for cid, _ in fused])
    similarity = dict(dense)
    dense_rank = {cid: i for i, cid in enumerate(dense_ids, start=1)}
    keyword_rank = {cid: i for i, cid in enumerate(keyword_ids, start=1)}
    hits = [
        Hit(chunks[cid], score, similarity.get(cid), dense_rank.get(cid), keyword_rank.get(cid))
        for cid, score in fused
        if cid in chunks
    ]
    if timings is not None:
        timings["dense"] = dense_time
        timings["keyword"] = keyword_time
        timings["retrieve"] = time.perf_counter() - t0
    return hits
