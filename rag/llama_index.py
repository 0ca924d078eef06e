"""Our retrieval and cited-answer engine as llama-index components.

`ArticleRetriever` is a `BaseRetriever` (our hybrid, article-aware retrieval) that fits any
llama-index pipeline, e.g. `RetrieverQueryEngine`; `CitedQueryEngine` is a query engine whose
`Response` is our verified answer, its `source_nodes` the cited sentences. Nodes carry the
article id, title, source, date, URL and exact offsets into the article text. The chat engine
is in `rag/llama_chat.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response, StreamingResponse
from llama_index.core.callbacks import CallbackManager
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.schema import (
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)
from pydantic import InstanceOf

from rag.answering.answer import answer_stream, ask
from rag.answering.compose import Answer
from rag.answering.engine import Done, Engine, Event, Sources, Token
from rag.answering.search import ranked_chunks, search_hits
from rag.citations import Citation, Passage
from rag.errors import RagError
from rag.filters import Filters

HIDDEN_KEYS = ["n", "article_id", "chunk_id", "url", "start", "end", "support"]
"""Node metadata the LLM and embedders never see: ids, offsets, and URLs (a tracking URL can
be longer than a chunk, which llama-index's splitters refuse)."""


def node_of(passage: Passage) -> NodeWithScore:
    """A passage (retrieved chunk, evidence or cited sentence) as a scored llama-index node:
    its text at `start_char_idx:end_char_idx` of its article, which is the node's source
    document; a citation's supporting sentence span is `metadata["support"]`."""
    metadata: dict[str, Any] = {
        "n": passage.n,
        "article_id": passage.article_id,
        "chunk_id": passage.chunk_id,
        "title": passage.title,
        "source": passage.source,
        "date": passage.date,
        "url": passage.url,
        "start": passage.start,
        "end": passage.end,
    }
    if isinstance(passage, Citation) and passage.support is not None:
        metadata["support"] = list(passage.support)
    node = TextNode(
        id_=f"{passage.article_id}:{passage.start}-{passage.end}",
        text=passage.text,
        start_char_idx=passage.start,
        end_char_idx=passage.end,
        metadata=metadata,
        excluded_llm_metadata_keys=HIDDEN_KEYS,
        excluded_embed_metadata_keys=HIDDEN_KEYS,
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=passage.article_id)},
    )
    return NodeWithScore(node=node, score=passage.score)


def answer_metadata(answer: Answer) -> dict[str, Any]:
    """What a llama-index response carries besides text and sources: whether the answer
    abstained, whether the articles disagree, the claims left out and why, and the Answer."""
    return {
        "abstained": answer.abstained,
        "disagreement": answer.disagreement,
        "left_out": [
            {"text": s.text, "reason": s.reason, "citations": s.citations} for s in answer.left_out
        ],
        "mode": answer.mode,
        "kind": answer.kind,
        "notice": answer.notice,
        "answer": answer,
    }


def cited_nodes(answer: Answer) -> list[NodeWithScore]:
    """The answer's cited sentences as nodes, in order of first citation."""
    return [node_of(c) for c in answer.citations]


def first_sources(events: Iterator[Event]) -> list[Passage]:
    """Read an answer's events up to its first Sources: the sentences the model will read."""
    for event in events:
        if isinstance(event, Sources):
            return event.passages
    raise RagError("The answer stream ended early.")


def drafts(events: Iterator[Event], settle: Callable[[Answer], None]) -> Iterator[str]:
    """The model's words as they come (a draft; reading more sentences starts a new line);
    the verified answer at the end goes to `settle`."""
    streamed = False
    for event in events:
        if isinstance(event, Token):
            streamed = True
            yield event.text
        elif isinstance(event, Sources) and streamed:
            streamed = False
            yield "\n"
        elif isinstance(event, Done):
            settle(event.answer)
            return
    raise RagError("The answer stream ended early.")


@dataclass
class CitedStreamingResponse(StreamingResponse):
    """A StreamingResponse whose `response_gen` yields the model's words as it writes them: a
    draft, since verification may leave claims out. Once they are read, the text is the
    verified answer, `source_nodes` (until then the sentences read) the cited sentences and
    `metadata` the verdict; `str()`, `get_response()` and `print_response_stream()` read on."""

    def settle(self, answer: Answer) -> None:
        """Take the verified answer's text, cited sentences and verdict."""
        self.response_txt = answer.text
        self.source_nodes = cited_nodes(answer)
        self.metadata = answer_metadata(answer)

    def get_response(self) -> Response:
        for _ in self.response_gen:
            pass
        return Response(self.response_txt, self.source_nodes, self.metadata)

    def __str__(self) -> str:
        return self.get_response().response or ""

    def print_response_stream(self) -> None:
        """Print the draft as it comes, then the verified answer."""
        for text in self.response_gen:
            print(text, end="", flush=True)
        print(f"\n\n{self.response_txt}")


def streaming_response(events: Iterator[Event]) -> CitedStreamingResponse:
    """A streaming response over an answer's events, returned once retrieval is done."""
    read = first_sources(events)
    response = CitedStreamingResponse(iter(()), [node_of(p) for p in read], {})
    response.response_gen = drafts(events, response.settle)
    return response


class ArticleRetriever(BaseRetriever):
    """Our hybrid retrieval (dense + chunk BM25 + article BM25, fused per article, date
    window lifted) as a llama-index retriever: the top `top_k` chunks, best articles first."""

    def __init__(
        self,
        engine: Engine,
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        hybrid: bool | None = None,
        question_date: str = "",
        callback_manager: CallbackManager | None = None,
    ) -> None:
        super().__init__(callback_manager=callback_manager)
        self.engine, self.filters, self.hybrid = engine, filters, hybrid
        self.top_k = top_k or engine.settings.top_k
        self.question_date = question_date

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = search_hits(
            query_bundle.query_str, self.engine, self.top_k,
            filters=self.filters, hybrid=self.hybrid, today=self.question_date,
        )  # fmt: skip
        ids = {h.chunk.article_id for h in hits}
        articles = {a.id: a for a in self.engine.store.articles_by_id(ids)}
        return [node_of(p) for p in ranked_chunks(hits, articles)]


class CitedQueryEngine(CustomQueryEngine):
    """Our whole answer engine as a llama-index query engine: the Response text is the
    verified answer, `source_nodes` the cited sentences, `metadata` abstention, disagreement
    and the left-out claims; with `streaming`, a CitedStreamingResponse."""

    engine: InstanceOf[Engine]
    streaming: bool = False
    filters: InstanceOf[Filters] | None = None
    top_k: int | None = None
    hybrid: bool | None = None
    question_date: str = ""

    def custom_query(self, query_str: str) -> Response | CitedStreamingResponse:
        options: dict[str, Any] = {
            "filters": self.filters,
            "top_k": self.top_k,
            "hybrid": self.hybrid,
            "question_date": self.question_date,
        }
        if self.streaming:
            return streaming_response(answer_stream(query_str, self.engine, **options))
        answer = ask(query_str, self.engine, **options)
        return Response(answer.text, cited_nodes(answer), answer_metadata(answer))

    async def acustom_query(self, query_str: str) -> Response | CitedStreamingResponse:
        """custom_query in a worker thread, so an event loop keeps serving meanwhile."""
        return await asyncio.to_thread(self.custom_query, query_str)
