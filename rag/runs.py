"""An evaluation run's folder on disk: naming it, its rows (a killed run's repaired), summary,
report, and two runs compared; apart from the runner, so any run can be re-read or compared."""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from rag.errors import RagError
from rag.metrics import aggregate, metric_definitions
from rag.report import render_report
from rag.stats import latency_stats, usage_totals

__all__ = [
    "compare_runs",
    "is_run_dir",
    "new_run_dir",
    "read_meta",
    "read_rows",
    "repair_results",
    "summarize",
    "timestamp",
    "write_summary",
]

RESULTS = "results.jsonl"
SUMMARY = "summary.json"
REPORT = "report.html"
RUN_META = "run.json"


def timestamp() -> str:
    """Local time as ISO 8601 with offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def read_meta(run_dir: Path) -> dict:
    """A run's run.json (name, start time, settings, question order), or {} when missing."""
    path = run_dir / RUN_META
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def is_run_dir(path: Path) -> bool:
    """True for a directory a previous run_eval created."""
    return (path / RUN_META).is_file() or (path / RESULTS).is_file()


def new_run_dir(out_dir: Path, name: str) -> Path:
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


def repair_results(run_dir: Path) -> list[dict]:
    """Read the finished rows and rewrite the file if a killed run left a broken last line."""
    path = run_dir / RESULTS
    rows = read_rows(run_dir)
    if path.is_file():
        data = path.read_bytes()
        if data and (not data.endswith(b"\n") or data.count(b"\n") != len(rows)):
            lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            path.write_text(lines, encoding="utf-8")
    return rows


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
        "finished": timestamp(),
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
        order = read_meta(Path(run_dir)).get("order", [])
    position = {qid: i for i, qid in enumerate(order)}
    return sorted(by_id.values(), key=lambda r: position.get(r["id"], len(position)))


def write_summary(run_dir: Path, order: Sequence[str] = ()) -> dict:
    """(Re)compute summary.json and report.html from a run's results.jsonl; returns the summary."""
    run_dir = Path(run_dir)
    meta = read_meta(run_dir)
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
