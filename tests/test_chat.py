"""Conversation persistence: chats per browser, turns in order, titles, survival across reopen."""

from __future__ import annotations

import json
from pathlib import Path

from rag.chat import Conversations


def test_create_add_list_load(tmp_path: Path) -> None:
    """A chat keeps its turns in order and is titled by its first question."""
    chats = Conversations(tmp_path / "chats.sqlite3")
    chat = chats.create("browser-a")
    assert chats.list("browser-a") == []  # empty chats are not listed
    chats.add_turn(chat, "user", "Who was kidnapped?")
    chats.add_turn(chat, "assistant", "Gas workers [1].", json.dumps({"text": "Gas workers [1]."}))
    chats.add_turn(chat, "user", "And were they freed?")
    listed = chats.list("browser-a")
    assert [(cid, title) for cid, title, _ in listed] == [(chat, "Who was kidnapped?")]
    turns = chats.load(chat)
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["answer"] == {"text": "Gas workers [1]."}
    assert turns[0]["answer"] is None


def test_chats_are_per_browser_and_newest_first(tmp_path: Path) -> None:
    """Each browser sees only its own chats, most recently used first."""
    chats = Conversations(tmp_path / "chats.sqlite3")
    first = chats.create("a")
    chats.add_turn(first, "user", "first")
    second = chats.create("a")
    chats.add_turn(second, "user", "second")
    other = chats.create("b")
    chats.add_turn(other, "user", "other")
    assert [c for c, _, _ in chats.list("a")] == [second, first]
    assert [c for c, _, _ in chats.list("b")] == [other]
    assert chats.owner(first) == "a" and chats.owner("nope") is None
    chats.add_turn(first, "assistant", "reply")
    assert [c for c, _, _ in chats.list("a")] == [first, second]


def test_persists_across_reopen_and_delete(tmp_path: Path) -> None:
    """The database file outlives the process; delete forgets a chat."""
    path = tmp_path / "state" / "chats.sqlite3"
    chats = Conversations(path)
    chat = chats.create("a")
    chats.add_turn(chat, "user", "  a   long\nquestion " + "x" * 200)
    chats.close()
    again = Conversations(path)
    ((cid, title, _),) = again.list("a")
    assert cid == chat and title.startswith("a long question") and len(title) == 80
    again.delete(chat)
    assert again.list("a") == [] and again.load(chat) == []


def test_bad_answer_json_loads_as_none(tmp_path: Path) -> None:
    """A corrupt stored answer does not break reopening the chat."""
    chats = Conversations(tmp_path / "c.sqlite3")
    chat = chats.create("a")
    chats.add_turn(chat, "assistant", "x", "{not json")
    assert chats.load(chat)[0]["answer"] is None
