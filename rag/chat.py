"""Conversations: keeping chat history, one list of chats per browser."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

_CHATS_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY, browser_id TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS chats_browser ON chats(browser_id, updated);
CREATE TABLE IF NOT EXISTS turns (
    rid INTEGER PRIMARY KEY, chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role TEXT NOT NULL, content TEXT NOT NULL, answer_json TEXT, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS turns_chat ON turns(chat_id, rid);
"""
TITLE_CHARS = 80


class Conversations:
    """Chat history in SQLite (`state_dir/chats.sqlite3`), one list of chats per browser id."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_CHATS_SCHEMA)
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Any) -> Conversations:
        """The conversation store of an app: `settings.state_dir / "chats.sqlite3"`."""
        return cls(Path(settings.state_dir) / "chats.sqlite3")

    def create(self, browser_id: str) -> str:
        """Start an empty chat for a browser; returns its random, unguessable id."""
        chat_id = secrets.token_urlsafe(12)
        now = time.time()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO chats (id, browser_id, created, updated) VALUES (?, ?, ?, ?)",
                (chat_id, browser_id, now, now),
            )
        return chat_id

    def add_turn(
        self, chat_id: str, role: str, content: str, answer_json: str | None = None
    ) -> None:
        """Append a message; the first user message becomes the chat's title."""
        now = time.time()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO turns (chat_id, role, content, answer_json, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (chat_id, role, content, answer_json, now),
            )
            title = " ".join(content.split())[:TITLE_CHARS] if role == "user" else ""
            self._db.execute(
                "UPDATE chats SET updated = ?,"
                " title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ?",
                (now, title, chat_id),
            )

    def list(self, browser_id: str) -> list[tuple[str, str, float]]:
        """(chat_id, title, updated) of a browser's chats with messages, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, title, updated FROM chats WHERE browser_id = ? AND title != ''"
                " ORDER BY updated DESC, rowid DESC",
                (browser_id,),
            ).fetchall()
        return [(str(i), str(t), float(u)) for i, t, u in rows]

    def owner(self, chat_id: str) -> str | None:
        """The browser id a chat belongs to, or None when there is no such chat."""
        with self._lock:
            row = self._db.execute(
                "SELECT browser_id FROM chats WHERE id = ?", (chat_id,)
            ).fetchone()
        return str(row[0]) if row else None

    def load(self, chat_id: str) -> list[dict[str, Any]]:
        """A chat's messages in order: {role, content, answer (decoded JSON or None)}."""
        with self._lock:
            rows = self._db.execute(
                "SELECT role, content, answer_json FROM turns WHERE chat_id = ? ORDER BY rid",
                (chat_id,),
            ).fetchall()
        turns = []
        for role, content, answer_json in rows:
            try:
                answer = json.loads(answer_json) if answer_json else None
            except ValueError:
                answer = None
            turns.append({"role": role, "content": content, "answer": answer})
        return turns

    def rename(self, chat_id: str, title: str) -> None:
        """Give a chat a new title (blank titles are ignored)."""
        title = " ".join(title.split())[:TITLE_CHARS]
        if not title:
            return
        with self._lock, self._db:
            self._db.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat_id))

    def delete(self, chat_id: str) -> None:
        """Forget a chat and its messages."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM turns WHERE chat_id = ?", (chat_id,))
            self._db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()
