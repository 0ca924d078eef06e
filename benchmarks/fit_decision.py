"""Fit the answer-or-abstain decision on a quality run's answers, and choose its operating point.

    python benchmarks/fit_decision.py RUN.json [--wrong-cost 1.0] [--max-wrong 0.05] [--write]

RUN.json is `benchmarks/quality.py --set rtqa --part dev` output made with the decision off
(`RAG_FITTED_DECISION=0`, or no rag/answering/decision.json): every shown answer phrase carries
its `rag.answering.confidence.FEATURES` and the scorer's verdict (strict accuracy). A logistic
regression is fitted with 5 folds grouped by quiz week; each held-out answer gets its
probability from a model that never saw its week. Every threshold is then replayed over all the
run's questions: an answer below it becomes a refusal, right for an unanswerable question and
wrong otherwise. `--only a,b` fits on those signals of the run instead.

The operating point is not tuned: an answer is shown when its probability of being right is at
least cost / (1 + cost), where --wrong-cost is what one wrong answer shown costs in right
answers (1: a wrong answer undoes a right one, so show when more likely right than wrong). The
table also marks the lowest threshold whose wrong-shown rate is at most --max-wrong.
`--write` fits on all answers and writes rag/answering/decision.json with that threshold.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from common import fit_logistic, table

from rag.answering.confidence import FEATURES, WEIGHTS_FILE
from rag.stats import paired

FOLDS = 5


def fold_of(question_id: str) -> int:
    """The question's fold: a hash of its quiz week (the id's first part)."""
    return int(hashlib.sha256(question_id.split("_")[0].encode()).hexdigest(), 16) % FOLDS


def outcome(m: dict, shown: bool) -> tuple[bool, bool, bool | None]:
    """(strict right, wrong shown, false refusal) of a question whose answer is shown or not;
    `m` is its metrics with the answer shown."""
    if shown:
        return bool(m["strict_accuracy"]), bool(m["wrong_shown"]), m["false_refusal_rate"]
    unanswerable = m["correct_refusal_rate"] is not None
    return unanswerable, False, None if unanswerable else True


def replay(rows: list[dict], probs: dict[str, float], threshold: float) -> dict[str, list]:
    """Per-question strict / wrong-shown / false-refusal lists when answers below `threshold`
    become refusals."""
    out: dict[str, list] = {"strict": [], "wrong": [], "false_refusal": []}
    for r in rows:
        keep = r["id"] not in probs or probs[r["id"]] >= threshold
        strict, wrong, false_refusal = outcome(r["metrics"], keep)
        out["strict"].append(strict)
        out["wrong"].append(wrong)
        if false_refusal is not None:
            out["false_refusal"].append(false_refusal)
    return out


def rate(values: list) -> float:
    return sum(values) / len(values) if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--max-wrong", type=float, default=0.05)
    parser.add_argument("--wrong-cost", type=float, default=1.0)
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--only", default="", help="comma-separated features to fit on (default: all)"
    )
    args = parser.parse_args()
    names = tuple(args.only.split(",")) if args.only else FEATURES
    rows = list(json.loads(args.run.read_text())["answers"]["ours"].values())
    # answers the decision reads: with log-probabilities, not a disagreement (shown as it is)
    gated = [
        r
        for r in rows
        if r.get("signals")
        and r["signals"].get("has_logprobs", 1.0)
        and not r["signals"].get("disagreement")
        and all(n in r["signals"] for n in names)
    ]
    x = np.array([[r["signals"][f] for f in names] for r in gated], dtype=float)
    y = np.array([float(r["metrics"]["strict_accuracy"]) for r in gated])
    folds = np.array([fold_of(r["id"]) for r in gated])
    cv = np.zeros(len(gated))
    for k in range(FOLDS):
        model = fit_logistic(x[folds != k], y[folds != k], names)
        cv[folds == k] = model.scores(x[folds == k])
    probs = {r["id"]: float(p) for r, p in zip(gated, cv, strict=True)}
    print(f"{args.run.name}: {len(rows)} questions, {len(gated)} answer phrases scored, "
          f"{int(y.sum())} right; 5-fold CV by quiz week")  # fmt: skip
    auc = float(np.mean([cv[i] > cv[j] for i in np.flatnonzero(y) for j in np.flatnonzero(1 - y)]))
    print(f"ranking quality (AUC, right above wrong): {auc:.3f}")
    chosen = round(args.wrong_cost / (1 + args.wrong_cost), 2)
    steps = [round(float(t), 2) for t in np.arange(0, 1, 0.01)]
    wrong_at = {t: rate(replay(rows, probs, t)["wrong"]) for t in steps}
    capped = next((t for t in steps if wrong_at[t] <= args.max_wrong), None)
    lines = []
    for t in sorted({0.0, 0.25, 0.75, 0.9, chosen, *([capped] if capped is not None else [])}):
        got = replay(rows, probs, t)
        mark = " (chosen)" if t == chosen else ""
        mark += f" (wrong <= {args.max_wrong})" if t == capped else ""
        strict, wrong = rate(got["strict"]), rate(got["wrong"])
        lines.append([f"{t:.2f}{mark}", strict, wrong, rate(got["false_refusal"]), strict - wrong])
    print(table(["threshold", "strict", "wrong shown", "false refusals", "strict - wrong"], lines))
    base, got = replay(rows, probs, 0.0), replay(rows, probs, chosen)
    print(f"operating point {chosen:.2f} (wrong cost {args.wrong_cost:g}) against no decision:")
    print(f"  strict {paired(base['strict'], got['strict'])}")
    print(f"  wrong shown {paired(base['wrong'], got['wrong'])}")
    print(f"  false refusals {paired(base['false_refusal'], got['false_refusal'])}")
    if args.write:
        if names != FEATURES:
            raise SystemExit(
                "--write ships rag.answering.confidence.FEATURES only: add a feature there first"
            )
        model = fit_logistic(x, y, FEATURES)
        data = model.to_dict() | {
            "threshold": chosen,
            "fitted_on": f"{args.run.name}: {len(gated)} answer phrases, {int(y.sum())} right",
            "cv": {
                "auc": round(auc, 3),
                "strict": rate(got["strict"]),
                "wrong_shown": rate(got["wrong"]),
            },  # fmt: skip
        }
        WEIGHTS_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
