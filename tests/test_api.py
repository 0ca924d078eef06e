"""The Python API as a script uses it (`import rag`): index, open, ask, stream; real Chroma,
embeddings and answers from the scripted OpenAI-compatible server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fake_llm import ScriptedLLM
from helpers import ARTICLES, GAS_QUESTION, make_settings, scripted_reply, write_article

import rag

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings(tmp_path: Path, llm_server: ScriptedLLM) -> rag.Settings:
    """An index embedded by the scripted server (no model to load), answered by it too."""
    llm_server.responder = scripted_reply
    return make_settings(
        tmp_path / "idx",
        chunk_tokens=180,
        chunk_overlap=40,
        embed_backend="openai",
        embed_base_url=llm_server.base_url,
        llm_backend="openai",
        llm_base_url=llm_server.base_url,
        llm_api_key="k",
        abstain_threshold=0.05,
    )


def test_index_open_ask_and_stream(settings: rag.Settings) -> None:
    report = rag.index_paths([ARTICLES], settings)
    assert isinstance(report, rag.IndexReport) and len(report.added) == 5
    with rag.open_engine(settings) as engine:
        answer = rag.ask(GAS_QUESTION, engine)
        assert isinstance(answer, rag.Answer) and "36" in answer.text
        assert all(isinstance(c, rag.Citation) for c in answer.citations) and answer.citations
        events = list(rag.answer_stream(GAS_QUESTION, engine))
    kinds = [type(e) for e in events]
    assert kinds[0] is rag.Status and kinds[-1] is rag.Done and rag.Token in kinds
    assert kinds.index(rag.Sources) < kinds.index(rag.Token)
    assert events[-1].answer.text == answer.text


def test_open_engine_takes_settings_and_overrides(settings: rag.Settings, tmp_path: Path) -> None:
    with rag.open_engine(settings, top_k=3) as engine:
        assert engine.settings.top_k == 3 and engine.settings.index_dir == settings.index_dir
        assert engine.settings.llm_base_url == settings.llm_base_url
    with rag.open_engine(index_dir=str(tmp_path / "other"), llm_backend="none") as engine:
        assert engine.settings.index_dir == tmp_path / "other" and engine.llm is None


def test_index_into_an_open_engine_with_the_files_source(
    settings: rag.Settings, tmp_path: Path
) -> None:
    story = write_article(tmp_path / "news" / "rain.txt", "Heavy rain closed the Lima airport.")
    with rag.open_engine(settings) as engine:
        report = rag.index_paths([story], engine, meta={"source": "Desk"})
        [article] = engine.store.articles()
        assert report.added == [article.id] and article.source == "Desk"
        story.unlink()  # the whole index: held back unless told
        assert rag.index_paths([story.parent], engine, prune=True).held_back == [article.id]
        done = rag.index_paths([story.parent], engine, prune=True, prune_all=True)
        assert done.removed == [article.id] and engine.store.articles() == []


def test_the_package_imports_the_pipeline_only_when_asked() -> None:
    script = (
        "import sys, rag, rag.settings\n"
        "assert 'rag.answering.answer' not in sys.modules\n"
        "assert rag.Answer.__module__ == 'rag.answering.compose'\n"
        "assert 'rag.answering.answer' not in sys.modules\n"
        "rag.ask\n"
        "assert 'rag.answering.answer' in sys.modules\n"
        "assert all(getattr(rag, name) for name in rag.__all__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with pytest.raises(AttributeError):
        rag.nothing_here  # noqa: B018
