"""Bring the index in step with a set of files: add new articles, replace changed ones, skip
duplicates and bad files with a reason, optionally prune articles whose files are gone."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.articles import Article, Skipped, load_file
from rag.chunking import CONTEXT, Chunk, chunk_text, embed_text
from rag.embeddings import Embedder
from rag.files import find_files, fs_path, readable_path
from rag.index_lock import writing
from rag.records import StoredArticle
from rag.settings import Settings
from rag.store import Store, record_hash

WRITE_BATCH_CHUNKS = 256


@dataclass
class IndexReport:
    """What one indexing run did, for the summary the user sees."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    dated_from_text: list[str] = field(default_factory=list)  # written, dated by their first lines
    moved: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    repaired: int = 0  # passages whose lost vectors were embedded again from the manifest
    held_back: list[str] = field(default_factory=list)  # prunable, but more than half the index
    stopped: bool = False  # asked to stop: what was written is whole; a re-run does the rest


@dataclass(frozen=True)
class NotIndexed:
    """Files or lines left out for one reason: `first` stands for all `count` of them."""

    first: str
    reason: str
    count: int
    twin: str = ""  # for duplicates: the id of the article they repeat

    @property
    def more(self) -> str:
        """' and 999 more lines' after `first` when it stands for others, else ''."""
        return f" and {self.count - 1:,} more lines" if self.count > 1 else ""


_LINE_PREFIX = re.compile(r"^line [\d,]+: ")


def not_indexed(report: IndexReport) -> list[NotIndexed]:
    """What a run left out, one entry per file and reason, in the order met.

    Two million duplicate lines of one file are one entry, not two million (the CLI and the
    Library tab print these).

    >>> r = IndexReport(duplicates=[("/a.jsonl#2", "a-1"), ("/a.jsonl#3", "a-1")])
    >>> not_indexed(r)
    [NotIndexed(first='/a.jsonl#2', reason='duplicate', count=2, twin='a-1')]
    """
    groups: dict[tuple[str, str, str], NotIndexed] = {}
    rows = [(s.origin, _LINE_PREFIX.sub("", s.reason), "") for s in report.skipped]
    rows += [(origin, "duplicate", twin) for origin, twin in report.duplicates]
    for origin, reason, twin in rows:
        key = (origin.split("#", 1)[0], reason, twin)
        seen = groups.get(key)
        groups[key] = (
            replace(seen, count=seen.count + 1) if seen else NotIndexed(origin, reason, 1, twin)
        )
    return list(groups.values())


@dataclass(frozen=True)
class Progress:
    """Chunks (and articles) embedded so far out of those this run has to embed."""

    done: int
    total: int
    message: str = ""
    articles: int = 0
    articles_total: int = 0


def stamp_for(settings: Settings, embedder: Embedder) -> dict[str, str | int]:
    """What must match between an index and the settings that read it."""
    return {
        "embed_model": embedder.model_id,
        "embed_dim": embedder.dim,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "chunk_context": CONTEXT,
    }


def _resolve_id(article: Article, known: dict[str, StoredArticle], taken: dict[str, str]) -> str:
    """Keep the article's id unless another existing file already owns it; then add a suffix."""
    owner = taken.get(article.id) or (known[article.id].origin if article.id in known else None)
    if owner is None or fs_path(owner) == fs_path(article.origin):
        return article.id
    if article.id not in taken and not os.path.exists(fs_path(owner)):
        return article.id  # the file moved: it keeps its id
    return f"{article.id}-{hashlib.sha1(article.origin.encode()).hexdigest()[:6]}"


def plan(
    articles: Iterable[Article | Skipped],
    known: dict[str, StoredArticle],
    report: IndexReport,
    taken: dict[str, str],
    doomed: Callable[[], set[str]] = set,
) -> Iterator[tuple[Article, bool]]:
    """Decide per article: yield (article, is_update) for what must be written; record the rest.

    `known` is the manifest; `report` collects skips, duplicates and moves; `taken` collects
    the id -> origin of every article read; `doomed()`, asked once everything is read, names
    the known articles this run will prune: a copy of one of those is no duplicate.
    """
    by_hash = {a.content_hash: a.id for a in known.values()}
    deferred: list[tuple[Article, bool, str]] = []
    for item in articles:
        if isinstance(item, Skipped):
            report.skipped.append(item)
            continue
        article = replace(item, id=_resolve_id(item, known, taken))
        if article.id in taken:
            report.skipped.append(Skipped(article.origin, f"duplicate id {article.id!r}"))
            continue
        taken[article.id] = article.origin
        old = known.get(article.id)
        if old is not None and old.record_hash == record_hash(article):
            report.unchanged += 1
            if old.origin != article.origin:
                report.moved[article.id] = article.origin
            continue
        twin = by_hash.get(article.content_hash)
        if twin is not None and twin != article.id:
            if twin in known and twin not in taken:  # known twin not read (yet): decide at the end
                deferred.append((article, old is not None, twin))
            else:
                report.duplicates.append((article.origin, twin))
            continue
        by_hash[article.content_hash] = article.id
        yield article, old is not None
    gone = doomed() if deferred else set()
    for article, is_update, twin in deferred:
        owner = by_hash[article.content_hash]
        if owner != twin or twin in taken or twin not in gone:
            report.duplicates.append((article.origin, owner))
            continue
        by_hash[article.content_hash] = article.id  # the twin is pruned: this copy takes over
        yield article, is_update


def index_paths(
    paths: Iterable[Path],
    store: Store,
    embedder: Embedder,
    settings: Settings,
    *,
    prune: bool = False,
    prune_all: bool = False,
    progress: Callable[[Progress], None] | None = None,
    meta: dict[str, str] | None = None,
    stop: Callable[[], bool] | None = None,
) -> IndexReport:
    """Index files and folders into the store; safe to interrupt and re-run at any point.

    `meta` ({"source": …, "date": …}) replaces those fields of every article read, where given.
    `prune` removes articles whose files are gone, but holds them back in `report.held_back`
    when they are more than half the index, unless `prune_all`. `stop()`, asked after each
    written batch, ends the run there (`report.stopped`; nothing is pruned then).
    Runs under the index's writer lock: the caller's, or taken here (IndexBusy when another
    writer holds it; callers that would rather wait take it first with `index_lock.writing`).
    """
    with writing(store.settings.index_dir, "indexing", wait=False):
        return _index_paths(
            paths,
            store,
            embedder,
            settings,
            prune=prune,
            prune_all=prune_all,
            progress=progress,
            meta=meta or {},
            stop=stop or (lambda: False),
        )


def _index_paths(
    paths: Iterable[Path],
    store: Store,
    embedder: Embedder,
    settings: Settings,
    *,
    prune: bool,
    prune_all: bool,
    progress: Callable[[Progress], None] | None,
    meta: dict[str, str],
    stop: Callable[[], bool],
) -> IndexReport:
    store.check()
    report = IndexReport(recovered=store.recover())
    if store.vector_gap():
        report.repaired = repair(store, embedder)
    known = {a.id: a for a in store.articles()}
    files = find_files(paths, report.skipped)
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    given = {k: v.strip() for k, v in meta.items() if k in ("source", "date") and v.strip()}
    if "date" in given:
        given["date_from"] = ""  # the upload box's date, not the one read from the text
    loaded = (
        replace(item, **given) if given and isinstance(item, Article) else item
        for path in files
        for item in load_file(path, max_bytes)
    )

    todo: list[tuple[Article, bool, list[Chunk]]] = []
    taken: dict[str, str] = {}

    def doomed() -> set[str]:
        return set(_prunable(known, files, taken)) if prune else set()

    for article, is_update in plan(loaded, known, report, taken, doomed):
        chunks = chunk_text(article.id, article.text, settings.chunk_tokens, settings.chunk_overlap)
        if not chunks:
            report.skipped.append(Skipped(article.origin, "no text to index"))
            continue
        todo.append((article, is_update, chunks))

    total = sum(len(c) for _, _, c in todo)
    done = 0
    if progress:
        noun = "article" if len(todo) == 1 else "articles"
        message = f"Embedding {len(todo)} {noun} ({total} passages)…"
        progress(Progress(0, total, message, 0, len(todo)))
    batch: list[tuple[Article, bool, list[Chunk]]] = []
    for i, entry in enumerate(todo):
        batch.append(entry)
        if sum(len(c) for _, _, c in batch) >= WRITE_BATCH_CHUNKS or i == len(todo) - 1:
            done += _write(batch, store, embedder, report)
            batch = []
            if progress:
                progress(Progress(done, total, "", i + 1, len(todo)))
            if i < len(todo) - 1 and stop():
                report.stopped = True
                break
    report.chunks = done
    store.set_origins(report.moved)

    if prune and not report.stopped:
        gone = _prunable(known, files, taken)
        if len(gone) * 2 > len(known) and not prune_all:  # an unmounted drive looks like this
            report.held_back = gone
        else:
            report.removed = gone
            store.remove(gone)
    return report


def _write(
    batch: list[tuple[Article, bool, list[Chunk]]],
    store: Store,
    embedder: Embedder,
    report: IndexReport,
) -> int:
    """Embed a batch of articles, replace their old versions and store them."""
    texts = [embed_text(a.title, c.text) for a, _, chunks in batch for c in chunks]
    vectors = embedder.embed_documents(texts)
    store.remove([a.id for a, is_update, _ in batch if is_update])
    items, pos = [], 0
    for article, _, chunks in batch:
        items.append((article, chunks, vectors[pos : pos + len(chunks)]))
        pos += len(chunks)
    store.add(items)
    for article, is_update, _ in batch:
        (report.updated if is_update else report.added).append(article.id)
        if article.date_from == "text":
            report.dated_from_text.append(article.id)
    return len(texts)


def repair(store: Store, embedder: Embedder) -> int:
    """Embed again, from the manifest, every passage whose vector Chroma lost; returns how many.

    The article files are not needed: the manifest keeps each article's cleaned text and chunks.
    """
    with writing(store.settings.index_dir, "repairing", wait=False):
        missing = store.missing_vectors()
        for article in store.articles_by_id(list(missing)):
            chunks = missing[article.id]
            vectors = embedder.embed_documents([embed_text(article.title, c.text) for c in chunks])
            store.restore_vectors(article, chunks, vectors)
        return sum(len(c) for c in missing.values())


def _prunable(
    known: dict[str, StoredArticle], files: list[Path], taken: dict[str, str]
) -> list[str]:
    """Articles whose file is gone, or whose file was read now but no longer holds them."""
    read_files = {readable_path(p) for p in files}  # as load_file spells origins
    gone = []
    for article in known.values():
        origin = taken.get(article.id, article.origin).split("#", 1)[0]
        read_now = origin in read_files and article.id not in taken
        if read_now or not os.path.exists(fs_path(origin)):
            gone.append(article.id)
    return sorted(gone)


def open_index(settings: Settings, *, for_queries: bool = False) -> tuple[Store, Embedder]:
    """The configured embedder and the store it reads and writes."""
    from rag.embeddings import make_embedder

    embedder = make_embedder(settings, for_queries=for_queries)
    return Store(settings, stamp_for(settings, embedder)), embedder
