"""One evaluation at a time in a background thread: progress with an ETA, cancel, resume.

The job outlives the browser tab that started it, so a reloaded page (or another tab) shows it
again. The ETA is the mean duration of the questions finished in this job times those left.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.answering.engine import Engine
from rag.app import eval_html, eval_sets, evaluate
from rag.app.evaluate import RunView
from rag.app.render import notice_html
from rag.errors import EvalFormatError
from rag.questions import load_questions

log = logging.getLogger(__name__)


@dataclass
class Job:
    """A running or ended evaluation: what it runs, how far it got, and its result."""

    name: str
    options: tuple[Any, ...]
    total: int = 0
    done: int = 0
    state: str = "running"  # running, cancelling, cancelled, finished
    durations: list[float] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    view: RunView | None = None
    _mark: tuple[float, int] | None = None

    def progress(self, done: int, total: int) -> None:
        """Record finished questions; each one's duration feeds the ETA."""
        now = time.monotonic()
        if self._mark is not None and done > self._mark[1]:
            step = (now - self._mark[0]) / (done - self._mark[1])
            self.durations.extend([step] * (done - self._mark[1]))
        self._mark = (now, done)
        self.done, self.total = done, total

    def eta(self) -> float | None:
        """Seconds left, from the mean duration of the questions finished so far."""
        if not self.durations:
            return None
        return sum(self.durations) / len(self.durations) * (self.total - self.done)


class Runner:
    """The app's one evaluation slot; the Evaluate tab's handlers talk to it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.job: Job | None = None
        self._resumable: dict[tuple[Any, ...], Path] = {}
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Is an evaluation still answering questions?"""
        return self.job is not None and self.job.state in ("running", "cancelling")

    def start(
        self, key: str | None, name: str, retrieval_only: bool, top_k: float, hybrid: bool
    ) -> str:
        """Start a run in the background (resuming a cancelled one with the same options);
        the status HTML."""
        path = eval_sets.resolve_set(self.engine, key)
        if path is None:
            return notice_html("Pick a question set first (or upload one).")
        try:
            total = len(load_questions(path)[0])
        except EvalFormatError as err:
            return notice_html(str(err))
        run_name = (name or "").strip() or path.stem
        options = (key, run_name, bool(retrieval_only), int(top_k or 0), bool(hybrid))
        with self._lock:
            if self.running:
                return notice_html("An evaluation is already running: wait or cancel it.")
            job = Job(run_name, options, total)
            self.job = job
        resume = self._resumable.pop(options, None)
        thread = threading.Thread(target=self._run, args=(job, resume), daemon=True)
        thread.start()
        return self.status_html()

    def _run(self, job: Job, resume: Path | None) -> None:
        key, name, retrieval_only, top_k, hybrid = job.options
        try:
            view = evaluate.evaluate(
                self.engine,
                key,
                name,
                retrieval_only,
                top_k,
                hybrid,
                progress=job.progress,
                cancel=job.cancel,
                resume=resume,
            )
        except Exception as err:  # the thread must always end the job
            log.error("evaluation failed: %s", traceback.format_exc())
            view = evaluate.empty_view(f"The evaluation failed ({type(err).__name__}).")
        if view.cancelled and view.run_dir is not None:
            self._resumable[job.options] = view.run_dir
        job.view = view
        job.state = "cancelled" if view.cancelled else "finished"

    def cancel(self) -> str:
        """Stop the running evaluation after its current question; the status HTML."""
        job = self.job
        if job is None or not self.running:
            return notice_html("No evaluation is running.")
        job.cancel.set()
        job.state = "cancelling"
        return self.status_html()

    def status_html(self) -> str:
        """The progress line of the current job (or what it ended with)."""
        job = self.job
        if job is None:
            return ""
        if job.state == "cancelled":
            note = (
                f"Cancelled: the {job.done} question(s) answered are kept. Press Run with the"
                " same set and options to resume."
            )
            return eval_html.progress_html(job.name, job.done, job.total, None, "cancelled", note)
        if job.state == "finished" and job.view is not None:
            return job.view.status
        return eval_html.progress_html(job.name, job.done, job.total, job.eta(), job.state)
