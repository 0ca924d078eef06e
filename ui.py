"""The web app: Gradio Blocks wired to plain handler functions, and `serve()` to run it.

`python ui.py [--host H] [--port N] [--auth user:password] [--index-dir DIR]` indexes the
bundled articles on first start, then serves the app (http://127.0.0.1:7860 by default).
Handlers are plain functions of (engine, conversations, inputs) so tests call them directly.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rag.settings import Settings, go_offline

go_offline()  # before gradio, llama-index or transformers are imported

import gradio as gr  # noqa: E402

from rag import eval_app, render  # noqa: E402
from rag.answer import Done, Engine, Status, Token, answer_stream, open_engine  # noqa: E402
from rag.chat import Conversations  # noqa: E402
from rag.errors import ConfigError, RagError  # noqa: E402
from rag.indexer import IndexReport, Progress, index_paths  # noqa: E402
from rag.llm import EmbeddedLLM  # noqa: E402
from rag.store import Filters  # noqa: E402

log = logging.getLogger("rag.ui")

UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ANSWER_CONCURRENCY_ID = "answer"
INDEX_CONCURRENCY_ID = "index"
EVAL_CONCURRENCY_ID = "eval"
MAX_NAME_CHARS = 80
TOP_K_MAX = 12
DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"

Session = dict[str, Any]  # {"chat_id": str | None, "turns": [turn dicts]}
ChatView = tuple[list[dict[str, str]], str, Session, str, str]

EVAL_CSS = """
.rag-eval-report { width: 100%; height: 75vh; border-radius: 6px; background: #fff;
  border: 1px solid var(--border-color-primary, #e5e7eb); }
.rag-metrics { display: flex; flex-wrap: wrap; gap: .5em; margin: .5em 0; }
.rag-metric { border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 6px;
  padding: .35em .7em; min-width: 7em; cursor: help; }
.rag-metric-value { font-size: 1.4em; font-weight: 600; font-variant-numeric: tabular-nums; }
.rag-metric-name { font-size: .85em; color: var(--body-text-color-subdued, #6b7280); }
.rag-compare table { border-collapse: collapse; margin: .4em 0; }
.rag-compare th, .rag-compare td { border: 1px solid var(--border-color-primary, #e5e7eb);
  padding: 2px 8px; text-align: left; }
.rag-compare td.num { text-align: right; font-variant-numeric: tabular-nums; }
.rag-compare .small { font-size: .85em; color: var(--body-text-color-subdued, #6b7280); }
"""


# -- configuration ------------------------------------------------------------------------------


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """`user:password` -> (user, password); None when unset; ConfigError when malformed."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ConfigError("Auth must look like user:password (RAG_AUTH or --auth).")
    return user, password


def check_bind(host: str, auth: str | None) -> tuple[str, str] | None:
    """Refuse to listen beyond this machine without a password; returns the parsed auth."""
    credentials = parse_auth(auth)
    if host not in LOCAL_HOSTS and credentials is None:
        raise ConfigError(
            f"Refusing to listen on {host} without a password: anyone on the network could use "
            "the app. Pass --auth user:password (or set RAG_AUTH), or bind to 127.0.0.1."
        )
    return credentials


def browser_secret(state_dir: Path) -> str:
    """A per-installation secret that encrypts the browser id kept in localStorage."""
    path = state_dir / "browser_secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        state_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        path.write_text(secret, encoding="ascii")
        path.chmod(0o600)
        return secret


# -- chat ---------------------------------------------------------------------------------------


def new_session() -> Session:
    """The state of a browser tab with no conversation yet."""
    return {"chat_id": None, "turns": []}


def chat_messages(session: Session) -> list[dict[str, str]]:
    """The Chatbot's messages for a session: escaped questions and rendered answers."""
    messages = []
    for i, turn in enumerate(session["turns"]):
        messages.append({"role": "user", "content": render.esc(turn["question"])})
        if turn.get("answer"):
            content = render.answer_html(render.answer_from_dict(turn["answer"]), i)
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
    """The sources panel for the latest answered turn."""
    for i in range(len(session["turns"]) - 1, -1, -1):
        if session["turns"][i].get("answer"):
            return render.sources_html(render.answer_from_dict(session["turns"][i]["answer"]), i)
    return render.sources_html(None, 0)


def make_filters(sources: list[str] | None, since: str, until: str) -> Filters:
    """Filters from the settings panel; ValueError with a user message on a malformed date."""
    import re

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
            elif isinstance(event, Token):
                turn["text"] += event.text
            elif isinstance(event, Done):
                turn["answer"] = render.answer_to_dict(event.answer)
                _persist(conversations, session, browser_id, turn)
                sources_panel = render.sources_html(event.answer, index)
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


def open_ref(engine: Engine, ref: str, session: Session | None) -> tuple[str, str]:
    """A clicked [n] marker or source: (article viewer, sources panel of that answer)."""
    session = session or new_session()
    parsed = render.parse_ref(ref or "")
    if parsed is None or parsed[0] >= len(session["turns"]):
        return render.viewer_empty(), last_sources(session)
    turn_no, kind, n = parsed
    data = session["turns"][turn_no].get("answer")
    if not data:
        return render.viewer_empty(), last_sources(session)
    answer = render.answer_from_dict(data)
    items = answer.citations if kind == "c" else answer.passages
    item = next((x for x in items if x.n == n), None)
    panel = render.sources_html(answer, turn_no, active=render.ref(turn_no, kind, n))
    if item is None:
        return render.viewer_empty(), panel
    support = getattr(item, "support", None)
    article = engine.store.article(item.article_id)
    if article is None:  # removed from the library since: show what the answer kept
        title = f"{item.title} (no longer in the library)"
        html = render.article_html(
            title, item.source, item.date, item.url, item.text, (0, len(item.text)), None
        )
        return html, panel
    viewer = render.article_html(
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
    return [], render.sources_html(None, 0), render.viewer_empty(), session, None


def chat_choices(conversations: Conversations, browser_id: str | None) -> list[tuple[str, str]]:
    """(label, chat_id) of a browser's past conversations, newest first."""
    if not browser_id:
        return []
    import time

    choices = []
    for chat_id, title, updated in conversations.list(browser_id):
        when = time.strftime("%b %d %H:%M", time.localtime(updated))
        choices.append((f"{title} · {when}", chat_id))
    return choices


def open_chat(
    conversations: Conversations, chat_id: str | None, browser_id: str | None
) -> tuple[list[dict[str, str]], str, str, Session]:
    """Reopen a past conversation of this browser (others' ids open nothing)."""
    session = new_session()
    if chat_id and browser_id and conversations.owner(chat_id) == browser_id:
        session["chat_id"] = chat_id
        pending: str | None = None
        for row in conversations.load(chat_id):
            if row["role"] == "user":
                pending = row["content"]
            elif pending is not None and row.get("answer"):
                session["turns"].append({"question": pending, "answer": row["answer"]})
                pending = None
    return chat_messages(session), last_sources(session), render.viewer_empty(), session


# -- library ------------------------------------------------------------------------------------

LIBRARY_HEADERS = ["Title", "Source", "Date", "Chunks", "Id"]


def library_rows(engine: Engine) -> list[list[Any]]:
    """One row per indexed article for the Library table."""
    return [[a.title or a.id, a.source, a.date, a.n_chunks, a.id] for a in engine.store.articles()]


def article_choices(engine: Engine) -> list[tuple[str, str]]:
    """(label, id) for the remove-article dropdown."""
    return [(f"{a.title or a.id} ({a.id})", a.id) for a in engine.store.articles()]


def sanitize_filename(name: str) -> str:
    """A safe file name: no directories, ASCII letters, digits, `._-` only, bounded length."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in base).lstrip("._-")
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot:
        stem, suffix = cleaned, ""
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def save_uploads(
    files: list[str], dest: Path, max_mb: float
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Copy accepted uploads into `dest` under sanitised names; (saved, [(name, reason)])."""
    import hashlib

    saved: list[Path] = []
    rejected: list[tuple[str, str]] = []
    dest.mkdir(parents=True, exist_ok=True)
    limit = int(max_mb * 1024 * 1024)
    for file in files:
        src = Path(file)
        name = sanitize_filename(src.name)
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            rejected.append((name, f"not a supported type ({', '.join(UPLOAD_SUFFIXES)})"))
            continue
        try:
            size = src.stat().st_size
        except OSError:
            rejected.append((name, "the upload could not be read"))
            continue
        if size > limit:
            rejected.append((name, f"larger than the {max_mb:g} MB upload limit"))
            continue
        target = dest / name
        data = src.read_bytes()
        if target.exists() and target.read_bytes() != data:
            stem, _, suffix = name.rpartition(".")
            target = dest / f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.{suffix}"
        target.write_bytes(data)
        saved.append(target)
    return saved, rejected


def index_uploads(
    engine: Engine,
    files: list[str] | None,
    progress: Callable[..., Any] | None = None,
) -> tuple[str, list[list[Any]]]:
    """Save uploaded files and index them; (report HTML, library rows)."""
    if not files:
        return render.index_report_html(None, []), library_rows(engine)
    settings = engine.settings
    saved, rejected = save_uploads(files, settings.state_dir / "uploads", settings.max_upload_mb)

    def on_progress(p: Progress) -> None:
        if progress is not None:
            fraction = p.done / p.total if p.total else 0.0
            progress(fraction, desc=p.message or f"Embedding {p.done}/{p.total} passages")

    report: IndexReport | None = None
    if saved:
        if progress is not None:
            progress(0.0, desc=f"Reading {len(saved)} file(s)…")
        try:
            report = index_paths(
                saved, engine.store, engine.embedder, settings, progress=on_progress
            )
        except RagError as err:
            rejected.extend((p.name, str(err)) for p in saved)
    return render.index_report_html(report, rejected), library_rows(engine)


def remove_article(engine: Engine, article_id: str | None) -> tuple[str, list[list[Any]]]:
    """Delete an article from the index; (message HTML, library rows)."""
    if not article_id:
        return render.notice_html("Choose an article to remove."), library_rows(engine)
    article = engine.store.article(article_id)
    if article is None:
        return render.notice_html("That article is not in the library."), library_rows(engine)
    engine.store.remove([article_id])
    message = f"Removed {article.title or article.id}."
    return render.notice_html(message), library_rows(engine)


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


# -- evaluate -----------------------------------------------------------------------------------


def evaluate(
    engine: Engine,
    key: str | None,
    name: str = "",
    retrieval_only: bool = False,
    top_k: float | None = None,
    hybrid: bool | None = None,
    progress: Callable[..., Any] | None = None,
) -> eval_app.RunView:
    """Run a question set (see rag.eval_app.run_set); an unexpected failure becomes a message."""
    try:
        return eval_app.run_set(
            engine, key, name=name, retrieval_only=bool(retrieval_only), top_k=top_k,
            hybrid=hybrid, progress=progress,
        )  # fmt: skip
    except Exception as err:  # a handler must never leave the tab spinning
        log.error("evaluation failed: %s", traceback.format_exc())
        return eval_app.empty_view(f"The evaluation failed ({type(err).__name__}: {err}).")


def run_dropdowns(engine: Engine, newest: Path | None = None) -> tuple[Any, Any]:
    """Updated Run A / Run B choices; after a run, B is the new run and A the one before it."""
    choices = eval_app.run_choices(engine)
    if newest is None:
        return gr.Dropdown(choices=choices), gr.Dropdown(choices=choices)
    names = [value for _, value in choices]
    before = next((n for n in names if n != newest.name), None)
    return gr.Dropdown(choices=choices, value=before), gr.Dropdown(
        choices=choices, value=newest.name
    )


# -- the app ------------------------------------------------------------------------------------


def build_app(engine: Engine, conversations: Conversations, secret: str) -> gr.Blocks:
    """The Blocks app: Chat, Library, Evaluate and Settings tabs wired to the handlers above."""
    settings = engine.settings
    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as demo:
        session = gr.State(new_session())
        browser_id = gr.BrowserState("", storage_key="rag_browser_id", secret=secret)
        status_line, _ = llm_status(engine)
        llm_line = gr.Markdown(status_line, elem_id="llm-status")
        timer = gr.Timer(2.0, active=True)

        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=1, min_width=180):
                        new_btn = gr.Button("New chat", variant="secondary")
                        past = gr.Radio(
                            choices=[], label="Past conversations", elem_id="past-chats"
                        )
                    with gr.Column(scale=4):
                        chatbot = gr.Chatbot(
                            value=[],
                            label="Answers",
                            elem_id="chat",
                            height=480,
                            sanitize_html=True,
                            render_markdown=False,
                            latex_delimiters=[],
                            allow_tags=False,
                            feedback_options=None,
                            buttons=["copy"],
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder="Ask about the articles…",
                                show_label=False,
                                scale=5,
                                elem_id="question",
                                max_lines=4,
                            )
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                    with gr.Column(scale=3):
                        sources = gr.HTML(
                            render.sources_html(None, 0),
                            elem_id="sources",
                            js_on_load=render.SOURCES_JS,
                            max_height=520,
                        )
                viewer = gr.HTML(
                    render.viewer_empty(), elem_id="viewer", js_on_load=render.VIEWER_JS
                )

            with gr.Tab("Library", id="library"):
                table = gr.Dataframe(
                    value=library_rows(engine),
                    headers=LIBRARY_HEADERS,
                    interactive=False,
                    label="Indexed articles",
                    elem_id="library-table",
                    wrap=True,
                )
                uploads = gr.File(
                    label=f"Add articles (txt, md, html, pdf, jsonl; up to "
                    f"{settings.max_upload_mb:g} MB each)",
                    file_count="multiple",
                    file_types=list(UPLOAD_SUFFIXES),
                    type="filepath",
                    elem_id="uploads",
                )
                index_btn = gr.Button("Index the files", variant="primary", elem_id="index")
                index_report = gr.HTML(render.index_report_html(None, []), elem_id="index-report")
                with gr.Row():
                    to_remove = gr.Dropdown(
                        choices=article_choices(engine), label="Remove an article", scale=4
                    )
                    remove_btn = gr.Button("Remove", variant="stop", scale=1)

            with gr.Tab("Evaluate", id="evaluate"):
                sets = eval_app.question_sets(engine)
                first_set = sets[0][1] if sets else None
                runs = eval_app.run_choices(engine)
                with gr.Row():
                    with gr.Column(scale=3):
                        eval_set = gr.Dropdown(
                            choices=sets, value=first_set, label="Question set", elem_id="eval-set"
                        )
                        eval_upload = gr.File(
                            label=f"…or upload a question set (.jsonl or .csv; up to "
                            f"{settings.max_upload_mb:g} MB)",
                            file_types=list(eval_app.EVAL_SUFFIXES),
                            type="filepath",
                            elem_id="eval-upload",
                            height=120,
                        )
                        eval_info = gr.HTML(
                            eval_app.describe_set(engine, first_set),
                            elem_id="eval-info",
                            js_on_load=None,
                        )
                    with gr.Column(scale=2):
                        eval_name = gr.Textbox(
                            label="Run name",
                            placeholder="the question set's name",
                            max_lines=1,
                            elem_id="eval-name",
                        )
                        eval_retrieval = gr.Checkbox(
                            value=False,
                            label="Retrieval only (no LLM: hit@k, recall, MRR)",
                            elem_id="eval-retrieval-only",
                        )
                        gr.Markdown(
                            "Answers go through the chat's pipeline with the *Passages* and "
                            "*Hybrid search* options of the Settings tab. Each question takes "
                            "as long as a chat answer; the other tabs stay usable meanwhile."
                        )
                        eval_btn = gr.Button(
                            "Run the evaluation", variant="primary", elem_id="eval-run"
                        )
                eval_status = gr.HTML("", elem_id="eval-status", js_on_load=None, min_height=40)
                eval_summary = gr.HTML("", elem_id="eval-summary", js_on_load=None)
                eval_download = gr.File(
                    label="Report (report.html)",
                    interactive=False,
                    visible=False,
                    elem_id="eval-download",
                    height=80,
                )
                eval_report = gr.HTML("", elem_id="eval-report", js_on_load=None)
                gr.Markdown("### Compare two runs")
                with gr.Row():
                    run_a = gr.Dropdown(choices=runs, label="Run A", scale=3, elem_id="eval-run-a")
                    run_b = gr.Dropdown(choices=runs, label="Run B", scale=3, elem_id="eval-run-b")
                    compare_btn = gr.Button("Compare", scale=1, elem_id="eval-compare")
                compare_view = gr.HTML("", elem_id="eval-compare-view", js_on_load=None)

            with gr.Tab("Settings", id="settings"):
                top_k = gr.Slider(1, TOP_K_MAX, value=settings.top_k, step=1, label="Passages")
                hybrid = gr.Checkbox(
                    value=settings.hybrid, label="Hybrid search (keywords + meaning)"
                )
                source_filter = gr.Dropdown(
                    choices=engine.store.sources(),
                    multiselect=True,
                    label="Only these sources (empty: all)",
                )
                with gr.Row():
                    since = gr.Textbox(label="From date (YYYY-MM-DD)", placeholder="2012-01-01")
                    until = gr.Textbox(label="Until date (YYYY-MM-DD)", placeholder="2014-12-31")
                llm_info = gr.Markdown(status_line)

        # -- events ---------------------------------------------------------------------------

        def ask(
            question: str,
            state: Session,
            browser_id: str,
            top_k: float,
            hybrid: bool,
            sources: list[str] | None,
            since: str,
            until: str,
        ) -> Iterator[ChatView]:
            yield from respond(
                engine, conversations, question, state, browser_id, top_k, hybrid, sources,
                since, until,
            )  # fmt: skip

        def refresh_past(bid: str) -> Any:
            return gr.Radio(choices=chat_choices(conversations, bid), value=None)

        chat_inputs = [question, session, browser_id, top_k, hybrid, source_filter, since, until]
        chat_outputs = [chatbot, sources, session, question, browser_id]
        for trigger in (question.submit, ask_btn.click):
            trigger(
                ask,
                chat_inputs,
                chat_outputs,
                api_name="ask" if trigger == ask_btn.click else False,
                concurrency_limit=settings.concurrency,
                concurrency_id=ANSWER_CONCURRENCY_ID,
            ).then(refresh_past, [browser_id], [past], queue=False, api_name=False)

        def on_source_click(state: Session, evt: gr.EventData) -> tuple[str, str]:
            data = getattr(evt, "_data", None) or {}
            return open_ref(engine, str(data.get("ref", "")), state)

        sources.click(
            on_source_click,
            [session],
            [viewer, sources],
            api_name=False,
            concurrency_limit=None,
            show_progress="hidden",
        )

        for start_over in (new_btn.click, chatbot.clear):
            start_over(
                new_chat,
                None,
                [chatbot, sources, viewer, session, past],
                api_name=False,
                queue=False,
            )

        def reopen(chat_id: str | None, bid: str) -> tuple[Any, ...]:
            return open_chat(conversations, chat_id, bid)

        past.input(reopen, [past, browser_id], [chatbot, sources, viewer, session], api_name=False)

        def upload(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
            report, rows = index_uploads(engine, files, progress)
            return (
                report,
                rows,
                gr.Dropdown(choices=article_choices(engine), value=None),
                gr.Dropdown(choices=engine.store.sources()),
                None,
            )

        index_btn.click(
            upload,
            [uploads],
            [index_report, table, to_remove, source_filter, uploads],
            api_name="index",
            concurrency_limit=1,
            concurrency_id=INDEX_CONCURRENCY_ID,
        )

        def remove(article_id: str | None) -> Any:
            message, rows = remove_article(engine, article_id)
            return message, rows, gr.Dropdown(choices=article_choices(engine), value=None)

        remove_btn.click(remove, [to_remove], [index_report, table, to_remove], api_name=False)

        def upload_set(file: str | None, current: str | None) -> tuple[Any, ...]:
            key, message = eval_app.save_upload(engine, file)
            choices = eval_app.question_sets(engine)
            return gr.Dropdown(choices=choices, value=key or current), message, None

        eval_upload.upload(
            upload_set,
            [eval_upload, eval_set],
            [eval_set, eval_info, eval_upload],
            api_name=False,
        )

        def pick_set(key: str | None) -> str:
            return eval_app.describe_set(engine, key)

        eval_set.input(pick_set, [eval_set], [eval_info], api_name=False)

        def run_eval_set(
            key: str | None,
            name: str,
            retrieval_only: bool,
            top_k: float,
            hybrid: bool,
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> tuple[Any, ...]:
            view = evaluate(engine, key, name, retrieval_only, top_k, hybrid, progress)
            download = str(view.download) if view.download else None
            return (
                view.status,
                view.summary,
                gr.File(value=download, visible=download is not None),
                view.report,
                *run_dropdowns(engine, view.run_dir),
            )

        eval_btn.click(
            run_eval_set,
            [eval_set, eval_name, eval_retrieval, top_k, hybrid],
            [eval_status, eval_summary, eval_download, eval_report, run_a, run_b],
            api_name="evaluate",
            concurrency_limit=1,
            concurrency_id=EVAL_CONCURRENCY_ID,
            show_progress_on=[eval_status],
        )

        def compare_runs(a: str | None, b: str | None) -> str:
            return eval_app.compare(engine, a, b)

        compare_btn.click(compare_runs, [run_a, run_b], [compare_view], api_name=False)

        def on_load(bid: str) -> tuple[Any, ...]:
            bid = bid or secrets.token_urlsafe(16)
            return (
                bid,
                gr.Radio(choices=chat_choices(conversations, bid), value=None),
                library_rows(engine),
                gr.Dropdown(choices=article_choices(engine)),
                gr.Dropdown(choices=engine.store.sources()),
                gr.Dropdown(choices=eval_app.question_sets(engine)),
                *run_dropdowns(engine),
            )

        demo.load(
            on_load,
            [browser_id],
            [browser_id, past, table, to_remove, source_filter, eval_set, run_a, run_b],
            api_name=False,
        )

        def tick() -> tuple[str, str, Any]:
            line, loading = llm_status(engine)
            return line, line, gr.Timer(active=loading)

        timer.tick(tick, None, [llm_line, llm_info, timer], api_name=False, show_progress="hidden")
    return demo


def index_if_empty(engine: Engine, out: Callable[[str], None] = print) -> IndexReport | None:
    """Index the bundled articles when the index holds none (first start)."""
    settings = engine.settings
    if engine.store.articles() or not settings.articles_dir.exists():
        return None
    out(f"Indexing the bundled articles in {settings.articles_dir} (first start)…")
    report = index_paths([settings.articles_dir], engine.store, engine.embedder, settings)
    out(f"Indexed {len(report.added)} articles ({report.chunks} passages).")
    return report


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    auth: str | None = None,
    block: bool = True,
    engine: Engine | None = None,
) -> gr.Blocks:
    """Index on first start, then serve the app; returns the running Blocks when not blocking."""
    host = host or settings.host
    port = port or settings.port
    credentials = check_bind(host, auth or settings.auth)
    owns_engine = engine is None
    engine = engine or open_engine(settings)
    index_if_empty(engine)
    if isinstance(engine.llm, EmbeddedLLM):
        engine.llm.start_background()
    conversations = Conversations.for_settings(settings)
    demo = build_app(engine, conversations, browser_secret(settings.state_dir))
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=64)
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving the app on http://{shown}:{port}", flush=True)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=credentials,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        allowed_paths=[],
        blocked_paths=[str(settings.index_dir.resolve()), str(Path.cwd() / ".env")],
        max_file_size=int(settings.max_upload_mb * 1024 * 1024),
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        show_error=False,
        quiet=True,
        footer_links=[],
        css=render.CSS + EVAL_CSS,
    )
    if block and owns_engine:  # launch() returns once the server stopped (Ctrl-C)
        engine.close()
    return demo


def main(argv: list[str] | None = None) -> int:
    """`python ui.py` entry point: parse options, build Settings, serve."""
    parser = argparse.ArgumentParser(description="Serve the article question-answering app.")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 7860)")
    parser.add_argument("--auth", help="user:password required to use the app")
    parser.add_argument("--index-dir", type=Path, help="index directory (default index/)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        overrides = {"index_dir": args.index_dir} if args.index_dir else {}
        settings = Settings(**overrides)
        serve(settings, host=args.host, port=args.port, auth=args.auth)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
