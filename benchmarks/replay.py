"""Run a question set through the answer pipeline with the embedded model's replies recorded
on disk, per request (keyed by the model file's hash, the server settings and the request):
a change that acts after the model has replied (verification, disagreement) is then scored on
the very same replies, in about a minute; a request not yet recorded goes to the model and is
recorded. Prints how many replies were replayed.

    python benchmarks/replay.py data/eval/news-dev.jsonl \
        --index-dir benchmarks/out/quality/index-ours --name after
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common import OUT, recorded

from rag import evaluation
from rag.api import open_engine
from rag.app.evaluate import eval_pipeline
from rag.questions import load_questions, split_key, split_part
from rag.settings import Settings, go_offline

METRICS = (
    "accuracy",
    "strict_accuracy",
    "wrong_shown",
    "correct_refusal_rate",
    "false_refusal_rate",
    "conflict_surfaced",
    "false_disagreement",
    "evidence_recall",
    "citation_precision_gold",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index-dir", type=Path, default=Path("index"))
    parser.add_argument("--replies", type=Path, default=OUT / "replies")
    parser.add_argument("--part", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--name", default="replay")
    args = parser.parse_args()
    go_offline()
    settings = Settings(index_dir=args.index_dir)
    questions, _ = load_questions(args.questions)
    if args.part != "all":
        questions = [q for q in questions if split_part(split_key(q)) == args.part]
    engine = recorded(open_engine(settings), args.replies)
    answer_fn, summary = eval_pipeline(engine)
    run_dir = evaluation.run_eval(
        questions, answer_fn, OUT / "replay", name=args.name, settings_summary=summary
    )
    metrics = json.loads((run_dir / "summary.json").read_text())["metrics"]
    print("| " + " | ".join(METRICS) + " |")
    print("|" + " --- |" * len(METRICS))
    print("| " + " | ".join(f"{metrics.get(m) or 0:.3f}" for m in METRICS) + " |")
    print(f"{getattr(engine.llm, 'replayed', 0)} model replies replayed; results: "
          f"{run_dir / 'results.jsonl'}")  # fmt: skip
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
