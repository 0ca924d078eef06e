"""How often the expected answer is among the sentences the model reads, with no model at all.

    python benchmarks/evidence.py [--questions data/eval/news-dev.jsonl]
        [--index-dir benchmarks/out/quality/index-ours] [--budgets 450,530]

For each prompt budget (`prompt_tokens`) and each answerable question: is an acceptable answer
(and every `answer_all` fact) in the evidence sentences of the first prompt, and in those plus
the next best sentences a second look reads? A two-part question counts its parts' sentences
together. The model cannot answer right from sentences that do not hold the answer, so this is
the ceiling of its accuracy, measured without it.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

from common import OUT, ROOT, bench_settings, table

from rag.answer import open_engine
from rag.chat import condense
from rag.citations import Passage
from rag.metrics import is_correct
from rag.questions import Question, load_questions
from rag.search import find_passages


def holds(sentences: list[Passage], q: Question) -> bool:
    """Do the sentences hold an acceptable answer and every fact of `answer_all`?"""
    return is_correct(" ".join(p.text for p in sentences), q)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=ROOT / "data/eval/news-dev.jsonl")
    parser.add_argument("--index-dir", type=Path, default=OUT / "quality" / "index-ours")
    parser.add_argument("--budgets", default="450,530")
    args = parser.parse_args()
    questions = [q for q in load_questions(args.questions)[0] if not q.unanswerable]
    rows = []
    for budget in [int(b) for b in args.budgets.split(",")]:
        settings = bench_settings(args.index_dir, prompt_tokens=budget)
        engine = open_engine(settings)
        first: dict[str, list[bool]] = defaultdict(list)
        both: dict[str, list[bool]] = defaultdict(list)
        started = time.perf_counter()
        for q in questions:
            query = condense(q.question, q.history)
            found = find_passages(query, engine, today=q.question_date or "")
            for kind in (q.type, "all"):
                first[kind].append(holds(found.passages, q))
                later = [p for part in found.second for p in part]
                both[kind].append(holds(found.passages + later, q))
        engine.close()
        seconds = time.perf_counter() - started
        for kind in sorted(first, key=lambda k: (k == "all", k)):
            n, took = len(first[kind]), f"{seconds:.0f}" if kind == "all" else ""
            shares = [f"{sum(got[kind]) / n:.3f}" for got in (first, both)]
            rows.append([budget, kind, n, *shares, took])
    print(f"{args.questions.name}: answer among the sentences read (answerable questions)")
    print(table(["prompt tokens", "type", "n", "first prompt", "+ second look", "s"], rows))


if __name__ == "__main__":
    main()
