"""The plain records retrieval hands to the answering steps: an article as the index stores it
and a retrieved chunk. They live here, apart from the store and the retriever, so a pure step
reads them without importing the modules that do the I/O."""

from __future__ import annotations

from dataclasses import dataclass

from rag.chunking import Chunk


@dataclass(frozen=True)
class StoredArticle:
    """An article row of the manifest, without its text unless asked for."""

    id: str
    origin: str
    content_hash: str
    record_hash: str
    title: str
    source: str
    date: str
    url: str
    author: str
    n_chunks: int
    text: str = ""


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its article's fused score and how each retriever ranked it."""

    chunk: Chunk
    score: float
    similarity: float | None
    dense_rank: int | None
    keyword_rank: int | None
