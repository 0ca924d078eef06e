"""Run a question set through the answer pipeline with the embedded model's replies recorded
on disk, per request: a change that acts after the model has replied (verification,
disagreement) is then scored on the very same replies, in about a minute; a request not yet
recorded goes to the model and is recorded.

    python benchmarks/replay.py data/eval/news-dev.jsonl \
        --index-dir benchmarks/out/quality/index-ours --name after
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import shelve
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag import evaluation
from rag.answer import open_engine
from rag.app.evaluate import eval_pipeline
from rag.llm import EmbeddedLLM
from rag.questions import load_questions
from rag.settings import Settings, go_offline

METRICS = (
    "accuracy",
    "correct_refusal_rate",
    "false_refusal_rate",
    "conflict_surfaced",
    "false_disagreement",
    "evidence_recall",
    "citation_precision_gold",
)


class RecordedLLM(EmbeddedLLM):
    """The embedded model, its replies kept in a shelf keyed by the whole request."""

    def __init__(self, settings: Settings, shelf: shelve.Shelf[list[str]]) -> None:
        super().__init__(settings)
        self.shelf = shelf

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        extra_body: dict[str, Any] | None = None,
        deadline: float | None = None,
    ) -> Iterator[str]:
        request = [messages, max_tokens, temperature, extra_body]
        key = hashlib.sha1(json.dumps(request, sort_keys=True).encode()).hexdigest()
        if key in self.shelf:
            yield from self.shelf[key]
            return
        pieces = []
        for piece in super().stream(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            extra_body=extra_body,
            deadline=deadline,
        ):
            pieces.append(piece)
            yield piece
        self.shelf[key] = pieces
        self.shelf.sync()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index-dir", type=Path, default=Path("index"))
    parser.add_argument("--replies", type=Path, default=Path("benchmarks/out/replies"))
    parser.add_argument("--name", default="replay")
    args = parser.parse_args()
    go_offline()
    settings = Settings(index_dir=args.index_dir)
    questions, _ = load_questions(args.questions)
    args.replies.parent.mkdir(parents=True, exist_ok=True)
    with shelve.open(str(args.replies)) as shelf:
        engine = open_engine(settings)
        engine = dataclasses.replace(engine, llm=RecordedLLM(settings, shelf))
        answer_fn, summary = eval_pipeline(engine)
        run_dir = evaluation.run_eval(
            questions, answer_fn, Path("benchmarks/out/replay"), name=args.name,
            settings_summary=summary,
        )  # fmt: skip
    metrics = json.loads((run_dir / "summary.json").read_text())["metrics"]
    print("| " + " | ".join(METRICS) + " |")
    print("|" + " --- |" * len(METRICS))
    print("| " + " | ".join(f"{metrics.get(m) or 0:.3f}" for m in METRICS) + " |")
    print(f"results: {run_dir / 'results.jsonl'}")


if __name__ == "__main__":
    main()
