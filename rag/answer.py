"""Answering: retrieve, pick evidence sentences, ask for a constrained reply, verify, stream.

One event stream (`Status`, `Sources`, `Token`, `Done`) serves the app, the CLI and the eval.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from rag import evidence, prompt
from rag.asks import asking_clause
from rag.chat import condense
from rag.chunking import estimate_tokens
from rag.citations import (
    CITATION,
    Citation,
    Passage,
    Sentence,
    content_words,
    parse_numbers,
    split_answer,
    support_span,
    verify,
)
from rag.dates import date_window
from rag.errors import LLMError
from rag.llm import ChatLLM, EmbeddedLLM, make_llm
from rag.parts import parts
from rag.retriever import Hit, retrieve
from rag.settings import Settings
from rag.store import Filters, Store, StoredArticle
from rag.verify import KEY_TERM_COVERAGE, SECOND_LOOK_COVERAGE, Verdict, decide

if TYPE_CHECKING:
    from rag.embeddings import Embedder


@dataclass
class Answer:
    """The final result of one question, whatever path produced it."""

    question: str
    query: str
    text: str
    abstained: bool
    mode: Literal["generated", "extractive"]
    citations: list[Citation] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    left_out: list[Sentence] = field(default_factory=list)
    disagreement: bool = False
    notice: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)


@dataclass
class Status:
    """Progress shown while waiting (retrieving, loading model…)."""

    message: str


@dataclass
class Sources:
    """The passages the answer will be drawn from, sent as soon as retrieval finishes, and
    again (with the next sentences added) when the model reads on: words streamed before
    that were its first try."""

    passages: list[Passage]


@dataclass
class Token:
    """A piece of answer text as the LLM streams it."""

    text: str


@dataclass
class Done:
    """The last event: the verified answer."""

    answer: Answer


Event = Status | Sources | Token | Done

ABSTAIN_TEXT = "The articles do not say."
PROMPT_TOKENS_PER_S = 60.0  # the embedded model on 2 cores, until this process measures it
RANK_CHUNKS_PER_ARTICLE = 3  # chunks retrieved per article ranked for the eval's metrics
_REFUSAL = re.compile(
    r"articles do not say|do(?:es)? not (?:say|mention|contain|provide|specify|answer)|"
    r"no information|not (?:mentioned|stated|specified)|cannot answer|can't answer|"
    r"don't know|do not know|unable to answer",
    re.IGNORECASE,
)


@dataclass
class Engine:
    """Everything answering needs, opened once per process and shared by every question.

    `constrained` turns False once a remote server refuses JSON-schema output; `prompt_speed`
    (prompt tokens per second) is measured as answers come, for the wait estimate.
    """

    settings: Settings
    store: Store
    embedder: Embedder
    llm: ChatLLM | EmbeddedLLM | None
    constrained: bool = True
    prompt_speed: float = PROMPT_TOKENS_PER_S

    def close(self) -> None:
        """Stop the embedded model server, if one was started."""
        if isinstance(self.llm, EmbeddedLLM):
            self.llm.close()


def open_engine(settings: Settings) -> Engine:
    """Open the index, the query embedder and the configured LLM."""
    from rag.indexer import open_index

    store, embedder = open_index(settings, for_queries=True)
    return Engine(settings, store, embedder, make_llm(settings))


@dataclass
class Found:
    """What retrieval gives one question: ranked chunks, evidence sentences, term weights,
    the retrieved articles' texts (article id -> text), the next best sentences within the
    budget (`second`, read when the first ones answer nothing), the best others that did not
    fit and, for a two-part question, each part's own evidence sentences."""

    retrieved: list[Passage]
    passages: list[Passage]
    weights: dict[str, float]
    texts: dict[str, str] = field(default_factory=dict)
    spare: list[Passage] = field(default_factory=list)
    parts: list[list[Passage]] = field(default_factory=list)
    second: list[Passage] = field(default_factory=list)


def ranked_chunk(rank: int, hit: Hit, article: StoredArticle) -> Passage:
    """A retrieved chunk as a Passage numbered by its rank (what retrieval metrics score)."""
    return Passage(
        n=rank,
        chunk_id=hit.chunk.id,
        article_id=article.id,
        title=article.title,
        source=article.source,
        date=article.date,
        url=article.url,
        text=hit.chunk.text,
        start=hit.chunk.start,
        end=hit.chunk.end,
        score=hit.score,
        similarity=hit.similarity if hit.similarity is not None else 0.0,
    )


def evidence_budget(settings: Settings, question: str, today: str) -> int:
    """Tokens left for evidence sentences once instructions, date and question are counted."""
    fixed = prompt.messages(question, [], today)
    return settings.prompt_tokens - sum(estimate_tokens(m["content"]) for m in fixed)


def _header_tokens(article: StoredArticle) -> int:
    return estimate_tokens(prompt.header(article.title, article.source, article.date))


def find_passages(
    query: str,
    engine: Engine,
    *,
    filters: Filters | None = None,
    top_k: int | None = None,
    hybrid: bool | None = None,
    today: str = "",
    timings: dict[str, float] | None = None,
) -> Found:
    """Retrieve chunks deep enough to rank `rank_depth` articles, and pick evidence sentences
    from the top `top_k` chunks; each part of a two-part question is searched on its own."""
    settings = engine.settings
    k = top_k or settings.top_k
    today = today or date.today().isoformat()

    def search(question: str, depth: int) -> list[Hit]:
        return retrieve(
            question,
            engine.store,
            engine.embedder,
            k=depth,
            candidates=max(settings.candidates, settings.rank_depth),
            hybrid=settings.hybrid if hybrid is None else hybrid,
            filters=filters,
            window=date_window(question, today),
            timings=timings,
        )

    hits = search(query, max(k, settings.rank_depth * RANK_CHUNKS_PER_ARTICLE))
    questions = parts(query)
    searches = [(q, search(q, k) if len(questions) > 1 else hits[:k]) for q in questions]
    seen = {h.chunk.article_id for _, got in [(query, hits), *searches] for h in got}
    articles = {a.id: a for i in seen if (a := engine.store.article(i)) is not None}
    ranked = [
        ranked_chunk(rank, hit, articles[hit.chunk.article_id])
        for rank, hit in enumerate(hits, 1)
        if hit.chunk.article_id in articles
    ]
    doc_freq = engine.store.doc_freqs(sorted(evidence.terms(query)))
    weights = evidence.idf(doc_freq, engine.store.count_chunks())
    budget = evidence_budget(settings, query, today)
    scored = [evidence.scored(got, articles, q, weights) for q, got in searches]
    each = evidence.select_parts(scored, budget, _header_tokens)
    passages = sorted({p.n: p for group in each for p in group}.values(), key=lambda p: p.n)
    texts = {a.id: a.text for a in articles.values()}
    if len(scored) > 1:  # rivals and a second look are for a one-part question only
        return Found(ranked, passages, weights, texts, parts=each)
    second = evidence.following(scored[0], passages, budget, _header_tokens)
    spare = evidence.spare(scored[0], passages + second)
    return Found(ranked, passages, weights, texts, spare, second=second)


def render_text(sentences: list[Sentence]) -> str:
    """The answer text with markers at each sentence's end: 'Claim [1][3].'

    Markers a sentence already holds inline stay where they are.
    """
    parts = []
    for s in sentences:
        inline = {n for m in CITATION.finditer(s.text) for n in parse_numbers(m.group(1))}
        marks = "".join(f"[{n}]" for n in s.citations if n not in inline)
        body = s.text
        if marks and body[-1:] in ".!?":
            body = f"{body[:-1]} {marks}{body[-1]}"
        elif marks:
            body = f"{body} {marks}."
        parts.append(body)
    return " ".join(parts)


def citations_of(sentences: list[Sentence], passages: list[Passage]) -> list[Citation]:
    """The cited passages in order of first citation; each sentence passage is its support."""
    by_n = {p.n: p for p in passages}
    cited = dict.fromkeys(n for s in sentences for n in s.citations if n in by_n)
    return [Citation.of(by_n[n], (by_n[n].start, by_n[n].end)) for n in cited]


def extractive(question: str, query: str, passages: list[Passage], notice: str) -> Answer:
    """Quote the (at most two) evidence sentences that best match the query, with citations."""
    wanted = content_words(query)
    ranked = sorted(passages, key=lambda p: (-len(content_words(p.text) & wanted), -p.score, p.n))
    sentences = [Sentence(f"“{p.text}”", [p.n]) for p in ranked[:2]]
    return Answer(
        question=question,
        query=query,
        text=render_text(sentences),
        abstained=False,
        mode="extractive",
        citations=citations_of(sentences, passages),
        sentences=sentences,
        passages=passages,
        notice=notice,
    )


def abstention(
    question: str, query: str, passages: list[Passage], left_out: list[Sentence]
) -> Answer:
    """'The articles do not say', naming what the closest sentence does say."""
    text = ABSTAIN_TEXT
    if passages:
        best = max(passages, key=lambda p: p.score)
        text += f" The closest they come: “{' '.join(best.text.split())}” [{best.n}]"
    return Answer(question, query, text, True, "generated", passages=passages, left_out=left_out)


def answer_from_verdict(question: str, query: str, verdict: Verdict, read: list[Passage]) -> Answer:
    """The Answer a verdict allows over the sentences the model `read`: its claims with
    citations, or an abstention."""
    if verdict.abstained:
        return abstention(question, query, read, verdict.left_out)
    passages = read + verdict.added
    missing = [f"The articles do not answer: {asking_clause(q)}" for q in verdict.unanswered]
    return Answer(
        question,
        query,
        render_text(verdict.sentences),
        False,
        "generated",
        citations=citations_of(verdict.sentences, passages),
        sentences=verdict.sentences,
        passages=passages,
        left_out=verdict.left_out,
        disagreement=verdict.disagreement,
        notice=" ".join(missing),
    )


def free_text_answer(question: str, query: str, raw: str, found: Found) -> Answer:
    """The answer from an unconstrained reply: sentences with [n] markers, each verified."""
    claims = split_answer(raw)
    passages = found.passages
    if not raw or _REFUSAL.search(raw):
        return abstention(question, query, passages, [])
    if not claims:  # only markers, e.g. "[1]": quote what the model pointed at
        cited = {n for m in CITATION.finditer(raw) for n in parse_numbers(m.group(1))}
        pointed = [p for p in passages if p.n in cited] or passages
        answer = extractive(question, query, pointed, "The model only pointed at passages.")
        answer.passages = passages
        return answer
    checked = verify(claims, passages, query)
    shown = [s for s in checked if s.supported]
    left_out = [s for s in checked if not s.supported]
    if not shown:
        return abstention(question, query, passages, left_out)
    by_n = {p.n: p for p in passages}
    citations = {
        n: Citation.of(by_n[n], support_span(s.text, by_n[n])) for s in shown for n in s.citations
    }
    return Answer(
        question,
        query,
        render_text(shown),
        False,
        "generated",
        citations=list(citations.values()),
        sentences=shown,
        passages=passages,
        left_out=left_out,
    )


def _wait_message(
    passages: list[Passage], prompt_tokens: int, speed: float, again: bool = False
) -> str:
    """'Reading 9 sentences from 3 articles… (about 5 s)'; `again`: after the first ones
    answered nothing."""
    articles = len({p.article_id for p in passages})
    seconds = max(1, round(prompt_tokens / speed))
    noun = "article" if articles == 1 else "articles"
    lead = "No answer in those sentences. Reading the next " if again else "Reading "
    return f"{lead}{len(passages)} sentences from {articles} {noun}… (about {seconds} s)"


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
    today = question_date or date.today().isoformat()
    query = question
    if history:
        query = condense(question, history)
    yield Status("Searching the articles…")
    found = find_passages(
        query, engine, filters=filters, top_k=top_k, hybrid=hybrid, today=today, timings=timings
    )
    passages = found.passages
    yield Sources(passages)

    def finish(answer: Answer) -> Done:
        timings["total"] = time.perf_counter() - started
        answer.timings, answer.retrieved = timings, found.retrieved
        return Done(answer)

    best = max((p.similarity for p in found.retrieved), default=0.0)
    if best < settings.abstain_threshold or not passages:
        yield finish(abstention(question, query, passages, []))
        return
    if engine.llm is None:
        yield finish(extractive(question, query, passages, "No LLM is configured: quoting."))
        return

    constrained = engine.constrained
    embedded = isinstance(engine.llm, EmbeddedLLM)
    if constrained:
        # The model answers one part of a two-part question: ask each part on its own, over
        # the sentences picked for it.
        asked = [(query, passages)]
        if found.parts:
            asked = list(zip(parts(query), found.parts, strict=True))
        calls = [_constrained_call(q, shown, today, embedded) for q, shown in asked]
    else:
        free = prompt.messages(query, passages, today)
        free[0]["content"] = prompt.FREE_TEXT_PROMPT
        calls = [(free, None)]
    sizes = [sum(estimate_tokens(m["content"]) for m in r) for r, _ in calls]
    if embedded and engine.llm.status.state != "ready":
        yield Status("Loading the model…")
    yield Status(_wait_message(passages, sizes[0], engine.prompt_speed))
    try:
        raws = yield from _generate(engine, calls, sizes[0], started, timings, constrained)
        if constrained:
            args = (engine, found, today, sizes, started, timings)
            answer = yield from _verify_or_read_on(question, query, raws, *args)
        else:
            answer = free_text_answer(question, query, "".join(raws[0]).strip(), found)
    except LLMError as err:
        if constrained and not embedded and err.status in (400, 422):
            engine.constrained = False  # this server refuses JSON schemas: use free text
            yield from answer_stream(
                question,
                engine,
                history=history,
                filters=filters,
                top_k=top_k,
                hybrid=hybrid,
                question_date=question_date,
            )
            return
        notice = f"{err} Showing quotes from the articles."
        yield finish(extractive(question, query, passages, notice))
        return
    completion = sum(len(raw) for raw in raws)
    answer.usage = {"prompt_tokens": sum(sizes), "completion_tokens": completion}
    yield finish(answer)


Call = tuple[list[dict[str, str]], dict[str, Any] | None]


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
    """The answer the constrained replies allow; when nothing they propose holds, the model
    reads the next best sentences (`found.second`) and is asked once more. Appends that
    request's reply to `raws` and its prompt size to `sizes`."""
    passages = found.passages
    verdict = _verdict(query, raws, passages, found, [*found.second, *found.spare])
    if not verdict.abstained or not found.second:
        return answer_from_verdict(question, query, verdict, passages)
    read = passages + found.second
    call = _constrained_call(query, found.second, today, isinstance(engine.llm, EmbeddedLLM))
    sizes.append(sum(estimate_tokens(m["content"]) for m in call[0]))
    yield Sources(read)
    yield Status(_wait_message(found.second, sizes[-1], engine.prompt_speed, again=True))
    try:
        more = yield from _generate(engine, [call], sizes[-1], started, timings, True)
    except LLMError as err:
        answer = answer_from_verdict(question, query, verdict, read)
        answer.notice = f"{err} The next sentences were not read."
        return answer
    raws += more
    unread = [*passages, *found.spare]
    again = _verdict(query, more, found.second, found, unread, SECOND_LOOK_COVERAGE)
    again.left_out = verdict.left_out + again.left_out
    return answer_from_verdict(question, query, again, read)


def _constrained_call(question: str, shown: list[Passage], today: str, embedded: bool) -> Call:
    """The messages and JSON-schema request body asking `question` over the `shown` sentences."""
    body = prompt.request_body([p.n for p in shown], embedded)
    return prompt.messages(question, shown, today), body


def _generate(
    engine: Engine,
    calls: list[Call],
    size: int,
    started: float,
    timings: dict[str, float],
    constrained: bool,
) -> Generator[Token, None, list[list[str]]]:
    """Send each call in turn, streaming readable Tokens; returns each reply's raw pieces.
    The first token sets `timings['first_token']` and teaches the engine the prompt speed
    (`size`: the first call's prompt tokens)."""
    raws: list[list[str]] = []
    sent = time.perf_counter()
    for request, body in calls:
        streamed = bool(raws)
        raws.append(raw := [])
        pieces = engine.llm.stream(  # type: ignore[union-attr]
            request, max_tokens=engine.settings.llm_max_tokens, extra_body=body
        )
        shown = prompt.stream_display(pieces, raw) if constrained else _collect(pieces, raw)
        for i, text in enumerate(shown):
            if "first_token" not in timings:
                timings["first_token"] = time.perf_counter() - started
                _learn_speed(engine, size, time.perf_counter() - sent)
            yield Token(" · " + text if i == 0 and streamed else text)
    return raws


def _verdict(
    query: str,
    raws: list[list[str]],
    shown: list[Passage],
    found: Found,
    unread: list[Passage],
    threshold: float = KEY_TERM_COVERAGE,
) -> Verdict:
    """Verify the replies to the question asked over the `shown` sentences (their key-term
    coverage at least `threshold`); another article's value may also come from `unread` ones."""
    reply = prompt.merge([prompt.parse_reply("".join(raw)) for raw in raws])
    return decide(
        query, reply.proposals, reply.sentence, shown, found.weights, threshold,
        texts=found.texts, spare=unread,
    )  # fmt: skip


def _collect(pieces: Iterator[str], raw: list[str]) -> Iterator[str]:
    """Pass free-text pieces through, keeping them in `raw`."""
    for piece in pieces:
        raw.append(piece)
        yield piece


def _learn_speed(engine: Engine, prompt_tokens: int, seconds: float) -> None:
    """Fold one measured prompt-reading speed into the engine's estimate."""
    if seconds > 0.2:
        engine.prompt_speed = 0.7 * engine.prompt_speed + 0.3 * (prompt_tokens / seconds)


def ask(question: str, engine: Engine, **options: object) -> Answer:
    """Run answer_stream to the end and return the answer (scripts, eval, tests)."""
    for event in answer_stream(question, engine, **options):  # type: ignore[arg-type]
        if isinstance(event, Done):
            return event.answer
    raise RuntimeError("answer_stream ended without an answer")
