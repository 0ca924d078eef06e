"""The keyword index (SQLite FTS5 BM25): its ranking kept apart from the manifest's writes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

from rag.filters import Filters
from rag.text import strip_stopwords

TOKENIZE = "porter unicode61 remove_diacritics 2"
# BM25 cost grows with the postings it scores: a query keeps its rarest terms until they
# match this many chunks (measured: same hit@20 at 10,000 articles, p50 90 -> 30 ms).
KEYWORD_POSTINGS_BUDGET = 20_000
TITLE_WEIGHT = 2.0  # a question word in the article's title counts this many body matches
RANK_CONFIG = "INSERT INTO {table}({table}, rank) VALUES ('rank', 'bm25({weight}, 1.0)')"
_SCHEMA = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(title, text, tokenize = "{TOKENIZE}");
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
"""
# Whole articles for article-level BM25; an article's row id is its first chunk's `rid`.
_ARTICLES_FTS = f"""
CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, tokenize = "{TOKENIZE}");
INSERT INTO articles_fts (rowid, title, text) SELECT min(c.rid), a.title, a.text
    FROM articles a JOIN chunks c ON c.article_id = a.id WHERE a.state = 'ready' GROUP BY a.id;
"""


def pick_terms(doc_freq: dict[str, int], budget: int = KEYWORD_POSTINGS_BUDGET) -> list[str]:
    """The rarest terms (at least two) whose chunk counts add up to at most `budget`.

    Common terms add little to BM25 but most of its cost.
    >>> pick_terms({"the": 900, "quispe": 3, "valley": 40, "peru": 500}, budget=100)
    ['quispe', 'valley']
    """
    kept, total = [], 0
    for term in sorted(doc_freq, key=lambda t: (doc_freq[t], t)):
        if len(kept) >= 2 and total + doc_freq[term] > budget:
            break
        kept.append(term)
        total += doc_freq[term]
    return kept


class KeywordIndex:
    """The FTS5 tables of the manifest `db` (row ids are chunk rids); `lock` guards `db`.

    The store writes them in its own transactions, with the rows they index."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        self._db.executescript(_SCHEMA)
        self._create_ranked_tables()
        self._terms_lock = threading.Lock()
        self._terms_db = sqlite3.connect(":memory:", check_same_thread=False)
        self._terms_db.executescript(
            f"CREATE VIRTUAL TABLE q USING fts5(t, tokenize = '{TOKENIZE}');"
            "CREATE VIRTUAL TABLE qv USING fts5vocab(q, 'row');"
        )

    def _create_ranked_tables(self) -> None:
        """Title-weighted ranking for both keyword tables; the article table is created (and
        filled from an older index's rows) the first time."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            tables = {r for (r,) in self._db.execute("SELECT name FROM sqlite_master")}
            if "articles_fts" not in tables:
                for statement in _ARTICLES_FTS.split(";\n"):
                    if statement.strip():
                        self._db.execute(statement)
            for table in ("chunks_fts", "articles_fts"):
                ranked = self._db.execute(f"SELECT 1 FROM {table}_config WHERE k = 'rank'")
                if ranked.fetchone() is None:  # FTS5 keeps it: `ORDER BY rank` stays fast
                    self._db.execute(RANK_CONFIG.format(table=table, weight=TITLE_WEIGHT))

    # -- writing, inside the caller's transaction -------------------------------------------

    def add_chunk(self, rid: int, title: str, text: str) -> None:
        """Index one chunk under its rid, with its article's title."""
        self._db.execute(
            "INSERT INTO chunks_fts (rowid, title, text) VALUES (?, ?, ?)", (rid, title, text)
        )

    def add_article(self, first_rid: int, title: str, text: str) -> None:
        """Index a whole article under its first chunk's rid."""
        self._db.execute(
            "INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
            (first_rid, title, text),
        )

    def remove(self, rids: Sequence[int]) -> None:
        """Drop the chunks and articles indexed under these rids."""
        rows = [(r,) for r in rids]
        self._db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", rows)
        self._db.executemany("DELETE FROM articles_fts WHERE rowid = ?", rows)

    def problems(self, n_chunks: int) -> list[str]:
        """What is wrong when the index does not hold one entry per manifest chunk."""
        with self._lock:
            fts = self._db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
        return [] if fts == n_chunks else [f"keyword index has {fts} entries for {n_chunks} chunks"]

    # -- searching ---------------------------------------------------------------------------

    def chunk_search(
        self, text: str, k: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """BM25 over chunks: [(chunk_id, score)], best first, no zero scores."""
        return self._bm25("chunks_fts", text, k, filters)

    def article_search(
        self, text: str, k: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """BM25 over whole articles: [(article_id, score)], best first, no zero scores."""
        found = self._bm25("articles_fts", text, k, filters)
        if not found:
            return []
        by_chunk = dict(found)
        marks = ",".join("?" * len(found))
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, article_id FROM chunks WHERE id IN ({marks})", list(by_chunk)
            ).fetchall()
        owner = dict(rows)
        return [(owner[cid], score) for cid, score in found if cid in owner]

    def _bm25(
        self, table: str, text: str, k: int, filters: Filters | None
    ) -> list[tuple[str, float]]:
        """[(chunk_id, score)] of one FTS5 table whose row ids are chunk rids, best first."""
        terms = self._query_terms(text)
        if not terms:
            return []
        query = " OR ".join(f'"{t}"' for t in terms)
        if not filters:  # rank inside FTS5 first, then look up only the k winners
            sql = (
                f"SELECT c.id, -s.rank FROM (SELECT rowid, rank FROM {table}"
                f" WHERE {table} MATCH ? ORDER BY rank LIMIT ?) s"
                " JOIN chunks c ON c.rid = s.rowid ORDER BY s.rank"
            )
            with self._lock:
                rows = self._db.execute(sql, (query, k)).fetchall()
            return [(cid, score) for cid, score in rows if score > 0]
        sql = (
            f"SELECT c.id, -{table}.rank AS score FROM {table}"
            f" JOIN chunks c ON c.rid = {table}.rowid JOIN articles a ON a.id = c.article_id"
        )
        args: list[str | int] = [query]
        conds = [f"{table} MATCH ?"]
        if filters.sources:
            conds.append(f"a.source IN ({','.join('?' * len(filters.sources))})")
            args.extend(filters.sources)
        if filters.since:
            conds.append("a.date >= ?")
            args.append(filters.since)
        if filters.until:
            conds.append("a.date != '' AND a.date <= ?")
            args.append(filters.until)
        sql += " WHERE " + " AND ".join(conds) + f" ORDER BY {table}.rank LIMIT ?"
        args.append(k)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [(cid, score) for cid, score in rows if score > 0]

    def best_chunks(self, text: str, article_id: str, k: int) -> list[str]:
        """The article's chunk ids that best match the text by BM25 (its first chunks when
        none match): a chunk to show for an article found by its whole text."""
        terms = self._query_terms(text)
        with self._lock:
            rids = [
                r
                for (r,) in self._db.execute(
                    "SELECT rid FROM chunks WHERE article_id = ? ORDER BY idx", (article_id,)
                )
            ]
            ranked: list[int] = []
            if terms and rids:
                marks = ",".join("?" * len(rids))
                query = " OR ".join(f'"{t}"' for t in terms)
                ranked = [
                    r
                    for (r,) in self._db.execute(
                        "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?"
                        f" AND rowid IN ({marks})"
                        " ORDER BY rank LIMIT ?",
                        [query, *rids, k],
                    )
                ]
            chosen = (ranked + [r for r in rids if r not in ranked])[:k]
            if not chosen:
                return []
            marks = ",".join("?" * len(chosen))
            ids = dict(
                self._db.execute(
                    f"SELECT rid, id FROM chunks WHERE rid IN ({marks})", chosen
                ).fetchall()
            )
        return [ids[r] for r in chosen]

    def _query_terms(self, text: str) -> list[str]:
        """Index terms of the question (same tokenizer as the index), rarest first, within
        the postings budget; terms the index does not hold are dropped."""
        words = strip_stopwords(text)
        if not words:
            return []
        with self._terms_lock:
            self._terms_db.execute("DELETE FROM q")
            self._terms_db.execute("INSERT INTO q VALUES (?)", (words,))
            terms = [t for (t,) in self._terms_db.execute("SELECT term FROM qv")]
        return pick_terms(self.doc_freqs(terms), KEYWORD_POSTINGS_BUDGET)

    def doc_freqs(self, index_terms: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each index term (terms the index lacks are left out)."""
        terms = list(index_terms)
        if not terms:
            return {}
        marks = ",".join("?" * len(terms))
        with self._lock:
            rows = self._db.execute(
                f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", terms
            ).fetchall()
        return {str(t): int(d) for t, d in rows}
