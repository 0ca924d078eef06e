"""rag: cited answers from news articles, offline. The Python API and its typed objects.

They are imported on first use (`rag.ask`, `from rag import Answer`), so `import rag.settings`
or the `rag` command do not pay for the whole pipeline.

>>> from rag import Answer, open_engine
>>> Answer.__module__, open_engine.__module__
('rag.answering.compose', 'rag.api')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "open_engine": "rag.api",
    "index_paths": "rag.api",
    "ask": "rag.api",
    "answer_stream": "rag.api",
    "Engine": "rag.answering.engine",
    "Status": "rag.answering.engine",
    "Sources": "rag.answering.engine",
    "Token": "rag.answering.engine",
    "Done": "rag.answering.engine",
    "Event": "rag.answering.engine",
    "Answer": "rag.answering.compose",
    "Citation": "rag.citations",
    "Passage": "rag.citations",
    "Sentence": "rag.citations",
    "Settings": "rag.settings",
    "Filters": "rag.filters",
    "IndexReport": "rag.indexer",
    "Progress": "rag.indexer",
    "Skipped": "rag.articles",
}
__all__ = [
    "Answer", "Citation", "Done", "Engine", "Event", "Filters", "IndexReport", "Passage",
    "Progress", "Sentence", "Settings", "Skipped", "Sources", "Status", "Token",
    "answer_stream", "ask", "index_paths", "open_engine",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    """Import an exported name's module when the name is first used."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


if TYPE_CHECKING:
    from rag.answering.compose import Answer
    from rag.answering.engine import Done, Engine, Event, Sources, Status, Token
    from rag.api import answer_stream, ask, index_paths, open_engine
    from rag.articles import Skipped
    from rag.citations import Citation, Passage, Sentence
    from rag.filters import Filters
    from rag.indexer import IndexReport, Progress
    from rag.settings import Settings
