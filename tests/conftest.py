"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_llm import ScriptedLLM


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLM]:
    """A running scripted OpenAI-compatible server on 127.0.0.1, stopped after the test."""
    with ScriptedLLM() as server:
        yield server
