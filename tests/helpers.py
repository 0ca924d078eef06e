"""Helpers shared by the tests: isolated settings, files, index snapshots, app test data."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEmbedder

from rag.settings import Settings
from rag.store import Store

ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"
EVAL_DIR = ARTICLES.parent / "eval"


def make_settings(index_dir: Path, **overrides: object) -> Settings:
    """Settings for a test index: every field the write path reads is given explicitly, so
    neither `RAG_*` variables nor a `rag.toml` of the developer can change the outcome."""
    values: dict[str, object] = {
        "index_dir": index_dir,
        "data_dir": None,
        "chroma_url": None,
        "collection": "articles",
        "chunk_tokens": 40,
        "chunk_overlap": 10,
        "max_file_mb": 20.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def open_store(settings: Settings, embedder: FakeEmbedder | None = None) -> Store:
    """A store stamped for the fake embedder and the settings' chunking."""
    from rag.indexer import stamp_for

    return Store(settings, stamp_for(settings, embedder or FakeEmbedder()))


def write_article(
    path: Path,
    body: str,
    *,
    title: str = "",
    source: str = "Test Times",
    date: str = "2020-01-01",
) -> Path:
    """Write a `Key: value` header article file (creating folders) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"Title: {title or path.stem.title()}\nSource: {source}\nDate: {date}\n\n"
    path.write_text(header + body + "\n", encoding="utf-8")
    return path


def sentences(topic: str, n: int) -> str:
    """`n` distinct sentences about `topic`, enough to make several chunks at 40 tokens."""
    return " ".join(
        f"Report {i} on {topic} says the {topic} situation changed in week {i}." for i in range(n)
    )


def manifest_chunks(settings: Settings) -> dict[str, str]:
    """Chunk id -> text, read straight from the manifest (all rows, whatever their state)."""
    with closing(sqlite3.connect(settings.index_dir / "manifest.sqlite3")) as db:
        return dict(db.execute("SELECT id, text FROM chunks").fetchall())


def manifest_states(settings: Settings) -> Counter[str]:
    """How many article rows are in each state (`pending`, `ready`, `deleting`)."""
    with closing(sqlite3.connect(settings.index_dir / "manifest.sqlite3", timeout=30)) as db:
        return Counter(state for (state,) in db.execute("SELECT state FROM articles"))


def chroma_ids(store: Store) -> list[str]:
    """Every id in the Chroma collection (a list, so duplicates would show)."""
    return list(store.vectors.collection.get(include=[])["ids"])  # test-only peek


@dataclass(frozen=True)
class Snapshot:
    """What an index holds, for comparing two indexes built from the same files."""

    articles: dict[str, str]  # id -> record hash
    chunks: dict[str, str]  # chunk id -> text
    vectors: list[str]  # sorted Chroma ids


def snapshot(store: Store) -> Snapshot:
    return Snapshot(
        articles={a.id: a.record_hash for a in store.articles()},
        chunks=manifest_chunks(store.settings),
        vectors=sorted(chroma_ids(store)),
    )


def backend_settings(
    request: pytest.FixtureRequest, index_dir: Path, **overrides: object
) -> Settings:
    """Settings for a fixture parametrized over "embedded" and "server" Chroma; server mode
    uses the session's real `chroma run` and a fresh collection per test."""
    if request.param == "server":
        overrides["chroma_url"] = request.getfixturevalue("chroma_server").url
        overrides["collection"] = f"t{uuid.uuid4().hex[:16]}"
    return make_settings(index_dir, **overrides)


def cite_first_passage(request: dict[str, Any]) -> str:
    """Scripted LLM: answer with evidence sentence [1] itself, cited."""
    user = request["messages"][-1]["content"]
    match = re.search(r"^\[1\] (.*)$", user, re.M)
    if not match:
        return json.dumps({"answers": [], "sentence": ""})
    first = match.group(1).strip()
    return json.dumps({"answers": [{"answer": first, "evidence": [1]}], "sentence": first})


class TagCollector(HTMLParser):
    """Collects (tag, attributes) of every start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def sentence_id(request: dict, text: str) -> int:
    """The number of the evidence sentence holding `text` in this request's prompt."""
    user = request["messages"][-1]["content"]
    for line in user.splitlines():
        if line.startswith("[") and text in line:
            return int(line[1:].split("]")[0])
    raise AssertionError(f"no sentence with {text!r} was given to the LLM")


def gas_passage(request: dict) -> int:
    """The number of the sentence that holds the kidnapping in this request."""
    return sentence_id(request, "36 natural gas workers")


GAS_QUESTION = "How many natural gas workers were kidnapped?"


def scripted_reply(request: dict[str, Any]) -> str:
    """Scripted LLM for the app: the gas question gets the right figure and a made-up one (which
    the verifier leaves out); everything else is answered by `cite_first_passage`."""
    user = request["messages"][-1]["content"]
    if GAS_QUESTION in user:
        n = gas_passage(request)
        answers = [{"answer": "36", "evidence": [n]}, {"answer": "500 soldiers", "evidence": [n]}]
        return json.dumps({"answers": answers, "sentence": "36 workers were kidnapped."})
    return cite_first_passage(request)
