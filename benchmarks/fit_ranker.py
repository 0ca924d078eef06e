"""Fit the evidence-sentence ranker on gold snippets, and measure it without any model.

    python benchmarks/fit_ranker.py [--part dev] [--write]      # cross-validated, then fit
    python benchmarks/fit_ranker.py --part test --shipped       # the shipped weights, once

Candidates are the sentences `find_passages` scores for each answerable rtqa-dev question
(index: benchmarks/out/quality/index-rtqa, built by quality.py --set rtqa). A sentence is a
positive when it is one of the gold article's and holds an accepted answer. A
logistic regression (L2, numpy) over `rag.answering.ranking.FEATURES` is fitted with 5 folds grouped
by gold article; each held-out question's sentences are then picked within the same prompt
budget, and the share whose picks hold the answer is compared, paired, with today's
overlap-and-rank score. `--write` fits on the whole part and writes rag/answering/ranker.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys

import numpy as np
from common import OUT, bench_settings, fit_logistic, table
from quality import SETS

from rag.answering.evidence import pick
from rag.answering.ranking import FEATURES, WEIGHTS_FILE, features, shipped
from rag.answering.search import _header_tokens, evidence_budget, find_passages
from rag.api import open_engine
from rag.metrics import is_correct
from rag.questions import Question, load_questions, split_key, split_part
from rag.stats import paired

FOLDS = 5


def positive(article_id: str, sentence: str, q: Question) -> bool:
    """Is the sentence one of a gold article's that holds an accepted answer?"""
    return article_id in q.gold_articles and is_correct(sentence, q)


def fold_of(q: Question) -> int:
    """The question's fold: a hash of its gold article, so an article is never on both sides."""
    key = q.gold_articles[0] if q.gold_articles else q.id
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % FOLDS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["dev", "test"], default="dev")
    parser.add_argument(
        "--shipped", action="store_true", help="score rag/answering/ranker.json as it is"
    )
    parser.add_argument("--write", action="store_true", help="fit on the part, write the JSON")
    parser.add_argument("--top-k", type=int, help="chunks whose sentences are candidates")
    args = parser.parse_args()
    questions, _ = load_questions(SETS["rtqa"].questions)
    questions = [
        q
        for q in questions
        if not q.unanswerable and split_part(split_key(q)) == args.part and q.snippets
    ]
    settings = bench_settings(OUT / "quality" / "index-rtqa")
    if args.top_k:
        settings = settings.model_copy(update={"top_k": args.top_k})
    engine = open_engine(settings)
    data = []
    for q in questions:
        found = find_passages(q.question, engine, today=q.question_date or "")
        cands = found.candidates
        rows = features(cands, q.question, found.weights)
        labels = [positive(c.article.id, c.text, q) for c in cands]
        budget = evidence_budget(settings, q.question, q.question_date or "")
        data.append((q, cands, np.array(rows, dtype=float), np.array(labels, float), budget))
    engine.close()

    def holds(q: Question, cands: list, scores: list[float], budget: int) -> bool:
        ranked = [dataclasses.replace(c, score=s) for c, s in zip(cands, scores, strict=True)]
        return is_correct(" ".join(c.text for c in pick(ranked, budget, _header_tokens)), q)

    base = [holds(q, c, [x.score for x in c], b) for q, c, _, _, b in data]
    reachable = [bool(y.any()) for *_, y, _ in data]
    if args.shipped:
        ranker = shipped()
        assert ranker is not None, f"no weights in {WEIGHTS_FILE}"
        learned = [holds(q, c, ranker.scores(x), b) for q, c, x, _, b in data]
    else:
        learned = [False] * len(data)
        for k in range(FOLDS):
            train = [d for d in data if fold_of(d[0]) != k]
            model = fit_logistic(
                np.vstack([d[2] for d in train]), np.concatenate([d[3] for d in train]), FEATURES
            )
            for i, (q, c, x, _, b) in enumerate(data):
                if fold_of(q) == k:
                    learned[i] = holds(q, c, model.scores(x), b)
    n = len(data)
    how = "shipped weights" if args.shipped else f"{FOLDS}-fold CV by article"
    print(f"rtqa-dev {args.part}: {n} answerable questions with a snippet; {how}; "
          f"top_k {settings.top_k}")  # fmt: skip
    rows = [
        ["answer among candidates (ceiling)", f"{sum(reachable) / n:.3f}"],
        ["overlap + rank (today)", f"{sum(base) / n:.3f}"],
        ["learned ranker", f"{sum(learned) / n:.3f}"],
        ["learned − today (95% paired)", str(paired(base, learned))],
    ]
    print(table(["answer among the first prompt's sentences", "share"], rows))
    if args.write:
        model = fit_logistic(
            np.vstack([d[2] for d in data]), np.concatenate([d[3] for d in data]), FEATURES
        )
        positives = int(sum(d[3].sum() for d in data))
        out = model.to_dict() | {
            "fitted_on": f"rtqa-dev {args.part}, {n} questions, {positives} positive sentences",
            "measured": {"today": round(sum(base) / n, 3), "learned": round(sum(learned) / n, 3)},
        }
        WEIGHTS_FILE.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        coef = sorted(zip(FEATURES, model.coef, strict=True), key=lambda t: -abs(t[1]))
        print("weights:", ", ".join(f"{f} {w:+.2f}" for f, w in coef), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
