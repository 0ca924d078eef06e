"""The Chat tab's answering as plain functions: session state, streaming, clicked references,
and the LLM status line the Settings tab shows.

No Gradio here: `chat_tab.py` wires these to components, tests call them directly. A session is
the per-tab state: the open chat's id and its turns (question, answer dict, streaming text,
passages found so far, error). Past conversations are in `history.py`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import secrets
import traceback
from collections.abc import Iterator
from typing import Any

from rag.answering.answer import answer_stream
from rag.answering.compose import Answer
from rag.answering.engine import Done, Engine, Sources, Status, Token
from rag.app import export, panels, render
from rag.chat import Conversations
from rag.embedded import EmbeddedLLM
from rag.errors import RagError
from rag.filters import Filters

log = logging.getLogger(__name__)

TOP_K_MAX = 12
DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"

Session = dict[str, Any]  # {"chat_id": str | None, "turns": [turn dicts]}
ChatView = tuple[list[dict[str, str]], str, Session, str, str]


def new_session() -> Session:
    """The state of a browser tab with no conversation yet."""
    return {"chat_id": None, "turns": []}


def chat_messages(session: Session) -> list[dict[str, str]]:
    """The Chatbot's messages for a session: escaped questions and rendered answers."""
    messages = []
    for i, turn in enumerate(session["turns"]):
        messages.append({"role": "user", "content": render.esc(turn["question"])})
        if turn.get("answer"):
            answer = render.answer_from_dict(turn["answer"])
            content = render.answer_html(answer, i, copy=export.copy_text(answer))
        elif turn.get("error"):
            content = render.error_html(turn["error"])
        else:
            content = render.streaming_html(turn.get("text", ""), turn.get("status", ""))
        messages.append({"role": "assistant", "content": content})
    return messages


def history_of(session: Session) -> list[dict[str, str]]:
    """The plain-text history the pipeline condenses follow-ups with."""
    history = []
    for turn in session["turns"]:
        if turn.get("answer"):
            history.append({"role": "user", "content": turn["question"]})
            history.append({"role": "assistant", "content": turn["answer"]["text"]})
    return history


def last_sources(session: Session) -> str:
    """The sources panel for the latest turn: its answer's sources, or the passages found so far."""
    for i in range(len(session["turns"]) - 1, -1, -1):
        turn = session["turns"][i]
        if turn.get("answer"):
            return panels.sources_html(render.answer_from_dict(turn["answer"]), i)
        if turn.get("passages") is not None:
            found = render.answer_from_dict({"passages": turn["passages"]}).passages
            return panels.pending_sources_html(found, turn["question"], i)
    return panels.sources_html(None, 0)


def make_filters(sources: list[str] | None, since: str, until: str) -> Filters:
    """Filters from the settings panel; ValueError with a user message on a malformed date."""
    since, until = (since or "").strip(), (until or "").strip()
    for label, value in (("From", since), ("Until", until)):
        if value and not re.match(DATE_PATTERN, value):
            raise ValueError(f"{label} date {value!r} is not a date like 2012-04-23.")
    return Filters(sources=tuple(sources or ()), since=since, until=until)


def respond(
    engine: Engine,
    conversations: Conversations,
    question: str,
    session: Session | None,
    browser_id: str | None,
    top_k: float = 4,
    hybrid: bool = True,
    sources: list[str] | None = None,
    since: str = "",
    until: str = "",
) -> Iterator[ChatView]:
    """Answer a question; yields (messages, sources, session, textbox, browser_id) as it streams."""
    session = session or new_session()
    browser_id = browser_id or secrets.token_urlsafe(16)
    question = (question or "").strip()
    if not question:
        yield chat_messages(session), last_sources(session), session, "", browser_id
        return
    history = history_of(session)
    turn: dict[str, Any] = {"question": question, "answer": None, "text": "", "status": ""}
    session = {"chat_id": session.get("chat_id"), "turns": [*session["turns"], turn]}
    index = len(session["turns"]) - 1
    try:
        filters = make_filters(sources, since, until)
    except ValueError as err:
        turn["error"] = str(err)
        yield chat_messages(session), last_sources(session), session, question, browser_id
        return
    turn["status"] = "Searching the articles…"
    yield chat_messages(session), last_sources(session), session, "", browser_id
    try:
        events = answer_stream(
            question,
            engine,
            history=history,
            filters=filters or None,
            top_k=max(1, min(TOP_K_MAX, int(top_k or engine.settings.top_k))),
            hybrid=bool(hybrid),
        )
        for event in events:
            if isinstance(event, Status):
                turn["status"] = event.message
            elif isinstance(event, Sources):  # again: the model reads more sentences
                turn["passages"] = [dataclasses.asdict(p) for p in event.passages]
                turn["text"] = ""
            elif isinstance(event, Token):
                turn["text"] += event.text
            elif isinstance(event, Done):
                turn["answer"] = render.answer_to_dict(event.answer)
                _persist(conversations, session, browser_id, turn)
                sources_panel = panels.sources_html(event.answer, index)
                yield chat_messages(session), sources_panel, session, "", browser_id
                return
            yield chat_messages(session), last_sources(session), session, "", browser_id
        turn["error"] = "The answer ended unexpectedly; please ask again."
    except RagError as err:
        turn["error"] = str(err)
    except Exception as err:  # a handler must never leave the chat spinning
        log.error("answering failed: %s", traceback.format_exc())
        turn["error"] = f"Something went wrong while answering ({type(err).__name__})."
    yield chat_messages(session), last_sources(session), session, "", browser_id


def _persist(
    conversations: Conversations, session: Session, browser_id: str, turn: dict[str, Any]
) -> None:
    """Save a finished question and answer; the first one creates the conversation."""
    try:
        if not session.get("chat_id"):
            session["chat_id"] = conversations.create(browser_id)
        chat_id = session["chat_id"]
        conversations.add_turn(chat_id, "user", turn["question"])
        answer = turn["answer"]
        conversations.add_turn(chat_id, "assistant", answer["text"], json.dumps(answer))
    except Exception:  # losing history must not lose the answer on screen
        log.error("could not save the conversation: %s", traceback.format_exc())


def _turn_answer(session: Session, turn_no: int) -> Answer | None:
    """The answer of a turn, or (while it is written) one holding the passages found so far."""
    turn = session["turns"][turn_no]
    if turn.get("answer"):
        return render.answer_from_dict(turn["answer"])
    if turn.get("passages") is not None:
        return render.answer_from_dict({"question": turn["question"], "passages": turn["passages"]})
    return None


def open_ref(engine: Engine, ref: str, session: Session | None) -> tuple[str, str]:
    """A clicked [n] marker or source: (article viewer, sources panel of that answer); anything
    else (the viewer's "back" link included) closes the viewer."""
    session = session or new_session()
    parsed = render.parse_ref(ref or "")
    if parsed is None or parsed[0] >= len(session["turns"]):
        return panels.viewer_empty(), last_sources(session)
    turn_no, kind, n = parsed
    answer = _turn_answer(session, turn_no)
    if answer is None:
        return panels.viewer_empty(), last_sources(session)
    items = answer.citations if kind == "c" else answer.passages
    item = next((x for x in items if x.n == n), None)
    panel = panels.sources_html(answer, turn_no, active=render.ref(turn_no, kind, n))
    if not session["turns"][turn_no].get("answer"):
        panel = last_sources(session)
    if item is None:
        return panels.viewer_empty(), panel
    support = getattr(item, "support", None)
    article = engine.store.article(item.article_id)
    if article is None:  # removed from the library since: show what the answer kept
        title = f"{item.title} (no longer in the library)"
        html = panels.article_html(
            title, item.source, item.date, item.url, item.text, (0, len(item.text)), None
        )
        return html, panel
    viewer = panels.article_html(
        article.title or article.id,
        article.source,
        article.date,
        article.url,
        article.text,
        (item.start, item.end),
        tuple(support) if support else None,
    )
    return viewer, panel


def new_chat() -> tuple[list[dict[str, str]], str, str, Session, None]:
    """Start over: empty chat, sources and viewer; deselect the past-chats list."""
    session = new_session()
    return [], panels.sources_html(None, 0), panels.viewer_empty(), session, None


# -- what is in the library ------------------------------------------------------------------

EXAMPLES = 3
_SITE_SUFFIX = re.compile(r"\s+[–—|-]\s+.*$")  # "… In VRAE – Report", "… | The Wire"


def library_hint(engine: Engine) -> tuple[str, list[str]]:
    """The Chat tab's hint: how many articles the library holds, and example questions about
    the newest ones' titles (each one a click away)."""
    articles = engine.store.articles()
    if not articles:
        return "The library is empty: add articles in the Library tab.", []
    sources = len({a.source for a in articles if a.source})
    noun = "article" if len(articles) == 1 else "articles"
    line = f"The library holds {len(articles):,} {noun}"
    line += f" from {sources:,} source{'s' * (sources != 1)}." if sources else "."
    titles = [
        _SITE_SUFFIX.sub("", " ".join(a.title.split()))
        for a in sorted(articles, key=lambda a: a.date, reverse=True)
        if a.title.strip()
    ]
    examples = [f"What do the articles say about “{t}”?" for t in dict.fromkeys(titles)]
    return line + (" Try one of these:" if examples else ""), examples[:EXAMPLES]


# -- settings -----------------------------------------------------------------------------------


def llm_status(engine: Engine) -> tuple[str, bool]:
    """(one status line for the LLM, still loading?)."""
    llm = engine.llm
    if llm is None:
        return "LLM: none. Answers quote the most relevant passages.", False
    if isinstance(llm, EmbeddedLLM):
        status = llm.status
        if status.state in ("loading", "off"):
            return f"LLM: {llm.name}. Loading model… ({status.message})", True
        if status.state == "error":
            return f"LLM: {llm.name}. Not available: {status.message}", False
        return f"LLM: {llm.name}. Ready.", False
    return f"LLM: {llm.name}. Ready (remote server).", False
