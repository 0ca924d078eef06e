"""Calibrate the abstention threshold: best passage similarity for answerable vs unanswerable
questions of a question set, and what each threshold would refuse.

    python benchmarks/calibrate.py [--questions data/eval/seed.jsonl] [--articles data/articles]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rag.answering.engine import Engine
from rag.answering.search import find_passages
from rag.indexer import index_paths, open_index
from rag.questions import load_questions
from rag.settings import Settings, go_offline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, default=Path("data/eval/seed.jsonl"))
    parser.add_argument("--articles", type=Path, default=Path("data/articles"))
    parser.add_argument("--keep", type=float, default=0.97, help="answerable share to keep")
    args = parser.parse_args()
    go_offline()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp), llm_backend="none")
        store, embedder = open_index(settings, for_queries=True)
        index_paths([args.articles], store, embedder, settings)
        engine = Engine(settings, store, embedder, None)
        questions, _ = load_questions(args.questions)
        scored = []
        for q in questions:
            found = find_passages(q.question, engine)
            best = max((p.similarity for p in found.retrieved), default=0.0)
            scored.append((best, q.unanswerable))
    answerable = sorted(s for s, u in scored if not u)
    unanswerable = sorted(s for s, u in scored if u)
    print(
        f"{len(answerable)} answerable: best similarity min {answerable[0]:.3f}, "
        f"median {answerable[len(answerable) // 2]:.3f}"
    )
    print(
        f"{len(unanswerable)} unanswerable: best similarity min {unanswerable[0]:.3f}, "
        f"max {unanswerable[-1]:.3f}\n"
    )
    print("| threshold | answerable kept | unanswerable refused |")
    print("|---:|---:|---:|")
    for t in [x / 100 for x in range(10, 60, 5)]:
        kept = sum(s >= t for s in answerable) / len(answerable)
        refused = sum(s < t for s in unanswerable) / len(unanswerable)
        print(f"| {t:.2f} | {kept:.0%} | {refused:.0%} |")
    cut = int(len(answerable) * (1 - args.keep))
    print(
        f"\nhighest threshold keeping {args.keep:.0%} of answerable questions: "
        f"{answerable[cut] - 0.005:.2f}"
    )


if __name__ == "__main__":
    main()
