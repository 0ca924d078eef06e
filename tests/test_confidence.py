"""The fitted answer-or-abstain decision: the model's token log-probabilities read from a real
stream, an answer below the operating point moved behind "why not shown", the words a reader
sees, and the shipped weights."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fake_llm import ScriptedLLM
from fakes import FakeEmbedder
from helpers import GAS_QUESTION, gas_passage

from rag.answering.answer import ask
from rag.answering.compose import Answer
from rag.answering.confidence import (
    FEATURES,
    WEIGHTS_FILE,
    decided,
    in_words,
    phrase_logprobs,
    shipped,
)
from rag.answering.engine import Engine
from rag.embedded import Card, EmbeddedLLM, cards_dir, publish
from rag.llm import ChatLLM, Piece
from rag.logistic import Logistic
from rag.settings import Settings
from rag.store import Store


def test_the_phrase_is_read_from_the_pieces_that_wrote_it() -> None:
    raw = [Piece.of('{"answers": [{"answer": "', [-0.1] * 5), Piece.of("36", [-0.7]),
           Piece.of(' workers"', [-0.2, -0.4]), Piece.of("}", [0.0])]  # fmt: skip
    assert phrase_logprobs(raw, "36 workers") == [-0.7, -0.2, -0.4]
    assert phrase_logprobs(raw, "52") == []
    assert phrase_logprobs(["plain ", "strings"], "strings") == []  # a server without them


def test_a_streamed_reply_carries_the_servers_logprobs(llm_server: ScriptedLLM) -> None:
    llm_server.reply = "thirty six"
    llm_server.logprob = lambda piece: -0.25 if "six" in piece else -0.5
    llm = ChatLLM(llm_server.base_url, "k", "scripted", 10.0, retries=0)
    messages = [{"role": "user", "content": "How many?"}]
    asked = list(llm.stream(messages, max_tokens=8, extra_body={"logprobs": True}))
    assert [p.logprobs for p in asked] == [(-0.5,), (-0.25,)]
    plain = list(llm.stream(messages, max_tokens=8))
    assert [getattr(p, "logprobs", ()) for p in plain] == [(), ()]


def _answer(confidence: float | None = None, articles: float = 1.0) -> Answer:
    return Answer("q", "q", "36 [1].", False, "generated", confidence=confidence,
                  signals={"articles": articles})  # fmt: skip


def test_a_reader_sees_the_band_and_how_many_articles_state_it() -> None:
    assert in_words(_answer(0.93, 2.0)) == "Likely right: stated in 2 articles."
    assert in_words(_answer(0.6)) == "Weak match, stated in 1 article: check the source."
    assert in_words(_answer(None)) == ""  # no decision was made (a server without logprobs)


def test_the_shipped_decision_reads_todays_features_at_an_untuned_point() -> None:
    decision = shipped()
    assert decision is not None
    model, threshold = decision
    assert model.features == FEATURES and len(model.coef) == len(FEATURES)
    assert threshold == 0.5  # show when more likely right than wrong (wrong cost 1)
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    assert data["fitted_on"].startswith("run-rtqa-dev")  # tuning data, never the test part


@pytest.fixture
def gas_engine(tmp_path: Path, llm_server: ScriptedLLM) -> Engine:
    """The bundled articles and an embedded backend that uses the scripted server through a
    running app's card: the requests ask for log-probabilities, as with the real model."""
    from conftest import ARTICLES

    from rag.indexer import index_paths, stamp_for

    model = tmp_path / "model.gguf"
    model.write_bytes(b"not a gguf" * 100)
    settings = Settings(index_dir=tmp_path / "idx", llm_backend="embedded", abstain_threshold=-1.0,
                        llm_model_path=model, model_cache_dir=tmp_path / "cache")  # fmt: skip
    publish(cards_dir(settings), Card(os.getpid(), llm_server.base_url, "k",
                                      str(model.resolve()), settings.llm_context))  # fmt: skip
    embedder = FakeEmbedder()
    store = Store(settings, stamp_for(settings, embedder))
    index_paths([ARTICLES], store, embedder, settings)
    llm_server.responder = lambda r: json.dumps(
        {"answers": [{"answer": "36", "evidence": [gas_passage(r)]}], "sentence": ""}
    )
    return Engine(settings, store, embedder, EmbeddedLLM(settings))


def test_a_sure_answer_is_shown_with_its_band(gas_engine: Engine, llm_server: ScriptedLLM) -> None:
    llm_server.logprob = lambda piece: -0.01
    answer = ask(GAS_QUESTION, gas_engine)
    assert llm_server.requests[-1]["logprobs"] is True
    assert not answer.abstained and "36" in answer.text
    assert answer.confidence is not None and answer.confidence >= 0.5
    assert set(FEATURES) <= set(answer.signals)


def test_an_unsure_answer_moves_behind_why_not_shown(
    gas_engine: Engine, llm_server: ScriptedLLM
) -> None:
    llm_server.logprob = lambda piece: -4.0  # the model hesitated on every token
    answer = ask(GAS_QUESTION, gas_engine)
    assert answer.abstained and answer.text.startswith("The articles do not say")
    [weak] = [s for s in answer.left_out if "36" in s.text]
    assert weak.reason.startswith("weak match: about ") and "% of answers like it" in weak.reason
    assert answer.confidence is not None and answer.confidence < 0.5


def test_without_a_decision_or_logprobs_the_answer_is_left_as_it_is() -> None:
    answer = _answer()
    zeros, ones = (0.0,) * len(FEATURES), (1.0,) * len(FEATURES)
    always = (Logistic(FEATURES, zeros, ones, zeros, 0.0), 0.9)  # would refuse any it reads
    same = decided("q", answer, [["36"]], always)  # plain strings: no logprobs
    assert same is answer and same.confidence is None and not same.abstained


def test_a_disagreement_is_shown_as_it_is_whatever_its_probability() -> None:
    """The fit's quiz questions have one answer each: it never saw sources that truly disagree,
    so a disagreement is left to the reader, with both values and their sources."""
    raw = [Piece.of('{"answers": [{"answer": "', [-0.1]), Piece.of("52", [-4.0]),
           Piece.of('", "evidence": [1]}], "sentence": ""}', [-0.1])]  # fmt: skip
    zeros, ones = (0.0,) * len(FEATURES), (1.0,) * len(FEATURES)
    refuse_all = (Logistic(FEATURES, zeros, ones, zeros, -9.0), 0.5)
    answer = Answer("q", "q", "Sources disagree: 52 [1]; 46 [2].", False, "generated",
                    disagreement=True)  # fmt: skip
    assert decided("q", answer, [raw], refuse_all) is answer
    assert not answer.abstained and answer.signals["disagreement"] == 1.0
    single = Answer("q", "q", "52 [1].", False, "generated")
    assert decided("q", single, [raw], refuse_all).abstained
