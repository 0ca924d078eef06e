"""The Library tab as plain functions: the article table, uploads saved safely and indexed, removal.

No Gradio here: `ui.py` wires these to components, tests call them directly. Uploads are copied
under sanitised names into `<state dir>/uploads` before indexing.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.answering.engine import Engine
from rag.api import index_paths
from rag.app.render import esc, notice_html
from rag.articles import Article, load_file
from rag.cleaning import parse_date
from rag.errors import RagError
from rag.index_lock import IndexBusy, writing
from rag.indexer import IndexReport, Progress, not_indexed

UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl")
MAX_NAME_CHARS = 80
LIBRARY_HEADERS = ["Title", "Source", "Date", "Chunks", "Id"]


def library_rows(engine: Engine) -> list[list[Any]]:
    """One row per indexed article for the Library table."""
    return [[a.title or a.id, a.source, a.date, a.n_chunks, a.id] for a in engine.store.articles()]


def article_choices(engine: Engine) -> list[tuple[str, str]]:
    """(label, id) for the remove-article dropdown."""
    return [(f"{a.title or a.id} ({a.id})", a.id) for a in engine.store.articles()]


def sanitize_filename(name: str) -> str:
    """A safe file name: no directories, letters (any script), digits, `._-`, bounded length.

    >>> sanitize_filename("../новости дня.TXT")
    'новости_дня.txt'
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in base).lstrip("._-")
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot:
        stem, suffix = cleaned, ""
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def save_uploads(
    files: list[str], dest: Path, max_mb: float
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Copy accepted uploads into `dest` under sanitised names; (saved, [(name, reason)])."""
    saved: list[Path] = []
    rejected: list[tuple[str, str]] = []
    dest.mkdir(parents=True, exist_ok=True)
    limit = int(max_mb * 1024 * 1024)
    for file in files:
        src = Path(file)
        name = sanitize_filename(src.name)
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            rejected.append((name, f"not a supported type ({', '.join(UPLOAD_SUFFIXES)})"))
            continue
        try:
            size = src.stat().st_size
        except OSError:
            rejected.append((name, "the upload could not be read"))
            continue
        if size > limit:
            rejected.append((name, f"larger than the {max_mb:g} MB upload limit"))
            continue
        target = dest / name
        data = src.read_bytes()
        if target.exists() and target.read_bytes() != data:
            stem, _, suffix = name.rpartition(".")
            target = dest / f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.{suffix}"
        target.write_bytes(data)
        saved.append(target)
    return saved, rejected


def upload_defaults(files: list[str] | None, max_mb: float) -> tuple[str, str]:
    """(source, date) the first chosen file gives itself (HTML meta, front matter, header)."""
    for file in files or []:
        try:
            for item in load_file(Path(file), int(max_mb * 1024 * 1024)):
                if isinstance(item, Article):  # a date read from its text is not for all
                    return item.source, "" if item.date_from else item.date
        except (OSError, RagError):
            continue
    return "", ""


def index_uploads(
    engine: Engine,
    files: list[str] | None,
    progress: Callable[..., Any] | None = None,
    source: str = "",
    date: str = "",
) -> tuple[str, list[list[Any]]]:
    """Save uploaded files and index them with the source and date given (if any);
    (report HTML, library rows)."""
    if not files:
        return notice_html("Choose one or more files to index first."), library_rows(engine)
    day = parse_date(date) if date.strip() else ""
    if date.strip() and not day:
        message = f"The date {date.strip()!r} is not a date like 2024-05-01: nothing was indexed."
        return notice_html(message), library_rows(engine)
    meta = {"source": source.strip(), "date": day}
    try:
        with writing(engine.settings.index_dir, "app upload", wait=False):
            return _index_uploads(engine, files, progress, meta)
    except IndexBusy as err:
        return notice_html(f"Nothing was indexed: {err}"), library_rows(engine)


def _index_uploads(
    engine: Engine, files: list[str], progress: Callable[..., Any] | None, meta: dict[str, str]
) -> tuple[str, list[list[Any]]]:
    settings = engine.settings
    saved, rejected = save_uploads(files, settings.state_dir / "uploads", settings.max_upload_mb)

    started = time.monotonic()

    def on_progress(p: Progress) -> None:
        if progress is not None:
            fraction = p.done / p.total if p.total else 0.0
            progress(fraction, desc=p.message or progress_text(p, time.monotonic() - started))

    report: IndexReport | None = None
    if saved:
        if progress is not None:
            progress(0.0, desc=f"Reading {len(saved)} file(s)…")
        try:
            report = index_paths(saved, engine, progress=on_progress, meta=meta)
        except RagError as err:
            rejected.extend((p.name, str(err)) for p in saved)
    return report_html(engine, report, rejected), library_rows(engine)


def progress_text(p: Progress, elapsed: float) -> str:
    """'12/40 articles, 300/1,000 passages, 25 a second, about 28 s left' (rate as measured).

    >>> progress_text(Progress(300, 1000, "", 12, 40), 12.0)
    '12/40 articles, 300/1,000 passages, 25 a second, about 28 s left'
    """
    text = f"{p.articles:,}/{p.articles_total:,} articles, {p.done:,}/{p.total:,} passages"
    if p.done and elapsed > 0:
        rate = p.done / elapsed
        text += f", {rate:.0f} a second, about {round((p.total - p.done) / rate):,} s left"
    return text


def _titled(engine: Engine, ids: list[str]) -> str:
    """Indexed articles named by their titles (the id when an article has none)."""
    names = []
    for article_id in ids:
        article = engine.store.article(article_id)
        names.append(article.title if article and article.title else article_id)
    return "; ".join(names)


def _dated(engine: Engine, ids: list[str]) -> str:
    """Articles with the date their first lines gave ("Title (2025-03-14)"): no header, file
    metadata or upload box dated them, so the report says where the date came from."""
    articles = [a for a in map(engine.store.article, ids) if a is not None]
    return "; ".join(f"{a.title or a.id} ({a.date})" for a in articles)


def report_html(
    engine: Engine, report: IndexReport | None, rejected: Sequence[tuple[str, str]]
) -> str:
    """What an upload did: articles added and updated by title, unchanged, every file refused."""
    if report is None and not rejected:
        return '<div class="rag-empty">Uploaded files are indexed here.</div>'
    lines: list[str] = []
    bad = list(rejected)
    if report is not None:
        if report.added:
            lines.append(f"Added {len(report.added)} article(s): {_titled(engine, report.added)}")
        if report.updated:
            lines.append(f"Updated {len(report.updated)}: {_titled(engine, report.updated)}")
        if report.unchanged:
            lines.append(f"{report.unchanged} already indexed and unchanged")
        if report.dated_from_text:
            lines.append(f"Date from the text: {_dated(engine, report.dated_from_text)}")
        for group in not_indexed(report):
            reason = (
                f"same text as the indexed article {_titled(engine, [group.twin])}"
                if group.twin
                else group.reason
            )
            bad.append((_base(group.first) + group.more, reason))
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    refused = "".join(f"<li><strong>{esc(n)}</strong>: {esc(r)}</li>" for n, r in bad)
    out = f'<div class="rag-report"><ul>{items}</ul>' if items else '<div class="rag-report">'
    if refused:
        out += f'<div class="rag-notice">Not indexed:</div><ul class="rag-rejected">{refused}</ul>'
    return out + "</div>"


def _base(origin: str) -> str:
    """The file name of an origin path (`…/uploads/a.jsonl#3` -> `a.jsonl#3`)."""
    return origin.replace("\\", "/").rsplit("/", 1)[-1]


def remove_article(engine: Engine, article_id: str | None) -> tuple[str, list[list[Any]]]:
    """Delete an article from the index; (message HTML, library rows)."""
    if not article_id:
        return notice_html("Choose an article to remove."), library_rows(engine)
    article = engine.store.article(article_id)
    if article is None:
        return notice_html("That article is not in the library."), library_rows(engine)
    try:
        with writing(engine.settings.index_dir, "app removal", wait=False):
            engine.store.remove([article_id])
    except RagError as err:
        return notice_html(f"Nothing was removed: {err}"), library_rows(engine)
    message = f"Removed {article.title or article.id}."
    return notice_html(message), library_rows(engine)
