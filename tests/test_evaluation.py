"""Evaluation runner: results, summaries, escaped reports, error rows, resume, parallel."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answering.compose import Answer
from rag.answering.engine import Done, Event, Status, Token
from rag.citations import Citation, Passage, Sentence
from rag.evaluation import run_eval
from rag.questions import Evidence, Question
from rag.runs import read_rows

A0, A1, A2, A3 = (
    "000_9d6e732136a79e44",
    "001_c2eb3900d027123b",
    "002_7aa918d89e1f6618",
    "003_a959b2a1bffac71d",
)


def _passage(n: int, article: str, text: str = "text") -> Passage:
    return Passage(n, f"{article}#{n}", article, "t", "s", "2020", "u", text, 0, len(text))


def _questions() -> list[Question]:
    return [
        Question(
            "q1",
            "How many workers were kidnapped?",
            answers=["36", "thirty-six"],
            evidence=[Evidence(A0, "the kidnapping of 36 natural gas workers")],
            type="single",
        ),
        Question(
            "q2",
            "What is Gabriel's real name?",
            answer_all=["Martin Quispe Palomino", "Marco Quispe Palomino"],
            evidence=[Evidence(A0), Evidence(A3)],
            type="conflict",
        ),
        Question("q3", "How much ransom was paid?", type="unanswerable"),
        Question(
            "q4",
            "How many soldiers died?",
            answers=["2", "two"],
            evidence=[Evidence(A2, "Two soldiers were also killed")],
            type="numeric",
            history=[{"role": "user", "content": "Tell me about the battle."}],
        ),
    ]


KIDNAP = "The initiative follows the kidnapping of 36 natural gas workers earlier this month."
SOLDIERS = "Two soldiers were also killed, the Ministry of the Interior stated."


def _script(question: str, flipped: bool = False) -> Answer:
    """A hand-built Answer per question; `flipped` swaps which of q1/q2 is right."""
    timing = {
        "How many workers were kidnapped?": 1.0,
        "What is Gabriel's real name?": 2.0,
        "How much ransom was paid?": 3.0,
        "How many soldiers died?": 4.0,
    }[question]
    common = {
        "question": question,
        "query": question,
        "mode": "generated",
        "timings": {"retrieve": 0.1, "first_token": 0.5, "total": timing},
        "usage": {"prompt_tokens": 100, "completion_tokens": 10},
    }
    if question.startswith("How many workers"):
        text = "Thirty-six workers were kidnapped [1]." if not flipped else "Nobody knows [1]."
        return Answer(
            text=text,
            abstained=False,
            citations=[Citation(1, f"{A0}:0", A0, "t", "s", "d", "u", KIDNAP, 10, 90)],
            sentences=[Sentence(text, [1], True)],
            retrieved=[_passage(1, A0, KIDNAP), _passage(2, A1)],
            confidence=0.9,
            signals={"logprob_mean": -0.1, "logprob_min": -0.3},
            **common,
        )
    if question.startswith("What is Gabriel"):
        text = "He is Martin Quispe Palomino [1]."
        if flipped:
            text = "Martin Quispe Palomino or Marco Quispe Palomino [1]."
        return Answer(
            text=text,
            abstained=False,
            citations=[Citation(1, f"{A1}:0", A1, "t", "s", "d", "u", "x", 0, 5)],
            sentences=[Sentence(text, [1], False)],
            retrieved=[_passage(1, A1), _passage(2, A3)],
            **common,
        )
    if question.startswith("How much ransom"):
        return Answer(
            text="The articles do not say. <script>alert(1)</script>",
            abstained=True,
            **common,
        )
    return Answer(
        text="I don't know.", abstained=True, retrieved=[_passage(1, A2, SOLDIERS)], **common
    )


def fake_answer_fn(question: str, history: list[dict], date: str = "") -> Iterator[Event]:
    """A plain stand-in for the pipeline: status, streamed tokens, then Done."""
    answer = _script(question)
    yield Status("Retrieving…")
    for word in answer.text.split(" "):
        yield Token(word + " ")
    yield Done(answer)


def _stable(summary: dict) -> dict:
    return {k: summary[k] for k in ("metrics", "metric_n", "by_type", "counts", "latency", "usage")}


def test_run_eval_writes_results_summary_and_escaped_report(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    run_dir = run_eval(
        _questions(),
        fake_answer_fn,
        tmp_path / "runs",
        name="seed test",
        settings_summary={"top_k": 4, "llm": "fake"},
        progress=lambda done, total: calls.append((done, total)),
    )
    assert run_dir.parent == tmp_path / "runs"
    assert re.fullmatch(r"\d{8}-\d{6}-seed-test", run_dir.name)
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    rows = read_rows(run_dir)
    assert [r["id"] for r in rows] == ["q1", "q2", "q3", "q4"]
    r1 = rows[0]
    assert r1["answer"] == "Thirty-six workers were kidnapped [1]."
    assert r1["citations"] == [
        {"n": 1, "article_id": A0, "start": 10, "end": 90, "text": KIDNAP, "support": None}
    ]
    assert r1["retrieved"][1] == {"article_id": A1, "chunk_id": f"{A1}#2", "rank": 2}
    assert r1["claims"] == [
        {"text": r1["answer"], "citations": [1], "supported": True, "reason": ""}
    ]
    assert r1["expected"]["answers"] == ["36", "thirty-six"] and r1["error"] is None
    assert r1["confidence"] == 0.9 and r1["signals"]["logprob_min"] == -0.3  # to refit on
    assert rows[1]["confidence"] is None and rows[1]["signals"] == {}
    assert rows[3]["history"] == [{"role": "user", "content": "Tell me about the battle."}]

    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    m = summary["metrics"]
    assert m["accuracy"] == 0.5  # q1 right, q2 misses Marco, q3 refused, q4 falsely refused
    # F1 with the [1] markers stripped: q1 '36 workers were kidnapped' vs '36' is 2/5;
    # q2's five words share three of the six joined gold words, 6/11; q4 refused, 0
    assert m["f1"] == pytest.approx((0.4 + 6 / 11 + 0.0) / 3)
    assert m["correct_refusal_rate"] == 1.0
    assert m["false_refusal_rate"] == pytest.approx(1 / 3)
    # q1 cites its gold snippet; q2 cites A1, not its gold A0/A3; q4 abstained
    assert m["evidence_recall"] == pytest.approx(1 / 3)
    assert m["citation_precision_gold"] == 0.5
    assert m["verifier_flagged"] == 0.5  # q2's sentence was marked unsupported
    assert m["hit@1"] == pytest.approx(2 / 3) and m["hit@3"] == 1.0
    assert m["mrr@10"] == pytest.approx(2.5 / 3)
    assert m["recall@5"] == pytest.approx(2.5 / 3)
    assert m["passage_hit@5"] == 1.0 and summary["metric_n"]["passage_hit@5"] == 2
    assert summary["by_type"]["conflict"]["accuracy"] == 0.0
    assert summary["by_type"]["unanswerable"]["accuracy"] == 1.0
    assert summary["counts"] == {
        "questions": 4,
        "errors": 0,
        "abstained": 2,
        "by_type": {"conflict": 1, "numeric": 1, "single": 1, "unanswerable": 1},
    }
    assert summary["latency"]["total"]["p50"] == pytest.approx(2.5)
    assert summary["latency"]["total"]["p95"] == pytest.approx(3.85)
    assert summary["usage"] == {"prompt_tokens": 400, "completion_tokens": 40}
    assert summary["settings"] == {"top_k": 4, "llm": "fake"}
    assert summary["definitions"]["accuracy"]

    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    assert report.count("data:image/png;base64,") == 2
    assert html.escape(summary["definitions"]["evidence_recall"]) in report
    assert html.escape(summary["definitions"]["latency"]) in report
    assert report.index(">q2<") < report.index(">q1<")  # failures first


def test_answer_fn_exception_becomes_error_row(tmp_path: Path) -> None:
    def flaky(question: str, history: list[dict], date: str = "") -> Iterator[Event]:
        if question.startswith("What is Gabriel"):
            raise RuntimeError("LLM down")
        yield from fake_answer_fn(question, history, date)

    run_dir = run_eval(_questions(), flaky, tmp_path, name="flaky", settings_summary={})
    rows = {r["id"]: r for r in read_rows(run_dir)}
    assert len(rows) == 4
    assert rows["q2"]["error"] == "RuntimeError: LLM down"
    assert rows["q2"]["metrics"]["accuracy"] is False
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["errors"] == 1
    assert summary["metrics"]["accuracy"] == 0.5
    assert "LLM down" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_resume_skips_questions_already_answered(tmp_path: Path) -> None:
    first = run_eval(_questions()[:2], fake_answer_fn, tmp_path, name="r", settings_summary={})
    # Simulate a kill: two rows done, then a half-written line.
    with (first / "results.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"id": "q3", "question": "How much')
    (first / "summary.json").unlink()
    asked: list[str] = []

    def counting(question: str, history: list[dict], date: str = "") -> Iterator[Event]:
        asked.append(question)
        yield from fake_answer_fn(question, history, date)

    again = run_eval(_questions(), counting, first, name="r", settings_summary={})
    assert again == first
    assert asked == ["How much ransom was paid?", "How many soldiers died?"]
    assert [r["id"] for r in read_rows(first)] == ["q1", "q2", "q3", "q4"]
    asked.clear()
    run_eval(_questions(), counting, tmp_path, name="r", settings_summary={}, resume=first)
    assert asked == []
    summary = json.loads((first / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["questions"] == 4


def test_parallel_gives_same_summary_as_serial(tmp_path: Path) -> None:
    questions = [replace(q, id=f"{q.id}-{i}") for i in range(3) for q in _questions()]
    serial = run_eval(questions, fake_answer_fn, tmp_path / "a", name="s", settings_summary={})
    para = run_eval(
        questions, fake_answer_fn, tmp_path / "b", name="p", settings_summary={}, parallel=4
    )
    s1 = json.loads((serial / "summary.json").read_text(encoding="utf-8"))
    s2 = json.loads((para / "summary.json").read_text(encoding="utf-8"))
    assert _stable(s1) == _stable(s2)
    assert sorted(r["id"] for r in read_rows(para)) == sorted(q.id for q in questions)
    assert s1["counts"]["questions"] == 12


def test_retrieval_only_skips_answer_metrics(tmp_path: Path) -> None:
    def retrieve_only(question: str, history: list[dict], date: str = "") -> Answer:
        full = _script(question)
        return Answer(question, question, "", False, "extractive", retrieved=full.retrieved)

    run_dir = run_eval(
        _questions(), retrieve_only, tmp_path, name="ret", settings_summary={}, retrieval_only=True
    )
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["retrieval_only"] is True
    assert summary["metrics"]["accuracy"] is None
    assert summary["metrics"]["evidence_recall"] is None
    assert summary["metrics"]["hit@1"] == pytest.approx(2 / 3)
    assert "retrieval only" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_question_date_reaches_the_answer_fn(tmp_path: Path) -> None:
    seen: list[str] = []

    def dated(question: str, history: list[dict], date: str = "") -> Iterator[Event]:
        seen.append(date)
        yield from fake_answer_fn(question, history, date)

    questions = [replace(q, question_date="2014-03-05") for q in _questions()[:1]]
    run_eval(questions, dated, tmp_path, name="d", settings_summary={})
    assert seen == ["2014-03-05"]


def test_judge_scores_citations_and_a_resumed_run_asks_nothing_twice(tmp_path: Path) -> None:
    from fake_llm import ScriptedLLM

    from rag.judge import Judge
    from rag.llm import ChatLLM

    def verdict(request: dict) -> str:
        user = request["messages"][-1]["content"]
        return "Yes." if "36 natural gas" in user else "no"

    with ScriptedLLM() as server:
        server.responder = verdict
        judge = Judge(ChatLLM(server.base_url, "k", "judge-m", 10.0, 0))
        run_dir = run_eval(_questions(), fake_answer_fn, tmp_path, name="j", settings_summary={})
        asked = len(server.requests)
        assert asked == 0  # no judge given: nothing asked
        rows = {r["id"]: r for r in read_rows(run_dir)}
        assert "judge_citation_recall" not in rows["q1"]["metrics"]

        run_eval(_questions(), fake_answer_fn, run_dir, name="j", settings_summary={}, judge=judge)
        rows = {r["id"]: r for r in read_rows(run_dir)}
        assert rows["q1"]["metrics"]["judge_citation_recall"] == 1.0  # KIDNAP entails it
        assert rows["q1"]["metrics"]["judge_citation_precision"] == 1.0
        assert rows["q2"]["metrics"]["judge_citation_recall"] == 0.0
        assert rows["q3"]["metrics"].get("judge_citation_recall") is None  # abstained
        first = len(server.requests)
        assert first == 2 and all(r["model"] == "judge-m" for r in server.requests)

        again = Judge(ChatLLM(server.base_url, "k", "judge-m", 10.0, 0))
        rows_left = read_rows(run_dir)
        for row in rows_left:  # forget the row metrics: only the cache is left
            row["metrics"].pop("judge_citation_recall", None)
        lines = "".join(json.dumps(r) + "\n" for r in rows_left)
        (run_dir / "results.jsonl").write_text(lines, encoding="utf-8")
        run_eval(_questions(), fake_answer_fn, run_dir, name="j", settings_summary={}, judge=again)
        assert len(server.requests) == first
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        assert summary["metrics"]["judge_citation_recall"] == 0.5
        assert summary["judge"] == again.name


def test_a_judge_that_is_down_leaves_the_other_metrics(tmp_path: Path) -> None:
    from fake_llm import free_port

    from rag.judge import Judge
    from rag.llm import ChatLLM

    judge = Judge(ChatLLM(f"http://127.0.0.1:{free_port()}/v1", "", "m", 2.0, 0))
    run_dir = run_eval(
        _questions(), fake_answer_fn, tmp_path, name="x", settings_summary={}, judge=judge
    )
    row = read_rows(run_dir)[0]
    assert "not reachable" in row["judge_error"] and row["metrics"]["accuracy"] is True
