"""The Evaluate tab's layout and wiring: pick or upload a set, run it in the background with
progress, ETA and Cancel, read the report, compare two runs.

The handlers are `evaluate.py`'s functions and the app's one `eval_jobs.Runner`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.answering.engine import Engine
from rag.app import eval_sets, evaluate
from rag.app.eval_jobs import Runner
from rag.app.evaluate import RunView
from rag.app.settings_tab import Options

EVAL_CONCURRENCY_ID = "eval"


def _results(runner: Runner) -> tuple[Any, ...]:
    """What `_shown` gives for the job that just ended, else everything unchanged."""
    job = runner.job
    view = job.view if job is not None else None
    if view is None or view.cancelled or view.run_dir is None:
        return (gr.skip(),) * 6
    return _shown(runner.engine, view)


def _shown(engine: Engine, view: RunView | None) -> tuple[Any, ...]:
    """(runs list, summary, download, report, Run A, Run B) with a finished run open in the tab:
    Run B is that run and Run A the one before it. None: only the lists are refreshed."""
    choices = evaluate.run_choices(engine)
    if view is None or view.run_dir is None:
        unchanged = (gr.skip(),) * 3
        return gr.Dropdown(choices=choices), *unchanged, *(gr.Dropdown(choices=choices),) * 2
    choices, before, latest = evaluate.run_picks(engine, view.run_dir)
    return (
        gr.Dropdown(choices=choices, value=latest),
        *_opened(view),
        gr.Dropdown(choices=choices, value=before),
        gr.Dropdown(choices=choices, value=latest),
    )


def _opened(view: RunView) -> tuple[Any, Any, Any]:
    """(summary, download, report) of a run view; the download is hidden when it has none."""
    download = str(view.download) if view.download else None
    return view.summary, gr.File(value=download, visible=download is not None), view.report


def build_tab(demo: gr.Blocks, engine: Engine, runner: Runner, options: Options) -> None:
    """The Evaluate tab; a page (re)load shows the evaluation that is running, if any, and opens
    the newest finished run (one may have ended while no page was open)."""
    settings = engine.settings
    first_set = eval_sets.default_set(engine)
    with gr.Tab("Evaluate", id="evaluate"):
        with gr.Row():
            with gr.Column(scale=3):
                eval_set = gr.Dropdown(
                    choices=eval_sets.question_sets(engine),
                    value=first_set,
                    label="Question set",
                    elem_id="eval-set",
                )
                upload = gr.File(
                    label=f"…or upload a question set (.jsonl or .csv; up to "
                    f"{settings.max_upload_mb:g} MB)",
                    file_types=list(eval_sets.EVAL_SUFFIXES),
                    type="filepath",
                    elem_id="eval-upload",
                    height=120,
                )
                info = gr.HTML(eval_sets.describe_set(engine, first_set), elem_id="eval-info")
            with gr.Column(scale=2):
                name = gr.Textbox(
                    label="Run name",
                    placeholder="the question set's name",
                    max_lines=1,
                    elem_id="eval-name",
                )
                retrieval = gr.Checkbox(
                    value=False,
                    label="Retrieval only (no LLM: hit@k, recall, MRR)",
                    elem_id="eval-retrieval-only",
                )
                gr.Markdown(
                    "Answers go through the chat's pipeline with the *Passages* and *Hybrid "
                    "search* options of the Settings tab. Each question takes as long as a chat "
                    "answer; the other tabs stay usable, and the run goes on if you close the page."
                )
                with gr.Row():
                    run_btn = gr.Button("Run the evaluation", variant="primary", elem_id="eval-run")
                    cancel_btn = gr.Button("Cancel", variant="stop", elem_id="eval-cancel")
        status = gr.HTML(runner.status_html(), elem_id="eval-status", min_height=40)
        runs = evaluate.run_choices(engine)
        opened = gr.Dropdown(
            choices=runs,
            label="Finished runs (the newest opens; pick one to show its results)",
            elem_id="eval-runs",
        )
        summary = gr.HTML("", elem_id="eval-summary")
        download = gr.File(
            label="Report (report.html)",
            interactive=False,
            visible=False,
            elem_id="eval-download",
            height=80,
        )
        report = gr.HTML("", elem_id="eval-report")
        gr.Markdown("### Compare two runs")
        with gr.Row():
            run_a = gr.Dropdown(choices=runs, label="Run A", scale=3, elem_id="eval-run-a")
            run_b = gr.Dropdown(choices=runs, label="Run B", scale=3, elem_id="eval-run-b")
            compare_btn = gr.Button("Compare", scale=1, elem_id="eval-compare")
        compared = gr.HTML("", elem_id="eval-compare-view")
        timer = gr.Timer(1.0, active=False)

    def upload_set(file: str | None, current: str | None) -> tuple[Any, ...]:
        key, message = eval_sets.save_upload(engine, file)
        choices = eval_sets.question_sets(engine)
        return gr.Dropdown(choices=choices, value=key or current), message, None

    upload.upload(upload_set, [upload, eval_set], [eval_set, info, upload], api_name=False)

    def pick_set(key: str | None) -> str:
        return eval_sets.describe_set(engine, key)

    eval_set.input(pick_set, [eval_set], [info], api_name=False)

    def start(key: str | None, run_name: str, only: bool, top_k: float, hybrid: bool) -> Any:
        return runner.start(key, run_name, only, top_k, hybrid), gr.Timer(active=True)

    run_btn.click(
        start,
        [eval_set, name, retrieval, options.top_k, options.hybrid],
        [status, timer],
        api_name="evaluate",
        concurrency_limit=1,
        concurrency_id=EVAL_CONCURRENCY_ID,
    )
    cancel_btn.click(lambda: runner.cancel(), None, [status], api_name=False, queue=False)

    def tick() -> tuple[Any, ...]:
        if runner.running:
            return runner.status_html(), gr.skip(), *(gr.skip(),) * 6
        return runner.status_html(), gr.Timer(active=False), *_results(runner)

    shown = [opened, summary, download, report, run_a, run_b]
    outputs = [status, timer, *shown]
    timer.tick(tick, None, outputs, api_name=False, show_progress="hidden")

    def compare_runs(a: str | None, b: str | None) -> str:
        return evaluate.compare(engine, a, b)

    compare_btn.click(compare_runs, [run_a, run_b], [compared], api_name=False)

    def open_run(name: str | None) -> tuple[Any, Any, Any]:
        return _opened(evaluate.open_run(engine, name))

    opened.input(open_run, [opened], [summary, download, report], api_name=False)

    def on_load() -> tuple[Any, ...]:
        sets = gr.Dropdown(choices=eval_sets.question_sets(engine))
        newest = evaluate.newest_run(engine)
        view = evaluate.run_view(newest) if newest is not None else None
        running = gr.Timer(active=runner.running)
        return runner.status_html(), running, sets, *_shown(engine, view)

    demo.load(on_load, None, [status, timer, eval_set, *shown], api_name=False)
