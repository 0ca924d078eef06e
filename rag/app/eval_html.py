"""HTML of the Evaluate tab: a question set's size, a run's progress with its ETA, its headline
metrics, and its self-contained report in a sandboxed frame."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from rag.app.render import esc

EVAL_HEADLINE_METRICS = (
    "accuracy",
    "f1",
    "hit@1",
    "hit@5",
    "mrr@10",
    "citation_precision",
    "citation_recall",
    "correct_refusal_rate",
    "false_refusal_rate",
)


def eval_set_html(name: str, counts: dict[str, int], errors: Sequence[str]) -> str:
    """A question set about to run: its size by type, and every malformed line with its reason."""
    total = sum(counts.values())
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    head = f"<strong>{esc(name)}</strong>: {total} question(s)" + (
        f" ({esc(kinds)})" if kinds else ""
    )
    out = f'<div class="rag-report"><div>{head}</div>'
    if errors:
        items = "".join(f"<li>{esc(e)}</li>" for e in errors)
        out += (
            f'<div class="rag-notice">{len(errors)} malformed line(s) skipped; the rest run:</div>'
            f'<ul class="rag-rejected">{items}</ul>'
        )
    return out + "</div>"


def eval_summary_html(summary: dict[str, Any]) -> str:
    """The headline of a finished run: its counts and main metrics (definitions on hover)."""
    counts = summary.get("counts", {})
    metrics = summary.get("metrics", {})
    definitions = summary.get("definitions", {})
    mode = " · retrieval only" if summary.get("retrieval_only") else ""
    cells = []
    for key in EVAL_HEADLINE_METRICS:
        value = metrics.get(key)
        if value is None:
            continue
        title = esc(definitions.get(key, ""))
        cells.append(
            f'<div class="rag-metric" title="{title}"><div class="rag-metric-value">'
            f'{value:.3f}</div><div class="rag-metric-name">{esc(key)}</div></div>'
        )
    head = (
        f"<strong>{esc(summary.get('name', ''))}</strong>{esc(mode)}: "
        f"{esc(counts.get('questions', 0))} questions · {esc(counts.get('errors', 0))} errors · "
        f"{esc(counts.get('abstained', 0))} abstained"
    )
    grid = "".join(cells) or '<div class="rag-empty">No metric applies to these questions.</div>'
    metrics_row = f'<div class="rag-metrics">{grid}</div>'
    return f'<div class="rag-eval-summary"><div>{head}</div>{metrics_row}</div>'


def report_frame(report_html: str) -> str:
    """A run's self-contained report.html shown inline in a sandboxed frame (no scripts run)."""
    return (
        '<iframe class="rag-eval-report" title="Evaluation report" sandbox'
        ' referrerpolicy="no-referrer"'
        f' srcdoc="{html.escape(report_html, quote=True)}"></iframe>'
    )


def duration(seconds: float) -> str:
    """'45 s', '3 min', '1 h 5 min'."""
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def progress_html(
    name: str, done: int, total: int, eta: float | None, state: str, note: str = ""
) -> str:
    """A run's progress bar and line: 'bundled: 3 of 66 questions · about 4 min left'."""
    if state == "running":
        left = f"about {duration(eta)} left" if eta is not None else "estimating the time left…"
        line = f"{done} of {total} questions · {left}"
    elif state == "cancelling":
        line = f"{done} of {total} questions · cancelling after the current question…"
    else:
        line = f"{done} of {total} questions"
    extra = f"<div>{esc(note)}</div>" if note else ""
    return (
        f'<div class="rag-eval-progress" data-state="{esc(state)}"><strong>{esc(name)}</strong>: '
        f'{esc(line)}<progress class="rag-progress" max="{max(total, 1)}" value="{done}">'
        f"</progress>{extra}</div>"
    )
