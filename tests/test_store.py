"""The Store against a real embedded Chroma in tmp_path, with the deterministic FakeEmbedder."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from helpers import backend_settings, chroma_ids, manifest_states, open_store

from rag.articles import Article
from rag.chunking import chunk_text
from rag.errors import IndexMismatch, StoreError
from rag.filters import Filters
from rag.indexer import index_paths
from rag.keywords import pick_terms
from rag.settings import Settings
from rag.store import Store, wipe_index

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "articles"
ARTICLES = [
    Article(
        id="offensive",
        title="Army offensive",
        text=(
            "Peru's army prepared an offensive against the Shining Path in the coca valley. "
            "Soldiers moved whole villages out of the VRAE before the operation began."
        ),
        source="Peruvian Times",
        date="2012-04-23",
        origin="/corpus/offensive.txt",
    ),
    Article(
        id="copper",
        title="Copper royalties",
        text=(
            "Peru's ministers in Lima debated copper mining royalties and export taxes. "
            "Miners protested outside congress against the new copper levy."
        ),
        source="Reuters",
        date="2013-06-01",
        origin="/corpus/copper.txt",
    ),
    Article(
        id="anchovy",
        title="Anchovy season",
        text=(
            "Peru's fishermen in Chimbote reported record anchovy catches this season. "
            "Prices of fishmeal fell as the harbour filled with boats."
        ),
        source="Peruvian Times",
        date="2014-01-15",
        origin="/corpus/anchovy.txt",
    ),
    Article(
        id="festival",
        title="Music festival",
        text=(
            "Peru's capital hosted a festival of Andean music with pan flutes and charangos. "
            "Dancers from Puno closed the night."
        ),
        source="Blog",
        date="",
        origin="/corpus/festival.txt",
    ),
]


def add_articles(store: Store, embedder: FakeEmbedder, articles: list[Article]) -> int:
    """Chunk, embed and add articles the way the indexer does; returns the chunk count."""
    s = store.settings
    items = []
    for article in articles:
        chunks = chunk_text(article.id, article.text, s.chunk_tokens, s.chunk_overlap)
        items.append((article, chunks, embedder.embed_documents([c.text for c in chunks])))
    store.add(items)
    return sum(len(c) for _, c, _ in items)


@pytest.fixture(params=["embedded", "server"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Every store test runs against the embedded Chroma and a real `chroma run` server."""
    return backend_settings(request, tmp_path / "idx", chunk_tokens=20, chunk_overlap=5)


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def store(settings: Settings, embedder: FakeEmbedder) -> Iterator[Store]:
    store = open_store(settings, embedder)
    add_articles(store, embedder, ARTICLES)
    yield store
    store.close()


def article_of(chunk_id: str) -> str:
    return chunk_id.rsplit(":", 1)[0]


def test_added_articles_and_chunks_read_back(store: Store) -> None:
    rows = store.articles()
    assert [a.id for a in rows] == sorted(a.id for a in ARTICLES)
    assert all(a.text == "" for a in rows)  # text only when asked for
    by_id = {a.id: a for a in store.articles(with_text=True)}
    for original in ARTICLES:
        row = by_id[original.id]
        assert (row.title, row.source, row.date, row.text) == (
            original.title,
            original.source,
            original.date,
            original.text,
        )
        assert row.n_chunks > 1  # 20-token chunks: each article spans several
        ids = [f"{original.id}:{i}" for i in range(row.n_chunks)]
        chunks = store.chunks(ids)
        assert sorted(chunks) == sorted(ids)
        for chunk in chunks.values():
            assert chunk.article_id == original.id
            assert original.text[chunk.start : chunk.end] == chunk.text
        assert sorted(store.vector_ids(original.id)) == sorted(ids)
    assert store.article("copper") == by_id["copper"]
    assert store.article("nope") is None
    assert store.chunks(["copper:0", "nope:0"]).keys() == {"copper:0"}
    total = sum(a.n_chunks for a in rows)
    assert store.count_chunks() == store.vector_count() == total
    assert store.sources() == ["Blog", "Peruvian Times", "Reuters"]
    assert store.problems() == []


def test_add_nothing_is_a_no_op(store: Store) -> None:
    before = store.count_chunks()
    store.add([])
    store.remove([])
    assert store.count_chunks() == before


def test_dense_search_puts_the_chunk_sharing_the_query_words_first(
    store: Store, embedder: FakeEmbedder
) -> None:
    queries = {
        "copper:0": "ministers Lima debated copper mining royalties",
        "anchovy:1": "prices of fishmeal fell harbour boats",
        "offensive:1": "soldiers moved whole villages",
        "festival:0": "festival of Andean music pan flutes charangos",
    }
    for chunk_id, query in queries.items():
        hits = store.dense_search(embedder.embed_query(query), k=5)
        assert hits[0][0] == chunk_id, (query, hits)
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True)


def test_dense_similarity_is_the_cosine(store: Store, embedder: FakeEmbedder) -> None:
    """Similarity must be the cosine (Chroma in cosine space), not an L2-derived number."""
    query = "copper mining in the harbour"
    qv = embedder.embed_query(query)
    hits = store.dense_search(qv, k=50)
    assert len(hits) == store.count_chunks()  # k above the collection size is fine
    texts = {cid: c.text for cid, c in store.chunks([cid for cid, _ in hits]).items()}
    for chunk_id, similarity in hits:
        dv = embedder.embed_query(texts[chunk_id])
        cosine = sum(a * b for a, b in zip(qv, dv, strict=True))
        assert math.isclose(similarity, cosine, abs_tol=1e-3), chunk_id
    exact = store.chunks(["anchovy:0"])["anchovy:0"].text
    assert store.dense_search(embedder.embed_query(exact), k=1)[0][1] == pytest.approx(
        1.0, abs=1e-3
    )


def test_keyword_search_ranks_by_bm25_and_drops_non_matches(store: Store) -> None:
    hits = store.keyword_search("Why did the anchovy catches fall?", k=10)
    assert hits, "the anchovy chunk must match"
    assert article_of(hits[0][0]) == "anchovy"
    assert all(score > 0 for _, score in hits)
    # Only chunks containing a query word (or whose title does) come back, never padding.
    matched = store.chunks([cid for cid, _ in hits])
    words = {"anchovy", "catches", "fall"}
    for c in matched.values():
        title = store.article(c.article_id).title  # type: ignore[union-attr]
        assert words & set(f"{title} {c.text}".lower().split())
    assert store.keyword_search("zeppelin quasar", k=10) == []
    assert store.keyword_search("what is the", k=10) == []  # stopwords only
    # FTS5 syntax in a question is quoted away, never a query error.
    assert article_of(store.keyword_search('anchovy" AND (OR NEAR', k=10)[0][0]) == "anchovy"


def test_keyword_search_prefers_the_chunk_with_more_matches(
    settings: Settings, embedder: FakeEmbedder
) -> None:
    store = open_store(settings, embedder)
    filler = " The council met on Tuesday and adjourned early after a long debate."
    add_articles(
        store,
        embedder,
        [
            Article(id="once", title="t", text="Copper was mentioned once." + filler),
            Article(id="many", title="t", text="Copper, copper and more copper prices." + filler),
            Article(id="none", title="t", text="Nothing about metals here." + filler),
        ],
    )
    hits = store.keyword_search("copper prices", k=10)
    assert [article_of(cid) for cid, _ in hits] == ["many", "once"]
    assert hits[0][1] > hits[1][1] > 0
    assert len(store.keyword_search("copper", k=1)) == 1
    store.close()


def test_a_question_word_in_the_title_outweighs_one_in_the_body(
    settings: Settings, embedder: FakeEmbedder
) -> None:
    store = open_store(settings, embedder)
    body = " The council met on Tuesday and adjourned early after a long debate."
    add_articles(
        store,
        embedder,
        [
            Article(
                id="body",
                title="Council news",
                text="Zinc was discussed." + body,
                date="2020-01-01",
            ),
            Article(
                id="title", title="Zinc mine opens", text="A mine opened." + body, date="2020-01-01"
            ),
        ],
    )
    hits = store.keyword_search("zinc", k=10)
    assert article_of(hits[0][0]) == "title"
    for filtered in (False, True):  # the filtered SQL path weighs fields the same way
        f = Filters(since="2000-01-01") if filtered else None
        assert article_of(store.keyword_search("zinc", k=10, filters=f)[0][0]) == "title"
    store.close()


FILTER_CASES = {
    "source": (Filters(sources=("Peruvian Times",)), {"offensive", "anchovy"}),
    "two sources": (Filters(sources=("Reuters", "Blog")), {"copper", "festival"}),
    "since": (Filters(since="2013-01-01"), {"copper", "anchovy"}),
    "until": (Filters(until="2013-12-31"), {"offensive", "copper"}),
    "range": (Filters(since="2013-01-01", until="2013-12-31"), {"copper"}),
    "inclusive bounds": (Filters(since="2012-04-23", until="2013-06-01"), {"offensive", "copper"}),
    "source and date": (Filters(sources=("Peruvian Times",), since="2013-01-01"), {"anchovy"}),
    "nothing": (Filters(sources=("Nobody",)), set()),
}


@pytest.mark.parametrize("case", FILTER_CASES, ids=list(FILTER_CASES))
def test_filters_apply_to_dense_and_keyword_search(
    store: Store, embedder: FakeEmbedder, case: str
) -> None:
    filters, expected = FILTER_CASES[case]
    query = "Peru's"  # every article's first chunk has it
    dense = store.dense_search(embedder.embed_query(query), k=50, filters=filters)
    keyword = store.keyword_search(query, k=50, filters=filters)
    assert {article_of(cid) for cid, _ in dense} == expected
    assert {article_of(cid) for cid, _ in keyword} == expected
    if not expected:
        assert dense == keyword == []


def test_empty_filters_mean_no_restriction(store: Store, embedder: FakeEmbedder) -> None:
    dense = store.dense_search(embedder.embed_query("Peru's"), k=50, filters=Filters())
    keyword = store.keyword_search("Peru's", k=50, filters=Filters())
    assert {article_of(c) for c, _ in dense} == {a.id for a in ARTICLES}
    assert {article_of(c) for c, _ in keyword} == {a.id for a in ARTICLES}


def test_remove_leaves_no_vectors_chunks_or_keyword_rows(
    store: Store, embedder: FakeEmbedder
) -> None:
    n_copper = store.article("copper").n_chunks  # type: ignore[union-attr]
    before = store.count_chunks()
    store.remove(["copper"])
    assert "copper" not in {a.id for a in store.articles()}
    assert store.article("copper") is None
    assert store.chunks([f"copper:{i}" for i in range(n_copper)]) == {}
    assert store.vector_ids("copper") == []
    assert store.keyword_search("copper royalties levy", k=10) == []
    dense = store.dense_search(embedder.embed_query("copper mining royalties"), k=50)
    assert all(article_of(c) != "copper" for c, _ in dense)
    assert store.count_chunks() == before - n_copper == store.vector_count()
    assert "Reuters" not in store.sources()
    assert store.problems() == []
    assert manifest_states(store.settings) == {"ready": 3}


def test_problems_sees_a_vector_without_chunk(store: Store) -> None:
    """The consistency check itself must be able to fail."""
    store.vectors.collection.delete(ids=["copper:0"])
    assert any("no vector" in p for p in store.problems())


def test_problems_sees_chunks_whose_article_row_is_gone(store: Store) -> None:
    """What two unlocked writers left: "added", chunks and vectors there, the article row not."""
    with store._tx() as db:
        db.execute("DELETE FROM articles WHERE id = 'copper'")
    assert any("chunks belong to no article, e.g. copper:0" in p for p in store.problems())


def test_add_refuses_to_finish_when_its_pending_rows_vanished(
    store: Store, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer's recovery deleting our rows mid-write can no longer end in "added"."""
    vector_store = type(store.vectors.chroma)  # a pydantic model: patch the class, not the instance
    real_add = vector_store.add

    def add_while_rows_vanish(self, nodes, **kwargs):  # noqa: ANN001, ANN003, ANN202
        with store._tx() as db:
            db.execute("DELETE FROM articles WHERE state = 'pending'")
        return real_add(self, nodes, **kwargs)

    monkeypatch.setattr(vector_store, "add", add_while_rows_vanish)
    late = Article(id="late", title="Late", text="A late article about llamas in Cusco. " * 3)
    with pytest.raises(StoreError, match="1 of 1 articles being written vanished"):
        add_articles(store, embedder, [late])
    assert store.article("late") is None
    assert "late:0" not in store.chunks(["late:0"])  # the chunk rows rolled back with it


@pytest.mark.parametrize("change", [{"chunk_tokens": 99}, {"chunk_overlap": 7}])
def test_reopening_with_other_chunking_raises_index_mismatch(
    store: Store, settings: Settings, change: dict[str, int]
) -> None:
    store.close()
    other = settings.model_copy(update=change)
    with pytest.raises(IndexMismatch, match=r"rag index --rebuild"):
        open_store(other)


def test_reopening_with_another_embedding_model_raises_index_mismatch(
    store: Store, settings: Settings
) -> None:
    store.close()
    stamp = {**store.stamp, "embed_model": "another-model"}
    with pytest.raises(IndexMismatch, match=r"rag index --rebuild") as err:
        Store(settings, stamp)
    assert "another-model" in str(err.value)


def test_chroma_collection_stamp_is_checked_too(store: Store, settings: Settings) -> None:
    """A collection built differently is refused even when the manifest is new (shared server)."""
    store.close()
    (settings.index_dir / "manifest.sqlite3").unlink()
    with pytest.raises(IndexMismatch, match=r"rag index --rebuild"):
        Store(settings, {**store.stamp, "embed_dim": 999})


def test_reopening_with_the_same_stamp_keeps_the_index(store: Store, settings: Settings) -> None:
    count = store.count_chunks()
    store.close()
    again = open_store(settings)
    assert again.count_chunks() == again.vector_count() == count
    assert again.problems() == []
    again.close()


def test_wipe_index_then_reopen_with_new_settings(
    store: Store, settings: Settings, embedder: FakeEmbedder
) -> None:
    store.close()
    wipe_index(settings)
    rebuilt_settings = settings.model_copy(update={"chunk_tokens": 60})
    rebuilt = open_store(rebuilt_settings, embedder)  # same process, same path
    assert rebuilt.articles() == []
    assert rebuilt.vector_count() == rebuilt.count_chunks() == 0
    n = add_articles(rebuilt, embedder, ARTICLES[:2])
    assert rebuilt.vector_count() == rebuilt.count_chunks() == n
    assert rebuilt.problems() == []
    rebuilt.close()


def test_recover_rolls_back_an_add_killed_after_the_vectors(
    store: Store, settings: Settings, embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready_before = {a.id for a in store.articles()}
    chunks_before = store.count_chunks()
    vector_store = type(store.vectors.chroma)  # a pydantic model: patch the class, not the instance
    real_add = vector_store.add

    def add_then_die(self, nodes, **kwargs):  # noqa: ANN001, ANN003, ANN202
        real_add(self, nodes, **kwargs)
        raise KeyboardInterrupt  # the process dies before the final commit

    monkeypatch.setattr(vector_store, "add", add_then_die)
    late = Article(id="late", title="Late", text="A late article about llamas in Cusco. " * 3)
    with pytest.raises(KeyboardInterrupt):
        add_articles(store, embedder, [late])
    # Half-written: invisible to readers, but reported as a problem.
    assert store.article("late") is None
    assert {a.id for a in store.articles()} == ready_before
    assert store.vector_ids("late")
    assert manifest_states(settings)["pending"] == 1
    assert store.problems()
    store.close()

    reopened = open_store(settings, embedder)
    assert reopened.recover() == ["late"]
    assert reopened.problems() == []
    assert reopened.vector_ids("late") == []
    assert reopened.count_chunks() == reopened.vector_count() == chunks_before
    assert {a.id for a in reopened.articles()} == ready_before
    assert reopened.recover() == []  # nothing left to do
    reopened.close()


def test_recover_finishes_an_interrupted_remove(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(ids: list[str]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_purge", die)
    with pytest.raises(KeyboardInterrupt):
        store.remove(["copper"])
    assert store.article("copper") is None  # already hidden
    monkeypatch.undo()
    assert store.recover() == ["copper"]
    assert store.vector_ids("copper") == []
    assert store.problems() == []
    assert store.count_chunks() == store.vector_count()


def test_recover_after_pending_row_without_vectors(store: Store, settings: Settings) -> None:
    """Killed right after the first transaction: a pending row and nothing else."""
    with store._tx() as db:
        db.execute(
            "INSERT INTO articles (id, origin, content_hash, record_hash, text, n_chunks, state)"
            " VALUES ('ghost', '/x', 'h', 'r', 'text', 2, 'pending')"
        )
    assert store.problems()
    assert store.recover() == ["ghost"]
    assert store.problems() == []
    assert "ghost" not in chroma_ids(store)


def test_pick_terms_keeps_the_rarest_within_the_budget() -> None:
    doc_freq = {"the": 900, "quispe": 3, "valley": 40, "peru": 500}
    assert pick_terms(doc_freq, budget=100) == ["quispe", "valley"]
    assert pick_terms(doc_freq, budget=10_000) == ["quispe", "valley", "peru", "the"]
    assert pick_terms({"peru": 500, "the": 900}, budget=1) == ["peru", "the"]  # at least two
    assert pick_terms({}) == []


def test_keyword_search_drops_common_terms_but_finds_the_rare_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rag.keywords.KEYWORD_POSTINGS_BUDGET", 1)
    hits = store.keyword_search("Peru's anchovy catches", k=5)
    assert hits and {article_of(cid) for cid, _ in hits} == {"anchovy"}  # no plain "Peru" hits
    monkeypatch.setattr("rag.keywords.KEYWORD_POSTINGS_BUDGET", 10_000)
    assert len({article_of(cid) for cid, _ in store.keyword_search("Peru's anchovy", k=10)}) > 1


def test_article_keyword_index_follows_adds_and_removals_and_fills_an_older_index(
    tmp_path: Path,
) -> None:
    """article_search sees whole articles; an index made before the table existed gets it."""
    settings = Settings(index_dir=tmp_path / "idx", llm_backend="none")
    embedder = FakeEmbedder()
    store = open_store(settings, embedder)
    index_paths([BUNDLED], store, embedder, settings)
    found = [a for a, _ in store.article_search("Camisea ransom kidnapping", 5)]
    assert found and len(found) == len(set(found))
    store._db.execute("DROP TABLE articles_fts")  # as an index written before this table
    store.close()
    again = open_store(settings, embedder)
    assert [a for a, _ in again.article_search("Camisea ransom kidnapping", 5)] == found
    again.remove([found[0]])
    assert found[0] not in [a for a, _ in again.article_search("Camisea ransom kidnapping", 5)]
