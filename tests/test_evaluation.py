"""Evaluation: hand-computed metrics, loader errors, the runner (resume, parallel), reports."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from rag.answer import Answer, Citation, Done, Event, Passage, Sentence, Status, Token
from rag.errors import EvalFormatError
from rag.evaluation import (
    Evidence,
    Question,
    best_f1,
    citation_precision,
    citation_recall,
    compare_runs,
    correct_refusal,
    false_refusal,
    hit_at,
    is_correct,
    latency_stats,
    load_questions,
    metric_definitions,
    mrr,
    normalize,
    passage_hit_at,
    passage_mrr,
    percentile,
    question_correct,
    read_rows,
    recall_at,
    render_compare,
    run_eval,
    score_answer,
    token_f1,
    usage_totals,
)

ROOT = Path(__file__).resolve().parents[1]
A0, A1, A2, A3 = (
    "000_9d6e732136a79e44",
    "001_c2eb3900d027123b",
    "002_7aa918d89e1f6618",
    "003_a959b2a1bffac71d",
)


# --------------------------------------------------------------------------- metrics


def test_normalize_unifies_case_punctuation_articles_and_numbers() -> None:
    assert normalize("The  Shining-Path, an ARMY!") == "shining path army"
    assert normalize("6,300 kg") == normalize("6300 kg") == "6300 kg"
    assert normalize("Thirty-six workers") == "36 workers"
    assert normalize("twenty one") == "21"
    assert normalize("Sixteen people") == "16 people"
    assert normalize("75%") == normalize("75 percent") == "75 percent"
    assert normalize("Apurímac") == "apurimac"
    assert normalize("costs 1.5 million.") == "costs 1.5 million"
    assert normalize("") == ""


def _q(**kw: object) -> Question:
    base: dict = {"id": "q", "question": "?", "type": "single"}
    base.update(kw)
    return Question(**base)


def test_is_correct_containment_any_answer_and_all_facts() -> None:
    q = _q(answers=["36", "thirty-six"])
    assert is_correct("Thirty-six workers were kidnapped.", q)
    assert is_correct("They took 36.", q)
    assert not is_correct("They took 360 workers.", q)  # whole words only
    assert not is_correct("", q)
    both = _q(answer_all=["52", "46"])
    assert is_correct("One says 52 bases, another 46.", both)
    assert not is_correct("There are 52 bases.", both)
    mixed = _q(answers=["Gabriel"], answer_all=["Quispe"])
    assert is_correct("Gabriel, i.e. Quispe", mixed)
    assert not is_correct("Gabriel", mixed)
    assert not is_correct("anything", _q(type="unanswerable"))  # nothing to match


def test_question_correct_uses_abstention_for_unanswerable() -> None:
    unans = _q(type="unanswerable")
    assert question_correct(unans, "I don't know.", abstained=True)
    assert not question_correct(unans, "It was 5 million.", abstained=False)
    ans = _q(answers=["36"])
    assert question_correct(ans, "36", abstained=False)
    assert not question_correct(ans, "36", abstained=True)


def test_token_f1_hand_computed() -> None:
    # pred tokens [cat, sat], gold [cat, sat, down]: P=1, R=2/3, F1=0.8
    assert token_f1("The cat sat", "cat sat down") == pytest.approx(0.8)
    assert token_f1("", "") == 1.0
    assert token_f1("", "cat") == 0.0
    assert token_f1("cat", "") == 0.0
    assert token_f1("dog", "cat") == 0.0
    q = _q(answers=["36"], answer_all=[])
    # "36 workers" vs "36": P=1/2, R=1 -> 2/3
    assert best_f1("36 workers", q) == pytest.approx(2 / 3)
    q2 = _q(answers=[], answer_all=["52", "46"])
    assert best_f1("52 and 46", q2) == pytest.approx(0.8)  # P=2/3, R=1
    assert best_f1("x", _q(type="unanswerable")) == 0.0


def test_hit_recall_mrr_hand_computed() -> None:
    ranked = ["a", "b", "c", "a"]
    assert hit_at(1, ranked, ["c"]) == 0.0
    assert hit_at(3, ranked, ["c"]) == 1.0
    assert hit_at(5, [], ["c"]) == 0.0
    assert hit_at(5, ranked, []) == 0.0
    assert recall_at(5, ranked, ["a", "d"]) == 0.5
    assert recall_at(1, ranked, ["a", "c"]) == 0.5
    assert recall_at(5, ranked, []) == 0.0
    assert mrr(ranked, ["c"]) == pytest.approx(1 / 3)
    assert mrr(ranked, ["b", "c"]) == 0.5
    assert mrr(ranked, ["c"], k=2) == 0.0
    assert mrr([], ["c"]) == 0.0
    assert mrr(ranked, []) == 0.0


def test_passage_hit_and_mrr_use_normalised_snippets() -> None:
    texts = ["Nothing here.", "THE KIDNAPPING of 36 natural-gas workers, earlier", "x"]
    snippets = ["the kidnapping of 36 natural gas workers"]
    assert passage_hit_at(1, texts, snippets) == 0.0
    assert passage_hit_at(2, texts, snippets) == 1.0
    assert passage_mrr(texts, snippets) == 0.5
    assert passage_mrr(texts, snippets, k=1) == 0.0
    assert passage_hit_at(5, [], snippets) == 0.0
    assert passage_hit_at(5, texts, []) == 0.0
    assert passage_mrr(texts, []) == 0.0


def test_refusal_truth_table() -> None:
    assert correct_refusal(True, True) and not correct_refusal(True, False)
    assert not correct_refusal(False, True)
    assert false_refusal(False, True) and not false_refusal(False, False)
    assert not false_refusal(True, True)


def test_citation_precision_recall_hand_computed() -> None:
    sentences = [
        Sentence("Supported and cited.", citations=[1], supported=True),
        Sentence("Cited twice, unsupported.", citations=[1, 2], supported=False),
        Sentence("Uncited.", citations=[], supported=True),
    ]
    # recall: only sentence 1 is cited and supported -> 1/3
    assert citation_recall(sentences) == pytest.approx(1 / 3)
    # precision: 3 (sentence, citation) pairs, 1 with a supported sentence -> 1/3
    assert citation_precision(sentences) == pytest.approx(1 / 3)
    assert citation_recall([]) is None
    assert citation_precision([]) is None
    uncited = [Sentence("No citations at all.", supported=True)]
    assert citation_recall(uncited) == 0.0
    assert citation_precision(uncited) == 0.0
    good = [Sentence("a", [1], True), Sentence("b", [2, 3], True)]
    assert citation_recall(good) == 1.0 and citation_precision(good) == 1.0


def test_percentiles_latency_and_usage() -> None:
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    stats = latency_stats([{"total": 1.0, "retrieve": 0.1}, {"total": 3.0}, {}])
    assert stats["total"] == {"p50": 2.0, "p95": pytest.approx(2.9), "n": 2}
    assert stats["retrieve"]["n"] == 1 and stats["retrieve"]["p50"] == 0.1
    assert stats["first_token"] == {"p50": None, "p95": None, "n": 0}
    assert usage_totals([]) == {"prompt_tokens": 0, "completion_tokens": 0}
    assert usage_totals([{"prompt_tokens": 10, "completion_tokens": 2}, {"prompt_tokens": 5}]) == {
        "prompt_tokens": 15,
        "completion_tokens": 2,
    }


def test_metric_definitions_are_one_line_docstrings() -> None:
    defs = metric_definitions()
    for key in ("accuracy", "citation_precision", "citation_recall", "hit@5", "mrr@10", "latency"):
        assert defs[key] and "\n" not in defs[key]
    assert defs["hit@5"].startswith("Hit@5")


def _passage(n: int, article: str, text: str = "text") -> Passage:
    return Passage(n, f"{article}#{n}", article, "t", "s", "2020", "u", text, 0, len(text))


def test_score_answer_abstained_has_no_citation_metrics() -> None:
    q = _q(answers=["2"], evidence=[Evidence(A2, "Two soldiers were also killed")])
    ans = Answer("?", "?", "I don't know.", True, "generated", passages=[_passage(1, A2)])
    m = score_answer(q, ans)
    assert m["accuracy"] is False and m["false_refusal_rate"] is True
    assert m["correct_refusal_rate"] is None
    assert m["citation_precision"] is None and m["citation_recall"] is None
    assert m["f1"] == 0.0 and m["hit@1"] == 1.0 and m["passage_hit@5"] == 0.0
    unans = _q(type="unanswerable")
    m = score_answer(unans, ans)
    assert m["accuracy"] is True and m["correct_refusal_rate"] is True
    assert m["hit@1"] is None and m["f1"] is None
    m = score_answer(q, ans, retrieval_only=True)
    assert m["accuracy"] is None and m["hit@1"] == 1.0


# --------------------------------------------------------------------------- loader


def test_jsonl_loader_names_bad_lines_and_keeps_good_rows(tmp_path: Path) -> None:
    lines = [
        {"id": "q1", "question": "Q one?", "answer": "36", "evidence": [{"article": A0}]},
        {"id": "q2", "answer": "x"},
        "{not json",
        "",
        {"id": "q1", "question": "Duplicate?", "answer": "x"},
        {"id": "q5", "question": "No answer?", "type": "single"},
        {"id": "q6", "question": "Bad history?", "answer": "x", "history": [{"role": "bot"}]},
        {"id": "q7", "question": "Unanswerable?", "type": "unanswerable"},
        {"question": "No id?", "answer": 7, "answer_all": ["a", "b"], "evidence": [A1]},
        [1, 2],
    ]
    path = tmp_path / "set.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    questions, errors = load_questions(path)
    assert [q.id for q in questions] == ["q1", "q7", "line-9"]
    assert errors[0] == "line 2: missing 'question'"
    assert errors[1].startswith("line 3: not valid JSON")
    assert errors[2] == "line 5: duplicate id 'q1'"
    assert errors[3].startswith("line 6: missing 'answer'")
    assert errors[4].startswith("line 7: each 'history' turn")
    assert errors[5] == "line 10: expected a JSON object"
    assert len(errors) == 6
    assert questions[0].answers == ["36"] and questions[0].evidence == [Evidence(A0)]
    assert questions[1].unanswerable
    assert questions[2].answers == ["7"] and questions[2].answer_all == ["a", "b"]
    assert questions[2].evidence == [Evidence(A1)]


def test_csv_loader_pipe_and_json_lists(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(
        "id,question,answer,answer_all,evidence,type,history\n"
        'c1,How many?,36|thirty-six,,"000_x: the kidnapping of 36|001_y",numeric,\n'
        "c2,,x,,,single,\n"
        'c3,Which bases?,,"[""52"", ""46""]","[{""article"": ""002_z""}]",conflict,'
        '"[{""role"": ""user"", ""content"": ""hi""}]"\n'
        "c4,Bad history?,x,,,single,[oops\n"
        'c5,"Answer with, comma?","6,300",,,numeric,\n',
        encoding="utf-8",
    )
    questions, errors = load_questions(path)
    assert [q.id for q in questions] == ["c1", "c3", "c5"]
    assert errors[0] == "line 3: missing 'question'"
    assert errors[1].startswith("line 5: 'history' is not a valid JSON list")
    c1, c3, c5 = questions
    assert c1.answers == ["36", "thirty-six"] and c1.type == "numeric"
    assert c1.evidence == [Evidence("000_x", "the kidnapping of 36"), Evidence("001_y")]
    assert c3.answer_all == ["52", "46"] and c3.evidence == [Evidence("002_z")]
    assert c3.history == [{"role": "user", "content": "hi"}]
    assert c5.answers == ["6,300"] and c5.question == "Answer with, comma?"


def test_csv_without_question_column_and_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,text\n1,hello\n", encoding="utf-8")
    assert load_questions(path) == ([], ["line 1: the header has no 'question' column"])
    other = tmp_path / "set.txt"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(EvalFormatError):
        load_questions(other)
    with pytest.raises(EvalFormatError):
        load_questions(tmp_path / "missing.jsonl")


# --------------------------------------------------------------------------- runner


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
            passages=[_passage(1, A0, KIDNAP), _passage(2, A1)],
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
            passages=[_passage(1, A1), _passage(2, A3)],
            **common,
        )
    if question.startswith("How much ransom"):
        return Answer(
            text="The articles do not say. <script>alert(1)</script>",
            abstained=True,
            **common,
        )
    return Answer(
        text="I don't know.", abstained=True, passages=[_passage(1, A2, SOLDIERS)], **common
    )


def fake_answer_fn(question: str, history: list[dict]) -> Iterator[Event]:
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
    assert r1["citations"] == [{"n": 1, "article_id": A0, "start": 10, "end": 90}]
    assert r1["passages"][1] == {"article_id": A1, "chunk_id": f"{A1}#2", "rank": 2}
    assert r1["expected"]["answers"] == ["36", "thirty-six"] and r1["error"] is None
    assert rows[3]["history"] == [{"role": "user", "content": "Tell me about the battle."}]

    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    m = summary["metrics"]
    assert m["accuracy"] == 0.5  # q1 right, q2 misses Marco, q3 refused, q4 falsely refused
    assert m["f1"] == pytest.approx((1 / 3 + 0.5 + 0.0) / 3)
    assert m["correct_refusal_rate"] == 1.0
    assert m["false_refusal_rate"] == pytest.approx(1 / 3)
    assert m["citation_precision"] == 0.5 and m["citation_recall"] == 0.5
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
    assert html.escape(summary["definitions"]["citation_recall"]) in report
    assert html.escape(summary["definitions"]["latency"]) in report
    assert report.index(">q2<") < report.index(">q1<")  # failures first


def test_answer_fn_exception_becomes_error_row(tmp_path: Path) -> None:
    def flaky(question: str, history: list[dict]) -> Iterator[Event]:
        if question.startswith("What is Gabriel"):
            raise RuntimeError("LLM down")
        yield from fake_answer_fn(question, history)

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

    def counting(question: str, history: list[dict]) -> Iterator[Event]:
        asked.append(question)
        yield from fake_answer_fn(question, history)

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
    def retrieve_only(question: str, history: list[dict]) -> Answer:
        full = _script(question)
        return Answer(question, question, "", False, "extractive", passages=full.passages)

    run_dir = run_eval(
        _questions(), retrieve_only, tmp_path, name="ret", settings_summary={}, retrieval_only=True
    )
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["retrieval_only"] is True
    assert summary["metrics"]["accuracy"] is None
    assert summary["metrics"]["citation_recall"] is None
    assert summary["metrics"]["hit@1"] == pytest.approx(2 / 3)
    assert "retrieval only" in (run_dir / "report.html").read_text(encoding="utf-8")


def test_compare_lists_flipped_questions(tmp_path: Path) -> None:
    def flipped(question: str, history: list[dict]) -> Iterator[Event]:
        yield Done(_script(question, flipped=True))

    a = run_eval(_questions(), fake_answer_fn, tmp_path / "a", name="base", settings_summary={})
    b = run_eval(_questions(), flipped, tmp_path / "b", name="new", settings_summary={})
    cmp = compare_runs(a, b)
    assert cmp["basis"] == "accuracy"
    assert [i["id"] for i in cmp["right_to_wrong"]] == ["q1"]
    assert [i["id"] for i in cmp["wrong_to_right"]] == ["q2"]
    acc = next(m for m in cmp["metrics"] if m["metric"] == "accuracy")
    assert acc == {"metric": "accuracy", "a": 0.5, "b": 0.5, "delta": 0.0}
    text = render_compare(cmp)
    assert "right → wrong (1" in text and "q1: How many workers" in text
    html_fragment = render_compare(cmp, "html")
    assert "<table>" in html_fragment and "Gabriel&#x27;s" in html_fragment
    assert cmp["only_in_a"] == [] and cmp["only_in_b"] == []


# --------------------------------------------------------------------------- bundled question sets


def _article_dir() -> Path:
    bundled = ROOT / "data" / "articles"
    if bundled.is_dir() and any(bundled.glob("*.txt")):
        return bundled
    return ROOT.parent / "shared" / "seed-articles"


def _flat(text: str) -> str:
    """NFC with runs of whitespace collapsed, so line wrapping cannot break a verbatim match."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@pytest.mark.parametrize("name", ["seed.jsonl", "followups.jsonl"])
def test_bundled_question_sets_load_and_snippets_are_verbatim(name: str) -> None:
    questions, errors = load_questions(ROOT / "data" / "eval" / name)
    assert errors == []
    articles = _article_dir()
    if not articles.is_dir():
        pytest.skip("no seed articles to check against")
    texts = {p.stem: _flat(p.read_text(encoding="utf-8")) for p in articles.glob("*.txt")}
    for q in questions:
        assert q.unanswerable or q.evidence, q.id
        if not q.unanswerable:  # the snippets themselves carry the expected answer
            assert q.snippets and is_correct(" ".join(q.snippets), q), q.id
        for ev in q.evidence:
            assert ev.article in texts, (q.id, ev.article)
            if ev.snippet:
                assert _flat(ev.snippet) in texts[ev.article], (q.id, ev.snippet)


def test_seed_set_size_and_types() -> None:
    questions, _ = load_questions(ROOT / "data" / "eval" / "seed.jsonl")
    types = [q.type for q in questions]
    assert len(questions) >= 40
    assert types.count("unanswerable") >= 8
    assert {"single", "multi", "conflict", "numeric", "unanswerable"} <= set(types)
    assert all(len(q.gold_articles) >= 2 for q in questions if q.type in ("multi", "conflict"))
    assert all(len(q.answer_all) >= 2 for q in questions if q.type == "conflict")


def test_followups_have_history() -> None:
    questions, _ = load_questions(ROOT / "data" / "eval" / "followups.jsonl")
    assert len(questions) >= 6
    assert all(q.history and q.history[0]["role"] == "user" for q in questions)
