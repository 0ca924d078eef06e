"""The LLM deadline seen from answering: a stuck or flooding LLM still gives quotes in time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fake_llm import ScriptedLLM

from rag.answering.answer import ask
from rag.answering.engine import Engine
from rag.llm import ChatLLM

ARTICLES = Path(__file__).resolve().parents[1] / "data" / "articles"
QUESTION = "How many natural gas workers were kidnapped?"
DEADLINE = 3.0
SLACK = 5.0


def slow_llm(server: ScriptedLLM) -> ChatLLM:
    """Generous per-read timeout and a retry, as in production; only the deadline is short."""
    return ChatLLM(server.base_url, "k", "m", timeout=120.0, retries=1, deadline=DEADLINE)


@pytest.mark.parametrize("mode", ["trickle", "hang", "flood"])
def test_stuck_or_flooding_llm_falls_back_within_the_deadline(
    indexed, llm_server: ScriptedLLM, mode: str
) -> None:
    settings, store, embedder = indexed
    llm_server.mode = mode
    llm_server.delay = 1.0
    llm_server.reply = " ".join(["Shining Path kidnapped 36 natural gas workers [1]."] * 8)
    engine = Engine(settings, store, embedder, slow_llm(llm_server))
    started = time.monotonic()
    answer = ask(QUESTION, engine)
    assert time.monotonic() - started < DEADLINE + SLACK
    assert answer.mode == "extractive" and answer.citations
    assert "36 natural gas workers" in answer.text
    expected = "cut off" if mode == "flood" else "no complete answer within 3 s"
    assert expected in answer.notice and "Showing quotes" in answer.notice
