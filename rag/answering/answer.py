"""Answering: retrieve, pick evidence sentences, ask for a constrained reply, verify, stream.

The answer comes as engine.py's events (`Status`, `Sources`, `Token`, `Done`), one stream for
the app, the CLI and the eval.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from datetime import date
from typing import Any, TypedDict, Unpack

from rag.answering import confidence, prompt
from rag.answering.compose import (
    Answer,
    abstention,
    answer_from_points,
    answer_from_verdict,
    extractive,
    free_text_answer,
    joined,
)
from rag.answering.engine import Done, Engine, Event, Sources, Status, Token
from rag.answering.followup import condense
from rag.answering.kinds import POINT_KINDS, clip_question, question_kind, subject
from rag.answering.pace import Pace
from rag.answering.parts import parts
from rag.answering.points import decide_points, speaking
from rag.answering.search import Found, find_passages
from rag.answering.verify import Verdict, coverage, decide, key_terms
from rag.chunking import estimate_tokens
from rag.citations import Passage
from rag.embedded import EmbeddedLLM
from rag.errors import LLMError
from rag.filters import Filters
from rag.tuning import Tuning


def _wait_message(
    passages: list[Passage], prompt_tokens: int, pace: Pace, again: bool = False
) -> str:
    """'Reading 9 sentences from 3 articles… (about 5 s)', from this process's measured pace;
    `again`: after the first ones answered nothing."""
    articles = len({p.article_id for p in passages})
    noun = "article" if articles == 1 else "articles"
    lead = "No answer in those sentences. Reading the next " if again else "Reading "
    return (
        f"{lead}{len(passages)} sentences from {articles} {noun}… ({pace.estimate(prompt_tokens)})"
    )


def answer_stream(
    question: str,
    engine: Engine,
    *,
    history: list[dict[str, str]] | None = None,
    filters: Filters | None = None,
    top_k: int | None = None,
    hybrid: bool | None = None,
    question_date: str = "",
) -> Iterator[Event]:
    """Answer one question: status events, the sources, answer text, then the verified answer.

    `question_date` (ISO, default today) is when the question is asked, for "this week".
    """
    settings = engine.settings
    started = time.perf_counter()
    timings: dict[str, float] = {}
    asked_chars = len(question)
    question = clip_question(question, settings.max_question_chars)
    today = question_date or date.today().isoformat()
    query = question
    if history:
        query = condense(question, history)
    kind, asked = question_kind(question), query
    if kind == "summary":  # search for what it is about, not for "summarize the articles"
        query = subject(query)
    yield Status("Searching the articles…")
    found = find_passages(
        query, engine, filters=filters, top_k=top_k, hybrid=hybrid, today=today, timings=timings,
        kind=kind,
    )  # fmt: skip
    passages = found.passages
    yield Sources(passages)

    def finish(answer: Answer) -> Done:
        timings["total"] = time.perf_counter() - started
        answer.timings, answer.retrieved, answer.kind = timings, found.retrieved, kind
        notes = [answer.notice, engine.store.vector_gap()]  # never half an index without a word
        if len(question) < asked_chars:
            notes.append(
                f"Your question was {asked_chars:,} characters: only the first {len(question):,}"
                " were read."
            )
        answer.notice = " ".join(n for n in notes if n)
        return Done(answer)

    if not passages or _off_topic(query, found, settings.abstain_threshold, settings.tuning):
        yield finish(abstention(question, query, passages, []))
        return
    if engine.llm is None:
        yield finish(extractive(question, query, passages, "No LLM is configured: quoting."))
        return

    embedded = isinstance(engine.llm, EmbeddedLLM)
    constrained = not engine.schemas_refused.is_set()
    asking = (question, query, asked, kind, engine, found, today, started, timings)
    try:
        try:
            answer, sizes, raws = yield from _reply(*asking, constrained=constrained)
        except LLMError as err:
            if not constrained or embedded or err.status not in (400, 422):
                raise
            engine.schemas_refused.set()  # this server refuses JSON schemas: free text from now on
            answer, sizes, raws = yield from _reply(*asking, constrained=False)
    except LLMError as err:
        notice = f"{err} Showing quotes from the articles."
        yield finish(extractive(question, query, passages, notice))
        return
    completion = sum(len(raw) for raw in raws)
    answer.usage = {"prompt_tokens": sum(sizes), "completion_tokens": completion}
    yield finish(answer)


Call = tuple[list[dict[str, str]], dict[str, Any] | None]


def _reply(
    question: str,
    query: str,
    asked: str,
    kind: str,
    engine: Engine,
    found: Found,
    today: str,
    started: float,
    timings: dict[str, float],
    *,
    constrained: bool,
) -> Generator[Event, None, tuple[Answer, list[int], list[list[str]]]]:
    """Ask the model and check what it says: cited points for an explanation, checked answer
    phrases for a quiz question, or free text from a server that refuses JSON schemas
    (`constrained` False). Returns the answer, each call's prompt tokens and the raw replies."""
    passages, settings = found.passages, engine.settings
    embedded = isinstance(engine.llm, EmbeddedLLM)
    points = constrained and kind in POINT_KINDS
    if points:
        calls = [_constrained_call(asked, passages, today, embedded, points=True)]
    elif constrained:
        calls = [_constrained_call(q, shown, today, embedded) for q, shown in _asked(query, found)]
    else:
        free = prompt.messages(query, passages, today)
        free[0]["content"] = prompt.FREE_TEXT_PROMPT
        calls = [(free, None)]
    sizes = [_prompt_tokens(call) for call in calls]
    if embedded and engine.llm.status.state != "ready":
        yield Status("Loading the model (once per process)…")
    yield Status(_wait_message(passages, sizes[0], engine.pace))
    raws = yield from _generate(engine, calls, sizes[0], started, timings, constrained, points)
    if points:
        reply = prompt.parse_points("".join(raws[0]))
        verdict = decide_points(query, reply.points, passages, found.weights, settings.tuning)
        said = speaking(query, passages, found.weights, settings.tuning)
        return answer_from_points(question, query, verdict, passages, said), sizes, raws
    if not constrained:
        text = "".join(raws[0]).strip()
        return free_text_answer(question, query, text, passages, settings.tuning), sizes, raws
    args = (engine, found, today, sizes, started, timings)
    answer = yield from _verify_or_read_on(question, query, raws, *args)
    if not answer.abstained:
        decision = confidence.shipped() if settings.fitted_decision else None
        answer = confidence.decided(question, answer, raws, decision)
    return answer, sizes, raws


def _off_topic(query: str, found: Found, threshold: float, tuning: Tuning) -> bool:
    """Refuse before asking the model: no retrieved passage is close in meaning (`threshold`)
    and the sentences found do not carry the question's key terms, so no answer could pass the
    checks. A short question naming what the articles name ('Who is Gabriel?') is close in
    words, not in meaning: it is asked."""
    best = max((p.similarity for p in found.retrieved), default=0.0)
    if best >= threshold:
        return False
    return coverage(key_terms(query), found.passages, found.weights) < tuning.key_term_coverage


def _verify_or_read_on(
    question: str,
    query: str,
    raws: list[list[str]],
    engine: Engine,
    found: Found,
    today: str,
    sizes: list[int],
    started: float,
    timings: dict[str, float],
) -> Generator[Event, None, Answer]:
    """The answer the constrained replies allow; when nothing they propose holds for the
    question (or for a part of it), the model reads the next best sentences (`found.second`)
    and is asked once more. Appends those requests' replies to `raws`, their sizes to `sizes`."""
    passages = found.passages
    later = [p for part in found.second for p in part]
    verdict = _verdict(query, raws, passages, found, [*later, *found.spare], engine.settings.tuning)
    asked = [q for q, _ in _asked(query, found)]
    todo = [
        (q, shown)
        for q, shown in zip(asked, found.second, strict=True)
        if shown and (verdict.abstained or q in verdict.unanswered)
    ]
    if not todo:
        return answer_from_verdict(question, query, verdict, passages)
    reading = sorted({p.n: p for _, shown in todo for p in shown}.values(), key=lambda p: p.n)
    read = passages + reading
    embedded = isinstance(engine.llm, EmbeddedLLM)
    calls = [_constrained_call(q, shown, today, embedded) for q, shown in todo]
    sizes += [_prompt_tokens(call) for call in calls]
    size = sizes[-len(calls)]
    yield Sources(read)
    yield Status(_wait_message(reading, size, engine.pace, again=True))
    try:
        more = yield from _generate(engine, calls, size, started, timings, True)
    except LLMError as err:
        answer = answer_from_verdict(question, query, verdict, read)
        answer.notice = f"{err} The next sentences were not read."
        return answer
    raws += more
    unread = [*passages, *found.spare] if len(asked) == 1 else None  # no rivals for a part
    again = {
        q: _verdict(q, [raw], shown, found, unread, engine.settings.tuning, second_look=True)
        for (q, shown), raw in zip(todo, more, strict=True)
    }
    answer = answer_from_verdict(question, query, joined(verdict, asked, again), read)
    answer.second_look = True
    return answer


def _asked(query: str, found: Found) -> list[tuple[str, list[Passage]]]:
    """The questions put to the model with their sentences: the question, or each part of a
    two-part question over its own sentences (the model answers only one part of both)."""
    if found.parts:
        return list(zip(parts(query), found.parts, strict=True))
    return [(query, found.passages)]


def _constrained_call(
    question: str, shown: list[Passage], today: str, embedded: bool, points: bool = False
) -> Call:
    """The messages and JSON-schema request body asking `question` over the `shown` sentences
    for an answer phrase, or for cited `points`."""
    body = prompt.request_body([p.n for p in shown], embedded, points)
    return prompt.messages(question, shown, today, points), body


def _prompt_tokens(call: Call) -> int:
    """The estimated tokens of a call's messages: what the model reads before it writes."""
    return sum(estimate_tokens(m["content"]) for m in call[0])


def _generate(
    engine: Engine,
    calls: list[Call],
    size: int,
    started: float,
    timings: dict[str, float],
    constrained: bool,
    points: bool = False,
) -> Generator[Token, None, list[list[str]]]:
    """Send each call in turn, streaming readable Tokens; returns each reply's raw pieces.
    The first token sets `timings['first_token']`; the time to it and the writing after it
    teach the engine's pace (`size`: the first call's prompt tokens)."""
    raws: list[list[str]] = []
    sent = time.perf_counter()
    first = 0.0
    shown_before = False  # words of an earlier call (a part) were shown: separate the next ones
    for request, body in calls:
        raws.append(raw := [])
        pieces = engine.llm.stream(  # type: ignore[union-attr]
            request, max_tokens=engine.settings.llm_max_tokens, extra_body=body
        )
        shown = prompt.stream_display(pieces, raw, points) if constrained else _collect(pieces, raw)
        for i, text in enumerate(shown):
            if not first:
                first = time.perf_counter()
                timings.setdefault("first_token", first - started)
            yield Token(" · " + text if i == 0 and shown_before else text)
            shown_before = True
    if first:
        engine.pace.learn(size, first - sent, time.perf_counter() - first)
    return raws


def _verdict(
    query: str,
    raws: list[list[str]],
    shown: list[Passage],
    found: Found,
    unread: list[Passage] | None,
    tuning: Tuning,
    second_look: bool = False,
) -> Verdict:
    """Verify the replies to the question asked over the `shown` sentences (their key-term
    coverage at least the tuned share, more on a `second_look`); another article's value may
    also come from `unread` ones (None: no other article's value is looked for)."""
    reply = prompt.merge([prompt.parse_reply("".join(raw)) for raw in raws])
    need = tuning.second_look_coverage if second_look else tuning.key_term_coverage
    return decide(
        query, reply.proposals, reply.sentence, shown, found.weights, need,
        texts=found.texts if unread is not None else None, spare=unread or [], tuning=tuning,
    )  # fmt: skip


def _collect(pieces: Iterator[str], raw: list[str]) -> Iterator[str]:
    """Pass free-text pieces through, keeping them in `raw`."""
    for piece in pieces:
        raw.append(piece)
        yield piece


class Options(TypedDict, total=False):
    """answer_stream's keyword options, for the functions that pass them on."""

    history: list[dict[str, str]] | None
    filters: Filters | None
    top_k: int | None
    hybrid: bool | None
    question_date: str


def ask(question: str, engine: Engine, **options: Unpack[Options]) -> Answer:
    """Run answer_stream to the end and return the verified answer (scripts, eval, tests)."""
    for event in answer_stream(question, engine, **options):
        if isinstance(event, Done):
            return event.answer
    raise RuntimeError("answer_stream ended without an answer")
