"""The web app: Gradio Blocks wired to plain handler functions, and `serve()` to run it.

`python ui.py [--host H] [--port N] [--auth user:password] [--index-dir DIR]` indexes the
bundled articles on first start, then serves the app (http://127.0.0.1:7860 by default).
The handlers are plain functions in rag/app/ (chat.py, library.py, evaluate.py),
so tests call them directly; this module only lays out the tabs and wires them.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rag.settings import Settings, go_offline

go_offline()  # before gradio, llama-index or transformers are imported

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from rag.answer import Engine, open_engine  # noqa: E402
from rag.app import chat, evaluate, library, render  # noqa: E402
from rag.app.chat import ChatView, Session  # noqa: E402
from rag.app.security import (  # noqa: E402
    ClientAddressMiddleware,
    LoginBrake,
    browser_secret,
    check_bind,
    login_checker,
)
from rag.chat import Conversations  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.index_lock import writing  # noqa: E402
from rag.indexer import IndexReport, index_paths  # noqa: E402
from rag.llm import EmbeddedLLM  # noqa: E402

ANSWER_CONCURRENCY_ID = "answer"
INDEX_CONCURRENCY_ID = "index"
EVAL_CONCURRENCY_ID = "eval"

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


def build_app(engine: Engine, conversations: Conversations, secret: str) -> gr.Blocks:
    """The Blocks app: Chat, Library, Evaluate and Settings tabs wired to the rag/app handlers."""
    settings = engine.settings
    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as demo:
        session = gr.State(chat.new_session())
        browser_id = gr.BrowserState("", storage_key="rag_browser_id", secret=secret)
        status_line, _ = chat.llm_status(engine)
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
                    value=library.library_rows(engine),
                    headers=library.LIBRARY_HEADERS,
                    interactive=False,
                    label="Indexed articles",
                    elem_id="library-table",
                    wrap=True,
                )
                uploads = gr.File(
                    label=f"Add articles (txt, md, html, pdf, jsonl; up to "
                    f"{settings.max_upload_mb:g} MB each)",
                    file_count="multiple",
                    file_types=list(library.UPLOAD_SUFFIXES),
                    type="filepath",
                    elem_id="uploads",
                )
                index_btn = gr.Button("Index the files", variant="primary", elem_id="index")
                index_report = gr.HTML(render.index_report_html(None, []), elem_id="index-report")
                with gr.Row():
                    to_remove = gr.Dropdown(
                        choices=library.article_choices(engine),
                        label="Remove an article",
                        scale=4,
                    )
                    remove_btn = gr.Button("Remove", variant="stop", scale=1)

            with gr.Tab("Evaluate", id="evaluate"):
                sets = evaluate.question_sets(engine)
                first_set = sets[0][1] if sets else None
                runs = evaluate.run_choices(engine)
                with gr.Row():
                    with gr.Column(scale=3):
                        eval_set = gr.Dropdown(
                            choices=sets, value=first_set, label="Question set", elem_id="eval-set"
                        )
                        eval_upload = gr.File(
                            label=f"…or upload a question set (.jsonl or .csv; up to "
                            f"{settings.max_upload_mb:g} MB)",
                            file_types=list(evaluate.EVAL_SUFFIXES),
                            type="filepath",
                            elem_id="eval-upload",
                            height=120,
                        )
                        eval_info = gr.HTML(
                            evaluate.describe_set(engine, first_set),
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
                top_k = gr.Slider(1, chat.TOP_K_MAX, value=settings.top_k, step=1, label="Passages")
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
            yield from chat.respond(
                engine, conversations, question, state, browser_id, top_k, hybrid, sources,
                since, until,
            )  # fmt: skip

        def refresh_past(bid: str) -> Any:
            return gr.Radio(choices=chat.chat_choices(conversations, bid), value=None)

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
            return chat.open_ref(engine, str(data.get("ref", "")), state)

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
                chat.new_chat,
                None,
                [chatbot, sources, viewer, session, past],
                api_name=False,
                queue=False,
            )

        def reopen(chat_id: str | None, bid: str) -> tuple[Any, ...]:
            return chat.open_chat(conversations, chat_id, bid)

        past.input(reopen, [past, browser_id], [chatbot, sources, viewer, session], api_name=False)

        def upload(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> Any:  # noqa: B008
            report, rows = library.index_uploads(engine, files, progress)
            return (
                report,
                rows,
                gr.Dropdown(choices=library.article_choices(engine), value=None),
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
            message, rows = library.remove_article(engine, article_id)
            return (
                message,
                rows,
                gr.Dropdown(choices=library.article_choices(engine), value=None),
            )

        remove_btn.click(remove, [to_remove], [index_report, table, to_remove], api_name=False)

        def upload_set(file: str | None, current: str | None) -> tuple[Any, ...]:
            key, message = evaluate.save_upload(engine, file)
            choices = evaluate.question_sets(engine)
            return gr.Dropdown(choices=choices, value=key or current), message, None

        eval_upload.upload(
            upload_set,
            [eval_upload, eval_set],
            [eval_set, eval_info, eval_upload],
            api_name=False,
        )

        def pick_set(key: str | None) -> str:
            return evaluate.describe_set(engine, key)

        eval_set.input(pick_set, [eval_set], [eval_info], api_name=False)

        def run_dropdowns(newest: Path | None = None) -> tuple[Any, Any]:
            """Updated Run A / Run B; after a run, B is the new run and A the one before it."""
            if newest is None:
                choices = evaluate.run_choices(engine)
                return gr.Dropdown(choices=choices), gr.Dropdown(choices=choices)
            choices, before, latest = evaluate.run_picks(engine, newest)
            return gr.Dropdown(choices=choices, value=before), gr.Dropdown(
                choices=choices, value=latest
            )

        def run_eval_set(
            key: str | None,
            name: str,
            retrieval_only: bool,
            top_k: float,
            hybrid: bool,
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> tuple[Any, ...]:
            view = evaluate.evaluate(engine, key, name, retrieval_only, top_k, hybrid, progress)
            download = str(view.download) if view.download else None
            return (
                view.status,
                view.summary,
                gr.File(value=download, visible=download is not None),
                view.report,
                *run_dropdowns(view.run_dir),
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
            return evaluate.compare(engine, a, b)

        compare_btn.click(compare_runs, [run_a, run_b], [compare_view], api_name=False)

        def on_load(bid: str) -> tuple[Any, ...]:
            bid = bid or secrets.token_urlsafe(16)
            return (
                bid,
                gr.Radio(choices=chat.chat_choices(conversations, bid), value=None),
                library.library_rows(engine),
                gr.Dropdown(choices=library.article_choices(engine)),
                gr.Dropdown(choices=engine.store.sources()),
                gr.Dropdown(choices=evaluate.question_sets(engine)),
                *run_dropdowns(),
            )

        demo.load(
            on_load,
            [browser_id],
            [browser_id, past, table, to_remove, source_filter, eval_set, run_a, run_b],
            api_name=False,
        )

        def tick() -> tuple[str, str, Any]:
            line, loading = chat.llm_status(engine)
            return line, line, gr.Timer(active=loading)

        timer.tick(tick, None, [llm_line, llm_info, timer], api_name=False, show_progress="hidden")
    return demo


def index_if_empty(engine: Engine, out: Callable[[str], None] = print) -> IndexReport | None:
    """Index the bundled articles when the index holds none (first start)."""
    settings = engine.settings
    if engine.store.articles() or not settings.articles_dir.exists():
        return None
    with writing(settings.index_dir, "app first start", on_wait=out):
        if engine.store.articles():  # another run indexed while we waited
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
    login_brake: LoginBrake | None = None,
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
        auth=login_checker(credentials, login_brake or LoginBrake()) if credentials else None,
        app_kwargs={"middleware": [Middleware(ClientAddressMiddleware)]},
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
