"""Real `rag` child processes that embed through the scripted server (no model to load)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fake_llm import ScriptedLLM
from fakes import FakeEmbedder
from helpers import write_article

PROJECT_DIR = Path(__file__).resolve().parent.parent
N_ARTICLES = 120


class RemoteFake(FakeEmbedder):
    """The scripted server's vectors under the id `rag index` stamps a remote index with."""

    model_id = "openai:text-embedding-3-small"


def corpus(root: Path) -> Path:
    """N_ARTICLES distinct articles of one to four chunks (at 40 tokens a chunk)."""
    for i in range(N_ARTICLES):
        body = " ".join(
            f"Dispatch {i} part {p}: the council of district {i} voted on budget item {i * 7 + p}."
            for p in range(2 + 3 * (i % 4))
        )
        write_article(root / f"story-{i:03d}.txt", body, date=f"2019-02-{i % 28 + 1:02d}")
    return root


def cli_env(server: ScriptedLLM) -> dict[str, str]:
    """A `rag` child that embeds through the scripted server: no model, same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        PYTHONPATH=str(PROJECT_DIR),
        COLUMNS="200",
        RAG_EMBED_BACKEND="openai",
        RAG_EMBED_BASE_URL=server.base_url,
        RAG_LLM_BACKEND="none",
        RAG_CHUNK_TOKENS="40",
        RAG_CHUNK_OVERLAP="10",
    )
    return env


def rag_index(index_dir: Path, root: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """`rag index ROOT --index-dir DIR` as a child process, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "index", str(root), "--index-dir", str(index_dir)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
