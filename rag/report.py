"""Evaluation reports: a self-contained HTML page per run and run-vs-run comparisons.

Works on plain data (the summary dict of `rag.runs` and the results rows of `rag.evaluation`),
so a report can be re-rendered from a run directory at any time. Plots are matplotlib PNGs (Agg,
bundled DejaVu font) inlined as base64; every piece of text is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any, Literal

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:8px 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.fail{background:#fdecec}tr.ok{background:#eef8ee}
.small{color:#666;font-size:.85em}.err{color:#a00}
td.answer{max-width:420px;white-space:pre-wrap}img{max-width:100%}div.scroll{overflow-x:auto}
"""

_HOW_TO_READ = (
    "Each metric is a mean over the questions where it applies (column n). Errors count as "
    "wrong answers and empty retrievals. Evidence recall and citation precision (gold) compare "
    "what the answer cites with the question set's gold evidence, never with our verifier; an "
    "abstained answer has evidence recall 0. Judge metrics come from the independent judge "
    "model when one was given. 'Sentences our verifier flagged' is our own verifier's opinion, "
    "a diagnostic only. Retrieval metrics score the top {depth} ranked chunks, whatever number "
    "of passages went to the LLM; unanswerable questions count for accuracy only through "
    "abstaining."
)
_TYPE_PLOT_METRICS = ("accuracy", "hit@5", "evidence_recall", "correct_refusal_rate")


def esc(value: Any) -> str:
    """HTML-escape any value's text (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def show(value: Any, digits: int = 3) -> str:
    """A metric value for display: '–' for missing, rounded floats, ints as they are."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _png(fig: Any) -> str:
    """A matplotlib Figure as a base64 data URL."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def plot_by_type(summary: dict) -> str | None:
    """Grouped bar chart of the main metrics per question type, as a data URL (None if empty)."""
    from matplotlib.figure import Figure

    by_type: dict[str, dict] = summary.get("by_type", {})
    types = list(by_type)
    metrics = [m for m in _TYPE_PLOT_METRICS if any(by_type[t].get(m) is not None for t in types)]
    if not types or not metrics:
        return None
    fig = Figure(figsize=(8, 3.4))
    ax = fig.add_subplot()
    width = 0.8 / len(metrics)
    for i, metric in enumerate(metrics):
        xs = [j + (i - (len(metrics) - 1) / 2) * width for j in range(len(types))]
        ys = [by_type[t].get(metric) or 0.0 for t in types]
        ax.bar(xs, ys, width=width, label=metric)
    ax.set_xticks(
        range(len(types)), [f"{t}\n(n={summary['counts']['by_type'].get(t, 0)})" for t in types]
    )
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share")
    ax.set_title("Metrics by question type")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


def plot_latency(rows: Sequence[dict]) -> str | None:
    """Histogram of per-question latencies (first token and total, seconds) as a data URL."""
    from matplotlib.figure import Figure

    series = {
        key: [
            float(r["timings"][key])
            for r in rows
            if isinstance((r.get("timings") or {}).get(key), int | float)
        ]
        for key in ("first_token", "total")
    }
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    fig = Figure(figsize=(8, 3))
    ax = fig.add_subplot()
    top = max(max(v) for v in series.values()) or 1.0
    bins = [top * i / 20 for i in range(21)]
    for key, values in series.items():
        ax.hist(values, bins=bins, alpha=0.6, label=key)
    ax.set_xlabel("seconds")
    ax.set_ylabel("questions")
    ax.set_title("Latency distribution")
    ax.legend(fontsize=8)
    return _png(fig)


def failed(row: dict) -> bool:
    """A row counts as a failure when it errored, is wrong, or (retrieval-only) missed at 5."""
    if row.get("error"):
        return True
    metrics = row.get("metrics", {})
    if metrics.get("accuracy") is not None:
        return not metrics["accuracy"]
    return metrics.get("hit@5") == 0


LABELS = {
    "evidence_recall": "evidence recall (gold)",
    "citation_precision_gold": "citation precision (gold)",
    "judge_citation_recall": "citation recall (judge)",
    "judge_citation_precision": "citation precision (judge)",
    "verifier_flagged": "sentences our verifier flagged (diagnostic)",
}


def _summary_table(summary: dict) -> str:
    """Metric | value | n | definition rows, then latency and token usage."""
    defs: dict[str, str] = summary.get("definitions", {})
    out = ["<table><tr><th>metric</th><th>value</th><th>n</th><th>definition</th></tr>"]
    for key, value in summary.get("metrics", {}).items():
        n = summary.get("metric_n", {}).get(key, 0)
        out.append(
            f"<tr><td>{esc(LABELS.get(key, key))}</td><td class=num>{esc(show(value))}</td>"
            f"<td class=num>{n}</td><td>{esc(defs.get(key, ''))}</td></tr>"
        )
    for key, stats in summary.get("latency", {}).items():
        value = f"p50 {show(stats.get('p50'), 2)} s · p95 {show(stats.get('p95'), 2)} s"
        out.append(
            f"<tr><td>latency {esc(key)}</td><td class=num>{esc(value)}</td>"
            f"<td class=num>{esc(stats.get('n', 0))}</td>"
            f"<td>{esc(defs.get('latency', ''))}</td></tr>"
        )
    usage = ", ".join(f"{k} {v}" for k, v in summary.get("usage", {}).items())
    out.append(
        f"<tr><td>token usage</td><td class=num>{esc(usage)}</td><td></td>"
        f"<td>{esc(defs.get('usage', ''))}</td></tr></table>"
    )
    return "".join(out)


def _type_table(summary: dict) -> str:
    """One row per question type with its count and metric means."""
    by_type: dict[str, dict] = summary.get("by_type", {})
    metrics = [
        m for m in summary.get("metrics", {}) if any(v.get(m) is not None for v in by_type.values())
    ]
    head = "".join(f"<th>{esc(m)}</th>" for m in metrics)
    out = [f"<table><tr><th>type</th><th>n</th>{head}</tr>"]
    for qtype, values in by_type.items():
        cells = "".join(f"<td class=num>{esc(show(values.get(m)))}</td>" for m in metrics)
        n = summary.get("counts", {}).get("by_type", {}).get(qtype, 0)
        out.append(f"<tr><td>{esc(qtype)}</td><td class=num>{n}</td>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def _expected(row: dict) -> str:
    """Acceptable answers, required facts and evidence article ids of a row."""
    exp = row.get("expected", {})
    parts = []
    if exp.get("answers"):
        parts.append("any of: " + " | ".join(exp["answers"]))
    if exp.get("answer_all"):
        parts.append("all of: " + " + ".join(exp["answer_all"]))
    if not parts:
        parts.append("(should abstain)" if row.get("type") == "unanswerable" else "")
    text = esc("; ".join(parts))
    ids = sorted({e.get("article", "") for e in exp.get("evidence", [])})
    if ids:
        text += f"<div class=small>{esc(', '.join(ids))}</div>"
    return text


def _question_rows(rows: Sequence[dict]) -> str:
    """The per-question table, failures first."""
    ordered = sorted(rows, key=lambda r: not failed(r))
    out = [
        "<table><tr><th>id</th><th>type</th><th>question</th><th>expected</th><th>answer</th>"
        "<th>citations</th><th>retrieved</th><th>correct</th><th>abstained</th>"
        "<th>hit@5</th><th>evidence R / cit. P</th><th>total s</th></tr>"
    ]
    for row in ordered:
        m = row.get("metrics", {})
        history = "".join(
            f"<div class=small>{esc(t.get('role'))}: {esc(t.get('content'))}</div>"
            for t in row.get("history") or []
        )
        answer = esc(row.get("answer", ""))
        if row.get("notice"):
            answer += f"<div class=small>{esc(row['notice'])}</div>"
        if row.get("error"):
            answer += f"<div class=err>error: {esc(row['error'])}</div>"
        cites = ", ".join(f"[{c.get('n')}] {c.get('article_id')}" for c in row.get("citations", []))
        retrieved = ", ".join(
            dict.fromkeys(p.get("article_id", "") for p in row.get("retrieved", []))
        )
        cit = f"{show(m.get('evidence_recall'), 2)} / {show(m.get('citation_precision_gold'), 2)}"
        total = (row.get("timings") or {}).get("total")
        out.append(
            f"<tr class={'fail' if failed(row) else 'ok'}><td>{esc(row.get('id'))}</td>"
            f"<td>{esc(row.get('type'))}</td><td>{history}{esc(row.get('question'))}</td>"
            f"<td>{_expected(row)}</td><td class=answer>{answer}</td>"
            f"<td class=small>{esc(cites)}</td><td class=small>{esc(retrieved)}</td>"
            f"<td>{esc(show(m.get('accuracy')))}</td><td>{esc(show(row.get('abstained')))}</td>"
            f"<td>{esc(show(m.get('hit@5'), 0))}</td><td>{esc(cit)}</td>"
            f"<td class=num>{esc(show(total, 2))}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def render_report(summary: dict, rows: Sequence[dict]) -> str:
    """The self-contained report.html of a run: metrics with definitions, plots, every question."""
    counts = summary.get("counts", {})
    settings = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>"
        for k, v in summary.get("settings", {}).items()
    )
    plots = [p for p in (plot_by_type(summary), plot_latency(rows)) if p]
    images = "".join(f'<img alt="plot" src="{p}"><br>' for p in plots) or "<p>No data to plot.</p>"
    mode = " (retrieval only)" if summary.get("retrieval_only") else ""
    depth = summary.get("rank_depth") or "?"
    return (
        "<!DOCTYPE html><html><head><meta charset=utf-8>"
        f"<title>Evaluation {esc(summary.get('name'))}</title><style>{_CSS}</style></head><body>"
        f"<h1>Evaluation: {esc(summary.get('name'))}{esc(mode)}</h1>"
        f"<p class=small>{esc(summary.get('started'))} → {esc(summary.get('finished'))} · "
        f"{esc(counts.get('questions', 0))} questions · {esc(counts.get('errors', 0))} errors · "
        f"{esc(counts.get('abstained', 0))} abstained · {esc(summary.get('run_dir', ''))}</p>"
        f"<h2>Summary</h2><p class=small>{esc(_HOW_TO_READ.format(depth=depth))}</p>"
        f"<div class=scroll>{_summary_table(summary)}</div>"
        f"<h2>By question type</h2><div class=scroll>{_type_table(summary)}</div>"
        f"<h2>Plots</h2>{images}"
        f"<h2>Questions (failures first)</h2><div class=scroll>{_question_rows(rows)}</div>"
        f"<h2>Settings</h2><div class=scroll><table>{settings}</table></div></body></html>"
    )


def _delta(value: float | None) -> str:
    """A signed delta for display (whole numbers without decimals)."""
    if value is None:
        return "–"
    return f"{value:+d}" if isinstance(value, int) else f"{value:+.3f}"


def render_compare(comparison: dict, fmt: Literal["text", "html"] = "text") -> str:
    """A compare_runs result as a plain-text table (CLI) or an HTML fragment (app)."""
    a, b = comparison["a"], comparison["b"]
    flips = (
        ("right → wrong", comparison["right_to_wrong"]),
        ("wrong → right", comparison["wrong_to_right"]),
    )
    if fmt == "html":
        rows = "".join(
            f"<tr><td>{esc(m['metric'])}</td><td class=num>{esc(show(m['a']))}</td>"
            f"<td class=num>{esc(show(m['b']))}</td>"
            f"<td class=num>{esc(_delta(m['delta']))}</td></tr>"
            for m in comparison["metrics"]
        )
        parts = [
            f"<p>A: {esc(a['name'])} <span class=small>{esc(a['run_dir'])}</span><br>"
            f"B: {esc(b['name'])} <span class=small>{esc(b['run_dir'])}</span></p>",
            f"<table><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th></tr>{rows}</table>",
        ]
        for title, items in flips:
            lis = "".join(
                f"<li><b>{esc(i['id'])}</b> {esc(i['question'])}<div class=small>A: {esc(i['a'])}"
                f"<br>B: {esc(i['b'])}</div></li>"
                for i in items
            )
            parts.append(f"<h3>{esc(title)} ({len(items)}, by {esc(comparison['basis'])})</h3>")
            parts.append(f"<ul>{lis}</ul>" if lis else "<p>none</p>")
        return "".join(parts)
    width = max([len(m["metric"]) for m in comparison["metrics"]] + [6])
    lines = [
        f"A: {a['name']}  ({a['run_dir']})",
        f"B: {b['name']}  ({b['run_dir']})",
        "",
        f"{'metric':<{width}}  {'A':>10}  {'B':>10}  {'B - A':>8}",
    ]
    for m in comparison["metrics"]:
        va, vb = show(m["a"]), show(m["b"])
        lines.append(f"{m['metric']:<{width}}  {va:>10}  {vb:>10}  {_delta(m['delta']):>8}")
    for title, items in flips:
        lines += ["", f"{title} ({len(items)}, by {comparison['basis']}):"]
        lines += [f"  {i['id']}: {i['question']}" for i in items] or ["  none"]
    return "\n".join(lines)
