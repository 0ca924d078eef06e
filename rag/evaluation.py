"""The evaluation runner: each question through an injected `answer_fn`, optionally judged, its
row appended as it finishes so a killed run resumes; the run's folder on disk is `rag.runs`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from rag.answering.compose import Answer
from rag.answering.engine import Done, Event, Token
from rag.citation_metrics import judged_citations
from rag.citations import Sentence
from rag.errors import RagError
from rag.judge import Judge
from rag.metrics import score_answer
from rag.questions import Question
from rag.runs import (
    RESULTS,
    RUN_META,
    is_run_dir,
    new_run_dir,
    read_meta,
    repair_results,
    timestamp,
    write_summary,
)

__all__ = [
    "AnswerFn",
    "run_eval",
]

AnswerFn = Callable[[str, list[dict], str], Iterable[Event] | Answer]
"""The pipeline under test: (question, history, question date) -> events ending in Done (or an
Answer)."""


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
        "confidence": answer.confidence,  # the fitted decision's probability, when it decided
        "signals": answer.signals,  # what it read: a run with the decision off refits it
        "metrics": score_answer(q, answer, retrieval_only=retrieval_only),
        "error": error or None,
        "finished": timestamp(),
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
    elif is_run_dir(out_dir):
        run_dir = out_dir
    else:
        run_dir = new_run_dir(out_dir, name)
    meta = read_meta(run_dir)
    meta.setdefault("name", name)
    meta.setdefault("started", timestamp())
    meta["retrieval_only"] = retrieval_only
    meta["settings"] = settings_summary
    if judge is not None:
        meta["judge"] = judge.name
    meta["order"] = list(dict.fromkeys([*meta.get("order", []), *(q.id for q in questions)]))
    (run_dir / RUN_META).write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")

    done_rows = repair_results(run_dir)
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
