"""The Python API: open an engine, index files into it, ask (whole answers or the event stream).

The `rag` command, the app and the eval go through these too, so a script gets exactly what
they get. `rag/__init__.py` exports them with their typed objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rag.answering.answer import answer_stream, ask
from rag.answering.engine import Engine
from rag.embedded import make_llm
from rag.indexer import IndexReport, Progress, open_index
from rag.indexer import index_paths as _index_into
from rag.settings import Settings, go_offline, load_settings

__all__ = ["answer_stream", "ask", "index_paths", "open_engine"]


def open_engine(settings: Settings | None = None, **overrides: Any) -> Engine:
    """Open the index, the query embedder and the LLM that `settings` (default: `RAG_*` and
    `rag.toml`) with `overrides` ask for; nothing is fetched from the network. Close it
    (or use `with`) to stop an embedded model server.

    >>> import tempfile
    >>> with open_engine(index_dir=tempfile.mkdtemp(), llm_backend="none") as engine:
    ...     print(engine.store.articles(), engine.llm)
    [] None
    """
    go_offline()
    if settings is None:
        settings = load_settings(**overrides)
    elif overrides:
        settings = Settings.model_validate(settings.model_dump() | overrides)
    store, embedder = open_index(settings, for_queries=True)
    return Engine(settings, store, embedder, make_llm(settings))


def index_paths(
    paths: Iterable[str | Path],
    into: Engine | Settings | None = None,
    *,
    prune: bool = False,
    prune_all: bool = False,
    progress: Callable[[Progress], None] | None = None,
    meta: dict[str, str] | None = None,
    stop: Callable[[], bool] | None = None,
) -> IndexReport:
    """Index files and folders of articles (.txt .md .html .pdf .jsonl) into an open engine's
    index, or into the index of `into` as settings (default: `RAG_*` and `rag.toml`), whose
    embedder is then opened for bulk work. Safe to interrupt and re-run; `prune` also drops
    articles whose files are gone (held back in `report.held_back` when that is more than half
    the index, unless `prune_all`); `meta` ({"source", "date"}) overrides what the files say;
    `stop()` is asked after each written batch and ends the run there when true.
    """
    if isinstance(into, Engine):
        store, embedder, settings = into.store, into.embedder, into.settings
    else:
        go_offline()
        settings = into or load_settings()
        store, embedder = open_index(settings)
    return _index_into(
        [Path(p) for p in paths], store, embedder, settings,
        prune=prune, prune_all=prune_all, progress=progress, meta=meta, stop=stop,
    )  # fmt: skip
