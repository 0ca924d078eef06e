"""Shared pytest fixtures: servers, and the app handlers' engine and conversations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chroma_server import ChromaServer
from fake_llm import ScriptedLLM
from fakes import FakeEmbedder
from helpers import ARTICLES, EVAL_DIR, cite_first_passage

from rag.answering.engine import Engine
from rag.chat import Conversations
from rag.embedded import make_llm
from rag.indexer import index_paths, stamp_for
from rag.settings import Settings
from rag.store import Store


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLM]:
    """A running scripted OpenAI-compatible server on 127.0.0.1, stopped after the test."""
    with ScriptedLLM() as server:
        yield server


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real Chroma server for the whole session (collections are named per test)."""
    with ChromaServer(tmp_path_factory.mktemp("chroma-server")) as server:
        yield server


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    """The scripted OpenAI-compatible server, answering from passage [1]."""
    with ScriptedLLM() as server:
        server.responder = cite_first_passage
        yield server


@pytest.fixture(scope="module")
def engine(llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The bundled articles indexed with the fake embedder, answered by the scripted LLM."""
    tmp = tmp_path_factory.mktemp("ui")
    settings = Settings(
        llm_backend="openai",
        llm_base_url=llm.base_url,
        llm_api_key="test",
        index_dir=tmp / "index",
        articles_dir=ARTICLES,
        abstain_threshold=-1.0,
        max_upload_mb=0.01,
    )
    emb = FakeEmbedder()
    eng = Engine(settings, Store(settings, stamp_for(settings, emb)), emb, make_llm(settings))
    import ui  # imports gradio: only for the tests that use the app's engine

    assert ui.index_if_empty(eng, out=lambda _: None) is not None
    return eng


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Store, FakeEmbedder]:
    """The bundled articles in a fresh index with the fake embedder: (settings, store, embedder)."""
    settings = Settings(
        index_dir=tmp_path_factory.mktemp("idx"), abstain_threshold=0.05, llm_backend="openai"
    )
    embedder = FakeEmbedder()
    store = Store(settings, stamp_for(settings, embedder))
    index_paths([ARTICLES], store, embedder, settings)
    return settings, store, embedder


@pytest.fixture
def conversations(tmp_path: Path) -> Conversations:
    """A fresh, empty conversation store for each test."""
    return Conversations(tmp_path / "chats.sqlite3")


@pytest.fixture
def eval_engine(engine: Engine, tmp_path: Path) -> Engine:
    """The module's engine with its own state dir (runs, uploads) and the bundled eval sets."""
    settings = engine.settings.model_copy(
        update={"data_dir": tmp_path / "state", "eval_dir": EVAL_DIR}
    )
    return Engine(settings, engine.store, engine.embedder, engine.llm)
