"""The Chat and Settings tabs' handlers, called directly: no server, no browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fake_llm import ScriptedLLM

from rag.answer import Engine
from rag.app import chat, render
from rag.chat import Conversations
from rag.llm import EmbeddedLLM


def run(gen: Iterator[chat.ChatView]) -> list[chat.ChatView]:
    return list(gen)


def test_respond_streams_then_cites(engine: Engine, conversations: Conversations) -> None:
    views = run(
        chat.respond(engine, conversations, "What offensive is Peru preparing?", None, "b1")
    )
    assert len(views) >= 3  # searching, streaming, done
    assert "rag-status" in views[0][0][-1]["content"]
    messages, sources, session, box, browser_id = views[-1]
    assert box == "" and browser_id == "b1"
    assert messages[0] == {"role": "user", "content": "What offensive is Peru preparing?"}
    assert 'href="#rag-0-c-1"' in messages[1]["content"]
    assert "Peru Prepares Major Offensive" in sources
    answer = session["turns"][0]["answer"]
    assert answer["citations"][0]["n"] == 1
    # persisted, listed for this browser only
    ((chat_id, title, _),) = conversations.list("b1")
    assert chat_id == session["chat_id"] and title == "What offensive is Peru preparing?"
    assert conversations.list("b2") == []

    # a follow-up is condensed from the history and says what it searched for
    views = run(chat.respond(engine, conversations, "And who leads them?", session, "b1"))
    messages, _, session, _, _ = views[-1]
    assert len(session["turns"]) == 2 and session["chat_id"] == chat_id
    assert "Searched for: <q>Shining Path offensive VRAE" in messages[3]["content"]
    assert len(conversations.load(chat_id)) == 4

    # clicking [1] of the first answer opens its article with the passage highlighted
    viewer, panel = chat.open_ref(engine, "rag-0-c-1", session)
    article = engine.store.article(answer["citations"][0]["article_id"])
    assert article is not None
    passage = article.text[answer["citations"][0]["start"] : answer["citations"][0]["end"]]
    assert render.esc(passage.split("\n")[0][:40]) in viewer
    assert '<mark class="rag-focus">' in viewer and '<mark class="rag-support">' in viewer
    assert "rag-active" in panel
    assert "rag-focus" not in chat.open_ref(engine, "rag-9-c-1", session)[0]
    assert "rag-focus" not in chat.open_ref(engine, "garbage", None)[0]

    # reopening: the owner gets the chat back, anyone else gets nothing
    messages2, sources2, _, reopened = chat.open_chat(conversations, chat_id, "b1")
    assert len(reopened["turns"]) == 2 and messages2[1] == messages[1]
    assert chat.open_chat(conversations, chat_id, "intruder")[3]["turns"] == []
    assert chat.chat_choices(conversations, "b1")[0][1] == chat_id
    assert chat.history_of(reopened)[0]["role"] == "user"


def test_respond_validates_dates_and_empty(engine: Engine, conversations: Conversations) -> None:
    views = run(chat.respond(engine, conversations, "q?", None, "b", since="last week"))
    assert "not a date like" in views[-1][0][-1]["content"]
    assert views[-1][3] == "q?"  # the question stays in the box to fix
    assert run(chat.respond(engine, conversations, "   ", None, "b"))[-1][0] == []


def test_respond_filters_by_source(engine: Engine, conversations: Conversations) -> None:
    sources = engine.store.sources()
    views = run(chat.respond(engine, conversations, "offensive", None, "b", 4, True, [sources[-1]]))
    answer = views[-1][2]["turns"][0]["answer"]
    assert answer["passages"] and {p["source"] for p in answer["passages"]} == {sources[-1]}


def test_respond_reports_llm_failure(engine: Engine, conversations: Conversations,
                                     llm: ScriptedLLM) -> None:  # fmt: skip
    llm.mode = "http500"
    try:
        views = run(chat.respond(engine, conversations, "Shining Path offensive?", None, "b"))
    finally:
        llm.mode = "ok"
    content = views[-1][0][-1]["content"]
    assert "rag-notice" in content and "HTTP 500" in content  # extractive fallback notice


def test_new_chat_resets() -> None:
    messages, sources, viewer, session, past = chat.new_chat()
    assert messages == [] and session == chat.new_session() and past is None
    assert "Ask a question" in sources and "article viewer" in viewer


def test_llm_status(engine: Engine, tmp_path: Path) -> None:
    line, loading = chat.llm_status(engine)
    assert "Ready" in line and not loading
    none = Engine(engine.settings, engine.store, engine.embedder, None)
    assert chat.llm_status(none) == (
        "LLM: none. Answers quote the most relevant passages.",
        False,
    )
    embedded = Engine(engine.settings, engine.store, engine.embedder, EmbeddedLLM(engine.settings))
    line, loading = chat.llm_status(embedded)
    assert loading and "Loading model…" in line
