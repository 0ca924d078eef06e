"""One writer at a time: two real `rag index` processes on one dir, stale locks, app writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from fake_llm import ScriptedLLM
from fakes import FakeEmbedder
from helpers import make_settings, open_store, snapshot, write_article
from rag_procs import N_ARTICLES, RemoteFake, cli_env, corpus, rag_index

from rag.answering.engine import Engine
from rag.app import library
from rag.index_lock import IndexBusy, busy_message, writing
from rag.indexer import index_paths
from rag.settings import Settings

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parent


def test_two_rag_index_runs_on_one_dir_end_as_one_clean_run(
    tmp_path: Path, llm_server: ScriptedLLM
) -> None:
    """Started together: one writes, the other waits (saying for whom), then finds everything
    done. Without the lock one of them died of `UNIQUE constraint failed: chunks.id`."""
    root = corpus(tmp_path / "corpus")
    index_dir = tmp_path / "shared"
    env = cli_env(llm_server)
    llm_server.embed_delay = 1.5  # each embedding request: the runs overlap for seconds
    runs = [rag_index(index_dir, root, env, tmp_path) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in runs]
    results = [(p.pid, p.returncode, out, err) for p, (out, err) in zip(runs, outputs, strict=True)]
    for _, code, _, err in results:
        assert code == 0, err[-3000:]
        assert "Traceback" not in err
    summaries = [" ".join(out.split()) for _, _, out, _ in results]
    writer = next(i for i, s in enumerate(summaries) if f"added {N_ARTICLES}, updated 0" in s)
    waiter = 1 - writer
    assert f"added 0, updated 0, unchanged {N_ARTICLES}" in summaries[waiter]
    waited = " ".join(results[waiter][3].split())
    pid = results[writer][0]
    assert f"Another indexing run (pid {pid}, rag index) is using {index_dir}/" in waited
    assert "Waiting for it to finish" in waited

    shared_store = open_store(make_settings(index_dir), RemoteFake())
    clean_settings = make_settings(tmp_path / "clean")
    clean_store = open_store(clean_settings, RemoteFake())
    index_paths([root], clean_store, RemoteFake(), clean_settings)
    assert shared_store.problems() == []
    got, want = snapshot(shared_store), snapshot(clean_store)
    assert len(got.articles) == N_ARTICLES
    assert got == want


HOLDER = """
import sys, time
from pathlib import Path
sys.path[:0] = [{project!r}]
from rag.index_lock import writing
with writing(Path({index!r}), "test holder"):
    print("holding", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def held_by_child(tmp_path: Path) -> Iterator[tuple[Settings, subprocess.Popen]]:
    """An index (three articles) whose writer lock another live process holds."""
    settings = make_settings(tmp_path / "idx")
    store = open_store(settings)
    root = tmp_path / "docs"
    for name in ("alpaca", "copper", "fleet"):
        write_article(root / f"{name}.txt", f"The {name} report says prices rose in May.")
    index_paths([root], store, FakeEmbedder(), settings)
    store.close()
    script = textwrap.dedent(HOLDER).format(project=str(PROJECT_DIR), index=str(settings.index_dir))
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        yield settings, child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def test_second_writer_is_refused_while_readers_keep_working(
    held_by_child: tuple[Settings, subprocess.Popen], tmp_path: Path
) -> None:
    settings, child = held_by_child
    store = open_store(settings)
    with store._tx() as db:  # a row "in flight" of the holder: recovery must not touch it
        db.execute(
            "INSERT INTO articles (id, origin, content_hash, record_hash, text, n_chunks, state)"
            " VALUES ('inflight', '/x', 'h', 'r', 'text', 1, 'pending')"
        )
    with pytest.raises(IndexBusy, match=f"pid {child.pid}, test holder"):
        store.recover()
    with pytest.raises(IndexBusy, match="Try again when it has finished"):
        index_paths([tmp_path / "docs"], store, FakeEmbedder(), settings)
    with pytest.raises(IndexBusy):
        store.remove(["alpaca"])
    assert [a.id for a in store.articles()] == ["alpaca", "copper", "fleet"]  # readers: fine
    assert store.keyword_search("copper prices", 5)
    with closing(sqlite3.connect(settings.index_dir / "manifest.sqlite3")) as db:
        assert db.execute("SELECT state FROM articles WHERE id = 'inflight'").fetchone()
    store.close()


LATE_HOLDER = """
import fcntl, os, sys, time
fh = open({lock!r}, "a+")
fcntl.flock(fh, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(0.5)
fh.write(f"pid {{os.getpid()}}, late holder")
fh.flush()
time.sleep(600)
"""


def test_a_writer_arriving_before_the_holder_has_written_its_name_still_names_it(
    tmp_path: Path,
) -> None:
    """The holder writes its name just after it takes the lock; in CI the second `rag index`
    came in between and said "unknown process"."""
    index_dir = tmp_path / "idx"
    index_dir.mkdir()
    script = textwrap.dedent(LATE_HOLDER).format(lock=str(index_dir / "writer.lock"))
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        with (
            pytest.raises(IndexBusy, match=f"pid {child.pid}, late holder"),
            writing(index_dir, "second", wait=False),
        ):
            pass
    finally:
        child.kill()
        child.communicate()


def test_a_killed_writers_lock_is_taken_over(
    held_by_child: tuple[Settings, subprocess.Popen],
) -> None:
    settings, child = held_by_child
    assert "test holder" in busy_message(settings.index_dir)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    with writing(settings.index_dir, "after the kill", wait=False):
        store = open_store(settings)
        assert store.recover() == []
        store.close()


def test_app_upload_and_removal_are_refused_cleanly_while_the_cli_writes(
    held_by_child: tuple[Settings, subprocess.Popen], tmp_path: Path
) -> None:
    settings, child = held_by_child
    settings = settings.model_copy(update={"data_dir": tmp_path / "state"})
    embedder = FakeEmbedder()
    engine = Engine(settings, open_store(settings, embedder), embedder, None)
    upload = tmp_path / "new.txt"
    upload.write_text("Title: New\n\nA new report about llamas in Puno this spring.\n")
    report, rows = library.index_uploads(engine, [str(upload)])
    assert "Nothing was indexed" in report and f"pid {child.pid}" in report
    assert len(rows) == 3
    message, rows = library.remove_article(engine, "alpaca")
    assert "Nothing was removed" in message and "Another indexing run" in message
    assert len(rows) == 3
    engine.store.close()
