"""A real `chroma run` killed mid-index, mid-chat (CLI) and mid-chat (app): one clear line, no
traceback, nothing lost, and a retry works once Chroma is back."""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from chroma_server import ChromaServer
from fake_llm import ScriptedLLM
from helpers import ARTICLES, cite_first_passage, make_settings, open_store, snapshot
from rag_procs import N_ARTICLES, RemoteFake, cli_env, corpus, rag_index
from test_cli import isolate, run

from rag.answering.engine import Engine
from rag.app import chat as app_chat
from rag.chat import Conversations
from rag.chroma_errors import unreachable_message
from rag.embeddings import RemoteEmbedder
from rag.errors import StoreError
from rag.indexer import index_paths
from rag.llm import ChatLLM

QUESTION = "How many natural gas workers were kidnapped?"


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A Chroma server of this test's own, free to be killed and restarted."""
    with ChromaServer(tmp_path / "chroma-data") as server:
        yield server


def ready_rows(index_dir: Path) -> int:
    try:
        with closing(sqlite3.connect(index_dir / "manifest.sqlite3", timeout=5)) as db:
            return db.execute("SELECT count(*) FROM articles WHERE state = 'ready'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_chroma_killed_mid_index_gives_one_line_and_a_rerun_recovers(
    tmp_path: Path, chroma: ChromaServer, llm_server: ScriptedLLM
) -> None:
    root = corpus(tmp_path / "corpus")
    index_dir = tmp_path / "idx"
    env = {**cli_env(llm_server), "RAG_CHROMA_URL": chroma.url}
    llm_server.embed_delay = 1.5  # the second write batch waits for its vectors
    proc = rag_index(index_dir, root, env, tmp_path)
    deadline = time.monotonic() + 180
    while ready_rows(index_dir) == 0:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no batch written in time"
        time.sleep(0.05)
    chroma.kill()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, out + err
    assert "Traceback" not in err and "httpx" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    expected = unreachable_message(make_settings(index_dir, chroma_url=chroma.url))
    assert lines == [f"error: {expected}"]
    assert f"Chroma at {chroma.url} is not reachable: start it with `chroma run" in lines[0]

    done = ready_rows(index_dir)
    assert 0 < done < N_ARTICLES

    chroma.start()
    llm_server.embed_delay = 0.0
    again = rag_index(index_dir, root, env, tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-3000:]
    summary = " ".join(out.split())
    assert f"added {N_ARTICLES - done}, updated 0, unchanged {done}" in summary

    resumed = open_store(make_settings(index_dir, chroma_url=chroma.url), RemoteFake())
    clean_settings = make_settings(tmp_path / "clean")
    clean = open_store(clean_settings, RemoteFake())
    index_paths([root], clean, RemoteFake(), clean_settings)
    assert resumed.problems() == []
    got, want = snapshot(resumed), snapshot(clean)
    assert len(got.articles) == N_ARTICLES  # articles lost: 0
    assert got == want


class ScriptedInput:
    """Stands in for input(): returns the questions in turn, running an action before some."""

    def __init__(self, steps: list[tuple[Callable[[], None] | None, str]]) -> None:
        self.steps = list(steps)

    def __call__(self, prompt: str = "") -> str:
        if not self.steps:
            raise EOFError
        action, question = self.steps.pop(0)
        if action is not None:
            action()
        return question


def index_bundled(tmp_path: Path, chroma: ChromaServer, llm: ScriptedLLM) -> Path:
    """The bundled articles in a server collection, stamped like `rag` with remote embeddings."""
    index_dir = tmp_path / "idx"
    settings = make_settings(index_dir, chroma_url=chroma.url)
    store = open_store(settings, RemoteFake())
    index_paths([ARTICLES], store, RemoteFake(), settings)
    store.close()
    return index_dir


def test_chroma_killed_mid_chat_keeps_the_conversation(
    tmp_path: Path,
    chroma: ChromaServer,
    llm_server: ScriptedLLM,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index_dir = index_bundled(tmp_path, chroma, llm_server)
    isolate(monkeypatch, tmp_path, index_dir)
    for key, value in cli_env(llm_server).items():
        if key.startswith("RAG_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("RAG_CHROMA_URL", chroma.url)
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", llm_server.base_url)
    monkeypatch.setenv("RAG_ABSTAIN_THRESHOLD", "-1")
    llm_server.responder = cite_first_passage
    script = ScriptedInput(
        [
            (None, QUESTION),
            (chroma.kill, "Who paid the ransom?"),
            (chroma.start, "And how many of them were freed?"),
            (None, ""),
        ]
    )
    monkeypatch.setattr(builtins, "input", script)
    result = run(["chat"])
    assert result.code == 0, result.text
    assert "Traceback" not in result.text
    assert f"Chroma at {chroma.url} is not reachable" in result.text
    assert "The conversation is kept: ask again" in result.text
    answered = [part for part in result.out.split("\n\n") if "Peruvian Times" in part]
    assert len(answered) >= 2  # the first and the third question were answered, with sources
    follow_up = [r for r in llm_server.requests if "(earlier: " in str(r.get("messages", ""))]
    assert follow_up, "the follow-up was not searched with the kept history"
    history = follow_up[-1]["messages"][-1]["content"]
    assert QUESTION in history  # the conversation before the outage survived
    assert "Who paid the ransom?" not in history  # the failed question left no half turn

    chroma.kill()  # `rag ask` with Chroma down: the same one line, exit code 2
    asked = run(["ask", QUESTION])
    assert asked.code == 2 and "Traceback" not in asked.text
    [line] = asked.err.strip().splitlines()
    assert line.startswith(f"error: Chroma at {chroma.url} is not reachable: start it with")
    assert line.endswith("or unset RAG_CHROMA_URL, then re-run.")


def test_chroma_killed_mid_chat_in_the_app_names_chroma(
    tmp_path: Path, chroma: ChromaServer, llm_server: ScriptedLLM
) -> None:
    index_dir = index_bundled(tmp_path, chroma, llm_server)
    settings = make_settings(
        index_dir, chroma_url=chroma.url, abstain_threshold=-1.0, data_dir=tmp_path / "state"
    )
    embedder = RemoteEmbedder(llm_server.base_url, "", "text-embedding-3-small", 10.0)
    llm_server.responder = cite_first_passage
    llm = ChatLLM(llm_server.base_url, "k", "m", 10.0, 0)
    engine = Engine(settings, open_store(settings, RemoteFake()), embedder, llm)
    conversations = Conversations(tmp_path / "chats.sqlite3")

    def ask(question: str, session: app_chat.Session) -> app_chat.Session:
        *_, (messages, _, session, _, _) = app_chat.respond(
            engine, conversations, question, session, "browser-1"
        )
        return session

    session = ask(QUESTION, app_chat.new_session())
    assert session["turns"][0]["answer"]
    chroma.kill()
    session = ask("Who paid the ransom?", session)
    error = session["turns"][1]["error"]
    assert error == unreachable_message(settings)
    assert "Something went wrong" not in error
    assert session["turns"][0]["answer"]  # the earlier answer is still there
    html = app_chat.chat_messages(session)[-1]["content"]
    assert "Chroma at" in html and "not reachable" in html
    with pytest.raises(StoreError, match="not reachable"):
        engine.store.vector_count()
    chroma.start()
    session = ask("Who paid the ransom?", session)  # the retry works
    assert session["turns"][2]["answer"]
    engine.store.close()
