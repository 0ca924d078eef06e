"""How often the expected answer is among the sentences the model reads, with no model at all.

    python benchmarks/evidence.py [--set rtqa|news|short] [--part dev|test|all]
        [--budgets 450,530] [--save run.json] [--compare earlier.json]

For each prompt budget (`prompt_tokens`) and each answerable question: is an acceptable answer
(and every `answer_all` fact) in the evidence sentences of the first prompt, and in those plus
the next best sentences a second look reads? A two-part question counts its parts' sentences
together. The model cannot answer right from sentences that do not hold the answer, so this is
the ceiling of its accuracy, measured without it. The index is the one quality.py builds for
the set. `--compare` prints the paired difference against a run saved with `--save`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from common import OUT, bench_settings, table
from quality import SETS

from rag.answering.followup import condense
from rag.answering.search import find_passages
from rag.api import open_engine
from rag.citations import Passage
from rag.metrics import is_correct
from rag.questions import Question, load_questions, split_key, split_part
from rag.stats import paired

INDEX = {"rtqa": "index-rtqa", "news": "index-ours", "short": "index-mini"}


def holds(sentences: list[Passage], q: Question) -> bool:
    """Do the sentences hold an acceptable answer and every fact of `answer_all`?"""
    return is_correct(" ".join(p.text for p in sentences), q)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=["rtqa", "news", "short"], default="rtqa")
    parser.add_argument("--part", choices=["dev", "test", "all"], default="dev")
    parser.add_argument("--budgets", default="450")
    parser.add_argument("--save", type=Path, help="write per-question results here")
    parser.add_argument("--compare", type=Path, help="a run saved earlier: paired difference")
    args = parser.parse_args()
    spec = SETS[args.set]
    questions = [q for q in load_questions(spec.questions)[0] if not q.unanswerable]
    if spec.split and args.part != "all":
        questions = [q for q in questions if split_part(split_key(q)) == args.part]
    rows, saved = [], {}
    for budget in [int(b) for b in args.budgets.split(",")]:
        settings = bench_settings(OUT / "quality" / INDEX[args.set], prompt_tokens=budget)
        engine = open_engine(settings)
        first: dict[str, list[bool]] = defaultdict(list)
        both: dict[str, list[bool]] = defaultdict(list)
        started = time.perf_counter()
        for q in questions:
            query = condense(q.question, q.history)
            found = find_passages(query, engine, today=q.question_date or "")
            later = [p for part in found.second for p in part]
            got = holds(found.passages, q), holds(found.passages + later, q)
            saved[f"{budget}:{q.id}"] = got
            for kind in (q.type, "all"):
                first[kind].append(got[0])
                both[kind].append(got[1])
        engine.close()
        seconds = time.perf_counter() - started
        for kind in sorted(first, key=lambda k: (k == "all", k)):
            n, took = len(first[kind]), f"{seconds:.0f}" if kind == "all" else ""
            shares = [f"{sum(got[kind]) / n:.3f}" for got in (first, both)]
            rows.append([budget, kind, n, *shares, took])
    print(f"{args.set} {args.part}: answer among the sentences read (answerable questions)")
    print(table(["prompt tokens", "type", "n", "first prompt", "+ second look", "s"], rows))
    if args.save:
        args.save.write_text(json.dumps(saved))
    if args.compare:
        before = json.loads(args.compare.read_text())
        keys = [k for k in saved if k in before]
        for i, label in enumerate(("first prompt", "+ second look")):
            diff = paired([before[k][i] for k in keys], [saved[k][i] for k in keys])
            print(f"{label}, now − {args.compare.name}: {diff}")


if __name__ == "__main__":
    main()
