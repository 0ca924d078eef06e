"""The Evaluate tab's handlers, called directly: no server, no browser."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from fake_llm import ScriptedLLM
from helpers import EVAL_DIR, TagCollector

import ui
from rag.answering.engine import Engine
from rag.app import eval_html, eval_sets, evaluate
from rag.app.eval_jobs import Job, Runner
from rag.chat import Conversations
from rag.runs import read_rows

SMALL_SET = [
    '{"id": "k1", "question": "How many natural gas workers were kidnapped in La Convencion?", '
    '"answer": ["36"], "evidence": [{"article": "000_9d6e732136a79e44"}], "type": "numeric"}',
    '{"id": "broken", "question": ',
    '{"id": "x1", "question": "<script>window.__xss=1</script> Who leads the Shining Path?", '
    '"answer": ["<b>Gabriel</b>"], "evidence": [{"article": "000_9d6e732136a79e44"}]}',
    '{"id": "u1", "question": "What ransom was paid for the gas workers?", "type": "unanswerable"}',
]


def test_eval_lists_bundled_sets_and_refuses_other_paths(eval_engine: Engine) -> None:
    choices = eval_sets.question_sets(eval_engine)
    assert choices == [
        ("followups.jsonl (bundled)", "bundled:followups.jsonl"),
        ("news-dev.jsonl (bundled)", "bundled:news-dev.jsonl"),
        ("news-test.jsonl (bundled)", "bundled:news-test.jsonl"),
        ("open.jsonl (bundled)", "bundled:open.jsonl"),
        ("seed.jsonl (bundled)", "bundled:seed.jsonl"),
        ("short.jsonl (bundled)", "bundled:short.jsonl"),
    ]
    info = eval_sets.describe_set(eval_engine, "bundled:seed.jsonl")
    assert "<strong>seed.jsonl</strong>: 66 question(s)" in info and "12 unanswerable" in info
    assert eval_sets.resolve_set(eval_engine, "bundled:seed.jsonl") == EVAL_DIR / "seed.jsonl"
    for key in ("bundled:../eval/seed.jsonl", "bundled:/etc/passwd", "other:seed.jsonl",
                "bundled:README.md", "uploaded:seed.jsonl", "", None):  # fmt: skip
        assert eval_sets.resolve_set(eval_engine, key) is None, key
    assert "Pick a question set" in eval_sets.describe_set(eval_engine, "bundled:nope.jsonl")


def test_eval_upload_keeps_good_rows_and_refuses_bad_files(eval_engine: Engine,
                                                           tmp_path: Path) -> None:  # fmt: skip
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = inbox / "my set <1>.jsonl"
    good.write_text("\n".join(SMALL_SET) + "\n")
    key, message = eval_sets.save_upload(eval_engine, str(good))
    assert key == "uploaded:my_set_1.jsonl"
    assert (eval_engine.settings.state_dir / "eval_sets" / "my_set_1.jsonl").is_file()
    assert "3 question(s)" in message and "line 2: not valid JSON" in message
    assert ("my_set_1.jsonl (uploaded)", key) in eval_sets.question_sets(eval_engine)
    csv = inbox / "qs.csv"
    csv.write_text('id,question,answer\nc1,"How many workers?",36\n')
    assert eval_sets.save_upload(eval_engine, str(csv))[0] == "uploaded:qs.csv"

    exe = inbox / "tool.exe"
    exe.write_bytes(b"MZ")
    big = inbox / "big.jsonl"
    big.write_text(SMALL_SET[0] * 200)  # over the fixture's 0.01 MB limit
    empty = inbox / "empty.jsonl"
    empty.write_text(SMALL_SET[1] + "\n")
    latin = inbox / "latin.csv"
    latin.write_bytes("question,answer\nCaf\xe9?,x\n".encode("latin-1"))
    for path, reason in ((exe, "must be .jsonl or .csv"), (big, "upload limit"),
                         (empty, "no valid question"), (latin, "not UTF-8")):  # fmt: skip
        key, message = eval_sets.save_upload(eval_engine, str(path))
        assert key is None and reason in message, (path, message)
        assert str(inbox) not in message  # no server paths in messages
    assert eval_sets.save_upload(eval_engine, None)[0] is None


def test_eval_run_report_runs_and_compare(eval_engine: Engine, tmp_path: Path) -> None:
    upload = tmp_path / "small.jsonl"
    upload.write_text("\n".join(SMALL_SET) + "\n")
    key, _ = eval_sets.save_upload(eval_engine, str(upload))
    calls: list[tuple[int, ...]] = []
    view = evaluate.evaluate(
        eval_engine, key, "first <b>", False, 2, True, lambda *done: calls.append(done)
    )
    runs = eval_engine.settings.state_dir / "runs"
    assert view.run_dir is not None and view.run_dir.parent == runs
    assert (view.run_dir / "summary.json").is_file() and (view.run_dir / "report.html").is_file()
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)
    assert "line 2: not valid JSON" in view.status and "3 question(s)" in view.status
    summary = json.loads((view.run_dir / "summary.json").read_text())
    assert summary["counts"]["questions"] == 3 and summary["settings"]["top_k"] == 2
    assert summary["settings"]["question_set"] == "small.jsonl"
    assert "llm_api_key" not in summary["settings"]
    assert "rag-metric" in view.summary and ">accuracy<" in view.summary and "hit@5" in view.summary
    assert "first &lt;b&gt;" in view.summary
    # the report is shown in a sandboxed frame, escaped twice: nothing of it runs in the app
    assert "<script" not in view.report and "<b>" not in view.report
    frame = TagCollector()
    frame.feed(view.report)
    ((tag, attrs),) = frame.tags
    assert tag == "iframe" and attrs["sandbox"] is None  # present and empty: no allow-scripts
    report = (view.run_dir / "report.html").read_text()
    assert attrs["srcdoc"] == report
    assert "<script" not in report and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in report
    assert "<b>Gabriel" not in report and "&lt;b&gt;Gabriel" in report
    assert report.count('src="data:image/png;base64,') == 2  # by type, latency
    assert view.download is not None and view.download.read_text() == report
    assert not str(view.download).startswith(str(eval_engine.settings.state_dir))

    second = evaluate.evaluate(eval_engine, key, "second", True, None, None)
    assert second.run_dir is not None and second.run_dir != view.run_dir
    assert json.loads((second.run_dir / "summary.json").read_text())["retrieval_only"]
    choices = evaluate.run_choices(eval_engine)
    assert [value for _, value in choices] == [second.run_dir.name, view.run_dir.name]
    assert choices[0][0].startswith(second.run_dir.name) and "hit@5" in choices[0][0]
    choices_now, run_a, run_b = evaluate.run_picks(eval_engine, second.run_dir)
    assert choices_now == choices
    assert (run_a, run_b) == (view.run_dir.name, second.run_dir.name)

    html = evaluate.compare(eval_engine, view.run_dir.name, second.run_dir.name)
    assert "B − A" in html and "hit@5" in html and "by hit@5" in html
    assert "<script" not in html
    assert str(runs) not in html  # run names, not server paths
    for a, b in ((view.run_dir.name, "../x"), (None, second.run_dir.name), ("/etc", "/tmp")):
        assert "Choose two finished runs" in evaluate.compare(eval_engine, a, b)


def test_eval_run_without_a_set_or_llm(eval_engine: Engine, tmp_path: Path) -> None:
    assert "Pick a question set" in evaluate.evaluate(eval_engine, None).status
    assert (
        "Pick a question set" in evaluate.evaluate(eval_engine, "bundled:../../etc/passwd").status
    )
    no_llm = Engine(eval_engine.settings, eval_engine.store, eval_engine.embedder, None)
    answer_fn, summary = evaluate.eval_pipeline(no_llm, top_k=3, hybrid=False)
    assert summary["llm"] == "none" and summary["top_k"] == 3 and summary["hybrid"] is False
    assert no_llm.settings.top_k == eval_engine.settings.top_k  # the app's engine is unchanged
    events = list(answer_fn("How many natural gas workers were kidnapped?", [], ""))
    answer = events[-1].answer
    assert answer.mode == "extractive" and answer.passages
    top3 = {p.chunk_id for p in answer.retrieved[:3]}
    assert {p.chunk_id for p in answer.passages} <= top3
    assert evaluate.run_choices(eval_engine) == []


def wait_until(predicate: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll until predicate() holds (the run is in a background thread)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_background_run_reports_eta_cancels_and_resumes(
    eval_engine: Engine, llm: ScriptedLLM
) -> None:
    runner = Runner(eval_engine)
    assert "Pick a question set" in runner.start("bundled:nope.jsonl", "", False, 2, True)
    assert "No evaluation is running" in runner.cancel()
    llm.mode, llm.delay = "slow", 0.3
    try:
        runner.start("bundled:followups.jsonl", "", False, 2, True)
        assert runner.running and "already running" in runner.start(
            "bundled:followups.jsonl", "", False, 2, True
        )
        job = runner.job
        assert job is not None
        wait_until(lambda: job.done >= 1)
        assert re.search(r"\d of 8 questions · about \d+ s left", runner.status_html())
        runner.cancel()
        wait_until(lambda: not runner.running)
        assert job.state == "cancelled" and job.view is not None and job.view.run_dir
        run_dir = job.view.run_dir
        kept = len(read_rows(run_dir))
        assert 1 <= kept < 8 and "answered are kept" in runner.status_html()
        llm.mode = "ok"
        runner.start("bundled:followups.jsonl", "", False, 2, True)  # resumes the same run
        wait_until(lambda: not runner.running, 120)
    finally:
        llm.mode = "ok"
    assert runner.job is not None and runner.job.state == "finished"
    assert runner.job.view is not None and runner.job.view.run_dir == run_dir
    assert len(read_rows(run_dir)) == 8 and (run_dir / "summary.json").is_file()
    assert run_dir.parent == eval_engine.settings.eval_runs_dir


def test_eta_is_the_mean_duration_times_what_is_left() -> None:
    job = Job("x", (), total=10)
    job.progress(2, 10)  # resumed with 2 done: no duration yet
    assert job.eta() is None
    job.durations = [2.0, 4.0]
    job.done = 4
    assert job.eta() == 18.0
    assert eval_html.duration(45) == "45 s" and eval_html.duration(600) == "10 min"
    assert eval_html.duration(3900) == "1 h 5 min"


def test_a_run_that_ended_with_no_page_open_shows_after_a_reload(
    eval_engine: Engine, conversations: Conversations
) -> None:
    """Two runs finished while no page was open (their files are all there is): a page load
    opens the newest, fills Run A / Run B, and any finished run opens from the list."""
    first = evaluate.evaluate(eval_engine, "bundled:short.jsonl", "earlier", True)
    newest = evaluate.evaluate(eval_engine, "bundled:followups.jsonl", "later", True)
    assert first.run_dir is not None and newest.run_dir is not None
    demo = ui.build_app(eval_engine, conversations, "secret")  # a new app: its runner is idle
    ids = {b._id: getattr(b, "elem_id", None) for b in demo.blocks.values()}
    loads = [d for d in demo.fns.values() if any(t[1] == "load" for t in d.targets)]
    (on_load,) = [d for d in loads if "eval-summary" in [ids[b._id] for b in d.outputs]]
    shown = dict(zip([ids[b._id] for b in on_load.outputs], on_load.fn(), strict=True))

    assert "<strong>later</strong> · retrieval only: 8 questions" in shown["eval-summary"]
    assert (
        shown["eval-report"].startswith("<iframe") and "Evaluation: later" in shown["eval-report"]
    )
    download = shown["eval-download"]
    assert download.visible and download.value["orig_name"] == f"{newest.run_dir.name}-report.html"
    names = [newest.run_dir.name, first.run_dir.name]
    for elem_id, value in (("eval-runs", names[0]), ("eval-run-a", names[1]),
                           ("eval-run-b", names[0])):  # fmt: skip
        assert [v for _, v in shown[elem_id].choices] == names and shown[elem_id].value == value

    (pick,) = [d for d in demo.fns.values() if [ids[b._id] for b in d.inputs] == ["eval-runs"]]
    summary, picked, report = pick.fn(first.run_dir.name)
    assert (
        "<strong>earlier</strong> · retrieval only" in summary and "Evaluation: earlier" in report
    )
    assert picked.value["orig_name"] == f"{first.run_dir.name}-report.html"
    assert "Choose a finished run" in evaluate.open_run(eval_engine, "../runs").status
