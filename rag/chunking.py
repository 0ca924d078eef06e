"""Split article text into sentence-aware, overlapping chunks that keep exact offsets.

Every chunk satisfies `text[chunk.start:chunk.end] == chunk.text`, so a citation can always
point at the exact passage in the stored article.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sentencex import segment

_LINE = re.compile(r"[^\n]+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_ASCII = {"“": '"', "”": '"', "‘": "'", "’": "'", "…": ".", "¿": "-", "¡": "-"}


@dataclass(frozen=True)
class Chunk:
    """A piece of one article; `start:end` index the article's cleaned text."""

    article_id: str
    index: int
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.article_id}:{self.index}"


def estimate_tokens(text: str) -> int:
    """Approximate a word-piece token count: words and punctuation, plus a margin for long words.

    >>> estimate_tokens("Sixteen people were murdered.")
    5
    """
    pieces = _TOKEN.findall(text)
    return len(pieces) + sum(len(p) // 9 for p in pieces)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return (start, end) offsets of sentences in text[start:end], whitespace trimmed.

    sentencex finds the ends ('Red No. 3', 'Jan. 15' and 'R-Fla.' do not end one); a line
    break always ends one (scraped paragraphs are lines).
    """
    end = len(text) if end is None else end
    plain = _ascii(text)
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(plain, start, end):
        at = line.start()
        for piece in segment("en", line.group()):
            piece = piece.strip()
            found = plain.find(piece, at, line.end()) if piece else -1
            if found >= 0:
                at = found + len(piece)
                spans.append((found, at))
    return [t for t in (_trim(text, s, e) for s, e in spans) if t[0] < t[1]]


def _ascii(text: str) -> str:
    """The text with each non-ASCII character replaced by one ASCII one ('é' -> 'e', a
    no-break space -> ' '), so offsets stay the same: sentencex 1.0.32 panics when a
    multi-byte character follows an initial."""
    if text.isascii():
        return text
    return "".join(c if c.isascii() else _ASCII.get(c) or _fold(c) for c in text)


def _fold(c: str) -> str:
    """One ASCII stand-in for a non-ASCII character of the same kind."""
    if c.isspace():
        return " "
    base = unicodedata.normalize("NFKD", c)[:1]
    if base.isascii() and base.isalnum():
        return base
    if c.isalpha():
        return "A" if c.isupper() else "a"
    return "-"


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_long(text: str, span: tuple[int, int], max_tokens: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than max_tokens at word boundaries."""
    words = [m.span() for m in re.finditer(r"\S+", text[span[0] : span[1]])]
    pieces: list[tuple[int, int]] = []
    first = 0
    while first < len(words):
        last = first
        while (
            last + 1 < len(words)
            and estimate_tokens(text[span[0] + words[first][0] : span[0] + words[last + 1][1]])
            <= max_tokens
        ):
            last += 1
        pieces.append((span[0] + words[first][0], span[0] + words[last][1]))
        first = last + 1
    return pieces


def chunk_text(
    article_id: str, text: str, max_tokens: int = 180, overlap_tokens: int = 40
) -> list[Chunk]:
    """Group whole sentences into chunks of at most max_tokens, repeating ~overlap_tokens.

    Sentences longer than max_tokens are cut at word boundaries.
    """
    units: list[tuple[int, int]] = []
    for span in sentence_spans(text):
        if estimate_tokens(text[span[0] : span[1]]) > max_tokens:
            units.extend(_split_long(text, span, max_tokens))
        else:
            units.append(span)
    sizes = [estimate_tokens(text[s:e]) for s, e in units]

    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last, total = first, sizes[first]
        while last + 1 < len(units) and total + sizes[last + 1] <= max_tokens:
            last += 1
            total += sizes[last]
        start, end = units[first][0], units[last][1]
        chunks.append(Chunk(article_id, len(chunks), start, end, text[start:end]))
        if last + 1 >= len(units):
            break
        nxt, back = last + 1, 0
        while nxt - 1 > first and back + sizes[nxt - 1] <= overlap_tokens:
            nxt -= 1
            back += sizes[nxt]
        first = nxt
    return chunks


CONTEXT = "title-v1"  # what embed_text adds; part of the index stamp
CONTEXT_TITLE_TOKENS = 30


def embed_text(title: str, chunk_text: str) -> str:
    r"""What is embedded for a chunk: its article's title (cut short), then the chunk.

    The title lets a chunk that never names its story match a question that does; the
    chunk's offsets and the text shown to the LLM stay the article's own.
    >>> embed_text("Peru kidnapping", "Six days later they were freed.")
    'Peru kidnapping\n\nSix days later they were freed.'
    """
    words = title.split()
    while words and estimate_tokens(" ".join(words)) > CONTEXT_TITLE_TOKENS:
        words.pop()
    return f"{' '.join(words)}\n\n{chunk_text}" if words else chunk_text
