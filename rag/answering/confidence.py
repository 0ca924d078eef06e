"""How likely a verified answer phrase is right, from the model's own token log-probabilities
as it wrote the phrase, and the fitted decision that turns that into answer-or-abstain.

The weights and the operating point are fitted on rtqa-dev's dev part by
`benchmarks/fit_decision.py` (cross-validated by quiz week) and shipped in
`rag/answering/decision.json` with the measurement behind them. Ten more features (coverage,
similarities, ranks, articles, second look…) were tried and did not pay: on the bundled articles
they refused right answers the log-probabilities keep (docs/measurements.md). An answer whose
server sent no log-probabilities (some OpenAI-compatible servers) gets no decision. Pure
functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from rag.answering.compose import Answer, abstention
from rag.answering.prompt import parse_reply
from rag.citations import CITATION
from rag.logistic import Logistic, load

FEATURES = (
    "logprob_mean",  # mean log-probability of the tokens that wrote the answer phrase
    "logprob_min",  # ... their lowest
)
WEIGHTS_FILE = Path(__file__).with_name("decision.json")
LIKELY = 0.8  # at or above: "likely right"; from the threshold up to it: "check the source"


def phrase_logprobs(raw: Sequence[str], phrase: str) -> list[float]:
    """The log-probabilities of the reply pieces that wrote the first `phrase` in the raw JSON
    (pieces from rag.llm carry them in `.logprobs`; plain strings carry none).

    >>> from rag.llm import Piece
    >>> raw = [Piece.of('{"answer": "', [-0.1]), Piece.of("36", [-0.5]), Piece.of('"}', [0.0])]
    >>> phrase_logprobs(raw, "36")
    [-0.5]
    """
    text = "".join(raw)
    start = text.find(json.dumps(phrase, ensure_ascii=False)[1:-1])
    if start < 0 or not phrase:
        return []
    end, at, found = start + len(phrase), 0, []
    for piece in raw:
        if at < end and at + len(piece) > start:
            found += list(getattr(piece, "logprobs", ()))
        at += len(piece)
    return found


def shown_phrase(answer: Answer, raws: Sequence[Sequence[str]]) -> str:
    """The proposed phrase the answer shows (else its text)."""
    proposals = [p for raw in raws for p in parse_reply("".join(raw)).proposals if p.answer]
    shown = CITATION.sub("", answer.text).lower()
    return next((p.answer for p in proposals if p.answer.lower() in shown), answer.text)


def features(answer: Answer, raws: Sequence[Sequence[str]]) -> list[float] | None:
    """The FEATURES of a shown answer, read from the model's replies (`raws`); None when they
    carry no log-probabilities for its phrase."""
    phrase = shown_phrase(answer, raws)
    logprobs = [lp for raw in raws for lp in phrase_logprobs(raw, phrase)]
    if not logprobs:
        return None
    return [sum(logprobs) / len(logprobs), min(logprobs)]


@lru_cache(maxsize=1)
def shipped() -> tuple[Logistic, float] | None:
    """The fitted decision in rag/answering/decision.json and its operating point (the lowest
    probability shown), or None when none ships."""
    loaded = load(WEIGHTS_FILE, FEATURES)
    return (loaded[0], float(loaded[1]["threshold"])) if loaded else None


def decided(
    question: str,
    answer: Answer,
    raws: Sequence[Sequence[str]],
    decision: tuple[Logistic, float] | None,
) -> Answer:
    """The answer with its signals and, when a decision is given, its probability of being
    right; below the decision's threshold it becomes an abstention that lists the answer under
    "why not shown". Without log-probabilities the answer is left as it is, and so is a
    disagreement: the fit's quiz questions each have one answer, so it never saw sources that
    truly disagree and would refuse them all."""
    row = features(answer, raws)
    if row is None:
        return answer
    articles = {c.article_id for c in answer.citations}
    answer.signals = dict(zip(FEATURES, row, strict=True))
    answer.signals |= {"articles": float(len(articles)), "disagreement": float(answer.disagreement)}
    if decision is None or answer.disagreement:
        return answer
    model, threshold = decision
    answer.confidence = model.probability(row)
    if answer.confidence >= threshold:
        return answer
    reason = f"weak match: about {answer.confidence:.0%} of answers like it are right"
    weak = [replace(s, supported=False, reason=reason) for s in answer.sentences]
    refused = abstention(question, answer.query, answer.passages, weak + answer.left_out)
    refused.signals, refused.confidence = answer.signals, answer.confidence
    return refused


def in_words(answer: Answer) -> str:
    """How sure a shown answer is, for a reader: the fitted probability's band and how many
    articles state it ('' when no decision was made).

    >>> in_words(Answer("q", "q", "36 [1].", False, "generated", confidence=0.9,
    ...                 signals={"articles": 2.0}))
    'Likely right: stated in 2 articles.'
    """
    if answer.confidence is None or answer.abstained:
        return ""
    articles = int(answer.signals.get("articles", 1))
    stated = f"stated in {articles} article{'s' if articles > 1 else ''}"
    if answer.confidence >= LIKELY:
        return f"Likely right: {stated}."
    return f"Weak match, {stated}: check the source."
