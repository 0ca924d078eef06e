"""Question sets: loader errors by line, JSONL and CSV parsing, the bundled sets' integrity."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from rag.errors import EvalFormatError
from rag.metrics import is_correct
from rag.questions import Evidence, Question, load_questions, split_key, split_part
from rag.text import normalize

ROOT = Path(__file__).resolve().parents[1]
A0, A1 = "000_9d6e732136a79e44", "001_c2eb3900d027123b"


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


# --------------------------------------------------------------------------- bundled question sets


def _article_dir() -> Path:
    bundled = ROOT / "data" / "articles"
    if bundled.is_dir() and any(bundled.glob("*.txt")):
        return bundled
    return ROOT.parent / "shared" / "seed-articles"


def _bundled() -> list[Path]:
    return sorted((ROOT / "data" / "articles").glob("*.txt"))


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


NEWS_CORPUS = ROOT.parent / "shared" / "corpora" / "news-10k.jsonl.gz"


def test_news_dev_set_shape() -> None:
    questions, errors = load_questions(ROOT / "data" / "eval" / "news-dev.jsonl")
    assert errors == []
    types = [q.type for q in questions]
    assert len(questions) >= 120 and types.count("unanswerable") >= 25
    assert types.count("multi") >= 20 and types.count("conflict") >= 10
    assert len({a for q in questions for a in q.gold_articles}) >= 50
    assert sum(1 for q in questions if q.question_date) >= 10
    assert all(len(q.answer_all) >= 2 for q in questions if q.type == "conflict")


def test_news_test_set_shape_and_held_out_from_dev() -> None:
    questions, errors = load_questions(ROOT / "data" / "eval" / "news-test.jsonl")
    dev, _ = load_questions(ROOT / "data" / "eval" / "news-dev.jsonl")
    assert errors == []
    types = [q.type for q in questions]
    assert len(questions) >= 80 and types.count("unanswerable") >= 15
    assert not {a for q in questions for a in q.gold_articles} & {
        a for q in dev for a in q.gold_articles
    }


def test_nuggets_load_as_lists_of_phrasings_and_open_questions_need_no_answer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "open.jsonl"
    path.write_text(
        '{"id": "o1", "question": "What is the VRAEM?", "type": "open", "kind": "definition", '
        '"nuggets": [["Apurimac", "Apurímac"], "Mantaro"]}\n'
        '{"id": "o2", "question": "Why?", "type": "open", "nuggets": "not a list"}\n'
        '{"id": "s1", "question": "How many?", "type": "single"}\n',
        encoding="utf-8",
    )
    questions, errors = load_questions(path)
    assert [q.id for q in questions] == ["o1"]
    assert questions[0].nuggets == [["Apurimac", "Apurímac"], ["Mantaro"]]
    assert questions[0].kind == "definition" and not questions[0].answers
    assert errors[0].startswith("line 2: 'nuggets' must be a list")
    assert errors[1].startswith("line 3: missing 'answer'")


def test_split_is_fixed_by_key_and_about_one_third_test() -> None:
    keys = [f"2024-{m:02d}-{d:02d}" for m in range(1, 13) for d in (1, 8, 15, 22)]
    parts = [split_part(k) for k in keys]
    assert parts == [split_part(k) for k in keys]  # the same every run
    assert 0.2 < parts.count("test") / len(parts) < 0.45
    week = Question("a", "q?", ["x"], question_date="2024-03-08")
    other = Question("b", "q2?", ["y"], question_date="2024-03-08")
    assert split_part(split_key(week)) == split_part(split_key(other))  # a week stays together
    by_article = Question("c", "q?", ["x"], evidence=[Evidence("art-1")])
    assert split_key(by_article) == "art-1"


def test_short_set_is_short_and_open_set_has_nuggets() -> None:
    short, errors = load_questions(ROOT / "data" / "eval" / "short.jsonl")
    assert errors == [] and len([q for q in short if not q.unanswerable]) >= 80
    assert all(4 <= len(q.question.split()) <= 12 for q in short)
    opened, errors = load_questions(ROOT / "data" / "eval" / "open.jsonl")
    assert errors == [] and len(opened) >= 115
    assert all(q.type == "open" and 2 <= len(q.nuggets) <= 5 for q in opened)
    assert sum(q.gold_articles[0].startswith("00") for q in opened) >= 15  # bundled articles
    texts = {p.stem: normalize(p.read_text(encoding="utf-8")) for p in _bundled()}
    for q in opened:
        if set(q.gold_articles) <= set(texts):  # each nugget is stated in its articles
            said = " ".join(texts[a] for a in q.gold_articles)
            assert all(any(f" {normalize(p)} " in f" {said} " for p in n) for n in q.nuggets), q.id


@pytest.mark.slow
@pytest.mark.parametrize("name", ["news-dev.jsonl", "news-test.jsonl", "short.jsonl", "open.jsonl"])
def test_news_snippets_are_verbatim_in_the_cleaned_articles(name: str) -> None:
    if not NEWS_CORPUS.is_file():
        pytest.skip("../shared/corpora/news-10k.jsonl.gz is not here")
    from rag.articles import Article, load_file

    questions, _ = load_questions(ROOT / "data" / "eval" / name)
    bundled = {p.stem for p in _bundled()}
    wanted = {a for q in questions for a in q.gold_articles}
    texts = {
        a.id: _flat(a.text)
        for a in load_file(NEWS_CORPUS, 10**9)
        if isinstance(a, Article) and a.id in wanted
    }
    for q in questions:
        if q.nuggets and set(q.gold_articles) <= set(texts):  # key facts are in its articles
            said = normalize(" ".join(texts[a] for a in q.gold_articles))
            assert all(any(f" {normalize(p)} " in f" {said} " for p in n) for n in q.nuggets), q.id
        elif not q.unanswerable and not q.nuggets:
            assert is_correct(" ".join(q.snippets), q), q.id
        for ev in q.evidence:
            if ev.article not in bundled:  # the open set's bundled articles: checked above
                assert _flat(ev.snippet) in texts[ev.article], (q.id, ev.snippet)
