"""The index on disk: the SQLite manifest, which keeps the keyword and vector indexes in step.

Writes follow one protocol so a killed process never leaves a half-written article visible:
the manifest row is written as `pending`, vectors go to Chroma, then the chunks, keyword index
and `ready` state commit in one SQLite transaction. `recover()` rolls back anything left pending.
Every write holds the index's writer lock (rag/index_lock.py): a second writer is refused, so
its recovery can never roll back another run's rows in flight.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from rag.articles import Article
from rag.chunking import Chunk
from rag.errors import IndexMismatch, StoreError
from rag.filters import Filters
from rag.index_lock import writing
from rag.keywords import KeywordIndex
from rag.manifest_db import open_manifest, quick_check
from rag.records import StoredArticle
from rag.settings import Settings
from rag.vectors import VectorIndex, drop_collection


def record_hash(article: Article) -> str:
    """Hash of text and metadata: a change to either re-indexes the article."""
    import hashlib

    fields = [article.title, article.source, article.date, article.url, article.author]
    return hashlib.sha256("\x1f".join([*fields, article.text]).encode()).hexdigest()


def _pending_row(a: Article, n_chunks: int) -> tuple[str | int, ...]:
    """An article's manifest row, but for its state: `pending` until its chunks are in."""
    meta = (a.title, a.source, a.date, a.url, a.author)
    return (a.id, a.origin, a.content_hash, record_hash(a), *meta, a.text, n_chunks)


class Store:
    """The index in `index_dir`: the manifest, its keyword index and its Chroma vectors."""

    def __init__(self, settings: Settings, stamp: dict[str, str | int]) -> None:
        self.settings = settings
        self.stamp = {k: str(v) for k, v in stamp.items()}
        index_dir = settings.index_dir
        self._lock = threading.RLock()
        try:
            self._db = open_manifest(index_dir)
            self._keywords = KeywordIndex(self._db, self._lock)
        except (OSError, sqlite3.OperationalError) as err:
            raise StoreError(f"Cannot open the index in {index_dir}: {err}") from None
        self._check_stamp()
        self.vectors = VectorIndex(settings, self.stamp)

    # -- opening ---------------------------------------------------------------------------

    def _check_stamp(self) -> None:
        stored = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if not stored:
            with self._db:
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", self.stamp.items())
            return
        diff = {k: (stored.get(k), v) for k, v in self.stamp.items() if stored.get(k) != v}
        if diff:
            what = ", ".join(f"{k}: index has {a}, settings say {b}" for k, (a, b) in diff.items())
            backend = (
                " (or set RAG_EMBED_BACKEND=local, the PyTorch backend that built it)"
                if "embed_model" in diff and diff["embed_model"][0] == "all-MiniLM-L6-v2"
                else ""
            )
            raise IndexMismatch(
                f"The index in {self.settings.index_dir} was built differently ({what}). "
                f"Run `rag index --rebuild` to rebuild it with the current settings{backend}."
            )

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:
            yield self._db

    def _writing(self) -> AbstractContextManager[None]:
        """The writer lock, taken without waiting (re-entrant: callers usually hold it)."""
        return writing(self.settings.index_dir, "writing the index", wait=False)

    def add(self, items: Sequence[tuple[Article, list[Chunk], list[list[float]]]]) -> None:
        """Write articles with their chunks and vectors, all-or-nothing per call."""
        if not items:
            return
        with self._writing():
            self._add(items)

    def _add(self, items: Sequence[tuple[Article, list[Chunk], list[list[float]]]]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO articles (id, origin, content_hash, record_hash, title,"
                " source, date, url, author, text, n_chunks, state)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,'pending')",
                [_pending_row(a, len(chunks)) for a, chunks, _ in items],
            )
        self.vectors.add(
            [(a.id, a.source, a.date, chunks, vectors) for a, chunks, vectors in items]
        )
        with self._tx() as db:
            for a, chunks, _ in items:
                rids = []
                for c in chunks:
                    cur = db.execute(
                        'INSERT INTO chunks (id, article_id, idx, start, "end", text)'
                        " VALUES (?,?,?,?,?,?)",
                        (c.id, a.id, c.index, c.start, c.end, c.text),
                    )
                    rids.append(cur.lastrowid)
                    self._keywords.add_chunk(cur.lastrowid, a.title, c.text)
                if rids:
                    self._keywords.add_article(min(rids), a.title, a.text)
            cur = db.executemany(
                "UPDATE articles SET state = 'ready' WHERE id = ? AND state = 'pending'",
                [(a.id,) for a, _, _ in items],
            )
            if cur.rowcount != len(items):  # our pending rows were removed: never say "added"
                raise StoreError(
                    f"{len(items) - cur.rowcount} of {len(items)} articles being written vanished"
                    " from the manifest (another writer?). Run `rag index` again."
                )

    def restore_vectors(
        self, article: StoredArticle, chunks: list[Chunk], vectors: list[list[float]]
    ) -> None:
        """Give an article's manifest chunks their vectors again (`rag repair`)."""
        with self._writing():
            self.vectors.add([(article.id, article.source, article.date, chunks, vectors)])

    def remove(self, article_ids: Sequence[str]) -> None:
        """Delete articles, their chunks, vectors and keyword entries."""
        ids = list(article_ids)
        if not ids:
            return
        with self._writing():
            with self._tx() as db:
                db.executemany(
                    "UPDATE articles SET state = 'deleting' WHERE id = ?", [(i,) for i in ids]
                )
            self._purge(ids)

    def _purge(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            self.vectors.delete(part)
            marks = ",".join("?" * len(part))
            with self._tx() as db:
                rids = db.execute(f"SELECT rid FROM chunks WHERE article_id IN ({marks})", part)
                self._keywords.remove([r for (r,) in rids])
                db.execute(f"DELETE FROM chunks WHERE article_id IN ({marks})", part)
                db.execute(f"DELETE FROM articles WHERE id IN ({marks})", part)

    def set_origins(self, origins: dict[str, str]) -> None:
        """Record where moved articles now live."""
        if not origins:
            return
        with self._writing(), self._tx() as db:
            db.executemany(
                "UPDATE articles SET origin = ? WHERE id = ?", [(o, i) for i, o in origins.items()]
            )

    def recover(self) -> list[str]:
        """Roll back writes a killed process left unfinished; returns the article ids affected.

        Only under the writer lock: unfinished rows are then a dead run's, never a live one's.
        """
        with self._writing():
            with self._lock:
                rows = self._db.execute("SELECT id FROM articles WHERE state != 'ready'")
                ids = [r for (r,) in rows]
            self._purge(ids)
        return ids

    # -- reading ---------------------------------------------------------------------------

    def _ready(self, text: str, where: str = "", args: Sequence[str] = ()) -> list[StoredArticle]:
        """Ready article rows matching `where`; `text` is the column read as their text."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, origin, content_hash, record_hash, title, source, date, url, author,"
                f" n_chunks, {text} FROM articles WHERE state = 'ready'{where}",
                list(args),
            ).fetchall()
        return [StoredArticle(*row) for row in rows]

    def articles(self, with_text: bool = False) -> list[StoredArticle]:
        """All ready articles, ordered by id."""
        return self._ready("text" if with_text else "''", " ORDER BY id")

    def articles_by_id(self, article_ids: Sequence[str] | set[str]) -> list[StoredArticle]:
        """The ready articles among the ids, without their text."""
        ids = list(article_ids)
        if not ids:
            return []
        return self._ready("''", f" AND id IN ({','.join('?' * len(ids))})", ids)

    def article(self, article_id: str) -> StoredArticle | None:
        """One ready article with its text, or None."""
        found = self._ready("text", " AND id = ?", [article_id])
        return found[0] if found else None

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id (missing ids are left out)."""
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._db.execute(
                f'SELECT article_id, idx, start, "end", text FROM chunks WHERE id IN ({marks})',
                list(chunk_ids),
            ).fetchall()
        return {c.id: c for c in (Chunk(*row) for row in rows)}

    def count_chunks(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def sources(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT source FROM articles WHERE state='ready' AND source != ''"
                " ORDER BY source"
            )
            return [r for (r,) in rows]

    def dense_search(
        self, vector: list[float], k: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks by cosine similarity: [(chunk_id, similarity)], best first."""
        return self.vectors.search(vector, k, filters)

    def keyword_search(
        self, text: str, k: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """BM25 over chunks (SQLite FTS5): [(chunk_id, score)], best first, no zero scores."""
        return self._keywords.chunk_search(text, k, filters)

    def article_search(
        self, text: str, k: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """BM25 over whole articles: [(article_id, score)], best first, no zero scores."""
        return self._keywords.article_search(text, k, filters)

    def best_chunks(self, text: str, article_id: str, k: int) -> list[str]:
        """The article's chunk ids that best match the text by BM25 (its first chunks when
        none match): a chunk to show for an article found by its whole text."""
        return self._keywords.best_chunks(text, article_id, k)

    def doc_freqs(self, index_terms: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each index term (terms the index lacks are left out)."""
        return self._keywords.doc_freqs(index_terms)

    def vector_ids(self, article_id: str) -> list[str]:
        """Chunk ids Chroma holds for one article (consistency checks)."""
        return self.vectors.chunk_ids(article_id)

    def vector_count(self) -> int:
        return self.vectors.count()

    def check(self) -> None:
        """Raise IndexDamaged when a manifest page is unreadable (writers and the doctor ask)."""
        with self._lock:
            quick_check(self._db, self.settings.index_dir)

    def vector_gap(self) -> str:
        """'' when Chroma holds a vector per passage; else what is missing and the fix.

        Two counts, a few milliseconds: asked before every answer, so none comes from half an
        index without saying so. The passages are the ready articles' `n_chunks` (one row per
        article, not a join over every chunk; `problems()` checks that they agree).
        """
        with self._lock:
            chunks = self._db.execute(
                "SELECT coalesce(sum(n_chunks), 0) FROM articles WHERE state = 'ready'"
            ).fetchone()[0]
        return self.vectors.gap(chunks)

    def missing_vectors(self) -> dict[str, list[Chunk]]:
        """The manifest's chunks that Chroma has no vector for, by article id."""
        vector_ids = self.vectors.all_ids()
        with self._lock:
            rows = self._db.execute(
                'SELECT c.article_id, c.idx, c.start, c."end", c.text FROM chunks c'
                " JOIN articles a ON a.id = c.article_id WHERE a.state = 'ready'"
                " ORDER BY c.article_id, c.idx"
            ).fetchall()
        missing: dict[str, list[Chunk]] = {}
        for chunk in (Chunk(*row) for row in rows):
            if chunk.id not in vector_ids:
                missing.setdefault(chunk.article_id, []).append(chunk)
        return missing

    def problems(self) -> list[str]:
        """Inconsistencies between manifest, keyword index and Chroma; empty when healthy."""
        found = []
        with self._lock:
            db = self._db
            unfinished = db.execute("SELECT count(*) FROM articles WHERE state != 'ready'")
            if (n := unfinished.fetchone()[0]) > 0:
                found.append(f"{n} articles from an interrupted run (`rag index` finishes them)")
            bad = db.execute(
                "SELECT a.id FROM articles a LEFT JOIN chunks c ON c.article_id = a.id"
                " WHERE a.state = 'ready' GROUP BY a.id HAVING count(c.id) != a.n_chunks"
            ).fetchall()
            if bad:
                found.append(f"{len(bad)} articles with missing chunks, e.g. {bad[0][0]}")
            orphans = db.execute(
                "SELECT count(*), min(c.id) FROM chunks c LEFT JOIN articles a"
                " ON a.id = c.article_id WHERE a.id IS NULL"
            ).fetchone()
            if orphans[0]:
                found.append(
                    f"{orphans[0]} chunks belong to no article, e.g. {orphans[1]}"
                    " (lost by concurrent writers: `rag index --rebuild` repairs it)"
                )
            chunk_ids = {r for (r,) in db.execute("SELECT id FROM chunks")}
            found += self._keywords.problems(len(chunk_ids))
        return found + self.vectors.problems(chunk_ids)

    def info(self) -> dict[str, str | int]:
        """What the index is: where, which model and chunking, how big."""
        return {
            "index_dir": str(self.settings.index_dir),
            "chroma": self.settings.chroma_url or str(self.settings.index_dir / "chroma"),
            **self.stamp,
            "articles": len(self.articles()),
            "chunks": self.count_chunks(),
            "vectors": self.vector_count(),
        }

    def close(self) -> None:
        with self._lock:
            self._db.close()


def wipe_index(settings: Settings) -> None:
    """Delete the index (manifest, keyword index and Chroma collection) for a rebuild."""
    for name in ("manifest.sqlite3", "manifest.sqlite3-wal", "manifest.sqlite3-shm"):
        (settings.index_dir / name).unlink(missing_ok=True)
    drop_collection(settings)
