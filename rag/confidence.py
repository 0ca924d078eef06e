"""How likely a verified answer phrase is right: what it looks like (the model's own token
log-probabilities, how well its sentences cover the question, how it was found), and the
fitted decision that turns that into answer-or-abstain.

The weights and the operating point are fitted on rtqa-dev's dev part by
`benchmarks/fit_decision.py` (cross-validated by quiz week) and shipped in
`rag/decision.json` with the measurement behind them. An answer whose server sent no
log-probabilities (some OpenAI-compatible servers) keeps its signals but gets no decision: the
fit has next to no such answers to learn from. Pure functions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from rag.candidates import overlap
from rag.citations import CITATION, Passage
from rag.compose import Answer, abstention
from rag.logistic import Logistic, load
from rag.prompt import parse_reply
from rag.text import terms
from rag.verify import asked_terms, coverage

FEATURES = (
    "logprob_mean",  # mean log-probability of the tokens that wrote the answer phrase
    "logprob_min",  # ... their lowest
    "coverage",  # IDF share of the question's key terms in the cited sentences and titles
    "own_coverage",  # ... in the best cited sentence alone
    "best_similarity",  # the best retrieved passage's embedding similarity to the question
    "cited_similarity",  # ... of the cited sentences' chunks
    "cited_rank",  # 1 / the first cited sentence's place in the prompt (best first)
    "articles",  # how many articles the cited sentences come from
    "second_look",  # found by reading the next best sentences
    "proposals",  # how many answers the model proposed
    "figure",  # the phrase holds a figure
    "words",  # log of the phrase's words
)
WEIGHTS_FILE = Path(__file__).with_name("decision.json")
_DIGIT = re.compile(r"\d")
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


def shown_phrase(answer: Answer, raws: Sequence[Sequence[str]]) -> tuple[str, list[Passage]]:
    """The proposed phrase the answer shows (else its text) and the sentences it cites."""
    by_n = {p.n: p for p in answer.passages}
    cited_ns = [n for s in answer.sentences for n in s.citations if n in by_n]
    proposals = [p for raw in raws for p in parse_reply("".join(raw)).proposals if p.answer]
    shown = CITATION.sub("", answer.text).lower()
    phrases = [p.answer for p in proposals if p.answer.lower() in shown] or [answer.text]
    return phrases[0], [by_n[n] for n in dict.fromkeys(cited_ns)]


def self_check(verdict: Sequence[str]) -> float | None:
    """The probability the model's yes/no check says yes, from the reply's pieces and their
    log-probabilities (None without them).

    >>> from rag.llm import Piece
    >>> round(self_check([Piece.of('"no"', [-0.105])]), 2)
    0.1
    """
    said = "".join(verdict).strip('" \n')
    logprobs = [lp for piece in verdict for lp in getattr(piece, "logprobs", ())]
    if said not in ("yes", "no") or not logprobs:
        return None
    chosen = math.exp(sum(logprobs))
    return chosen if said == "yes" else 1.0 - chosen


def features(
    question: str,
    answer: Answer,
    raws: Sequence[Sequence[str]],
    retrieved: Sequence[Passage],
    weights: dict[str, float],
) -> list[float] | None:
    """The FEATURES of a shown answer: its phrase, its cited sentences, the model's replies
    (`raws`), what retrieval found and the question terms' IDF `weights`; None when the
    replies carry no log-probabilities for its phrase."""
    phrase, cited = shown_phrase(answer, raws)
    proposals = [p for raw in raws for p in parse_reply("".join(raw)).proposals if p.answer]
    logprobs = [lp for raw in raws for lp in phrase_logprobs(raw, phrase)]
    if not logprobs:
        return None
    wanted = asked_terms(question, cited)
    own = max((overlap(wanted, terms(p.text), weights) for p in cited), default=0.0)
    return [
        sum(logprobs) / len(logprobs),
        min(logprobs),
        coverage(wanted, cited, weights) if cited else 0.0,
        own,
        max((p.similarity for p in retrieved), default=0.0),
        max((p.similarity for p in cited), default=0.0),
        1.0 / min((p.n for p in cited), default=math.inf),
        float(len({p.article_id for p in cited})),
        float(answer.second_look),
        float(len(proposals)),
        float(bool(_DIGIT.search(phrase))),
        math.log(1 + len(phrase.split())),
    ]


@lru_cache(maxsize=1)
def shipped() -> tuple[Logistic, float] | None:
    """The fitted decision in rag/decision.json and its operating point (the lowest
    probability shown), or None when none ships."""
    loaded = load(WEIGHTS_FILE, FEATURES)
    return (loaded[0], float(loaded[1]["threshold"])) if loaded else None


def decided(
    question: str,
    answer: Answer,
    raws: Sequence[Sequence[str]],
    retrieved: Sequence[Passage],
    weights: dict[str, float],
    decision: tuple[Logistic, float] | None,
    checked: float | None = None,
) -> Answer:
    """The answer with its signals and, when a decision is given, its probability of being
    right; below the decision's threshold it becomes an abstention that lists the answer under
    "why not shown". Without log-probabilities the answer is left as it is, and so is a
    disagreement: the fit's quiz questions each have one answer, so it never saw sources that
    truly disagree and would refuse them all."""
    row = features(answer.query, answer, raws, retrieved, weights)
    if row is None:
        return answer
    answer.signals = dict(zip(FEATURES, row, strict=True))
    answer.signals["disagreement"] = float(answer.disagreement)
    if checked is not None:
        answer.signals["self_check"] = checked
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
