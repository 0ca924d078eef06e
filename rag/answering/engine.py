"""The answer engine's parts and the events it streams.

`Engine` holds what every question needs, opened once per process; one event stream
(`Status`, `Sources`, `Token`, `Done`) serves the app, the CLI and the eval. Retrieval and
answering both take an `Engine`, so it sits below them both.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.answering.compose import Answer
from rag.answering.pace import Pace
from rag.citations import Passage
from rag.embedded import EmbeddedLLM
from rag.llm import ChatLLM
from rag.settings import Settings
from rag.store import Store

if TYPE_CHECKING:
    from rag.embeddings import Embedder


@dataclass
class Status:
    """Progress shown while waiting (retrieving, loading model…)."""

    message: str


@dataclass
class Sources:
    """The passages the answer will be drawn from, sent as soon as retrieval finishes, and
    again (with the next sentences added) when the model reads on: words streamed before
    that were its first try."""

    passages: list[Passage]


@dataclass
class Token:
    """A piece of answer text as the LLM streams it."""

    text: str


@dataclass
class Done:
    """The last event: the verified answer."""

    answer: Answer


Event = Status | Sources | Token | Done


@dataclass
class Engine:
    """Everything answering needs, opened once per process and shared by every question.

    Questions share it from many threads, so what it learns is kept in thread-safe objects
    and nothing about one question is stored on it: `schemas_refused` is set, once and for
    good, when a remote server refuses JSON-schema output (free text is asked from then on);
    `pace` is measured as answers come, for the wait estimate, behind its own lock.
    """

    settings: Settings
    store: Store
    embedder: Embedder
    llm: ChatLLM | EmbeddedLLM | None
    schemas_refused: threading.Event = field(default_factory=threading.Event)
    pace: Pace = field(default_factory=Pace)

    def close(self) -> None:
        """Stop the embedded model server, if one was started."""
        if isinstance(self.llm, EmbeddedLLM):
            self.llm.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
