"""Hybrid retrieval over both Chroma modes: fusion, filters, per-stage timings."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEmbedder
from helpers import backend_settings, open_store

from rag.indexer import index_paths
from rag.retriever import retrieve, rrf
from rag.store import Filters, Store

ARTICLES = Path(__file__).resolve().parents[1] / "data" / "articles"


def test_rrf_rewards_agreement_and_breaks_ties_by_id() -> None:
    fused = rrf([["a", "b", "c"], ["b", "c"]])
    assert [cid for cid, _ in fused] == ["b", "c", "a"]
    assert rrf([["x"], ["y"]]) == [("x", 1 / 61), ("y", 1 / 61)]
    assert rrf([]) == []


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
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert set(timings) == {"dense", "keyword", "retrieve"}


def test_dense_only_ignores_keyword_ranks(store: Store) -> None:
    hits = retrieve("Chachaspata cocaine", store, FakeEmbedder(), k=3, hybrid=False)
    assert hits and all(h.keyword_rank is None for h in hits)


def test_filters_restrict_every_retriever(store: Store) -> None:
    filters = Filters(sources=("EFE",), since="2022-01-01")
    hits = retrieve("Shining Path cocaine", store, FakeEmbedder(), k=5, filters=filters)
    assert hits and {h.chunk.article_id for h in hits} == {"004_43e5aaeaca6589b4"}
    none = retrieve("cocaine", store, FakeEmbedder(), k=5, filters=Filters(until="2000-01-01"))
    assert none == []
