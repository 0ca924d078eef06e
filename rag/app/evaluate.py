"""The Evaluate tab as plain functions: runs, their results and comparisons.

No Gradio here: `ui.py` wires these to components, tests call them directly, and the CLI's
`rag eval` builds its pipeline with `eval_pipeline` too, so the app and the CLI evaluate the
same thing. Runs are written to `settings.eval_runs_dir/<YYYYmmdd-HHMMSS>-<name>/` (by default
`<index dir>/runs`, where `rag eval` writes too). `eval_jobs.py` runs them in the background.

Question sets are named by keys (`eval_sets.py`), run choices by run directory names; both are
checked to be plain file names inside their directories.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import shutil
import tempfile
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag import evaluation, runs
from rag.answering.compose import Answer
from rag.answering.engine import Engine
from rag.answering.followup import condense
from rag.answering.search import find_passages
from rag.api import answer_stream
from rag.app import eval_html
from rag.app.eval_sets import resolve_set
from rag.app.render import notice_html
from rag.errors import EvalFormatError, RagError
from rag.questions import load_questions
from rag.report import render_compare

log = logging.getLogger(__name__)


# -- the pipeline under test (shared with `rag eval`) ----------------------------------------


def eval_pipeline(
    engine: Engine,
    *,
    retrieval_only: bool = False,
    top_k: int | None = None,
    hybrid: bool | None = None,
) -> tuple[evaluation.AnswerFn, dict[str, Any]]:
    """(answer_fn, settings summary) running the chat's pipeline with the given overrides.

    retrieval_only: answer_fn only retrieves (an Answer with passages, no LLM call).
    The summary is the settings without secrets plus the LLM and embedder names.
    """
    update = {k: v for k, v in (("top_k", top_k), ("hybrid", hybrid)) if v is not None}
    if update:
        engine = dataclasses.replace(engine, settings=engine.settings.model_copy(update=update))
    settings = engine.settings
    if retrieval_only:

        def answer_fn(question: str, history: list[dict[str, str]], date: str) -> Answer:
            query = condense(question, history)  # a follow-up: with the last question
            found = find_passages(query, engine, today=date)
            return Answer(
                question,
                query,
                "",
                False,
                "extractive",
                passages=found.passages,
                retrieved=found.retrieved,
            )

    else:

        def answer_fn(question: str, history: list[dict[str, str]], date: str):  # noqa: ANN202
            return answer_stream(question, engine, history=history, question_date=date)

    summary = {k: v for k, v in settings.model_dump(mode="json").items() if "key" not in k} | {
        "llm": engine.llm.name if engine.llm else "none",
        "embedder": engine.embedder.model_id,
    }
    return answer_fn, summary


def runs_dir(engine: Engine) -> Path:
    """Where runs are written and listed: `settings.eval_runs_dir`, shared with `rag eval`."""
    return engine.settings.eval_runs_dir


# -- runs -------------------------------------------------------------------------------------


@dataclass
class RunView:
    """What the tab shows after a run: status, headline, the report inline, the download;
    `cancelled`: it stopped early, its finished rows are in `run_dir` to resume."""

    status: str
    summary: str
    report: str
    download: Path | None
    run_dir: Path | None
    cancelled: bool = False


_DOWNLOADS: Path | None = None


def download_copy(run_dir: Path) -> Path:
    """A copy of the run's report.html in a private temporary folder, for the browser to fetch.

    The run itself may live under the index directory, which the server never serves.
    """
    global _DOWNLOADS
    if _DOWNLOADS is None or not _DOWNLOADS.is_dir():
        _DOWNLOADS = Path(tempfile.mkdtemp(prefix="rag-reports-"))
    target = _DOWNLOADS / f"{run_dir.name}-report.html"
    shutil.copyfile(run_dir / runs.REPORT, target)
    return target


def run_view(run_dir: Path, status: str = "") -> RunView:
    """The results of a finished run, read back from its directory."""
    summary = json.loads((run_dir / runs.SUMMARY).read_text(encoding="utf-8"))
    report = (run_dir / runs.REPORT).read_text(encoding="utf-8")
    return RunView(
        status,
        eval_html.eval_summary_html(summary),
        eval_html.report_frame(report),
        download_copy(run_dir),
        run_dir,
    )


def empty_view(message: str = "") -> RunView:
    """Nothing to show yet (or a message saying why)."""
    status = notice_html(message) if message else ""
    return RunView(status, "", "", None, None)


def _failures_as_messages(handler: Callable[..., RunView]) -> Callable[..., RunView]:
    """A tab handler must never leave the tab spinning: an unexpected error becomes a message."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> RunView:
        try:
            return handler(*args, **kwargs)
        except Exception as err:
            log.error("evaluation failed: %s", traceback.format_exc())
            return empty_view(f"The evaluation failed ({type(err).__name__}: {err}).")

    return wrapped


@_failures_as_messages
def evaluate(
    engine: Engine,
    key: str | None,
    name: str = "",
    retrieval_only: bool = False,
    top_k: float | None = None,
    hybrid: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    resume: Path | None = None,
) -> RunView:
    """A question set through the chat's pipeline into `runs_dir` (progress(done, total) as
    questions finish; `cancel` stops after the current one; `resume` continues a run)."""
    path = resolve_set(engine, key)
    if path is None:
        return empty_view("Pick a question set first (or upload one).")
    try:
        questions, errors = load_questions(path)
    except EvalFormatError as err:
        return empty_view(str(err))
    counts = dict(Counter(q.type for q in questions))
    described = eval_html.eval_set_html(path.name, counts, errors)
    if not questions:
        return RunView(described, "", "", None, None)
    k = max(1, min(12, int(top_k))) if top_k else None
    retrieval_only = bool(retrieval_only)
    answer_fn, summary = eval_pipeline(
        engine, retrieval_only=retrieval_only, top_k=k, hybrid=hybrid
    )
    summary["question_set"] = path.name
    run_name = (name or "").strip() or path.stem
    try:
        run_dir = evaluation.run_eval(
            questions,
            answer_fn,
            runs_dir(engine),
            name=run_name,
            settings_summary=summary,
            progress=progress,
            retrieval_only=retrieval_only,
            resume=resume,
            cancel=cancel,
        )
    except RagError as err:
        return RunView(described + notice_html(str(err)), "", "", None, None)
    if not (run_dir / runs.SUMMARY).is_file():
        return RunView(described, "", "", None, run_dir, cancelled=True)
    status = eval_html.eval_set_html(f"Finished {run_dir.name}", counts, errors)
    return run_view(run_dir, status)


def _run_dirs(engine: Engine) -> list[Path]:
    """Finished runs (with a summary), most recently finished first."""
    root = runs_dir(engine)
    if not root.is_dir():
        return []
    done = [p for p in root.iterdir() if (p / runs.SUMMARY).is_file()]
    return sorted(done, key=lambda p: ((p / runs.SUMMARY).stat().st_mtime, p.name), reverse=True)


def newest_run(engine: Engine) -> Path | None:
    """The most recently finished run: a page (re)load opens it, so a run that ended while no
    page was open still shows its results."""
    done = _run_dirs(engine)
    return done[0] if done else None


def run_choices(engine: Engine) -> list[tuple[str, str]]:
    """(label, run directory name) of the finished runs, newest first."""
    choices = []
    for run_dir in _run_dirs(engine):
        try:
            summary = json.loads((run_dir / runs.SUMMARY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        metrics = summary.get("metrics", {})
        main = "hit@5" if summary.get("retrieval_only") else "accuracy"
        value = metrics.get(main)
        shown = f" · {main} {value:.3f}" if isinstance(value, int | float) else ""
        n = summary.get("counts", {}).get("questions", 0)
        choices.append((f"{run_dir.name} · {n} q{shown}", run_dir.name))
    return choices


def run_picks(engine: Engine, newest: Path) -> tuple[list[tuple[str, str]], str | None, str]:
    """(run choices, Run A, Run B) after a run: B is the new run and A the one before it."""
    choices = run_choices(engine)
    names = [value for _, value in choices]
    before = next((n for n in names if n != newest.name), None)
    return choices, before, newest.name


def resolve_run(engine: Engine, name: str | None) -> Path | None:
    """The directory of a run choice, or None when it is not a finished run of this app."""
    if not name or name != Path(name).name or name.startswith("."):
        return None
    path = runs_dir(engine) / name
    return path if (path / runs.SUMMARY).is_file() else None


def open_run(engine: Engine, name: str | None) -> RunView:
    """A finished run picked in the tab's list of runs, read back from its directory."""
    run_dir = resolve_run(engine, name)
    return run_view(run_dir) if run_dir is not None else empty_view("Choose a finished run.")


def compare(engine: Engine, a: str | None, b: str | None) -> str:
    """Metric deltas B − A and the questions that flipped, as HTML."""
    run_a, run_b = resolve_run(engine, a), resolve_run(engine, b)
    if run_a is None or run_b is None:
        return notice_html("Choose two finished runs to compare.")
    comparison = runs.compare_runs(run_a, run_b)
    for side in ("a", "b"):  # show run names, not where the server keeps them
        comparison[side]["run_dir"] = Path(comparison[side]["run_dir"]).name
    return f'<div class="rag-compare">{render_compare(comparison, fmt="html")}</div>'
