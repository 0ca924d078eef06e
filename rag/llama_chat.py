"""Our answer engine as a llama-index chat engine: follow-ups are searched with the question
before them (`rag.answering.followup.condense`, no LLM call), each reply is a verified, cited
answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.chat_engine.types import (
    AgentChatResponse,
    BaseChatEngine,
    StreamingAgentChatResponse,
)

from rag.answering.answer import answer_stream, ask
from rag.answering.compose import Answer
from rag.answering.engine import Engine, Event
from rag.filters import Filters
from rag.llama_index import answer_metadata, cited_nodes, drafts, first_sources, node_of


@dataclass
class CitedChatStream(StreamingAgentChatResponse):
    """A streaming chat reply: `response_gen` yields the model's words as it writes them (a
    draft); once they are read, `response` is the verified answer, `source_nodes` (until then
    the sentences read) the cited sentences and `metadata` the verdict."""

    draft: Iterator[str] = field(default_factory=lambda: iter(()))
    metadata: dict[str, Any] | None = None

    def settle(self, answer: Answer) -> None:
        """Take the verified answer's text, cited sentences and verdict."""
        self.response = answer.text
        self.source_nodes = cited_nodes(answer)
        self.metadata = answer_metadata(answer)
        self.is_done = True

    @property
    def response_gen(self) -> Generator[str, None, None]:
        for piece in self.draft:
            self.unformatted_response += piece
            yield piece

    async def async_response_gen(self) -> AsyncGenerator[str, None]:
        pieces = self.response_gen
        while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
            yield piece

    def __str__(self) -> str:
        for _ in self.response_gen:
            pass
        return self.response

    def print_response_stream(self) -> None:
        """Print the draft as it comes, then the verified answer."""
        for piece in self.response_gen:
            print(piece, end="", flush=True)
        print(f"\n\n{self.response}")


class CitedChatEngine(BaseChatEngine):
    """A conversation over the indexed articles: `chat`, `stream_chat` and their async forms
    answer with our verified, cited answers; the history is this engine's own unless a
    `chat_history` is passed for a turn."""

    def __init__(
        self,
        engine: Engine,
        *,
        filters: Filters | None = None,
        top_k: int | None = None,
        hybrid: bool | None = None,
        chat_history: list[ChatMessage] | None = None,
    ) -> None:
        self.engine = engine
        self.options: dict[str, Any] = {"filters": filters, "top_k": top_k, "hybrid": hybrid}
        self._history: list[ChatMessage] = list(chat_history or [])

    @property
    def chat_history(self) -> list[ChatMessage]:
        return list(self._history)

    def reset(self) -> None:
        self._history = []

    def _turns(self, chat_history: list[ChatMessage] | None) -> list[dict[str, str]]:
        """The history a turn is asked with, as the answer engine reads it."""
        messages = self._history if chat_history is None else chat_history
        return [{"role": m.role.value, "content": m.content or ""} for m in messages]

    def _remember(self, message: str, answer: Answer) -> None:
        self._history += [
            ChatMessage(role=MessageRole.USER, content=message),
            ChatMessage(role=MessageRole.ASSISTANT, content=answer.text),
        ]

    def chat(
        self, message: str, chat_history: list[ChatMessage] | None = None
    ) -> AgentChatResponse:
        answer = ask(message, self.engine, history=self._turns(chat_history), **self.options)
        self._remember(message, answer)
        return AgentChatResponse(
            answer.text, source_nodes=cited_nodes(answer), metadata=answer_metadata(answer)
        )

    def stream_chat(
        self, message: str, chat_history: list[ChatMessage] | None = None
    ) -> CitedChatStream:
        """Returns once retrieval is done; the answer joins the history once it is read."""
        events: Iterator[Event] = answer_stream(
            message, self.engine, history=self._turns(chat_history), **self.options
        )
        stream = CitedChatStream(source_nodes=[node_of(p) for p in first_sources(events)])

        def settle(answer: Answer) -> None:
            stream.settle(answer)
            self._remember(message, answer)

        stream.draft = drafts(events, settle)
        return stream

    async def achat(
        self, message: str, chat_history: list[ChatMessage] | None = None
    ) -> AgentChatResponse:
        return await asyncio.to_thread(self.chat, message, chat_history)

    async def astream_chat(
        self, message: str, chat_history: list[ChatMessage] | None = None
    ) -> CitedChatStream:
        return await asyncio.to_thread(self.stream_chat, message, chat_history)
