"""The evaluation runner: each question through an injected `answer_fn`, run summaries, compares.

Rows are appended to `results.jsonl` as each question finishes (so a killed run resumes), then
`summary.json` and a self-contained `report.html` (rendered by `rag.report`) are written.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from rag.answering.compose import Answer
from rag.answering.engine import Done, Event, Token
from rag.citation_metrics import judged_citations
from rag.citations import Sentence
from rag.errors import RagError
from rag.judge import Judge
from rag.metrics import aggregate, metric_definitions, score_answer
from rag.questions import Question
from rag.report import render_report
from rag.stats import latency_stats, usage_totals

__all__ = [
    "AnswerFn",
    "compare_runs",
    "read_rows",
    "run_eval",
    "summarize",
    "write_summary",
]

AnswerFn = Callable[[str, list[dict], str], Iterable[Event] | Answer]
"""The pipeline under test: (question, history, question date) -> events ending in Done (or an
Answer)."""

RESULTS = "results.jsonl"
SUMMARY = "summary.json"
REPORT = "report.html"
RUN_META = "run.json"


# --------------------------------------------------------------------------- runner


def _now() -> str:
    """Local time as ISO 8601 with offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _read_meta(run_dir: Path) -> dict:
    """A run's run.json (name, start time, settings, question order), or {} when missing."""
    path = run_dir / RUN_META
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _is_run_dir(path: Path) -> bool:
    """True for a directory a previous run_eval created."""
    return (path / RUN_META).is_file() or (path / RESULTS).is_file()


def _new_run_dir(out_dir: Path, name: str) -> Path:
    """`out_dir/<YYYYmmdd-HHMMSS>-<name>`, made unique with a suffix if needed."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "run"
    base = out_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{safe}"
    path, n = base, 2
    while path.exists():
        path, n = base.with_name(f"{base.name}-{n}"), n + 1
    path.mkdir(parents=True)
    return path


def read_rows(run_dir: Path) -> list[dict]:
    """The rows of a run's results.jsonl; a half-written last line (killed run) is ignored."""
    path = Path(run_dir) / RESULTS
    if not path.is_file():
        return []
    rows = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "id" in row:
            rows.append(row)
    return rows


def _repair_results(run_dir: Path) -> list[dict]:
    """Read the finished rows and rewrite the file if a killed run left a broken last line."""
    path = run_dir / RESULTS
    rows = read_rows(run_dir)
    if path.is_file():
        data = path.read_bytes()
        if data and (not data.endswith(b"\n") or data.count(b"\n") != len(rows)):
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            path.write_text(lines, encoding="utf-8")
    return rows


def _consume(result: Iterable[Event] | Answer, t0: float) -> tuple[Answer, float | None]:
    """Read events until Done; return the answer and seconds to the first Token."""
    if isinstance(result, Answer):
        return result, None
    first: float | None = None
    for event in result:
        if isinstance(event, Token) and first is None:
            first = time.perf_counter() - t0
        elif isinstance(event, Done):
            return event.answer, first
    raise RuntimeError("answer_fn finished without a Done event")


def _row(q: Question, answer: Answer, error: str, retrieval_only: bool) -> dict:
    """The results.jsonl row for one question."""
    return {
        "id": q.id,
        "type": q.type,
        "question": q.question,
        "question_date": q.question_date,
        "history": q.history,
        "expected": {
            "answers": q.answers,
            "answer_all": q.answer_all,
            "evidence": [{"article": e.article, "snippet": e.snippet} for e in q.evidence],
        },
        "answer": answer.text,
        "abstained": answer.abstained,
        "mode": answer.mode,
        "notice": answer.notice,
        "disagreement": answer.disagreement,
        "claims": [_claim(s) for s in answer.sentences],
        "left_out": [_claim(s) for s in answer.left_out],
        "citations": [
            {
                "n": c.n,
                "article_id": c.article_id,
                "start": c.start,
                "end": c.end,
                "text": c.text,
                "support": c.support,
            }
            for c in answer.citations
        ],
        "passages": [
            {"n": p.n, "article_id": p.article_id, "start": p.start, "end": p.end}
            for p in answer.passages
        ],
        "retrieved": [
            {"article_id": p.article_id, "chunk_id": p.chunk_id, "rank": rank}
            for rank, p in enumerate(answer.retrieved, 1)
        ],
        "timings": answer.timings,
        "usage": answer.usage,
        "metrics": score_answer(q, answer, retrieval_only=retrieval_only),
        "error": error or None,
        "finished": _now(),
    }


def _claim(sentence: Sentence) -> dict:
    """A claim of the answer as stored in a row."""
    return {
        "text": sentence.text,
        "citations": sentence.citations,
        "supported": sentence.supported,
        "reason": sentence.reason,
    }


def judge_row(row: dict, judge: Judge) -> dict:
    """The row with the judge's ALCE citation metrics added (claims vs their cited texts)."""
    if row.get("abstained") or row["metrics"].get("accuracy") is None:
        return row
    texts = {c["n"]: c["text"] for c in row.get("citations", [])}
    claims = [(c["text"], [texts[n] for n in c["citations"] if n in texts]) for c in row["claims"]]
    try:
        recall, precision = judged_citations(claims, judge.entails)
    except RagError as err:  # the judge is down: the row keeps its other metrics
        row["judge_error"] = str(err)
        return row
    row["metrics"].update(judge_citation_recall=recall, judge_citation_precision=precision)
    row.pop("judge_error", None)
    return row


def _judge_finished(run_dir: Path, rows: list[dict], judge: Judge) -> None:
    """Judge the finished rows an earlier run left unjudged (cached verdicts cost nothing)."""
    todo = [r for r in rows if "judge_citation_recall" not in r["metrics"]]
    if not todo:
        return
    for row in todo:
        judge_row(row, judge)
    lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    (run_dir / RESULTS).write_text(lines, encoding="utf-8")


def _answer_one(q: Question, answer_fn: AnswerFn, retrieval_only: bool) -> dict:
    """Run one question through answer_fn; an exception becomes an error row."""
    t0 = time.perf_counter()
    try:
        answer, first = _consume(answer_fn(q.question, list(q.history), q.question_date), t0)
    except Exception as err:  # one failing question must not stop the run
        empty = Answer(question=q.question, query="", text="", abstained=False, mode="extractive")
        return _row(q, empty, f"{type(err).__name__}: {err}", retrieval_only)
    timings = dict(answer.timings)
    timings.setdefault("total", time.perf_counter() - t0)
    if first is not None:
        timings.setdefault("first_token", first)
    answer = replace(answer, timings=timings)
    return _row(q, answer, "", retrieval_only)


def run_eval(
    questions: Sequence[Question],
    answer_fn: AnswerFn,
    out_dir: Path,
    *,
    name: str,
    settings_summary: dict,
    parallel: int = 1,
    progress: Callable[[int, int], None] | None = None,
    retrieval_only: bool = False,
    resume: Path | None = None,
    judge: Judge | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Answer each question not yet in the run, append rows as they finish, write summary + report.

    The run directory is `resume`, or `out_dir` itself when it already holds a run, or a new
    `out_dir/<YYYYmmdd-HHMMSS>-<name>`. Returns the run directory. Once `cancel` is set, no
    further question starts; the finished rows stay for a resumed run, and no summary is written.
    """
    out_dir = Path(out_dir)
    if resume is not None:
        run_dir = Path(resume)
        run_dir.mkdir(parents=True, exist_ok=True)
    elif _is_run_dir(out_dir):
        run_dir = out_dir
    else:
        run_dir = _new_run_dir(out_dir, name)
    meta = _read_meta(run_dir)
    meta.setdefault("name", name)
    meta.setdefault("started", _now())
    meta["retrieval_only"] = retrieval_only
    meta["settings"] = settings_summary
    if judge is not None:
        meta["judge"] = judge.name
    meta["order"] = list(dict.fromkeys([*meta.get("order", []), *(q.id for q in questions)]))
    (run_dir / RUN_META).write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")

    done_rows = _repair_results(run_dir)
    if judge is not None:
        judge.open_cache(run_dir)
        _judge_finished(run_dir, done_rows, judge)
    done_ids = {row["id"] for row in done_rows}
    todo = [q for q in questions if q.id not in done_ids]
    total = len(questions)
    finished = total - len(todo)
    lock = threading.Lock()
    if progress:
        progress(finished, total)

    with (run_dir / RESULTS).open("a", encoding="utf-8") as fh:

        def work(q: Question) -> None:
            nonlocal finished
            if cancel is not None and cancel.is_set():
                return
            row = _answer_one(q, answer_fn, retrieval_only)
            if judge is not None:
                row = judge_row(row, judge)
            with lock:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                fh.flush()
                finished += 1
                if progress:
                    progress(finished, total)

        if parallel > 1:
            pool = ThreadPoolExecutor(max_workers=parallel)
            try:
                for future in [pool.submit(work, q) for q in todo]:
                    future.result()
            except BaseException:  # Ctrl-C or a bug: stop now, finished rows stay on disk
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
        else:
            for q in todo:
                work(q)

    if cancel is None or not cancel.is_set() or finished == total:
        write_summary(run_dir)
    return run_dir


def summarize(rows: Sequence[dict], meta: dict) -> dict:
    """Aggregate metrics overall and by question type, counts, latency, usage and definitions."""
    overall, metric_n = aggregate(rows)
    by_type_rows: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_type_rows[row.get("type") or "single"].append(row)
    ok = [r for r in rows if not r.get("error")]
    return {
        "name": meta.get("name", ""),
        "started": meta.get("started", ""),
        "finished": _now(),
        "retrieval_only": bool(meta.get("retrieval_only")),
        "settings": meta.get("settings", {}),
        "rank_depth": meta.get("settings", {}).get("rank_depth"),
        "judge": meta.get("judge", ""),
        "counts": {
            "questions": len(rows),
            "errors": len(rows) - len(ok),
            "abstained": sum(1 for r in ok if r.get("abstained")),
            "by_type": {t: len(rs) for t, rs in sorted(by_type_rows.items())},
        },
        "metrics": overall,
        "metric_n": metric_n,
        "by_type": {t: aggregate(rs)[0] for t, rs in sorted(by_type_rows.items())},
        "latency": latency_stats([r.get("timings") or {} for r in ok]),
        "usage": usage_totals([r.get("usage") or {} for r in ok]),
        "definitions": metric_definitions(),
    }


def _ordered_rows(run_dir: Path, order: Sequence[str] = ()) -> list[dict]:
    """A run's rows, one per id (the last wins), in question-set order (given or from run.json)."""
    by_id = {row["id"]: row for row in read_rows(run_dir)}
    if not order:
        order = _read_meta(Path(run_dir)).get("order", [])
    position = {qid: i for i, qid in enumerate(order)}
    return sorted(by_id.values(), key=lambda r: position.get(r["id"], len(position)))


def write_summary(run_dir: Path, order: Sequence[str] = ()) -> dict:
    """(Re)compute summary.json and report.html from a run's results.jsonl; returns the summary."""
    run_dir = Path(run_dir)
    meta = _read_meta(run_dir)
    rows = _ordered_rows(run_dir, order)
    summary = summarize(rows, meta)
    summary["run_dir"] = str(run_dir)
    (run_dir / SUMMARY).write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (run_dir / REPORT).write_text(render_report(summary, rows), encoding="utf-8")
    return summary


# --------------------------------------------------------------------------- compare


def _load_summary(run_dir: Path) -> dict:
    """A run's summary.json, recomputed from its rows when missing; RagError when the folder
    holds no run."""
    path = Path(run_dir) / SUMMARY
    if not path.is_file() and not (Path(run_dir) / RESULTS).is_file():
        raise RagError(
            f"{run_dir} holds no evaluation run (no {RESULTS}): give a folder that `rag eval`"
            " wrote, for example one listed under index/runs/."
        )
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return write_summary(run_dir)


def _flat_metrics(summary: dict) -> dict[str, float | None]:
    """Overall metrics plus latency percentiles and token usage as one flat mapping."""
    flat: dict[str, float | None] = dict(summary.get("metrics", {}))
    for key, stats in summary.get("latency", {}).items():
        for stat in ("p50", "p95"):
            flat[f"latency.{key}.{stat}"] = stats.get(stat)
    for key, value in summary.get("usage", {}).items():
        flat[f"usage.{key}"] = value
    return flat


def compare_runs(a: Path, b: Path) -> dict:
    """Metric deltas b − a and the questions that flipped right→wrong or wrong→right."""
    sa, sb = _load_summary(a), _load_summary(b)
    ma, mb = _flat_metrics(sa), _flat_metrics(sb)
    metrics = []
    for key in dict.fromkeys([*ma, *mb]):
        va, vb = ma.get(key), mb.get(key)
        delta = vb - va if va is not None and vb is not None else None
        metrics.append({"metric": key, "a": va, "b": vb, "delta": delta})
    rows_a = {r["id"]: r for r in _ordered_rows(Path(a))}
    rows_b = {r["id"]: r for r in _ordered_rows(Path(b))}
    both = [i for i in rows_a if i in rows_b]
    answer_based = all(
        rows_a[i]["metrics"].get("accuracy") is not None
        and rows_b[i]["metrics"].get("accuracy") is not None
        for i in both
    )
    basis = "accuracy" if answer_based else "hit@5"
    right_to_wrong, wrong_to_right = [], []
    for qid in both:
        ra, rb = rows_a[qid], rows_b[qid]
        if ra["metrics"].get(basis) is None or rb["metrics"].get(basis) is None:
            continue
        was, now = bool(ra["metrics"][basis]), bool(rb["metrics"][basis])
        item = {"id": qid, "question": ra["question"], "a": ra["answer"], "b": rb["answer"]}
        if was and not now:
            right_to_wrong.append(item)
        elif now and not was:
            wrong_to_right.append(item)
    return {
        "a": {"name": sa.get("name", ""), "run_dir": str(a)},
        "b": {"name": sb.get("name", ""), "run_dir": str(b)},
        "basis": basis,
        "metrics": metrics,
        "right_to_wrong": right_to_wrong,
        "wrong_to_right": wrong_to_right,
        "only_in_a": [i for i in rows_a if i not in rows_b],
        "only_in_b": [i for i in rows_b if i not in rows_a],
    }
