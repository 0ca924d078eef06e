"""Split article text into sentence-aware, overlapping chunks that keep exact offsets.

Every chunk satisfies `text[chunk.start:chunk.end] == chunk.text`, so a citation can always
point at the exact passage in the stored article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by space and a capital,
# digit or opening quote; a line break always ends one (scraped paragraphs are lines).
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[¿¡]?[A-Z0-9À-ÖØ-Þ])")
_LINE = re.compile(r"[^\n]+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "Gen.", "Sen.", "Rep.", "St.", "U.S.", "U.N.")


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
    """Return (start, end) offsets of sentences in text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text, start, end):
        cut = line.start()
        for m in _SENTENCE_END.finditer(text, line.start(), line.end()):
            if text[cut : m.start()].endswith(_ABBREVIATIONS):
                continue
            spans.append((cut, m.start()))
            cut = m.end()
        spans.append((cut, line.end()))
    return [t for t in (_trim(text, s, e) for s, e in spans) if t[0] < t[1]]


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
    """What is embedded for a chunk: its article's title (cut short), then the chunk.

    The title lets a chunk that never names its story match a question that does; the
    chunk's offsets and the text shown to the LLM stay the article's own.
    >>> embed_text("Peru kidnapping", "Six days later they were freed.")
    'Peru kidnapping\n\nSix days later they were freed.'
    """
    words = title.split()
    while words and estimate_tokens(" ".join(words)) > CONTEXT_TITLE_TOKENS:
        words.pop()
    return f"{' '.join(words)}\n\n{chunk_text}" if words else chunk_text
