"""The citation judge: its fixed prompt, verdict parsing, and the per-pair cache."""

from __future__ import annotations

from pathlib import Path

from fake_llm import ScriptedLLM

from rag.judge import JUDGE_CACHE, Judge, judge_messages, parse_verdict
from rag.llm import ChatLLM


def test_parse_verdict() -> None:
    assert parse_verdict("Yes") and parse_verdict(" yes, it does") and parse_verdict('"Yes."')
    assert not parse_verdict("No.") and not parse_verdict("") and not parse_verdict("maybe yes")


def test_prompt_holds_premise_and_claim() -> None:
    messages = judge_messages("P text", "C text")
    assert messages[0]["role"] == "system" and "yes or no" in messages[0]["content"]
    assert "P text" in messages[1]["content"] and "C text" in messages[1]["content"]


def test_verdicts_are_cached_on_disk(tmp_path: Path) -> None:
    with ScriptedLLM(reply="yes") as server:
        judge = Judge(ChatLLM(server.base_url, "", "m", 10.0, 0))
        judge.open_cache(tmp_path)
        assert judge.entails("premise", "claim") and judge.entails("premise", "claim")
        assert len(server.requests) == 1
        (tmp_path / JUDGE_CACHE).open("a").write('{"key": "half-writ')
        fresh = Judge(ChatLLM(server.base_url, "", "m", 10.0, 0))
        fresh.open_cache(tmp_path)
        assert fresh.entails("premise", "claim") and len(server.requests) == 1
        other_model = Judge(ChatLLM(server.base_url, "", "other", 10.0, 0))
        other_model.open_cache(tmp_path)
        other_model.entails("premise", "claim")
        assert len(server.requests) == 2
