"""The `rag` command line: index, repair, articles, remove, doctor, ask, chat, eval, serve."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from rag.errors import RagError
from rag.settings import Settings, go_offline, load_settings
from rag.terminal import (
    confirm_prune,
    err_console,
    metrics_table,
    progress_bar,
    say_waiting,
    show_answer,
    show_articles,
    show_checks,
    show_index_report,
    start_model,
    stop_on_ctrl_c,
)

if TYPE_CHECKING:
    from rag.judge import Judge


def iso_date(value: str) -> str:
    """An argparse type: a date as YYYY-MM-DD (or a news-style date), else a clear error."""
    from rag.cleaning import parse_date

    parsed = parse_date(value)
    if not parsed:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: write it as YYYY-MM-DD")
    return parsed


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from env/rag.toml, overridden by the command-line options given."""
    overrides = {
        key: value
        for key, value in {
            "index_dir": getattr(args, "index_dir", None),
            "chroma_url": getattr(args, "chroma_url", None),
        }.items()
        if value is not None
    }
    return load_settings(**overrides)


def cmd_index(args: argparse.Namespace, out: Console) -> int:
    from rag.index_lock import IndexBusy, serving_app, writing
    from rag.indexer import Progress as IndexProgress
    from rag.indexer import index_paths, open_index
    from rag.store import wipe_index

    settings = settings_from(args)
    missing = [p for p in args.paths if not p.exists()]
    if missing:  # before --rebuild wipes anything: a typo must not cost the index
        raise RagError(f"No such file or folder: {', '.join(map(str, missing))}")
    with writing(settings.index_dir, "rag index", on_wait=say_waiting):
        if args.rebuild:
            if who := serving_app(settings.index_dir):
                raise IndexBusy(
                    f"The app ({who}) is serving {settings.index_dir}/: a rebuild would take the"
                    " index from under it. Stop the app, rebuild, then start it again."
                )
            wipe_index(settings)
        store, embedder = open_index(settings)
        with (
            progress_bar(disable=args.json) as bar,
            stop_on_ctrl_c() as stopping,
        ):
            task = bar.add_task("Reading the files…", total=None)

            def show(p: IndexProgress) -> None:
                what = f"{p.articles:,}/{p.articles_total:,} articles, passages"
                bar.update(task, completed=p.done, total=p.total, description=what)

            report = index_paths(
                args.paths,
                store,
                embedder,
                settings,
                prune=args.prune,
                prune_all=args.yes,
                progress=show,
                stop=stopping.is_set,
            )
        if report.held_back and confirm_prune(report.held_back, len(store.articles())):
            store.remove(report.held_back)
            report.removed, report.held_back = report.held_back, []
    show_index_report(report, out, args.json)
    return 0


def cmd_repair(args: argparse.Namespace, out: Console) -> int:
    from rag.index_lock import writing
    from rag.indexer import open_index, repair

    settings = settings_from(args)
    with writing(settings.index_dir, "rag repair", on_wait=say_waiting):
        store, embedder = open_index(settings)
        store.check()
        repaired = repair(store, embedder)
        problems = store.problems()
    out.print(f"{repaired} passages embedded again from the index")
    if problems:
        raise RagError(
            "Still out of step: " + "; ".join(problems) + ". Rebuild from your article files:"
            f" `rag index FOLDER --rebuild --index-dir {settings.index_dir}`."
        )
    out.print("the manifest, the keyword index and the vector store agree")
    return 0


def cmd_articles(args: argparse.Namespace, out: Console) -> int:
    from rag.indexer import open_index

    store, _ = open_index(settings_from(args), for_queries=True)
    show_articles(store.articles(), out, args.json)
    return 0


def cmd_remove(args: argparse.Namespace, out: Console) -> int:
    from rag.index_lock import writing
    from rag.indexer import open_index

    settings = settings_from(args)
    with writing(settings.index_dir, "rag remove", on_wait=say_waiting):
        store, _ = open_index(settings, for_queries=True)
        unknown = [i for i in args.ids if store.article(i) is None]
        if unknown:
            raise RagError(f"No article with id {', '.join(unknown)}: see `rag articles`.")
        store.remove(args.ids)
    out.print(f"removed {len(args.ids)} article(s)")
    return 0


def cmd_doctor(args: argparse.Namespace, out: Console) -> int:
    from rag.doctor import run_checks

    checks = run_checks(settings_from(args))
    show_checks(checks, out, args.json)
    return 0 if all(c.ok for c in checks) else 1


def cmd_ask(args: argparse.Namespace, out: Console) -> int:
    from rag.api import answer_stream, open_engine
    from rag.filters import Filters

    engine = open_engine(settings_from(args))
    start_model(engine, err_console)
    filters = Filters(tuple(args.source or ()), args.since or "", args.until or "")
    events = answer_stream(
        args.question,
        engine,
        filters=filters,
        top_k=args.top_k,
        hybrid=not args.no_hybrid,
        question_date=args.date or "",
    )
    try:
        show_answer(events, out, args.json)
    finally:
        engine.close()
    return 0


def cmd_chat(args: argparse.Namespace, out: Console) -> int:
    from rag.api import answer_stream, open_engine

    engine = open_engine(settings_from(args))
    start_model(engine, err_console)
    history: list[dict[str, str]] = []
    out.print("Ask about the indexed articles; an empty line or Ctrl-D ends the chat.")
    try:
        while True:
            try:
                question = input("\n> ").strip()
            except EOFError:
                break
            if not question:
                break
            try:
                answer = show_answer(answer_stream(question, engine, history=history), out)
            except RagError as err:  # e.g. Chroma went down: keep the conversation, allow a retry
                err_console.print(f"[red]error:[/] {escape(str(err))}")
                err_console.print("The conversation is kept: ask again once that is fixed.")
                continue
            history += [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer.text},
            ]
    finally:
        engine.close()
    return 0


def cmd_serve(args: argparse.Namespace, out: Console) -> int:
    import ui

    ui.serve(settings_from(args), host=args.host, port=args.port, auth=args.auth)
    return 0


def make_judge(args: argparse.Namespace, settings: Settings) -> Judge | None:
    """The citation judge asked for with --judge-url/--judge-model, if any."""
    from rag.judge import Judge
    from rag.llm import ChatLLM

    if not args.judge_url:
        return None
    if not args.judge_model:
        raise RagError("--judge-url needs --judge-model (the model name the server serves).")
    key = args.judge_key or settings.judge_api_key.get_secret_value()
    llm = ChatLLM(
        args.judge_url,
        key,
        args.judge_model,
        settings.llm_timeout,
        settings.llm_retries,
        deadline=settings.llm_deadline,
    )
    return Judge(llm)


def cmd_eval(args: argparse.Namespace, out: Console) -> int:
    from rag import evaluation, runs
    from rag.questions import load_questions
    from rag.report import render_compare

    if args.target[0] == "compare":
        if len(args.target) != 3:
            raise RagError("usage: rag eval compare RUN_A RUN_B")
        comparison = runs.compare_runs(Path(args.target[1]), Path(args.target[2]))
        out.print(escape(render_compare(comparison)))
        return 0
    if len(args.target) != 1:
        raise RagError("usage: rag eval QUESTIONS.jsonl|csv [options]")
    from rag.api import open_engine
    from rag.app.evaluate import eval_pipeline

    settings = settings_from(args)
    questions, errors = load_questions(Path(args.target[0]))
    for error in errors:
        err_console.print(f"[yellow]skipped[/] {escape(error)}")
    judge = make_judge(args, settings)
    engine = open_engine(settings)
    answer_fn, summary = eval_pipeline(
        engine, retrieval_only=args.retrieval_only, top_k=args.top_k or None
    )
    with progress_bar() as bar:
        task = bar.add_task("Questions", total=len(questions))
        run_dir = evaluation.run_eval(
            questions,
            answer_fn,
            args.out or settings.eval_runs_dir,
            name=args.name,
            settings_summary=summary,
            parallel=args.parallel,
            retrieval_only=args.retrieval_only,
            resume=args.resume,
            judge=judge,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    result = json.loads((run_dir / "summary.json").read_text())
    out.print(metrics_table(result.get("metrics", {})))
    out.print(f"report: {run_dir / 'report.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = argparse.ArgumentParser(prog="rag", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace, Console], int], help_: str):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--index-dir", type=Path, help="index directory (default: index/)")
        p.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000")
        p.set_defaults(func=func)
        return p

    p = add("index", cmd_index, "Index files or folders of articles.")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--prune", action="store_true", help="remove articles whose files are gone")
    p.add_argument(
        "--yes", action="store_true", help="with --prune: remove even most of the index, unasked"
    )
    p.add_argument("--rebuild", action="store_true", help="delete the index and build it anew")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = add("repair", cmd_repair, "Embed again what the vector store lost, from the index itself.")

    p = add("articles", cmd_articles, "List the indexed articles.")
    p.add_argument("--json", action="store_true")

    p = add("remove", cmd_remove, "Remove articles from the index by id.")
    p.add_argument("ids", nargs="+")

    p = add("ask", cmd_ask, "Answer a question from the indexed articles, with citations.")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--since", type=iso_date, help="only articles dated on or after YYYY-MM-DD")
    p.add_argument("--until", type=iso_date, help="only articles dated on or before YYYY-MM-DD")
    p.add_argument("--top-k", type=int, help="passages given to the LLM")
    p.add_argument("--no-hybrid", action="store_true", help="dense retrieval only")
    p.add_argument(
        "--date", type=iso_date, help="the day the question is asked (YYYY-MM-DD; default today)"
    )

    p = add("chat", cmd_chat, "A conversation in the terminal; follow-up questions work.")

    p = add("serve", cmd_serve, "Serve the browser app (same as `python ui.py`).")
    p.add_argument("--host", help="address to bind (default 127.0.0.1; others need --auth)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.add_argument("--auth", help="user:password required to use the app")

    p = add("eval", cmd_eval, "Run a question set and write a report (or: eval compare A B).")
    p.add_argument("target", nargs="+", help="QUESTIONS file, or: compare RUN_A RUN_B")
    p.add_argument("--retrieval-only", action="store_true", help="score retrieval, no LLM")
    p.add_argument("--name", default="run", help="a name for the run directory")
    p.add_argument("--top-k", type=int, help="passages given to the LLM")
    p.add_argument("--out", type=Path, help="where runs are written (default <index dir>/runs)")
    p.add_argument("--parallel", type=int, default=1, help="questions at once (remote LLMs)")
    p.add_argument("--resume", type=Path, help="continue a killed run in this directory")
    p.add_argument("--judge-url", help="OpenAI-compatible server (…/v1) that judges citations")
    p.add_argument("--judge-model", help="model name for --judge-url")
    p.add_argument("--judge-key", help="API key for --judge-url (or RAG_JUDGE_API_KEY)")

    p = add("doctor", cmd_doctor, "Check that the index and models are healthy and consistent.")
    p.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `rag` console script."""
    go_offline()
    args = build_parser().parse_args(argv)
    out = Console()
    try:
        return args.func(args, out)
    except RagError as err:
        err_console.print(f"[red]error:[/] {escape(str(err))}")
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted: run the same command again to finish; nothing is lost")
        return 130


if __name__ == "__main__":
    sys.exit(main())
