"""Hybrid retrieval over both Chroma modes: article fusion, date lift, filters, timings."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEmbedder
from helpers import backend_settings, open_store

from rag.filters import Filters
from rag.indexer import index_paths
from rag.retriever import fuse, normalised, retrieve, spread
from rag.store import Store
from rag.tuning import TUNED

ARTICLES = Path(__file__).resolve().parents[1] / "data" / "articles"


def test_a_strong_ranking_is_not_pulled_down_by_a_weak_one() -> None:
    """Keyword is sure of 'k' (far ahead); dense barely prefers 'd': 'k' wins."""
    keyword = normalised([("k", 30.0), ("d", 2.0), ("x", 1.0)])
    dense = normalised([("d", 0.52), ("k", 0.50), ("x", 0.49)])
    fused = fuse([(dense, 0.4), (keyword, 0.6)], {}, None, TUNED.date_boost)
    assert [a for a, _ in fused] == ["k", "d", "x"]
    assert normalised([]) == {} and normalised([("a", 1.0), ("b", 1.0)]) == {"a": 1.0, "b": 1.0}


def test_the_date_window_lifts_but_never_filters() -> None:
    scores = normalised([("old", 1.0), ("new", 0.99), ("other", 0.0)])
    dates = {"old": "2019-05-01", "new": "2020-05-01", "other": "2020-06-01"}
    fused = [a for a, _ in fuse([(scores, 1.0)], dates, ("2020-01-01", "2020-12-31"), 0.05)]
    assert fused == ["new", "old", "other"]  # lifted past a near tie, nothing dropped


def test_spread_gives_each_article_two_chunks_before_any_a_third() -> None:
    lists = [["a1", "a2", "a3", "a4"], ["b1", "b2", "b3"], ["c1"]]
    assert spread(lists, 10) == ["a1", "a2", "b1", "b2", "c1", "a3", "b3"]
    assert spread(iter(lists), 2) == ["a1", "a2"]


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    settings = backend_settings(request, tmp_path / "idx", chunk_tokens=180, chunk_overlap=40)
    embedder = FakeEmbedder()
    store = open_store(settings, embedder)
    index_paths([ARTICLES], store, embedder, settings)
    return store


def test_hybrid_finds_the_passage_and_reports_both_ranks(store: Store) -> None:
    timings: dict[str, float] = {}
    hits = retrieve("Chachaspata cocaine kilograms", store, FakeEmbedder(), k=3, timings=timings)
    assert "Chachaspata" in hits[0].chunk.text
    assert hits[0].keyword_rank == 1 and hits[0].dense_rank is not None
    assert set(timings) == {"dense", "keyword", "retrieve"}


def test_articles_come_best_first_with_at_most_three_chunks_each(store: Store) -> None:
    hits = retrieve("Shining Path cocaine VRAEM military", store, FakeEmbedder(), k=30)
    articles = list(dict.fromkeys(h.chunk.article_id for h in hits))
    best = {a: max(h.score for h in hits if h.chunk.article_id == a) for a in articles}
    assert [best[a] for a in articles] == sorted(best.values(), reverse=True)
    assert len(articles) == 5  # every bundled article is reached
    assert (
        max(sum(h.chunk.article_id == a for h in hits) for a in articles) <= TUNED.max_per_article
    )


def test_an_article_found_by_its_whole_text_shows_its_best_chunks(store: Store) -> None:
    [(article_id, _)] = store.article_search("Camisea ransom", 1)
    best = store.best_chunks("Camisea ransom", article_id, 2)
    assert "Camisea" in store.chunks(best)[best[0]].text
    first = store.chunks(store.best_chunks("zzzz", article_id, 1))
    assert [c.index for c in first.values()] == [0]  # nothing matches: the lede


def test_dense_only_ignores_keyword_ranks(store: Store) -> None:
    hits = retrieve("Chachaspata cocaine", store, FakeEmbedder(), k=3, hybrid=False)
    assert hits and all(h.keyword_rank is None for h in hits)


def test_filters_restrict_every_retriever(store: Store) -> None:
    filters = Filters(sources=("EFE",), since="2022-01-01")
    hits = retrieve("Shining Path cocaine", store, FakeEmbedder(), k=5, filters=filters)
    assert hits and {h.chunk.article_id for h in hits} == {"004_43e5aaeaca6589b4"}
    none = retrieve("cocaine", store, FakeEmbedder(), k=5, filters=Filters(until="2000-01-01"))
    assert none == []
