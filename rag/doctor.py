"""`rag doctor`: is the index healthy and consistent, and are the models where they should be?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.store import Store


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> list[Check]:
    """Run every check; a failing check never stops the others."""
    from rag.indexer import open_index

    checks: list[Check] = []
    try:
        store, embedder = open_index(settings, for_queries=True)
    except RagError as err:
        return [Check("index", False, str(err))]
    checks.append(Check("embedding model", True, f"{embedder.model_id}, {embedder.dim} dims"))
    try:
        checks += _index_checks(store)
    except RagError as err:  # a damaged manifest: say so and go on to the LLM
        checks.append(Check("index", False, str(err)))
    checks.extend(_llm_checks(settings))
    return checks


def _index_checks(store: Store) -> list[Check]:
    """Pages readable, sizes, and whether manifest, keyword index and Chroma agree."""
    store.check()
    checks = []
    info = store.info()
    checks.append(
        Check(
            "index",
            info["articles"] > 0,
            f"{info['articles']} articles, {info['chunks']} chunks, {info['vectors']} vectors"
            f" in {info['chroma']}" + ("" if info["articles"] else " — run `rag index DIR`"),
        )
    )
    problems = store.problems()
    checks.append(
        Check(
            "consistency",
            not problems,
            "; ".join(problems) or "manifest, keyword index and Chroma agree",
        )
    )
    return checks


def _llm_checks(settings: Settings) -> list[Check]:
    """Ask the LLM one tiny question (under the deadline), then whether a schema is accepted."""
    from rag.embedded import EmbeddedLLM, make_llm
    from rag.llm_probe import probe

    try:
        llm = make_llm(settings)
    except RagError as err:
        return [Check("llm", False, str(err))]
    if llm is None:
        return [Check("llm", True, "none: answers are extractive quotes")]
    try:
        found = probe(llm)
    finally:
        if isinstance(llm, EmbeddedLLM):
            llm.close()
    if not found.reachable:
        return [Check("llm", False, found.detail)]
    # Refusing a schema is no failure (the free-text path still answers): ok either way.
    constrained = Check("constrained output", True, found.constrained_detail)
    return [Check("llm", True, found.detail), constrained]
