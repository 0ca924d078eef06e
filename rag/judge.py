"""An independent judge of citations: any OpenAI-compatible model asked, with a fixed prompt,
whether a cited text entails a claim. Never the answering call; verdicts are cached per pair.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from rag.llm import ChatLLM

JUDGE_CACHE = "judge_cache.jsonl"
JUDGE_SYSTEM = (
    "You check whether a premise supports a claim. Reply yes if the premise states or clearly "
    "implies everything the claim says, otherwise no. Reply with one word: yes or no."
)


def judge_messages(premise: str, claim: str) -> list[dict[str, str]]:
    """The fixed entailment prompt for one (premise, claim) pair."""
    user = f"Premise:\n{premise}\n\nClaim:\n{claim}\n\nDoes the premise support the claim?"
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def parse_verdict(reply: str) -> bool:
    """True when the reply starts with yes (case, quotes and punctuation ignored)."""
    return reply.strip().strip("\"'*`.").lower().startswith("yes")


class Judge:
    """Entailment verdicts from a judge model, remembered in `<run dir>/judge_cache.jsonl`."""

    def __init__(self, llm: ChatLLM) -> None:
        self.llm = llm
        self.name = llm.name
        self._cache: dict[str, bool] = {}
        self._path: Path | None = None
        self._lock = threading.Lock()

    def open_cache(self, run_dir: Path) -> None:
        """Read the verdicts a previous (killed or resumed) run already paid for."""
        self._path = Path(run_dir) / JUDGE_CACHE
        if not self._path.is_file():
            return
        for line in self._path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
                self._cache[str(item["key"])] = bool(item["entailed"])
            except (ValueError, KeyError, TypeError):
                continue  # a half-written last line from a killed run

    def _key(self, premise: str, claim: str) -> str:
        raw = "\x1f".join([self.llm.model, JUDGE_SYSTEM, premise, claim])
        return hashlib.sha256(raw.encode()).hexdigest()

    def entails(self, premise: str, claim: str) -> bool:
        """Does the premise support the claim, in the judge model's opinion?"""
        key = self._key(premise, claim)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        verdict = parse_verdict(self.llm.complete(judge_messages(premise, claim), max_tokens=4))
        with self._lock:
            self._cache[key] = verdict
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"key": key, "entailed": verdict}) + "\n")
        return verdict
