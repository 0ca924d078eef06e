"""The `rag` command line: index, repair, articles, remove, doctor, ask, chat, eval, serve."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from rag.errors import RagError
from rag.settings import Settings, go_offline, load_settings

if TYPE_CHECKING:
    from rag.answer import Answer, Engine, Event
    from rag.indexer import NotIndexed
    from rag.judge import Judge
    from rag.store import StoredArticle


class RateColumn(ProgressColumn):
    """Items per second, measured over rich's recent window (what the ETA is computed from)."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "", style="progress.data.speed")


err_console = Console(stderr=True)
SHOWN_SKIPS = 30  # reasons printed after `rag index`; `--json` has every one
PROGRESS_COLUMNS = (
    TextColumn("[progress.description]{task.description}"),
    BarColumn(),
    TextColumn("{task.completed}/{task.total}"),
    RateColumn(),
    TimeElapsedColumn(),
    TextColumn("ETA"),
    TimeRemainingColumn(),
)


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
    from rag.indexer import index_paths, not_indexed, open_index
    from rag.store import wipe_index

    settings = settings_from(args)
    missing = [p for p in args.paths if not p.exists()]
    if missing:  # before --rebuild wipes anything: a typo must not cost the index
        raise RagError(f"No such file or folder: {', '.join(map(str, missing))}")
    with writing(settings.index_dir, "rag index", on_wait=_waiting):
        if args.rebuild:
            if who := serving_app(settings.index_dir):
                raise IndexBusy(
                    f"The app ({who}) is serving {settings.index_dir}/: a rebuild would take the"
                    " index from under it. Stop the app, rebuild, then start it again."
                )
            wipe_index(settings)
        store, embedder = open_index(settings)
        with (
            Progress(*PROGRESS_COLUMNS, console=err_console, disable=args.json) as bar,
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
        if report.held_back and _confirm_prune(report.held_back, len(store.articles())):
            store.remove(report.held_back)
            report.removed, report.held_back = report.held_back, []
    if args.json:
        out.print_json(json.dumps(asdict(report)))
        return 0
    out.print(
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {report.unchanged},"
        f" skipped {len(report.skipped)}, duplicates {len(report.duplicates)},"
        f" removed {len(report.removed)} — {report.chunks} chunks embedded"
    )
    if report.recovered:
        out.print(f"recovered from an interrupted run: {len(report.recovered)} articles redone")
    if report.stopped:
        out.print(
            "[yellow]stopped:[/] what was embedded is indexed; run the same command again to"
            " index the rest"
        )
    if report.held_back:
        out.print(
            f"[yellow]not removed:[/] the files of {len(report.held_back)} articles are gone,"
            " more than half the index. If that is right, run again with `--prune --yes`."
        )
    if report.repaired:
        out.print(f"repaired: {report.repaired} passages had lost their vectors; embedded again")
    groups = not_indexed(report)
    for group in groups[:SHOWN_SKIPS]:
        out.print(f"  {escape(left_out_line(group))}")
    if len(groups) > SHOWN_SKIPS:
        out.print(f"  … and {len(groups) - SHOWN_SKIPS} more: `--json` lists them all")
    return 0


def left_out_line(group: NotIndexed) -> str:
    """`skipped a.txt: empty file`, `duplicate a.jsonl#2 and 999 more lines: same text as x`."""
    if group.twin:
        return f"duplicate {group.first}{group.more}: same text as {group.twin}"
    return f"skipped {group.first}{group.more}: {group.reason}"


@contextmanager
def stop_on_ctrl_c() -> Iterator[threading.Event]:
    """The first Ctrl-C sets the event (stop after the current batch); a second one interrupts."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stopping.is_set():
            raise KeyboardInterrupt
        stopping.set()
        err_console.print("[yellow]Stopping after the current batch… (Ctrl-C again: at once)[/]")

    if threading.current_thread() is not threading.main_thread():
        yield stopping  # signals reach the main thread only (tests run the CLI in-process)
        return
    previous = signal.signal(signal.SIGINT, on_signal)
    try:
        yield stopping
    finally:
        signal.signal(signal.SIGINT, previous)


def _confirm_prune(ids: list[str], total: int) -> bool:
    """Ask before pruning most of the index (a drive that is not mounted looks just like that)."""
    question = (
        f"The files of {len(ids)} of the {total} indexed articles are gone (is a drive not"
        " mounted?). Remove them from the index? [y/N] "
    )
    if not sys.stdin.isatty():
        return False
    return input(question).strip().lower() in ("y", "yes")


def _waiting(message: str) -> None:
    """Say why a writer command is not starting yet."""
    err_console.print(f"[yellow]{escape(message)}[/]")


def cmd_repair(args: argparse.Namespace, out: Console) -> int:
    from rag.index_lock import writing
    from rag.indexer import open_index, repair

    settings = settings_from(args)
    with writing(settings.index_dir, "rag repair", on_wait=_waiting):
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
    rows = store.articles()
    if args.json:
        keys = ("id", "title", "source", "date", "url", "author", "n_chunks", "origin")
        out.print_json(json.dumps([{k: getattr(a, k) for k in keys} for a in rows]))
        return 0
    out.print(articles_table(rows))
    out.print(f"{len(rows)} articles, {sum(a.n_chunks for a in rows)} chunks")
    return 0


def articles_table(rows: Sequence[StoredArticle]) -> Table:
    """The articles with whole ids (to copy into `rag remove`); the titles wrap instead."""
    widest = max((len(a.id) for a in rows), default=2)
    table = Table(Column("id", no_wrap=True, min_width=widest), "title", "source", "date", "chunks")
    for a in rows:
        table.add_row(a.id, escape(a.title), escape(a.source), a.date, str(a.n_chunks))
    return table


def cmd_remove(args: argparse.Namespace, out: Console) -> int:
    from rag.index_lock import writing
    from rag.indexer import open_index

    settings = settings_from(args)
    with writing(settings.index_dir, "rag remove", on_wait=_waiting):
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
    if args.json:
        out.print_json(json.dumps([asdict(c) for c in checks]))
    else:
        for c in checks:
            mark = "[green]ok[/]" if c.ok else "[red]FAIL[/]"
            out.print(f"{mark}  {c.name}: {escape(c.detail)}")
    return 0 if all(c.ok for c in checks) else 1


def answer_json(answer: Answer) -> dict[str, object]:
    """The `--json` shape of an answer: stable keys for scripts and tests."""
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "mode": answer.mode,
        "kind": answer.kind,
        "query": answer.query,
        "notice": answer.notice,
        "citations": [asdict(c) for c in answer.citations],
        "sentences": [asdict(s) for s in answer.sentences],
        "left_out": [asdict(s) for s in answer.left_out],
        "disagreement": answer.disagreement,
        "confidence": answer.confidence,
        "passages": [
            {k: getattr(p, k) for k in ("n", "article_id", "title", "start", "end", "similarity")}
            for p in answer.passages
        ],
        "timings": answer.timings,
        "usage": answer.usage,
    }


def print_sources(answer: Answer, out: Console) -> None:
    """`[1] Title — Source, date — the passage, supporting sentence in bold`."""
    from rag.compose import closest

    if answer.notice:
        out.print(f"[yellow]{escape(answer.notice)}[/]")
    shown = answer.citations or ([] if not answer.abstained else closest(answer.passages))
    if answer.abstained and shown:
        out.print("Closest passages:")
    for c in shown:
        head = " — ".join(x for x in (c.title, ", ".join(y for y in (c.source, c.date) if y)) if x)
        support = getattr(c, "support", None)
        if support:
            a, b = support[0] - c.start, support[1] - c.start
            body = f"{escape(c.text[:a])}[bold]{escape(c.text[a:b])}[/]{escape(c.text[b:])}"
        else:
            body = escape(c.text)
        out.print(f"[cyan][{c.n}][/] {escape(head)}\n    {body}")
    for s in answer.sentences:
        if not s.supported:
            out.print(f"[red]unsupported:[/] {escape(s.text)} ({escape(s.reason)})")
    for s in answer.left_out:
        out.print(f"[dim]left out:[/] {escape(s.text)} ({escape(s.reason)})")


REPLACED = "(the words above were not verified and are replaced by:)"


def show_answer(events: Iterator[Event], out: Console, as_json: bool = False) -> Answer:
    """Print status lines and streamed tokens, then the verified answer and its sources.

    Streamed words are the model's draft. When the answer is not made of them (quotes after a
    deadline or an LLM error, or a refusal) a line says so: a terminal cannot take them back.
    """
    from rag.answer import Done, Sources, Status, Token
    from rag.confidence import in_words

    streamed = False
    for event in events:
        if isinstance(event, Status) and not as_json:
            err_console.print(f"[dim]{escape(event.message)}[/]")
        elif isinstance(event, Sources) and streamed and not as_json:
            out.print()  # the model reads more sentences: its next words start a new line
            streamed = False
        elif isinstance(event, Token) and not as_json:
            out.print(escape(event.text), end="")
            streamed = True
        elif isinstance(event, Done):
            if as_json:
                out.print_json(json.dumps(answer_json(event.answer)))
            else:
                if streamed and (event.answer.mode == "extractive" or event.answer.abstained):
                    out.print(f"\n[dim]{escape(REPLACED)}[/]", end="")
                out.print(f"\n\n{escape(event.answer.text)}\n")
                if sure := in_words(event.answer):
                    out.print(f"[dim]{escape(sure)}[/]\n")
                print_sources(event.answer, out)
            return event.answer
    raise RagError("The answer stream ended early.")


def start_model(engine: Engine, err: Console) -> None:
    """Start the embedded model before the first question, saying whether a running app's
    model is used or this process loads its own (with its progress on a terminal)."""
    from rag.embedded import EmbeddedLLM

    llm = engine.llm
    if not isinstance(llm, EmbeddedLLM):
        return
    began = time.monotonic()
    llm.start_background()
    with err.status("Loading the model (one time per process)…") as spinner:
        while llm.status.state == "loading":
            spinner.update(f"{llm.status.message} {time.monotonic() - began:.0f} s")
            time.sleep(0.2)
    took = time.monotonic() - began
    if llm.status.state == "ready" and llm.shared_by is None:
        err.print(f"{escape(llm.status.message)} Loaded in {took:.0f} s (one time per process).")
    else:
        err.print(escape(llm.status.message))


def cmd_ask(args: argparse.Namespace, out: Console) -> int:
    from rag.api import answer_stream, open_engine
    from rag.store import Filters

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
    from rag import evaluation
    from rag.questions import load_questions
    from rag.report import render_compare

    if args.target[0] == "compare":
        if len(args.target) != 3:
            raise RagError("usage: rag eval compare RUN_A RUN_B")
        comparison = evaluation.compare_runs(Path(args.target[1]), Path(args.target[2]))
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
    with Progress(*PROGRESS_COLUMNS, console=err_console) as bar:
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
    table = Table("metric", "value")
    for key, value in result.get("metrics", {}).items():
        if value is not None:
            table.add_row(key, f"{value:.3f}")
    out.print(table)
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
