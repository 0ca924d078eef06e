"""Read article files (txt, md, html, pdf, jsonl, jsonl.gz) into cleaned `Article`s.

Loading never raises on bad input: every file or JSONL line that cannot become an
article is reported as a `Skipped` with a short, user-facing reason.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from rag.cleaning import clean_text, date_in_text, guess_title, parse_date
from rag.decoding import BINARY_REASON, decode_bytes
from rag.files import Skipped, find_files, os_reason, readable_path, suffix_of
from rag.readers import html_parts, pdf_parts

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Article",
    "Skipped",
    "clean_text",
    "decode_bytes",
    "find_files",
    "load_file",
    "parse_date",
    "slugify",
]

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl", ".jsonl.gz"}
)
# Metadata keys accepted in a header block / front matter / JSONL row, with aliases.
META_KEYS: dict[str, str] = {
    "title": "title", "headline": "title",
    "source": "source", "publication": "source", "publisher": "source",
    "date": "date", "published": "date",
    "url": "url", "link": "url",
    "author": "author", "authors": "author", "byline": "author",
}  # fmt: skip
TITLE_MAX_CHARS = 200
META_MAX_CHARS = 1000  # any other metadata field; a header is a line, not a document
# A compressed JSONL may inflate to this many times its size: news JSONL inflates 2.7x
# (news-10k.jsonl.gz), so 50x is no article collection but a bomb of repeated lines.
MAX_INFLATE_RATIO = 50
MAX_JSONL_LINES = 1_000_000  # one file; more is split into several files
SLUG_MAX_CHARS = 60
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_HEADER_LINE_RE = re.compile(r"([A-Za-z][A-Za-z ]{0,20}):[ \t]*(.*)")


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: `*a` could expand a few hundred bytes into gigabytes."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases are not allowed in front matter")
        return super().compose_node(parent, index)


@dataclass(frozen=True)
class Article:
    """One cleaned article; `text` (body without the title) is what gets chunked and shown."""

    id: str
    title: str
    text: str
    source: str = ""
    date: str = ""
    url: str = ""
    author: str = ""
    origin: str = ""
    date_from: str = ""  # "text": no header, front matter or upload box dated it; its lines did

    @property
    def content_hash(self) -> str:
        """Sha256 of the whitespace-collapsed text, so the same content dedups across names."""
        return hashlib.sha256(" ".join(self.text.split()).encode("utf-8")).hexdigest()


def slugify(value: str, fallback: str = "article") -> str:
    """Make a stable id: ASCII lowercase [a-z0-9_-], at most 60 characters."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_-]+", "-", ascii_text.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-_")[:SLUG_MAX_CHARS].strip("-_")
    return slug or fallback


def _stem(origin: str) -> str:
    """The file name of an origin without its suffix (the title of last resort)."""
    path = Path(origin)
    name = path.name
    return name[: -len(".jsonl.gz")] if name.lower().endswith(".jsonl.gz") else path.stem


def split_header(text: str) -> tuple[dict[str, str], str]:
    """Split a leading `Key: value` block or YAML front matter from the body."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("---\n"):
        end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.MULTILINE)
        if end:
            try:
                data = yaml.load(text[4 : 4 + end.start()], Loader=_NoAliasLoader)
            except yaml.YAMLError:
                data = None
            if isinstance(data, dict):
                return _meta(data), text[4 + end.end() :].lstrip("\n")
        return {}, text
    lines = text.split("\n")
    meta: dict[str, Any] = {}
    for i, line in enumerate(lines):
        if not line.strip():
            return (_meta(meta), "\n".join(lines[i + 1 :])) if meta else ({}, text)
        match = _HEADER_LINE_RE.fullmatch(line.strip())
        if not match or match.group(1).strip().lower() not in META_KEYS:
            return {}, text
        meta[match.group(1).strip()] = match.group(2)
    return {}, text


def _meta(raw: dict[Any, Any]) -> dict[str, str]:
    """Map known keys (case-insensitive, with aliases) to plain strings."""
    meta: dict[str, str] = {}
    for key, value in raw.items():
        field = META_KEYS.get(str(key).strip().lower())
        if field and value is not None and field not in meta:
            if isinstance(value, list | tuple):
                value = ", ".join(str(v)[:META_MAX_CHARS] for v in value[:20])
            meta[field] = _valid(str(value)[:META_MAX_CHARS].strip())
    return meta


def _valid(text: str) -> str:
    """Text SQLite can store: a lone surrogate (a JSON `\\ud800`, say) becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def make_article(
    meta: dict[str, str],
    body: str,
    article_id: str,
    fallback_title: str,
    origin: str,
    date_from_text: bool = False,
) -> Article | Skipped:
    """Build a cleaned Article from metadata and raw body, or a Skipped if no text is left.

    date_from_text: when the metadata gives no date, read one from the body's first lines
    (plain-text files, whose only date is often a line under the title).
    """
    title = meta.get("title", "").strip()
    if not title:
        title = guess_title(body)
        if title and title == body.strip():
            title = ""
    text = _valid(clean_text(body, title=title))
    title = _valid(" ".join((title or fallback_title).split())[:TITLE_MAX_CHARS])
    if not text:
        return Skipped(origin, "no text after cleaning")
    day = parse_date(meta.get("date", ""))
    from_text = date_in_text(body) if date_from_text and not day else ""
    return Article(
        id=article_id,
        title=title,
        text=text,
        source=meta.get("source", ""),
        date=day or from_text,
        url=meta.get("url", ""),
        author=meta.get("author", ""),
        origin=origin,
        date_from="text" if from_text else "",
    )


def _read_lines(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield (line number, bytes), or None for lines longer than max_bytes, reading lazily."""
    line_no = 0
    while line := handle.readline(max_bytes + 1):
        line_no += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(1 << 20)
            yield line_no, None
        else:
            yield line_no, line


def _load_jsonl(path: Path, max_bytes: int, origin: str) -> Iterator[Article | Skipped]:
    """Stream one article per JSONL line; a bad line is skipped and the rest still load."""
    stem = slugify(_stem(origin))
    compressed = suffix_of(path) == ".jsonl.gz"
    opener = gzip.open if compressed else open
    most = MAX_INFLATE_RATIO * path.stat().st_size if compressed else None
    read = 0
    try:
        with opener(path, "rb") as handle:
            for line_no, line in _read_lines(handle, max_bytes):  # type: ignore[arg-type]
                where = f"{origin}#{line_no}"
                read += len(line or b"")
                if line_no > MAX_JSONL_LINES or (most is not None and read > most):
                    yield Skipped(where, _stopped(line_no, most is not None and read > most))
                    return
                if line is None:
                    yield Skipped(where, f"line {line_no}: longer than {_mb(max_bytes)} MB")
                    continue
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    yield Skipped(where, f"line {line_no}: invalid JSON")
                    continue
                if not isinstance(row, dict):
                    yield Skipped(where, f"line {line_no}: not a JSON object")
                    continue
                text = row.get("text")
                if not isinstance(text, str) or not text.strip():
                    yield Skipped(where, f"line {line_no}: no text")
                    continue
                raw_id = row.get("id") or row.get("doc_id")
                art_id = slugify(str(raw_id)) if raw_id else f"{stem}-{line_no}"
                item = make_article(_meta(row), text, art_id, f"{_stem(origin)} #{line_no}", where)
                if isinstance(item, Skipped):
                    item = Skipped(where, f"line {line_no}: {item.reason}")
                yield item
    except OSError as error:
        if isinstance(error, gzip.BadGzipFile):
            yield Skipped(origin, "unreadable: not a valid gzip file")
        else:
            yield Skipped(origin, os_reason(error))
    except (EOFError, zlib.error):
        yield Skipped(origin, "unreadable: truncated or corrupt gzip file")


def _stopped(line_no: int, inflated: bool) -> str:
    why = (
        f"it inflates to over {MAX_INFLATE_RATIO} times its compressed size, which articles"
        " never do (a compression bomb?)"
        if inflated
        else f"a file may hold at most {MAX_JSONL_LINES:,} lines: split it into several files"
    )
    return f"stopped reading at line {line_no:,}: {why}; the lines before it were read"


def _mb(max_bytes: int) -> str:
    return f"{max_bytes / 1_048_576:g}"


def load_file(path: Path, max_bytes: int) -> Iterator[Article | Skipped]:
    """Yield the articles in one file, or Skipped entries saying why not; never raises.

    A reader that fails in a way nobody foresaw skips its file, never the whole run.
    """
    origin = readable_path(path)
    try:
        yield from _load(Path(path), max_bytes, origin)
    except Exception as error:  # one file's parser must not stop the run
        yield Skipped(origin, f"could not be read ({type(error).__name__}: {error})"[:300])


def _load(path: Path, max_bytes: int, origin: str) -> Iterator[Article | Skipped]:
    suffix = suffix_of(path)
    try:
        info = path.stat()
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory")
    except OSError as error:
        yield Skipped(origin, os_reason(error))
        return
    if suffix not in SUPPORTED_SUFFIXES:
        yield Skipped(origin, f"unsupported type {suffix or '(no suffix)'}")
        return
    if info.st_size == 0:
        yield Skipped(origin, "empty file")
        return
    if suffix in (".jsonl", ".jsonl.gz"):
        yield from _load_jsonl(path, max_bytes, origin)
        return
    if info.st_size > max_bytes:
        yield Skipped(origin, f"larger than {_mb(max_bytes)} MB (RAG_MAX_FILE_MB)")
        return
    try:
        data = path.read_bytes()
    except OSError as error:
        yield Skipped(origin, os_reason(error))
        return
    article_id = slugify(_stem(origin))
    if suffix == ".pdf":
        parts = pdf_parts(data)
        if parts is None:
            yield Skipped(origin, "unreadable PDF")
            return
        meta, body = parts
    else:
        text = decode_bytes(data)
        if text is None:
            yield Skipped(origin, BINARY_REASON)
            return
        if not text.strip():
            yield Skipped(origin, "empty file")
            return
        meta, body = html_parts(text) if suffix in (".html", ".htm") else split_header(text)
    plain = suffix in (".txt", ".md", ".markdown")
    yield make_article(meta, body, article_id, _stem(origin), origin, date_from_text=plain)
