"""Our retriever and query engine inside plain llama-index pipelines: real Chroma, the fake
embedding, the scripted OpenAI-compatible server (for our engine and for llama-index's LLM)."""

from __future__ import annotations

import asyncio
import json

import pytest
from fake_llm import ScriptedLLM
from fakes import FakeEmbedder
from helpers import GAS_QUESTION, scripted_reply
from llama_index.core.base.response.schema import Response, StreamingResponse
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle
from llama_index.core.tools import QueryEngineTool
from llama_index.llms.openai_like import OpenAILike

from rag.answering.engine import Engine
from rag.filters import Filters
from rag.llama_index import ArticleRetriever, CitedQueryEngine, CitedStreamingResponse
from rag.llm import ChatLLM
from rag.settings import Settings
from rag.store import Store

NO_ANSWER = json.dumps({"answers": [], "sentence": ""})

Indexed = tuple[Settings, Store, FakeEmbedder]


@pytest.fixture
def engine(indexed: Indexed, llm_server: ScriptedLLM) -> Engine:
    settings, store, embedder = indexed
    return Engine(settings, store, embedder, ChatLLM(llm_server.base_url, "k", "m", 5, 0))


def exact(nodes: list[NodeWithScore], store: Store) -> bool:
    """Every node's text is its article's text at the node's offsets."""
    for n in nodes:
        article = store.article(n.node.metadata["article_id"])
        node = n.node
        if article is None or article.text[node.start_char_idx : node.end_char_idx] != node.text:
            return False
    return True


def test_our_retriever_feeds_llama_index_retriever_query_engine(
    engine: Engine, llm_server: ScriptedLLM
) -> None:
    llm_server.responder = lambda request: "Shining Path rebels took 36 workers."
    llm = OpenAILike(
        model="scripted", api_base=llm_server.base_url, api_key="k", is_chat_model=True,
        context_window=4096,
    )  # fmt: skip
    pipeline = RetrieverQueryEngine.from_args(ArticleRetriever(engine, top_k=3), llm=llm)
    response = pipeline.query(GAS_QUESTION)
    assert str(response) == "Shining Path rebels took 36 workers."
    prompt = json.dumps(llm_server.requests[-1]["messages"])
    assert "36 natural gas workers" in prompt  # our chunks are what llama-index's LLM read
    assert "title: " in prompt and "url: " not in prompt and "http" not in prompt
    assert len(response.source_nodes) == 3 and exact(response.source_nodes, engine.store)


def test_nodes_carry_the_article_and_its_exact_offsets(engine: Engine) -> None:
    nodes = ArticleRetriever(engine, top_k=6).retrieve("Chachaspata cocaine kilograms")
    assert "Chachaspata" in nodes[0].node.get_content()
    assert exact(nodes, engine.store)
    for n in nodes:
        article = engine.store.article(n.node.ref_doc_id or "")
        assert article is not None
        meta = n.node.metadata
        assert (meta["title"], meta["source"], meta["date"], meta["url"]) == (
            article.title, article.source, article.date, article.url,
        )  # fmt: skip
        assert (meta["start"], meta["end"]) == (n.node.start_char_idx, n.node.end_char_idx)
        assert "url" not in n.node.get_content(metadata_mode=MetadataMode.LLM)
    scores = [n.score for n in nodes]
    assert scores == sorted(scores, reverse=True)  # best article first


def test_the_retriever_keeps_to_its_filters(engine: Engine) -> None:
    retriever = ArticleRetriever(engine, filters=Filters(sources=("EFE",)))
    nodes = retriever.retrieve(QueryBundle("Shining Path cocaine"))
    assert nodes and {n.node.metadata["source"] for n in nodes} == {"EFE"}


def test_the_query_engine_answers_with_the_verified_claims_and_their_sentences(
    engine: Engine, llm_server: ScriptedLLM
) -> None:
    llm_server.responder = scripted_reply  # 36 (true) and 500 soldiers (made up)
    response = CitedQueryEngine(engine=engine).query(GAS_QUESTION)
    assert isinstance(response, Response)
    assert "36" in response.response and "500" not in response.response
    assert response.source_nodes and exact(response.source_nodes, engine.store)
    assert any("36 natural gas workers" in n.node.text for n in response.source_nodes)
    for n in response.source_nodes:
        start, end = n.node.metadata["support"]
        assert n.node.start_char_idx <= start < end <= n.node.end_char_idx
        assert f"[{n.node.metadata['n']}]" in response.response
    meta = response.metadata
    assert meta["abstained"] is False and meta["disagreement"] is False
    [left_out] = meta["left_out"]
    assert left_out["text"] == "500 soldiers" and "not in the cited sentences" in left_out["reason"]


def test_an_abstention_is_in_the_metadata_with_no_sources(
    engine: Engine, llm_server: ScriptedLLM
) -> None:
    llm_server.responder = lambda request: NO_ANSWER
    response = CitedQueryEngine(engine=engine).query("Who won the 1998 World Cup final?")
    assert response.metadata["abstained"] is True and response.source_nodes == []
    assert str(response).startswith("The articles do not say")


def test_the_query_engine_works_as_a_llama_index_tool_and_async(
    engine: Engine, llm_server: ScriptedLLM
) -> None:
    llm_server.responder = scripted_reply
    query_engine = CitedQueryEngine(engine=engine)
    tool = QueryEngineTool.from_defaults(query_engine, name="articles", description="News.")
    output = tool.call(GAS_QUESTION)
    assert output.raw_output.metadata["left_out"] and "36" in output.content
    later = asyncio.run(query_engine.aquery(GAS_QUESTION))
    assert later.response == output.content


def test_streaming_gives_sources_first_then_the_draft_then_the_verified_answer(
    engine: Engine, llm_server: ScriptedLLM
) -> None:
    llm_server.responder = scripted_reply
    response = CitedQueryEngine(engine=engine, streaming=True).query(GAS_QUESTION)
    assert isinstance(response, StreamingResponse) and isinstance(response, CitedStreamingResponse)
    read = [n.node.text for n in response.source_nodes]  # the sentences the model reads
    assert any("36 natural gas workers" in text for text in read) and len(read) > 1
    draft = "".join(response.response_gen)
    assert "500 soldiers" in draft  # the model's words, before verification
    final = response.get_response()
    assert str(response) == final.response and "36" in final.response
    assert "500" not in final.response and final.metadata["left_out"]
    assert 0 < len(final.source_nodes) < len(read) and exact(final.source_nodes, engine.store)
