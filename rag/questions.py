"""Question-set formats: JSONL or CSV files (see data/eval/README.md) parsed into `Question`s.

Bad rows become 'line N: …' errors rather than aborting, so one typo does not lose a whole set.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import EvalFormatError

__all__ = [
    "OPEN",
    "UNANSWERABLE",
    "Evidence",
    "Question",
    "load_questions",
    "split_key",
    "split_part",
]

UNANSWERABLE = "unanswerable"
OPEN = "open"  # an open question: scored by its nuggets, not by one answer


@dataclass(frozen=True)
class Evidence:
    """Where an answer is supported: an article id and optionally a verbatim snippet of it."""

    article: str
    snippet: str = ""


@dataclass
class Question:
    """One evaluation question with its acceptable answers and evidence."""

    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    answer_all: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    type: str = "single"
    question_date: str = ""
    history: list[dict] = field(default_factory=list)
    nuggets: list[list[str]] = field(default_factory=list)
    kind: str = ""

    @property
    def unanswerable(self) -> bool:
        """True when the articles do not answer it and the right outcome is abstaining."""
        return self.type == UNANSWERABLE

    @property
    def gold_articles(self) -> list[str]:
        """Distinct evidence article ids, in order."""
        return list(dict.fromkeys(e.article for e in self.evidence))

    @property
    def snippets(self) -> list[str]:
        """Evidence snippets that are not empty."""
        return [e.snippet for e in self.evidence if e.snippet]


def load_questions(path: Path) -> tuple[list[Question], list[str]]:
    """Read a JSONL or CSV question set; bad rows become 'line N: …' errors, the rest load."""
    path = Path(path)
    if not path.is_file():
        raise EvalFormatError(f"{path}: no such question file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise EvalFormatError(f"{path}: not UTF-8 text ({err.reason}).") from err
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        records, from_csv = _jsonl_records(text), False
    elif suffix == ".csv":
        records, from_csv = _csv_records(text), True
    else:
        raise EvalFormatError(f"{path}: question sets must be .jsonl or .csv, not {suffix!r}.")
    questions: list[Question] = []
    errors: list[str] = []
    seen: set[str] = set()
    for line, record, problem in records:
        if problem:
            errors.append(f"line {line}: {problem}")
            continue
        try:
            q = _question_from_record(record, line, from_csv)
        except EvalFormatError as err:
            errors.append(f"line {line}: {err}")
            continue
        if q.id in seen:
            errors.append(f"line {line}: duplicate id {q.id!r}")
            continue
        seen.add(q.id)
        questions.append(q)
    return questions, errors


def _jsonl_records(text: str) -> list[tuple[int, dict, str]]:
    """(line number, object, problem) for every non-blank JSONL line."""
    out: list[tuple[int, dict, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as err:
            out.append((number, {}, f"not valid JSON ({err.msg})"))
            continue
        if not isinstance(value, dict):
            out.append((number, {}, "expected a JSON object"))
            continue
        out.append((number, value, ""))
    return out


def _csv_records(text: str) -> list[tuple[int, dict, str]]:
    """(line number, row, problem) for every CSV row; the header is line 1."""
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    if "question" not in fields:
        return [(1, {}, "the header has no 'question' column")]
    reader.fieldnames = fields
    out: list[tuple[int, dict, str]] = []
    try:
        for row in reader:
            if None in row:
                out.append((reader.line_num, {}, "more cells than header columns"))
                continue
            out.append((reader.line_num, {k: v for k, v in row.items() if v is not None}, ""))
    except csv.Error as err:
        out.append((reader.line_num, {}, f"unreadable CSV ({err})"))
    return out


def _question_from_record(record: dict, line: int, from_csv: bool) -> Question:
    """Validate one row into a Question; raises EvalFormatError with a short reason."""
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalFormatError("missing 'question'")
    qid = str(record.get("id") or "").strip() or f"line-{line}"
    qtype = str(record.get("type") or "single").strip().lower()
    answers = _str_list(record.get("answer", record.get("answers")), from_csv, "answer")
    answer_all = _str_list(record.get("answer_all"), from_csv, "answer_all")
    if qtype not in (UNANSWERABLE, OPEN) and not answers and not answer_all:
        raise EvalFormatError(
            "missing 'answer' (only 'unanswerable' and 'open' questions may leave it out)"
        )
    return Question(
        id=qid,
        question=question.strip(),
        answers=answers,
        answer_all=answer_all,
        evidence=_evidence_list(record.get("evidence"), from_csv),
        type=qtype,
        question_date=str(record.get("question_date") or "").strip(),
        history=_history(record.get("history"), from_csv),
        nuggets=_nuggets(record.get("nuggets"), from_csv),
        kind=str(record.get("kind") or "").strip().lower(),
    )


def _cell_list(value: str, name: str) -> list[Any]:
    """A CSV cell holding a JSON list or a `|`-separated list."""
    value = value.strip()
    if not value:
        return []
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as err:
            raise EvalFormatError(f"'{name}' is not a valid JSON list ({err.msg})") from err
        if not isinstance(parsed, list):
            raise EvalFormatError(f"'{name}' must be a list")
        return parsed
    return [part.strip() for part in value.split("|") if part.strip()]


def _str_list(value: Any, from_csv: bool, name: str) -> list[str]:
    """One answer or a list of answers as a list of non-empty strings."""
    if value is None or value == "":
        return []
    if from_csv and isinstance(value, str):
        value = _cell_list(value, name)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        raise EvalFormatError(f"'{name}' must be a string or a list of strings")
    return [str(v).strip() for v in value if str(v).strip()]


def _evidence_list(value: Any, from_csv: bool) -> list[Evidence]:
    """Evidence items: {"article", "snippet"?} objects, bare article ids, or CSV `id: snippet`."""
    if value is None or value == "":
        return []
    if from_csv and isinstance(value, str):
        items: list[Any] = []
        for item in _cell_list(value, "evidence"):
            if isinstance(item, str) and ":" in item and not value.strip().startswith("["):
                article, snippet = item.split(":", 1)
                items.append({"article": article.strip(), "snippet": snippet.strip()})
            else:
                items.append(item)
        value = items
    if isinstance(value, str | dict):
        value = [value]
    if not isinstance(value, list):
        raise EvalFormatError("'evidence' must be a list")
    out: list[Evidence] = []
    for item in value:
        if isinstance(item, str) and item.strip():
            out.append(Evidence(item.strip()))
        elif isinstance(item, dict) and isinstance(item.get("article"), str):
            snippet = item.get("snippet") or ""
            if not isinstance(snippet, str):
                raise EvalFormatError("an evidence 'snippet' must be a string")
            out.append(Evidence(item["article"].strip(), snippet))
        else:
            raise EvalFormatError("each evidence item needs an 'article' id")
    return out


def _json_cell(value: Any, from_csv: bool, name: str) -> Any:
    """A CSV cell holding JSON, parsed (other values as they are)."""
    if from_csv and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise EvalFormatError(f"'{name}' is not a valid JSON list ({err.msg})") from err
    return value


def _history(value: Any, from_csv: bool) -> list[dict]:
    """Earlier turns as [{"role": "user"|"assistant", "content": str}]."""
    if value is None or value == "":
        return []
    value = _json_cell(value, from_csv, "history")
    if not isinstance(value, list):
        raise EvalFormatError("'history' must be a list of turns")
    for turn in value:
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("user", "assistant")
            or not isinstance(turn.get("content"), str)
        ):
            raise EvalFormatError(
                "each 'history' turn needs role 'user' or 'assistant' and a string 'content'"
            )
    return [{"role": t["role"], "content": t["content"]} for t in value]


def _nuggets(value: Any, from_csv: bool) -> list[list[str]]:
    """Key facts of an open question, each a list of accepted phrasings (a string is one)."""
    if value is None or value == "":
        return []
    value = _json_cell(value, from_csv, "nuggets")
    if not isinstance(value, list):
        raise EvalFormatError("'nuggets' must be a list of facts, each a list of phrasings")
    return [_str_list(item, False, "nuggets") for item in value]


def split_part(key: str) -> str:
    """'test' for about one key in three, else 'dev': a fixed rule over a stable key (a quiz
    week, an article id), so a week's or an article's questions never sit on both sides.

    >>> [split_part(k) for k in ("2025-08-01", "2025-08-08", "2025-08-15")]
    ['dev', 'test', 'dev']
    """
    digest = hashlib.sha256(f"split:{key}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") % 3 == 0 else "dev"


def split_key(q: Question) -> str:
    """What a question is split by: its quiz week (question date) when it has one, else its
    first evidence (or near-miss) article, else its id."""
    return q.question_date or next(iter(q.gold_articles), "") or q.id
