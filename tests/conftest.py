"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chroma_server import ChromaServer
from fake_llm import ScriptedLLM


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
