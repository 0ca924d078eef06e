"""The vector store (Chroma): the one module that talks to chromadb, for every caller."""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Sequence
from urllib.parse import urlparse

from rag.chroma_errors import chroma_failure, chroma_guard
from rag.chunking import Chunk
from rag.errors import ConfigError, IndexMismatch, StoreError
from rag.filters import Filters
from rag.settings import Settings

CHROMA_BATCH = 4000


def date_number(date: str) -> int:
    """`2014-03-03` -> 20140303 (0 when unknown), so Chroma can filter dates numerically."""
    digits = re.sub(r"\D", "", date)[:8]
    return int(digits.ljust(8, "0")) if digits else 0


def chroma_client(settings: Settings):  # noqa: ANN201 - chromadb's client type
    """The Chroma client the settings ask for: a server by URL, else the embedded store.

    Everything goes through this one client setup: Chroma caches one embedded client per
    path and process, and a second one with other settings is refused.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    url = settings.chroma_url
    if not url:
        return chromadb.PersistentClient(
            path=str(settings.index_dir / "chroma"), settings=chroma_settings
        )
    parsed = urlparse(url)
    if not parsed.hostname:
        raise ConfigError(f"RAG_CHROMA_URL {url!r} is not a URL like http://host:8000")
    return chromadb.HttpClient(
        host=parsed.hostname,
        port=parsed.port or (443 if parsed.scheme == "https" else 8000),
        ssl=parsed.scheme == "https",
        settings=chroma_settings,
    )


def drop_collection(settings: Settings) -> None:
    """Delete the settings' Chroma collection (the embedded store's folder if that fails)."""
    # Delete through a client: Chroma caches one client per path in the process, and a
    # directory removed under that cache leaves it stale ("readonly database" on writes).
    try:
        client = chroma_client(settings)
        if settings.collection in [c.name for c in client.list_collections()]:
            client.delete_collection(settings.collection)
    except ConfigError:
        raise
    except Exception as err:
        if settings.chroma_url:
            raise StoreError(chroma_failure(settings, err)) from None
        shutil.rmtree(settings.index_dir / "chroma", ignore_errors=True)  # foreign files


def _chroma_where(filters: Filters) -> dict | None:
    """Chroma's `where` for the filters; None when they restrict nothing."""
    conds: list[dict] = []
    if filters.sources:
        conds.append({"source": {"$in": list(filters.sources)}})
    if filters.since:
        conds.append({"date_num": {"$gte": date_number(filters.since)}})
    if filters.until:
        conds.append({"date_num": {"$lte": date_number(filters.until)}})
        conds.append({"date_num": {"$gt": 0}})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


class VectorIndex:
    """The index's Chroma `collection` (refused if built with another stamp) and its llama-index
    adapter `chroma`."""

    def __init__(self, settings: Settings, stamp: dict[str, str]) -> None:
        self.settings = settings
        self.collection = self._open(stamp)
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.chroma = ChromaVectorStore(chroma_collection=self.collection)

    def _open(self, stamp: dict[str, str]):  # noqa: ANN202 - chromadb's Collection type
        with chroma_guard(self.settings):
            client = chroma_client(self.settings)
            collection = client.get_or_create_collection(
                self.settings.collection,
                metadata={"hnsw:space": "cosine", **stamp},
                embedding_function=None,
            )
        theirs = {k: str(v) for k, v in (collection.metadata or {}).items() if k in stamp}
        if theirs and theirs != stamp:
            raise IndexMismatch(
                f"Chroma collection {self.settings.collection!r} was built with {theirs}. "
                "Run `rag index --rebuild` to rebuild it with the current settings."
            )
        return collection

    def add(self, rows: Sequence[tuple[str, str, str, list[Chunk], list[list[float]]]]) -> None:
        """Upsert the vectors of (article id, source, date, chunks, vectors) into Chroma."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = [
            TextNode(
                id_=c.id,
                text=c.text,
                embedding=vector,
                metadata={
                    "article_id": article_id,
                    "source": source,
                    "date_num": date_number(date),
                    "start": c.start,
                    "end": c.end,
                },
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article_id)},
            )
            for article_id, source, date, chunks, vectors in rows
            for c, vector in zip(chunks, vectors, strict=True)
        ]
        with chroma_guard(self.settings):
            for i in range(0, len(nodes), CHROMA_BATCH):
                self.chroma.add(nodes[i : i + CHROMA_BATCH])

    def delete(self, article_ids: list[str]) -> None:
        """Delete every vector of these articles."""
        with chroma_guard(self.settings):
            self.collection.delete(where={"article_id": {"$in": article_ids}})

    def search(
        self, vector: list[float], k: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks by cosine similarity: [(chunk_id, similarity)], best first."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        where = _chroma_where(filters or Filters())
        with chroma_guard(self.settings):
            result = self.chroma.query(
                VectorStoreQuery(query_embedding=vector, similarity_top_k=k), where=where
            )
        # ChromaVectorStore reports exp(-distance); with cosine space distance = 1 - cos.
        return [
            (node_id, 1.0 + math.log(max(sim, 1e-12)))
            for node_id, sim in zip(result.ids or [], result.similarities or [], strict=True)
        ]

    def chunk_ids(self, article_id: str) -> list[str]:
        """Chunk ids Chroma holds for one article (consistency checks)."""
        with chroma_guard(self.settings):
            return self.collection.get(where={"article_id": article_id}, include=[])["ids"]

    def count(self) -> int:
        """How many vectors the collection holds."""
        with chroma_guard(self.settings):
            return self.collection.count()

    def all_ids(self) -> set[str]:
        """Every chunk id Chroma holds, read in batches."""
        vector_ids: set[str] = set()
        with chroma_guard(self.settings):
            total = self.collection.count()
            for offset in range(0, total, CHROMA_BATCH):
                got = self.collection.get(include=[], limit=CHROMA_BATCH, offset=offset)
                vector_ids.update(got["ids"])
        return vector_ids

    def gap(self, passages: int) -> str:
        """'' when Chroma holds a vector per passage; else what is missing and the fix."""
        vectors = self.count()
        if vectors >= passages:
            return ""
        return (
            f"The index's vector store holds {vectors:,} of {passages:,} passages (was"
            f" {self.settings.index_dir}/chroma deleted or damaged?), so answers may miss"
            " articles. `rag repair` embeds the missing ones again from the index."
        )

    def problems(self, chunk_ids: set[str]) -> list[str]:
        """Chunks without a vector and vectors without a chunk, as the consistency check says."""
        found = []
        vector_ids = self.all_ids()
        if missing := chunk_ids - vector_ids:
            found.append(
                f"{len(missing)} chunks have no vector, e.g. {min(missing)}"
                " (`rag repair` embeds them again)"
            )
        if orphans := vector_ids - chunk_ids:
            found.append(f"{len(orphans)} vectors belong to no article, e.g. {min(orphans)}")
        return found
