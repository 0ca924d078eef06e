"""Past conversations of a browser as plain functions: list and search, reopen, rename, delete,
export. A browser only ever sees and changes its own chats (by its browser id)."""

from __future__ import annotations

import time

from rag.app import export, panels
from rag.app.chat import Session, chat_messages, last_sources, new_session
from rag.chat import Conversations


def chat_choices(
    conversations: Conversations, browser_id: str | None, search: str = ""
) -> list[tuple[str, str]]:
    """(one-line label "title · date", chat_id) of a browser's chats, newest first; `search`
    keeps those whose title holds every word of it."""
    if not browser_id:
        return []
    words = search.lower().split()
    choices = []
    for chat_id, title, updated in conversations.list(browser_id):
        if all(w in title.lower() for w in words):
            when = time.strftime("%b %d %H:%M", time.localtime(updated))
            choices.append((f"{title} · {when}", chat_id))
    return choices


def owned(conversations: Conversations, chat_id: str | None, browser_id: str | None) -> bool:
    """Is this chat one of this browser's (ids of other browsers open and change nothing)?"""
    return bool(chat_id and browser_id and conversations.owner(chat_id) == browser_id)


def open_chat(
    conversations: Conversations, chat_id: str | None, browser_id: str | None
) -> tuple[list[dict[str, str]], str, str, Session]:
    """Reopen a past conversation of this browser (others' ids open nothing)."""
    session = new_session()
    if owned(conversations, chat_id, browser_id):
        session["chat_id"] = chat_id
        pending: str | None = None
        for row in conversations.load(str(chat_id)):
            if row["role"] == "user":
                pending = row["content"]
            elif pending is not None and row.get("answer"):
                session["turns"].append({"question": pending, "answer": row["answer"]})
                pending = None
    return chat_messages(session), last_sources(session), panels.viewer_empty(), session


def last_chat_id(conversations: Conversations, browser_id: str | None) -> str | None:
    """The browser's most recently updated conversation, reopened when the page loads."""
    chats = conversations.list(browser_id) if browser_id else []
    return chats[0][0] if chats else None


def rename_chat(
    conversations: Conversations, session: Session | None, browser_id: str | None, title: str
) -> str:
    """Rename the open chat; a message saying what happened."""
    chat_id = (session or {}).get("chat_id")
    if not owned(conversations, chat_id, browser_id):
        return "Open a past conversation (or ask a question) to rename it."
    if not title.strip():
        return "Type the new name first."
    conversations.rename(str(chat_id), title)
    return "Renamed."


def delete_chat(
    conversations: Conversations, session: Session | None, browser_id: str | None
) -> str:
    """Delete the open chat; a message saying what happened."""
    chat_id = (session or {}).get("chat_id")
    if not owned(conversations, chat_id, browser_id):
        return "Open a past conversation to delete it."
    conversations.delete(str(chat_id))
    return "Deleted."


def export_chat(session: Session | None) -> list[str] | None:
    """The open conversation as a Markdown and a JSON file to download (None when empty)."""
    turns = [t for t in (session or new_session())["turns"] if t.get("answer") or t.get("error")]
    if not turns:
        return None
    return export.write_exports(turns, turns[0]["question"])
