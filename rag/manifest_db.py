"""The manifest's SQLite database: its tables, and a connection whose damage reads as a message.

A garbage page in `manifest.sqlite3` raised `sqlite3.DatabaseError` tracebacks from whichever
query touched it first. Every statement and fetch through this connection turns that into
`IndexDamaged`, a `RagError` the CLI and the app already show as one line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.errors import IndexDamaged

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, origin TEXT NOT NULL, content_hash TEXT NOT NULL,
    record_hash TEXT NOT NULL, title TEXT, source TEXT, date TEXT, url TEXT, author TEXT,
    text TEXT NOT NULL, n_chunks INTEGER NOT NULL, state TEXT NOT NULL,
    indexed_at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX IF NOT EXISTS articles_hash ON articles(content_hash);
CREATE TABLE IF NOT EXISTS chunks (
    rid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    idx INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
"""


def damaged_message(index_dir: Path, detail: str) -> str:
    """What is wrong with the index and the command that rebuilds it."""
    return (
        f"The index in {index_dir}/ is damaged ({detail}). Rebuild it from your article files:"
        f" `rag index FOLDER --rebuild --index-dir {index_dir}`."
    )


@contextmanager
def _as_damage(index_dir: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError:
        raise  # locked, busy, disk I/O: not damage, and the callers know these
    except sqlite3.DatabaseError as err:  # "database disk image is malformed", "not a database"
        raise IndexDamaged(damaged_message(index_dir, f"manifest.sqlite3: {err}")) from None


class _Cursor(sqlite3.Cursor):
    def _dir(self) -> Path:
        return getattr(self.connection, "index_dir", Path("index"))

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        with _as_damage(self._dir()):
            return super().execute(sql, parameters)

    def executemany(self, sql: str, seq: Iterable[Any], /) -> _Cursor:
        with _as_damage(self._dir()):
            return super().executemany(sql, seq)

    def fetchone(self) -> Any:
        with _as_damage(self._dir()):
            return super().fetchone()

    def fetchmany(self, size: int = 1) -> list[Any]:
        with _as_damage(self._dir()):
            return super().fetchmany(size)

    def fetchall(self) -> list[Any]:
        with _as_damage(self._dir()):
            return super().fetchall()

    def __next__(self) -> Any:
        with _as_damage(self._dir()):
            return super().__next__()


class ManifestConnection(sqlite3.Connection):
    """`sqlite3.connect(path, factory=ManifestConnection)`; set `index_dir` for the message."""

    index_dir: Path = Path("index")

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq: Iterable[Any], /) -> Any:
        return self.cursor().executemany(sql, seq)

    def executescript(self, script: str, /) -> Any:
        with _as_damage(self.index_dir):
            return super().executescript(script)


def open_manifest(index_dir: Path) -> ManifestConnection:
    """`index_dir`/manifest.sqlite3 (made with its tables if new) in WAL mode, for any thread."""
    index_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        index_dir / "manifest.sqlite3",
        check_same_thread=False,
        timeout=30,
        factory=ManifestConnection,
    )
    db.index_dir = index_dir
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(_SCHEMA)
    return db


def quick_check(db: sqlite3.Connection, index_dir: Path) -> None:
    """Read every page of the manifest once (SQLite's `quick_check`); IndexDamaged if any is bad.

    About 0.2 s for the 718-article rtqa index (34 MB); writers and `rag doctor` run it.
    """
    rows = [r for (r,) in db.execute("PRAGMA quick_check(3)").fetchall()]
    if rows != ["ok"]:
        raise IndexDamaged(damaged_message(index_dir, "manifest.sqlite3: " + "; ".join(rows)))
