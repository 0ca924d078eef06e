"""Two versions' runs of one question set, scored by today's scorer, side by side.

    python benchmarks/rounds.py QUESTIONS RUN_A RUN_B [--names start,end]

A run (a `rag eval` run directory, or a quality.py result file) keeps each answer's text, so
a run made by an older version (its own index, its own code) is scored here like a new one:
`rag.metrics.score_text` reads the text and the question file's expected answers, never the
metrics the run stored. Prints each run's answer metrics and latency over the questions both
answered, then B − A with the paired 95% interval. Used for the start-and-end-of-round table
(a worktree of the round's first commit answers with its own code).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import table
from quality import ANSWER_COLS, OPEN_COLS, answer_row, paired_rows

from rag.metrics import score_text
from rag.questions import load_questions
from rag.runs import read_rows

KEYS = ("strict_accuracy", "wrong_shown", "correct_refusal_rate", "false_refusal_rate",
        "conflict_surfaced", "useful", "nugget_recall")  # fmt: skip


def scored(run: Path, questions: dict) -> list[dict]:
    """The run's rows for the set's questions, in quality.py's row shape, rescored: a `rag
    eval` run directory, or a quality.py result file (its answers by us)."""
    if run.is_file():
        rows = json.loads(run.read_text(encoding="utf-8"))["answers"]["ours"].values()
        given = [(r, r["text"], r.get("first"), r.get("total")) for r in rows]
    else:
        rows = [r for r in read_rows(run) if not r.get("error")]
        given = [(r, r.get("answer") or "", (r.get("timings") or {}).get("first_token"),
                  (r.get("timings") or {}).get("total")) for r in rows]  # fmt: skip
    out = []
    for row, text, first, total in given:
        q = questions.get(row["id"])
        if q is None:
            continue
        metrics = score_text(q, text)
        out.append({"id": q.id, "metrics": metrics, "first": first, "total": total or 0.0,
                    "replayed": row.get("replayed", False)})  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--names", default="start,end", help="what to call A and B")
    args = parser.parse_args()
    name_a, name_b = args.names.split(",")
    questions = {q.id: q for q in load_questions(args.questions)[0]}
    a, b = scored(args.run_a, questions), scored(args.run_b, questions)
    both = {r["id"] for r in a} & {r["id"] for r in b}
    a, b = [r for r in a if r["id"] in both], [r for r in b if r["id"] in both]
    cols = OPEN_COLS if all(questions[r["id"]].nuggets for r in a) else ANSWER_COLS
    headers = ["system", "n", *(label for _, label in cols), "first token p50 s", "total p50 s"]
    rows = [answer_row(name, r, cols) for name, r in ((name_a, a), (name_b, b))]
    print(f"{args.questions.name}: {len(both)} questions both runs answered")
    print(table(headers, [row[:-4] + row[-2:] for row in rows]))  # not quoted / second looks
    by_a = {r["id"]: r["metrics"] for r in a}
    by_b = {r["id"]: r["metrics"] for r in b}
    print(
        table(["pair", "metric", "n", "B − A [95%]"], paired_rows(name_a, by_a, by_b, KEYS, name_b))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
