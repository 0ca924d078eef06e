"""The real thing: packaged MiniLM, real Chroma, the embedded Qwen model over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answering.answer import ask
from rag.answering.engine import Engine
from rag.embedded import EmbeddedLLM
from rag.indexer import index_paths, open_index
from rag.settings import Settings

ARTICLES = Path(__file__).resolve().parents[1] / "data" / "articles"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(index_dir=tmp_path_factory.mktemp("idx"))
    store, embedder = open_index(settings, for_queries=True)
    report = index_paths([ARTICLES], store, embedder, settings)
    assert len(report.added) == 5
    llm = EmbeddedLLM(settings)
    yield Engine(settings, store, embedder, llm)
    llm.close()


def test_answers_with_a_verified_citation(engine: Engine) -> None:
    answer = ask("How many natural gas workers were kidnapped?", engine)
    assert answer.mode == "generated" and not answer.abstained
    assert "36" in answer.text
    cited = {c.article_id for c in answer.citations}
    assert any(a.startswith("000_") for a in cited)
    kidnap = [s for s in answer.sentences if "36" in s.text]
    assert kidnap and all(s.supported and s.citations for s in kidnap)
    for c in answer.citations:
        article = engine.store.article(c.article_id)
        assert article is not None and article.text[c.start : c.end] == c.text


def test_says_so_when_the_articles_do_not_answer(engine: Engine) -> None:
    answer = ask("Who won the football World Cup in 1998?", engine)
    assert answer.abstained and answer.citations == []
