"""Evaluation: question-set formats, pure metrics, a resumable runner, run summaries and compares.

A question set is JSONL or CSV (see data/eval/README.md). `run_eval` sends every question through
an injected `answer_fn` (the same pipeline the app uses), appends one JSON row per question to
`results.jsonl` as soon as it finishes, then writes `summary.json` and a self-contained
`report.html` (rendered by `rag.report`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from rag.answer import Answer, Done, Event, Sentence, Token
from rag.errors import EvalFormatError
from rag.report import render_compare, render_report

__all__ = [
    "AnswerFn",
    "Evidence",
    "Question",
    "best_f1",
    "citation_precision",
    "citation_recall",
    "compare_runs",
    "correct_refusal",
    "false_refusal",
    "hit_at",
    "is_correct",
    "latency_stats",
    "load_questions",
    "metric_definitions",
    "mrr",
    "normalize",
    "passage_hit_at",
    "passage_mrr",
    "percentile",
    "question_correct",
    "read_rows",
    "recall_at",
    "render_compare",
    "render_report",
    "run_eval",
    "score_answer",
    "summarize",
    "token_f1",
    "usage_totals",
    "write_summary",
]

AnswerFn = Callable[[str, list[dict]], Iterable[Event] | Answer]
"""The pipeline under test: (question, history) -> streamed events ending in Done (or an Answer)."""

UNANSWERABLE = "unanswerable"
LATENCY_KEYS = ("retrieve", "first_token", "total")
HIT_KS = (1, 3, 5)
RESULTS = "results.jsonl"
SUMMARY = "summary.json"
REPORT = "report.html"
RUN_META = "run.json"

_UNITS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_TENS_RE = re.compile(rf"\b({'|'.join(_TENS)})(?:[\s-]+({'|'.join(_UNITS[1:10])}))?\b")
_UNITS_RE = re.compile(rf"\b({'|'.join(_UNITS)})\b")
_ARTICLES = frozenset({"a", "an", "the"})


# --------------------------------------------------------------------------- question sets


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
    if qtype != UNANSWERABLE and not answers and not answer_all:
        raise EvalFormatError(
            "missing 'answer' (only 'unanswerable' questions may leave out answer and answer_all)"
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


def _history(value: Any, from_csv: bool) -> list[dict]:
    """Earlier turns as [{"role": "user"|"assistant", "content": str}]."""
    if value is None or value == "":
        return []
    if from_csv and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise EvalFormatError(f"'history' is not a valid JSON list ({err.msg})") from err
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


# --------------------------------------------------------------------------- metrics


def _number_words(match: re.Match[str]) -> str:
    """Replace a matched English number word (0-99) with its digits."""
    if match.group(0) in _UNITS:
        return str(_UNITS.index(match.group(0)))
    tens = (_TENS.index(match.group(1)) + 2) * 10
    return str(tens + (_UNITS.index(match.group(2)) if match.group(2) else 0))


def normalize(text: str) -> str:
    """Lowercase; drop accents, punctuation, a/an/the; '6,300'→'6300', 'six'→'6', %→percent."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("%", " percent ").replace("per cent", "percent")
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    text = _TENS_RE.sub(_number_words, text)
    text = _UNITS_RE.sub(_number_words, text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    text = re.sub(r"[^\w\s.]|_", " ", text)
    return " ".join(t for t in text.split() if t not in _ARTICLES)


def _contains(haystack_norm: str, needle: str) -> bool:
    """True when the normalised needle occurs in the normalised haystack as whole words."""
    n = normalize(needle)
    return bool(n) and f" {n} " in f" {haystack_norm} "


def is_correct(answer_text: str, q: Question) -> bool:
    """Correct text: normalised, it holds an acceptable answer and all answer_all facts as words."""
    if not q.answers and not q.answer_all:
        return False
    text = normalize(answer_text)
    any_ok = not q.answers or any(_contains(text, a) for a in q.answers)
    return any_ok and all(_contains(text, a) for a in q.answer_all)


def question_correct(q: Question, answer_text: str, abstained: bool) -> bool:
    """Accuracy: unanswerable → the answer abstained; answerable → not abstained and is_correct."""
    if q.unanswerable:
        return abstained
    return not abstained and is_correct(answer_text, q)


def token_f1(pred: str, gold: str) -> float:
    """Token F1 (SQuAD): harmonic mean of precision and recall of shared normalised tokens."""
    p, g = normalize(pred).split(), normalize(gold).split()
    if not p and not g:
        return 1.0
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def best_f1(answer_text: str, q: Question) -> float:
    """F1: the best token_f1 of the answer against each acceptable answer (answer_all joined)."""
    golds = list(q.answers) + ([" ".join(q.answer_all)] if q.answer_all else [])
    return max((token_f1(answer_text, g) for g in golds), default=0.0)


def hit_at(k: int, ranked_article_ids: Sequence[str], gold_ids: Sequence[str]) -> float:
    """Hit@k: 1 if any of the top-k retrieved article ids is a gold article, else 0."""
    return 1.0 if set(ranked_article_ids[:k]) & set(gold_ids) else 0.0


def recall_at(k: int, ranked_article_ids: Sequence[str], gold_ids: Sequence[str]) -> float:
    """Recall@k: share of distinct gold articles found among the top-k retrieved (0 if no gold)."""
    gold = set(gold_ids)
    return len(gold & set(ranked_article_ids[:k])) / len(gold) if gold else 0.0


def mrr(ranked: Sequence[str], gold: Sequence[str], k: int = 10) -> float:
    """MRR@k: 1/rank of the first gold article within the top k retrieved, 0 if none."""
    wanted = set(gold)
    for rank, article_id in enumerate(ranked[:k], 1):
        if article_id in wanted:
            return 1.0 / rank
    return 0.0


def _passage_ranks(ranked_texts: Sequence[str], snippets: Sequence[str], k: int) -> list[int]:
    """1-based ranks (within k) of passages whose text contains some normalised snippet."""
    ranks = []
    for rank, text in enumerate(ranked_texts[:k], 1):
        norm = normalize(text)
        if any(_contains(norm, s) for s in snippets):
            ranks.append(rank)
    return ranks


def passage_hit_at(k: int, ranked_texts: Sequence[str], snippets: Sequence[str]) -> float:
    """Passage hit@k: 1 if one of the top-k passage texts contains a gold snippet (normalised)."""
    return 1.0 if _passage_ranks(ranked_texts, snippets, k) else 0.0


def passage_mrr(ranked_texts: Sequence[str], snippets: Sequence[str], k: int = 10) -> float:
    """Passage MRR@k: 1/rank of the first passage containing a gold snippet, 0 if none."""
    ranks = _passage_ranks(ranked_texts, snippets, k)
    return 1.0 / ranks[0] if ranks else 0.0


def correct_refusal(unanswerable: bool, abstained: bool) -> bool:
    """Correct refusal rate: share of unanswerable questions where the answer abstained."""
    return unanswerable and abstained


def false_refusal(unanswerable: bool, abstained: bool) -> bool:
    """False refusal rate: share of answerable questions where the answer abstained."""
    return not unanswerable and abstained


def citation_recall(sentences: Sequence[Sentence]) -> float | None:
    """Citation recall: share of answer sentences that have ≥1 citation and are judged supported."""
    if not sentences:
        return None
    return sum(1 for s in sentences if s.citations and s.supported) / len(sentences)


def citation_precision(sentences: Sequence[Sentence]) -> float | None:
    """Citation precision: share of (sentence, citation) pairs whose sentence is supported."""
    if not sentences:
        return None
    pairs = sum(len(s.citations) for s in sentences)
    if pairs == 0:
        return 0.0
    return sum(len(s.citations) for s in sentences if s.supported) / pairs


def percentile(values: Sequence[float], p: float) -> float | None:
    """p-th percentile with linear interpolation between closest ranks (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def latency_stats(timings: Sequence[dict[str, float]]) -> dict[str, dict[str, float | None]]:
    """Latency: p50 and p95 seconds of each timing key ('retrieve', 'first_token', 'total')."""
    out: dict[str, dict[str, float | None]] = {}
    for key in LATENCY_KEYS:
        values = [float(t[key]) for t in timings if isinstance(t.get(key), int | float)]
        out[key] = {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}
    return out


def usage_totals(usages: Sequence[dict[str, int]]) -> dict[str, int]:
    """Token usage: sums of prompt_tokens and completion_tokens (and other counters)."""
    totals: dict[str, int] = {"prompt_tokens": 0, "completion_tokens": 0}
    for usage in usages:
        for key, value in usage.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + int(value)
    return totals


def metric_definitions() -> dict[str, str]:
    """Summary metric name → its one-line definition, taken from the metric's docstring."""

    def doc(fn: Callable[..., Any], k: int | None = None) -> str:
        line = (fn.__doc__ or "").strip().splitlines()[0]
        if k is not None:
            line = line.replace("@k", f"@{k}").replace("top-k", f"top-{k}")
            line = line.replace("top k", f"top {k}")
        return line

    defs = {
        "accuracy": doc(question_correct),
        "f1": doc(best_f1),
        "correct_refusal_rate": doc(correct_refusal),
        "false_refusal_rate": doc(false_refusal),
        "citation_precision": doc(citation_precision),
        "citation_recall": doc(citation_recall),
    }
    for k in HIT_KS:
        defs[f"hit@{k}"] = doc(hit_at, k)
    defs["recall@5"] = doc(recall_at, 5)
    defs["mrr@10"] = doc(mrr, 10)
    defs["passage_hit@5"] = doc(passage_hit_at, 5)
    defs["passage_mrr@10"] = doc(passage_mrr, 10)
    defs["latency"] = doc(latency_stats)
    defs["usage"] = doc(usage_totals)
    return defs


def score_answer(q: Question, answer: Answer, *, retrieval_only: bool = False) -> dict[str, Any]:
    """Per-question metrics of one answer; None where a metric does not apply."""
    ranked = [p.article_id for p in answer.passages]
    texts = [p.text for p in answer.passages]
    gold, snippets = q.gold_articles, q.snippets
    has_gold = bool(gold) and not q.unanswerable
    m: dict[str, Any] = {}
    for k in HIT_KS:
        m[f"hit@{k}"] = hit_at(k, ranked, gold) if has_gold else None
    m["recall@5"] = recall_at(5, ranked, gold) if has_gold else None
    m["mrr@10"] = mrr(ranked, gold, 10) if has_gold else None
    has_snip = bool(snippets) and not q.unanswerable
    m["passage_hit@5"] = passage_hit_at(5, texts, snippets) if has_snip else None
    m["passage_mrr@10"] = passage_mrr(texts, snippets, 10) if has_snip else None
    if retrieval_only:
        return {key: None for key in _ANSWER_METRICS} | m
    cited = not answer.abstained
    m.update(
        accuracy=question_correct(q, answer.text, answer.abstained),
        f1=None if q.unanswerable else best_f1("" if answer.abstained else answer.text, q),
        correct_refusal_rate=correct_refusal(True, answer.abstained) if q.unanswerable else None,
        false_refusal_rate=None if q.unanswerable else false_refusal(False, answer.abstained),
        citation_precision=citation_precision(answer.sentences) if cited else None,
        citation_recall=citation_recall(answer.sentences) if cited else None,
    )
    return m


_ANSWER_METRICS = (
    "accuracy",
    "f1",
    "correct_refusal_rate",
    "false_refusal_rate",
    "citation_precision",
    "citation_recall",
)
_RETRIEVAL_METRICS = (
    *(f"hit@{k}" for k in HIT_KS),
    "recall@5",
    "mrr@10",
    "passage_hit@5",
    "passage_mrr@10",
)
METRICS = (*_ANSWER_METRICS, *_RETRIEVAL_METRICS)


def aggregate(rows: Sequence[dict]) -> tuple[dict[str, float | None], dict[str, int]]:
    """Mean of every metric over the rows where it is defined (True=1), and those rows' count."""
    values: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for key in METRICS:
        got = [float(r["metrics"][key]) for r in rows if r["metrics"].get(key) is not None]
        values[key] = sum(got) / len(got) if got else None
        counts[key] = len(got)
    return values, counts


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
        "citations": [
            {"n": c.n, "article_id": c.article_id, "start": c.start, "end": c.end}
            for c in answer.citations
        ],
        "passages": [
            {"article_id": p.article_id, "chunk_id": p.chunk_id, "rank": rank}
            for rank, p in enumerate(answer.passages, 1)
        ],
        "timings": answer.timings,
        "usage": answer.usage,
        "metrics": score_answer(q, answer, retrieval_only=retrieval_only),
        "error": error or None,
        "finished": _now(),
    }


def _answer_one(q: Question, answer_fn: AnswerFn, retrieval_only: bool) -> dict:
    """Run one question through answer_fn; an exception becomes an error row."""
    t0 = time.perf_counter()
    try:
        answer, first = _consume(answer_fn(q.question, list(q.history)), t0)
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
) -> Path:
    """Answer each question not yet in the run, append rows as they finish, write summary + report.

    The run directory is `resume`, or `out_dir` itself when it already holds a run, or a new
    `out_dir/<YYYYmmdd-HHMMSS>-<name>`. Returns the run directory.
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
    meta["order"] = list(dict.fromkeys([*meta.get("order", []), *(q.id for q in questions)]))
    (run_dir / RUN_META).write_text(json.dumps(meta, ensure_ascii=False, indent=2), "utf-8")

    done_ids = {row["id"] for row in _repair_results(run_dir)}
    todo = [q for q in questions if q.id not in done_ids]
    total = len(questions)
    finished = total - len(todo)
    lock = threading.Lock()
    if progress:
        progress(finished, total)

    with (run_dir / RESULTS).open("a", encoding="utf-8") as fh:

        def work(q: Question) -> None:
            nonlocal finished
            row = _answer_one(q, answer_fn, retrieval_only)
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
    """A run's summary.json, recomputed from its rows when missing."""
    path = Path(run_dir) / SUMMARY
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
