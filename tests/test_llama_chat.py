"""Our chat engine through llama-index's chat-engine interface: follow-ups, streaming, async;
real Chroma, the fake embedding and the scripted OpenAI-compatible server."""

from __future__ import annotations

import asyncio

import pytest
from fake_llm import ScriptedLLM
from fakes import FakeEmbedder
from helpers import GAS_QUESTION, scripted_reply
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.chat_engine.types import (
    AgentChatResponse,
    BaseChatEngine,
    StreamingAgentChatResponse,
)

from rag.answering.engine import Engine
from rag.llama_chat import CitedChatEngine
from rag.llm import ChatLLM
from rag.settings import Settings
from rag.store import Store

FIRST = "Who kidnapped the natural gas workers?"
FOLLOW_UP = "How many of them were there?"

Indexed = tuple[Settings, Store, FakeEmbedder]


@pytest.fixture
def chat_engine(indexed: Indexed, llm_server: ScriptedLLM) -> BaseChatEngine:
    settings, store, embedder = indexed
    llm_server.responder = scripted_reply
    return CitedChatEngine(
        Engine(settings, store, embedder, ChatLLM(llm_server.base_url, "k", "m", 5, 0))
    )


def asked(llm_server: ScriptedLLM) -> str:
    """The question part of the last prompt our engine sent."""
    return llm_server.requests[-1]["messages"][-1]["content"]


def test_a_follow_up_is_asked_with_the_question_before_it(
    chat_engine: BaseChatEngine, llm_server: ScriptedLLM
) -> None:
    first = chat_engine.chat(FIRST)
    assert isinstance(first, AgentChatResponse)
    assert "earlier:" not in asked(llm_server)
    second = chat_engine.chat(FOLLOW_UP)
    assert f"{FOLLOW_UP} (earlier: {FIRST})" in asked(llm_server)
    roles = [m.role for m in chat_engine.chat_history]
    assert roles == [MessageRole.USER, MessageRole.ASSISTANT] * 2
    assert chat_engine.chat_history[-1].content == second.response
    chat_engine.reset()
    assert chat_engine.chat_history == []


def test_a_given_history_is_used_for_that_turn(
    chat_engine: BaseChatEngine, llm_server: ScriptedLLM
) -> None:
    history = [
        ChatMessage(role=MessageRole.USER, content=FIRST),
        ChatMessage(role=MessageRole.ASSISTANT, content="The Shining Path."),
    ]
    asyncio.run(chat_engine.achat(FOLLOW_UP, chat_history=history))
    assert f"(earlier: {FIRST})" in asked(llm_server)
    assert [m.content for m in chat_engine.chat_history][0] == FOLLOW_UP


def test_a_reply_is_the_verified_answer_with_its_verdict(chat_engine: BaseChatEngine) -> None:
    reply = chat_engine.chat(GAS_QUESTION)
    assert "36" in reply.response and "500" not in reply.response
    assert reply.metadata is not None and reply.metadata["abstained"] is False
    assert [c["text"] for c in reply.metadata["left_out"]] == ["500 soldiers"]
    assert any("36 natural gas workers" in n.node.text for n in reply.source_nodes)


def test_streaming_gives_the_draft_then_the_verified_answer(chat_engine: BaseChatEngine) -> None:
    stream = chat_engine.stream_chat(GAS_QUESTION)
    assert isinstance(stream, StreamingAgentChatResponse)
    read = len(stream.source_nodes)
    assert read > 1 and chat_engine.chat_history == []  # not answered yet
    draft = "".join(stream.response_gen)
    assert "500 soldiers" in draft
    assert "36" in str(stream) and "500" not in str(stream)
    assert 0 < len(stream.source_nodes) < read and stream.metadata["left_out"]
    assert chat_engine.chat_history[-1].content == stream.response


def test_async_streaming_reads_the_same_words(chat_engine: BaseChatEngine) -> None:
    async def words() -> tuple[str, str]:
        stream = await chat_engine.astream_chat(GAS_QUESTION)
        return "".join([w async for w in stream.async_response_gen()]), stream.response

    draft, answer = asyncio.run(words())
    assert "500 soldiers" in draft and "36" in answer and "500" not in answer
