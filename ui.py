"""The web app: Gradio Blocks wired to plain handler functions, and `serve()` to run it.

`python ui.py [--host H] [--port N] [--auth user:password] [--index-dir DIR]` indexes the
bundled articles on first start, then serves the app (http://127.0.0.1:7860 by default).
Each tab is built next to its handlers in rag/app/ (chat_tab.py with chat.py, library_tab.py
with library.py, evaluate_tab.py with evaluate.py and eval_jobs.py, settings_tab.py); the
handlers are plain functions that tests call directly. This module puts the tabs together.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from rag.settings import Settings, go_offline, load_settings

go_offline()  # before gradio, llama-index or transformers are imported

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from rag.answering.engine import Engine  # noqa: E402
from rag.api import index_paths, open_engine  # noqa: E402
from rag.app import chat, chat_tab, evaluate_tab, library_tab, settings_tab  # noqa: E402
from rag.app.eval_jobs import Runner  # noqa: E402
from rag.app.security import (  # noqa: E402
    ClientAddressMiddleware,
    LoginBrake,
    browser_secret,
    check_bind,
    login_checker,
)
from rag.app.style import CSS, theme  # noqa: E402
from rag.chat import Conversations  # noqa: E402
from rag.embedded import EmbeddedLLM  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.index_lock import serve_index, writing  # noqa: E402
from rag.indexer import IndexReport  # noqa: E402


def build_app(engine: Engine, conversations: Conversations, secret: str) -> gr.Blocks:
    """The Blocks app: Chat, Library, Evaluate and Settings tabs, each built by its module."""
    runner = Runner(engine)  # the app's one evaluation slot, shared by every browser tab
    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as demo:
        browser_id = gr.BrowserState("", storage_key="rag_browser_id", secret=secret)
        llm_line = gr.Markdown(chat.llm_status(engine)[0], elem_id="llm-status")
        options = settings_tab.make_options(engine)
        with gr.Tabs():
            chat_tab.build_tab(demo, engine, conversations, browser_id, options)
            library_tab.build_tab(demo, engine, options)
            evaluate_tab.build_tab(demo, engine, runner, options)
            settings_tab.build_tab(engine, options, llm_line)
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
        report = index_paths([settings.articles_dir], engine)
    out(f"Indexed {len(report.added)} articles ({report.chunks} passages).")
    return report


def _stop(signum: int, frame: object) -> None:
    """SIGTERM ends the app like Ctrl-C: its model's card and its locks go with it."""
    raise KeyboardInterrupt


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
    serve_index(settings.index_dir)
    index_if_empty(engine)
    if isinstance(engine.llm, EmbeddedLLM):
        engine.llm.start_background(share=True)
    if block and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)  # `kill`, systemd: exit as on Ctrl-C
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
        css=CSS,
        theme=theme(),
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
        settings = load_settings(**overrides)
        serve(settings, host=args.host, port=args.port, auth=args.auth)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
