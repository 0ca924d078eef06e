"""Does each answer rule earn its place? Switch one off at a time, on questions it did not
come from, and compare with everything on (paired 95% bootstrap).

    python benchmarks/ablate.py [--set rtqa] [--part dev] [--limit 80] [--only NAME,…]

Runs through quality.py's recorded model replies (`--replies`), so a rule that acts after the
model replied is scored on the very same replies; a variant that changes what the model is
asked (the second look, the early abstention) sends new requests, which are recorded too.
A threshold is switched off through the run's `Tuning` (rag/tuning.py); a rule that is a
function by replacing the module attribute it lives in, for this process only.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from common import OUT, bench_settings, recorded, table
from quality import SETS, WORK, ours, pick

from rag.answering import answer, verify
from rag.answering.engine import Engine
from rag.api import open_engine
from rag.questions import load_questions, split_key, split_part
from rag.stats import paired

KEYS = ("strict_accuracy", "wrong_shown", "false_refusal_rate", "correct_refusal_rate")


def _no_second_look(question, query, raws, engine, found, *rest):  # noqa: ANN001, ANN202
    """The first verdict as it is: nothing more is read when it answers nothing."""
    later = [p for part in found.second for p in part]
    unread = [*later, *found.spare]
    verdict = answer._verdict(query, raws, found.passages, found, unread, engine.settings.tuning)
    return answer.answer_from_verdict(question, query, verdict, found.passages)
    yield  # a generator, like the function it stands in for


RULES: dict[str, tuple[str, object, object]] = {
    "repeats the question": ("echoes_question", verify, lambda q, p: False),
    "kind of answer (number, time, person)": ("answer_kind_ok", verify, lambda q, p: True),
    "key-term coverage 0.45 (all coverage gates)": ("coverage", verify, lambda *a: 1.0),
    "rival values from other articles": ("rivals", verify, lambda *a, **k: []),
    "model's sentence shown when it checks": ("claim_ok", verify, lambda *a: "off"),
    "second look": ("_verify_or_read_on", answer, _no_second_look),
}
TUNED: dict[str, dict[str, float]] = {  # rules that are a number: the run's Tuning changes
    "sentence coverage 0.15": {"sentence_coverage": 0.0},
}


@contextlib.contextmanager
def switched_off(name: str, engine: Engine) -> Iterator[None]:
    """Switch rule `name` off for the duration: its Tuning field for this engine, or the
    module attribute the rule lives in."""
    if name in TUNED:
        saved_settings = engine.settings
        tuning = dataclasses.replace(saved_settings.tuning, **TUNED[name])
        engine.settings = saved_settings.model_copy(update={"tuning": tuning})
        try:
            yield
        finally:
            engine.settings = saved_settings
        return
    attr, module, value = RULES[name]
    saved = getattr(module, attr)
    setattr(module, attr, value)
    try:
        yield
    finally:
        setattr(module, attr, saved)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=["rtqa", "short"], default="rtqa")
    parser.add_argument("--part", choices=["dev", "test"], default="dev")
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("--only", help="comma-separated rule names (default: all)")
    parser.add_argument("--replies", type=Path, default=OUT / "replies-quality")
    args = parser.parse_args()
    spec = SETS[args.set]
    questions = [
        q for q in load_questions(spec.questions)[0] if split_part(split_key(q)) == args.part
    ]
    todo = pick(questions, args.limit)
    index = "index-rtqa" if args.set == "rtqa" else "index-mini"
    engine = recorded(open_engine(bench_settings(WORK / index, llm_backend="embedded")),
                      args.replies)  # fmt: skip
    run: Callable[[], dict[str, dict]] = lambda: {q.id: ours(engine, q)["metrics"] for q in todo}  # noqa: E731
    base = run()
    rows = []
    names = args.only.split(",") if args.only else [*RULES, *TUNED]
    for name in names:
        before, started = engine.llm.recorded, time.perf_counter()
        with switched_off(name, engine):
            got = run()
        asked = engine.llm.recorded - before
        cells = []
        for key in KEYS:
            ids = [i for i in base if base[i].get(key) is not None]
            cells.append(str(paired([base[i][key] for i in ids], [got[i][key] for i in ids])))
        rows.append([name, *cells, f"{time.perf_counter() - started:.0f} s, {asked} new requests"])
        print(f"{name}: done", file=sys.stderr)
    engine.close()
    print(f"{args.set} {args.part}, {len(todo)} questions: rule off − all rules on")
    print(table(["rule switched off", *KEYS, "cost"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
