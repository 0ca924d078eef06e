"""index_paths against a real embedded Chroma in tmp_path, with the deterministic FakeEmbedder."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from helpers import (
    chroma_ids,
    make_settings,
    manifest_chunks,
    manifest_states,
    open_store,
    sentences,
    snapshot,
    write_article,
)

from rag.decoding import BINARY_REASON
from rag.indexer import IndexReport, Progress, index_paths, not_indexed
from rag.settings import Settings

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parent


class Env:
    """One test index: settings, store and a call-counting fake embedder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = FakeEmbedder()
        self.store = open_store(settings, self.embedder)

    def index(self, *paths: Path, prune: bool = False, prune_all: bool = False) -> IndexReport:
        return index_paths(
            paths, self.store, self.embedder, self.settings, prune=prune, prune_all=prune_all
        )

    def ids(self) -> list[str]:
        return [a.id for a in self.store.articles()]

    def assert_consistent(self) -> None:
        assert self.store.problems() == []
        vectors = chroma_ids(self.store)
        assert len(vectors) == len(set(vectors)) == self.store.count_chunks()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    env = Env(make_settings(tmp_path / "idx"))
    yield env
    env.store.close()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three multi-chunk articles in a folder (plus a README that is not an article)."""
    root = tmp_path / "corpus"
    write_article(root / "alpaca.txt", sentences("alpaca wool", 8), source="Andes Daily")
    write_article(root / "mining.txt", sentences("copper mine", 6), date="2013-05-02")
    write_article(root / "sub" / "fishing.md", sentences("anchovy fleet", 7))
    (root / "README.md").write_text("This folder holds test articles.\n")
    return root


def test_first_run_adds_every_article(env: Env, corpus: Path) -> None:
    seen: list[Progress] = []
    report = index_paths([corpus], env.store, env.embedder, env.settings, progress=seen.append)
    assert sorted(report.added) == ["alpaca", "fishing", "mining"]
    assert (report.updated, report.unchanged, report.removed) == ([], 0, [])
    assert (report.skipped, report.duplicates, report.recovered) == ([], [], [])
    assert env.ids() == ["alpaca", "fishing", "mining"]
    assert report.chunks == env.store.count_chunks() > 3  # several chunks per article
    assert seen[0].done == 0 and seen[-1].done == seen[-1].total == report.chunks
    alpaca = env.store.article("alpaca")
    assert alpaca is not None
    assert (alpaca.title, alpaca.source, alpaca.date) == ("Alpaca", "Andes Daily", "2020-01-01")
    assert alpaca.origin == str(corpus / "alpaca.txt")
    env.assert_consistent()


def test_rerun_on_unchanged_files_writes_nothing(env: Env, corpus: Path) -> None:
    env.index(corpus)
    calls, before = env.embedder.calls, snapshot(env.store)
    report = env.index(corpus, prune=True)
    assert report.unchanged == 3
    assert (report.added, report.updated, report.removed, report.chunks) == ([], [], [], 0)
    assert env.embedder.calls == calls
    assert snapshot(env.store) == before


def test_changed_file_is_updated_without_leftovers(env: Env, corpus: Path) -> None:
    env.index(corpus)
    write_article(corpus / "mining.txt", sentences("lithium brine", 3), date="2013-05-02")
    report = env.index(corpus)
    assert report.updated == ["mining"]
    assert report.added == [] and report.unchanged == 2
    texts = [t for cid, t in manifest_chunks(env.settings).items() if cid.startswith("mining:")]
    assert texts and all("lithium" in t and "copper" not in t for t in texts)
    row = env.store.article("mining")
    assert row is not None and row.n_chunks == len(texts)
    assert sorted(env.store.vector_ids("mining")) == sorted(
        f"mining:{i}" for i in range(len(texts))
    )
    assert env.store.keyword_search("copper", k=10) == []
    top = env.store.dense_search(env.embedder.embed_query("lithium brine"), k=1)
    assert top[0][0].startswith("mining:")
    env.assert_consistent()


def test_metadata_change_alone_updates_the_article(env: Env, corpus: Path) -> None:
    env.index(corpus)
    write_article(corpus / "alpaca.txt", sentences("alpaca wool", 8), source="Other Paper")
    report = env.index(corpus)
    assert report.updated == ["alpaca"]
    assert env.store.article("alpaca").source == "Other Paper"  # type: ignore[union-attr]
    env.assert_consistent()


def test_same_content_under_two_names_is_indexed_once(env: Env, corpus: Path) -> None:
    copy = corpus / "zz-copy.txt"
    copy.write_bytes((corpus / "alpaca.txt").read_bytes())
    report = env.index(corpus)
    assert env.ids() == ["alpaca", "fishing", "mining"]
    assert report.duplicates == [(str(copy), "alpaca")]
    again = env.index(corpus)  # stays a duplicate on the next run
    assert again.duplicates == [(str(copy), "alpaca")] and again.added == []
    env.assert_consistent()


def test_same_stem_in_two_folders_makes_two_articles(env: Env, tmp_path: Path) -> None:
    one = write_article(tmp_path / "a" / "news.txt", sentences("quinoa harvest", 3))
    two = write_article(tmp_path / "b" / "news.txt", sentences("rail strike", 3))
    report = env.index(tmp_path / "a", tmp_path / "b")
    assert len(report.added) == 2 and len(set(report.added)) == 2
    origins = {a.origin: a.id for a in env.store.articles()}
    assert set(origins) == {str(one), str(two)}
    assert origins[str(one)] == "news"
    again = env.index(tmp_path / "a", tmp_path / "b")  # ids are stable across runs
    assert again.unchanged == 2 and again.added == again.updated == []
    assert {a.origin: a.id for a in env.store.articles()} == origins
    env.assert_consistent()


def test_prune_removes_articles_whose_file_is_gone(env: Env, corpus: Path) -> None:
    env.index(corpus)
    (corpus / "mining.txt").unlink()
    kept = env.index(corpus)  # without prune nothing is removed
    assert kept.removed == [] and "mining" in env.ids()
    report = env.index(corpus, prune=True)
    assert report.removed == ["mining"]
    assert env.ids() == ["alpaca", "fishing"]
    assert env.store.vector_ids("mining") == []
    env.assert_consistent()


def _jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {"title": "Gold", "source": "Wire", "date": "2021-01-02", "text": sentences("gold price", 3)},
    {"title": "Rain", "source": "Wire", "date": "2021-01-03", "text": sentences("heavy rain", 3)},
    {"title": "Vote", "source": "Wire", "date": "2021-01-04", "text": sentences("the ballot", 3)},
]


def test_jsonl_row_dropped_and_pruned_is_removed(env: Env, tmp_path: Path) -> None:
    rows = [{**r, "id": r["title"].lower()} for r in ROWS]
    feed = _jsonl(tmp_path / "feed" / "wire.jsonl", rows)
    assert sorted(env.index(feed).added) == ["gold", "rain", "vote"]
    _jsonl(feed, [rows[0], rows[2]])
    report = env.index(feed, prune=True)
    assert report.removed == ["rain"] and report.unchanged == 2
    assert env.ids() == ["gold", "vote"]
    env.assert_consistent()


def test_jsonl_without_ids_keeps_the_remaining_rows_after_prune(env: Env, tmp_path: Path) -> None:
    """Rows without ids are named by line: dropping a middle row must not lose the later one."""
    feed = _jsonl(tmp_path / "feed" / "wire.jsonl", ROWS)
    env.index(feed)
    _jsonl(feed, [ROWS[0], ROWS[2]])
    env.index(feed, prune=True)
    texts = {a.title: a.text for a in env.store.articles(with_text=True)}
    assert sorted(texts) == ["Gold", "Vote"]
    assert "ballot" in texts["Vote"]
    env.assert_consistent()


LEGACY = (
    "Title: Café prices rise in Cusco\n\nThe café owners in Cusco said on Monday that prices"
    " rose by 12€ per sack – the highest in a decade. “We cannot keep up,” said José Pérez,"
    " who runs a small café near the plaza.\n"
)


def test_bad_files_are_skipped_with_reasons_while_good_ones_index(env: Env, tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    write_article(root / "good.txt", sentences("coffee export", 2))
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (root / "huge.txt").write_text("Title: Huge\n\n" + "word " * 400, encoding="utf-8")
    (root / "legacy.txt").write_bytes(LEGACY.encode("cp1252"))
    (root / "report.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (root / "feed.jsonl").write_text(
        json.dumps({"id": "row-ok", "title": "Row", "text": sentences("cocoa beans", 2)})
        + "\n{broken json\n"
        + json.dumps({"id": "row-two", "title": "Two", "text": sentences("tin mine", 2)})
        + "\n",
        encoding="utf-8",
    )
    settings = env.settings.model_copy(update={"max_file_mb": 0.001})  # about 1 KB
    report = index_paths([root], env.store, env.embedder, settings)

    reasons = {Path(s.origin).name: s.reason for s in report.skipped}
    assert reasons == {
        "empty.txt": "empty file",
        "binary.txt": BINARY_REASON,
        "huge.txt": reasons["huge.txt"],
        "report.docx": "unsupported type .docx",
        "feed.jsonl#2": "line 2: invalid JSON",
    }
    assert reasons["huge.txt"].startswith("larger than")
    assert sorted(report.added) == ["good", "legacy", "row-ok", "row-two"]
    legacy = env.store.article("legacy")
    assert legacy is not None
    assert legacy.title == "Café prices rise in Cusco"
    assert "rose by 12€ per sack – the highest" in legacy.text and "José Pérez" in legacy.text
    env.assert_consistent()


def test_moved_file_keeps_its_id_and_survives_prune(env: Env, corpus: Path) -> None:
    env.index(corpus)
    before = env.store.article("alpaca")
    assert before is not None
    target = corpus / "archive" / "alpaca.txt"
    target.parent.mkdir()
    (corpus / "alpaca.txt").rename(target)
    calls = env.embedder.calls
    report = env.index(corpus, prune=True)
    assert report.removed == [] and report.added == [] and report.unchanged == 3
    assert report.moved == {"alpaca": str(target)}
    assert env.embedder.calls == calls  # nothing re-embedded
    after = env.store.article("alpaca")
    assert after is not None and after.origin == str(target)
    assert after.record_hash == before.record_hash
    again = env.index(corpus, prune=True)  # and stays put on the next run
    assert again.removed == [] and again.moved == {} and "alpaca" in env.ids()
    env.assert_consistent()


def test_renamed_file_is_not_lost_after_prune(env: Env, corpus: Path) -> None:
    env.index(corpus)
    (corpus / "alpaca.txt").rename(corpus / "llama.txt")
    env.index(corpus, prune=True)
    texts = " ".join(a.text for a in env.store.articles(with_text=True))
    assert "alpaca wool" in texts
    env.assert_consistent()


def test_deleting_the_original_of_a_duplicate_keeps_the_copy(env: Env, corpus: Path) -> None:
    (corpus / "zz-copy.txt").write_bytes((corpus / "alpaca.txt").read_bytes())
    env.index(corpus)
    (corpus / "alpaca.txt").unlink()
    env.index(corpus, prune=True)
    rows = {a.id: a for a in env.store.articles(with_text=True)}
    assert "alpaca" not in rows
    assert any("alpaca wool" in a.text and a.origin.endswith("zz-copy.txt") for a in rows.values())
    env.assert_consistent()


def test_prune_through_a_symlinked_folder(env: Env, tmp_path: Path) -> None:
    feed = _jsonl(tmp_path / "real" / "wire.jsonl", [{**r, "id": r["title"]} for r in ROWS])
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real", target_is_directory=True)
    env.index(link)
    _jsonl(feed, [{**ROWS[0], "id": "Gold"}])
    report = env.index(link, prune=True, prune_all=True)
    assert report.removed == ["rain", "vote"]
    assert env.ids() == ["gold"]
    env.assert_consistent()


def test_prune_holds_back_most_of_the_index_until_told(env: Env, corpus: Path) -> None:
    """An unmounted drive leaves an empty mount point: every article's file looks gone."""
    env.index(corpus)
    for path in corpus.rglob("*.*"):
        path.unlink()
    report = env.index(corpus, prune=True)
    assert report.removed == [] and report.held_back == ["alpaca", "fishing", "mining"]
    assert len(env.ids()) == 3
    assert env.index(corpus, prune=True, prune_all=True).removed == ["alpaca", "fishing", "mining"]
    assert env.ids() == []
    env.assert_consistent()


def test_prune_of_a_minority_needs_no_confirmation(env: Env, corpus: Path) -> None:
    env.index(corpus)
    (corpus / "mining.txt").unlink()
    assert env.index(corpus, prune=True).removed == ["mining"]


# -- the kill test -------------------------------------------------------------------------

N_KILL = 300

CHILD = """
import sys, time
from pathlib import Path
sys.path[:0] = [{tests!r}, {project!r}]
from fakes import FakeEmbedder
from helpers import make_settings
import rag.indexer as indexer
from rag.indexer import index_paths, stamp_for
from rag.store import Store

class SlowEmbedder(FakeEmbedder):
    def embed_documents(self, texts):
        time.sleep({delay!r})
        return super().embed_documents(texts)

indexer.WRITE_BATCH_CHUNKS = 8  # many small write batches
settings = make_settings(Path({index!r}))
embedder = SlowEmbedder()
store = Store(settings, stamp_for(settings, embedder))
if {hang!r}:
    vector_store = type(store.vectors.chroma)
    real_add, batches = vector_store.add, []

    def add(self, nodes, **kwargs):
        ids = real_add(self, nodes, **kwargs)
        batches.append(len(nodes))
        if len(batches) == 3:
            Path({marker!r}).touch()
            time.sleep(600)  # vectors written, commit not yet: the worst moment to die
        return ids

    vector_store.add = add
index_paths([Path({corpus!r})], store, embedder, settings)
print("finished", flush=True)
"""


def _kill_corpus(root: Path) -> Path:
    """N_KILL articles of one to four chunks each, all different."""
    for i in range(N_KILL):
        body = " ".join(
            f"Dispatch {i} part {p}: the council of district {i} voted on budget item {i * 7 + p}."
            for p in range(2 + 3 * (i % 4))
        )
        write_article(
            root / f"d{i // 100}" / f"story-{i:03d}.txt", body, date=f"2019-01-{i % 28 + 1:02d}"
        )
    return root


def _ready_and_pending(settings: Settings) -> tuple[int, int]:
    if not (settings.index_dir / "manifest.sqlite3").exists():
        return 0, 0
    try:
        states = manifest_states(settings)
    except sqlite3.OperationalError:  # schema not created yet, or busy
        return 0, 0
    return states["ready"], states["pending"] + states["deleting"]


@pytest.mark.parametrize("moment", ["between_batches", "mid_write"])
def test_sigkill_mid_index_then_rerun_equals_a_clean_run(tmp_path: Path, moment: str) -> None:
    corpus = _kill_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path / "killed")
    script = tmp_path / "child.py"
    script.write_text(
        textwrap.dedent(CHILD).format(
            tests=str(TESTS_DIR),
            project=str(PROJECT_DIR),
            delay=0.1,
            index=str(settings.index_dir),
            corpus=str(corpus),
            hang=moment == "mid_write",
            marker=str(tmp_path / "hanging"),
        )
    )
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(
                    f"the child ended (rc={proc.returncode}) before it could be killed; slow it"
                    f" down.\nstdout: {out}\nstderr: {err[-3000:]}"
                )
            ready, unfinished = _ready_and_pending(settings)
            if moment == "between_batches" and ready > 0:
                break
            if moment == "mid_write" and (tmp_path / "hanging").exists():
                break  # the child sleeps inside its third write: pending rows plus vectors
            if time.monotonic() > deadline:
                pytest.fail(f"no progress to kill within the deadline (ready={ready})")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert proc.returncode == -signal.SIGKILL

    ready, unfinished = _ready_and_pending(settings)
    assert 0 < ready < N_KILL, "the kill must land part-way"
    if moment == "mid_write":
        assert unfinished > 0

    resumed = Env(settings)
    if moment == "mid_write":
        assert resumed.store.problems()  # the half-written batch shows before recovery
    report = resumed.index(corpus)
    assert report.unchanged == ready
    assert len(report.added) + report.unchanged == N_KILL
    assert report.skipped == [] and report.duplicates == []
    if moment == "mid_write":
        assert len(report.recovered) == unfinished
    resumed.assert_consistent()

    clean = Env(make_settings(tmp_path / "clean"))
    clean_report = clean.index(corpus)
    assert len(clean_report.added) == N_KILL
    clean.assert_consistent()

    got, want = snapshot(resumed.store), snapshot(clean.store)
    assert got.articles == want.articles  # same ids, same content and metadata
    assert got.chunks == want.chunks  # same chunk ids and texts
    assert got.vectors == want.vectors == sorted(want.chunks)
    assert resumed.store.count_chunks() == clean.store.count_chunks() > N_KILL
    resumed.store.close()
    clean.store.close()


def test_a_chunk_is_embedded_with_its_articles_title(env: Env, tmp_path: Path) -> None:
    """Contextual chunks: the vector carries the title; the stored text stays the article's."""
    from rag.chunking import embed_text

    write_article(tmp_path / "c" / "quake.txt", sentences("aftershock", 6), title="Nepal quake")
    env.index(tmp_path / "c")
    chunk_ids = env.store.vector_ids("quake")
    chunks = env.store.chunks(chunk_ids)
    got = env.store.vectors.collection.get(ids=chunk_ids, include=["embeddings"])
    for cid, vector in zip(got["ids"], got["embeddings"], strict=True):
        text = chunks[cid].text
        article = env.store.article("quake")
        assert article is not None and article.text[chunks[cid].start : chunks[cid].end] == text
        want = env.embedder.embed_query(embed_text("Nepal quake", text))
        assert max(abs(a - b) for a, b in zip(vector, want, strict=True)) < 1e-6


def test_files_named_in_latin1_bytes_index_with_the_rest_and_survive_prune(
    env: Env, corpus: Path
) -> None:
    """One such name once stopped every run at the SQLite write, 0 articles indexed."""
    titled = write_article(corpus / os.fsdecode(b"caf\xe9.txt"), sentences("cafe", 3), title="Cafe")
    untitled = corpus / os.fsdecode(b"na\xefve.txt")
    untitled.write_text(sentences("coffee", 3))
    report = env.index(corpus)
    assert report.skipped == [] and len(report.added) == 5
    by_origin = {a.origin: a for a in env.store.articles()}
    cafe = by_origin[str(corpus / "caf\\xe9.txt")]
    assert cafe.title == "Cafe" and by_origin[str(corpus / "na\\xefve.txt")].title
    again = env.index(corpus, prune=True)
    assert again.removed == [] and again.unchanged == 5
    titled.unlink()
    assert env.index(corpus, prune=True).removed == [cafe.id]
    env.assert_consistent()


def test_thousands_of_repeated_reasons_are_one_line_each(env: Env, tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    row = json.dumps({"title": "Same", "text": sentences("repeat", 2)}) + "\n"
    rows.write_text(row * 3000 + "not json\n" * 2000)
    report = env.index(rows)
    assert len(report.duplicates) == 2999 and len(report.skipped) == 2000
    groups = not_indexed(report)
    assert [(g.reason, g.count) for g in groups] == [("invalid JSON", 2000), ("duplicate", 2999)]
    assert groups[1].first.endswith("#2") and groups[1].twin == "rows-1"


def test_a_stop_between_batches_keeps_what_was_written_and_a_rerun_finishes(
    env: Env, tmp_path: Path
) -> None:
    root = tmp_path / "many"
    for i in range(40):
        write_article(root / f"s{i:02d}.txt", sentences(f"district {i} budget", 30))
    seen: list[Progress] = []
    report = index_paths(
        [root], env.store, env.embedder, env.settings, progress=seen.append, stop=lambda: True
    )
    assert report.stopped and 0 < len(report.added) < 40
    assert seen[-1].articles == len(report.added) and seen[-1].articles_total == 40
    env.assert_consistent()
    again = env.index(root)
    assert not again.stopped and len(again.added) == 40 - len(report.added)
    assert again.unchanged == len(report.added)
    env.assert_consistent()
