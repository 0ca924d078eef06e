"""Answering: passages in, a short cited answer out, streamed as events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Passage:
    """A numbered piece of an article given to the LLM; `start:end` spans the article text."""

    n: int
    chunk_id: str
    article_id: str
    title: str
    source: str
    date: str
    url: str
    text: str
    start: int
    end: int
    score: float = 0.0
    similarity: float = 0.0


@dataclass
class Citation:
    """A passage cited by the answer; `support` spans the supporting sentence in the article."""

    n: int
    article_id: str
    title: str
    source: str
    date: str
    url: str
    text: str
    start: int
    end: int
    support: tuple[int, int] | None = None


@dataclass
class Sentence:
    """One sentence of the answer with the passages that back it."""

    text: str
    citations: list[int] = field(default_factory=list)
    supported: bool = True
    reason: str = ""
    attached: bool = False


@dataclass
class Answer:
    """The final result of one question, whatever path produced it."""

    question: str
    query: str
    text: str
    abstained: bool
    mode: Literal["generated", "extractive"]
    citations: list[Citation] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    notice: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)


@dataclass
class Status:
    """Progress shown while waiting (retrieving, loading model…)."""

    message: str


@dataclass
class Token:
    """A piece of answer text as the LLM streams it."""

    text: str


@dataclass
class Done:
    """The last event: the verified answer."""

    answer: Answer


Event = Status | Token | Done
