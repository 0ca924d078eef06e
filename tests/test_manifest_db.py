"""A damaged index says what is wrong and the command that fixes it, wherever it is read.

The index is made with the fake embedder and real Chroma, then damaged as disks and users
damage them: a page of garbage in the manifest, the `chroma/` folder deleted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from helpers import make_settings, open_store, sentences, write_article

from rag.answering.answer import ask
from rag.answering.engine import Engine
from rag.errors import IndexDamaged
from rag.indexer import index_paths, repair
from rag.settings import Settings
from rag.store import Store

PAGE = 4096


def build(tmp_path: Path) -> tuple[Settings, Path]:
    settings = make_settings(tmp_path / "idx")
    corpus = tmp_path / "corpus"
    for i, topic in enumerate(("alpaca wool", "copper mine", "anchovy fleet", "coca leaf")):
        write_article(corpus / f"a{i}.txt", sentences(topic, 30))
    store = open_store(settings)
    index_paths([corpus], store, FakeEmbedder(), settings)
    store.close()
    return settings, corpus


def garble_middle_page(settings: Settings) -> None:
    path = settings.index_dir / "manifest.sqlite3"
    pages = path.stat().st_size // PAGE
    assert pages > 4
    with open(path, "r+b") as fh:
        fh.seek(pages // 2 * PAGE)
        fh.write(os.urandom(PAGE))


def test_a_garbage_page_stops_indexing_with_the_fix(tmp_path: Path) -> None:
    """It once said "unchanged 4" and exited 0; opening, the check or the first read finds it."""
    settings, corpus = build(tmp_path)
    garble_middle_page(settings)
    with pytest.raises(IndexDamaged) as caught:
        store = open_store(settings)
        index_paths([corpus], store, FakeEmbedder(), settings)
    message = str(caught.value)
    assert "damaged" in message and "manifest.sqlite3" in message and "--rebuild" in message


def test_reads_of_a_damaged_manifest_raise_index_damaged_not_sqlite_errors(
    tmp_path: Path,
) -> None:
    settings, _ = build(tmp_path)
    garble_middle_page(settings)
    with pytest.raises(IndexDamaged):  # any other error type fails the test
        store = open_store(settings)
        store.articles(with_text=True)
        store.problems()
        store.keyword_search("alpaca copper anchovy coca", 10)


def test_a_file_that_is_no_database_says_rebuild(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "idx")
    settings.index_dir.mkdir()
    (settings.index_dir / "manifest.sqlite3").write_bytes(os.urandom(3 * PAGE))
    with pytest.raises(IndexDamaged, match="--rebuild"):
        open_store(settings)


def lose_vectors(settings: Settings) -> None:
    """Delete chroma/ as another process would: this one's cached Chroma client forgets it."""
    from chromadb.api.client import SharedSystemClient

    shutil.rmtree(settings.index_dir / "chroma")
    SharedSystemClient.clear_system_cache()


def test_lost_vectors_are_said_on_every_answer_and_repaired_from_the_manifest(
    tmp_path: Path,
) -> None:
    settings, _ = build(tmp_path)
    lose_vectors(settings)
    embedder = FakeEmbedder()
    store = Store(settings, open_store(settings).stamp)
    assert "0 of" in store.vector_gap() and "rag repair" in store.vector_gap()
    engine = Engine(settings.model_copy(update={"abstain_threshold": -1.0}), store, embedder, None)
    answer = ask("What do the copper mine articles say?", engine)
    assert "rag repair" in answer.notice
    repaired = repair(store, embedder)
    assert repaired == store.count_chunks() > 0
    assert store.vector_gap() == "" and store.problems() == []
    assert "rag repair" not in ask("What do the copper mine articles say?", engine).notice


def test_indexing_again_repairs_lost_vectors_without_the_files(tmp_path: Path) -> None:
    settings, corpus = build(tmp_path)
    lose_vectors(settings)
    shutil.rmtree(corpus)
    corpus.mkdir()
    store = open_store(settings)
    report = index_paths([corpus], store, FakeEmbedder(), settings)
    assert report.repaired == store.count_chunks() and store.problems() == []
