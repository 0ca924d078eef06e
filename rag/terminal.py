"""What the `rag` command shows on a terminal (progress, reports, tables, answers with sources) and
reads there (Ctrl-C, a yes/no): apart from the commands in cli.py, which call these."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
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

if TYPE_CHECKING:
    from rag.answering.compose import Answer
    from rag.answering.engine import Engine, Event
    from rag.doctor import Check
    from rag.indexer import IndexReport, NotIndexed
    from rag.records import StoredArticle


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


def progress_bar(disable: bool = False) -> Progress:
    """A progress bar on stderr with rate and ETA (stdout stays clean for `--json`)."""
    return Progress(*PROGRESS_COLUMNS, console=err_console, disable=disable)


def show_index_report(report: IndexReport, out: Console, as_json: bool = False) -> None:
    """The summary of an indexing run: counts, what needs doing, and why files were left out."""
    from rag.indexer import not_indexed

    if as_json:
        out.print_json(json.dumps(asdict(report)))
        return
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


def confirm_prune(ids: list[str], total: int) -> bool:
    """Ask before pruning most of the index (a drive that is not mounted looks just like that)."""
    question = (
        f"The files of {len(ids)} of the {total} indexed articles are gone (is a drive not"
        " mounted?). Remove them from the index? [y/N] "
    )
    if not sys.stdin.isatty():
        return False
    return input(question).strip().lower() in ("y", "yes")


def say_waiting(message: str) -> None:
    """Say why a writer command is not starting yet."""
    err_console.print(f"[yellow]{escape(message)}[/]")


def show_articles(rows: Sequence[StoredArticle], out: Console, as_json: bool = False) -> None:
    """`rag articles`: the table and a count line, or every article's fields as JSON."""
    if as_json:
        keys = ("id", "title", "source", "date", "url", "author", "n_chunks", "origin")
        out.print_json(json.dumps([{k: getattr(a, k) for k in keys} for a in rows]))
        return
    out.print(articles_table(rows))
    out.print(f"{len(rows)} articles, {sum(a.n_chunks for a in rows)} chunks")


def articles_table(rows: Sequence[StoredArticle]) -> Table:
    """The articles with whole ids (to copy into `rag remove`); the titles wrap instead."""
    widest = max((len(a.id) for a in rows), default=2)
    table = Table(Column("id", no_wrap=True, min_width=widest), "title", "source", "date", "chunks")
    for a in rows:
        table.add_row(a.id, escape(a.title), escape(a.source), a.date, str(a.n_chunks))
    return table


def show_checks(checks: Sequence[Check], out: Console, as_json: bool = False) -> None:
    """The doctor's report: `ok  name: detail` or `FAIL  name: detail` per check."""
    if as_json:
        out.print_json(json.dumps([asdict(c) for c in checks]))
    else:
        for c in checks:
            mark = "[green]ok[/]" if c.ok else "[red]FAIL[/]"
            out.print(f"{mark}  {c.name}: {escape(c.detail)}")


def metrics_table(metrics: dict[str, float | None]) -> Table:
    """An eval run's metrics to three decimals; those without a value are left out."""
    table = Table("metric", "value")
    for key, value in metrics.items():
        if value is not None:
            table.add_row(key, f"{value:.3f}")
    return table


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
    from rag.answering.compose import closest

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
    from rag.answering.confidence import in_words
    from rag.answering.engine import Done, Sources, Status, Token

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
    with err.status("Loading the model (once per process)…") as spinner:
        while llm.status.state == "loading":
            spinner.update(f"{llm.status.message} {time.monotonic() - began:.0f} s")
            time.sleep(0.2)
    took = time.monotonic() - began
    if llm.status.state == "ready" and llm.shared_by is None:
        err.print(f"{escape(llm.status.message)} Loaded in {took:.0f} s (once per process).")
    else:
        err.print(escape(llm.status.message))
