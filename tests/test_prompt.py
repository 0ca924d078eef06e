"""The prompt, the reply schema and reading (partial) JSON replies."""

from __future__ import annotations

from rag.answering.prompt import (
    SYSTEM_PROMPT,
    answer_schema,
    messages,
    parse_reply,
    request_body,
    stream_display,
    user_message,
)
from rag.citations import Passage


def p(n: int, article: str, text: str) -> Passage:
    return Passage(n, "c", article, f"Title {article}", "Src", "2014-03-05", "", text, 0, len(text))


def test_sentences_are_grouped_under_their_article() -> None:
    text = user_message(
        "Who won this week?",
        [p(1, "a", "One."), p(2, "a", "Two."), p(3, "b", "Three.")],
        "2026-12-02",
    )
    assert text.splitlines() == [
        "Today is 2026-12-02.",
        "Article: Title a (Src, 2014-03-05)",
        "[1] One.",
        "[2] Two.",
        "Article: Title b (Src, 2014-03-05)",
        "[3] Three.",
        "Question: Who won this week?",
    ]
    assert not user_message("Who won?", [p(1, "a", "One.")], "2026-12-02").startswith("Today")
    assert messages("Who?", [], "x")[0] == {"role": "system", "content": SYSTEM_PROMPT}


def test_schema_allows_only_shown_ids_and_fits_both_server_kinds() -> None:
    schema = answer_schema([1, 4])
    evidence = schema["properties"]["answers"]["items"]["properties"]["evidence"]
    assert evidence["items"]["enum"] == [1, 4]
    embedded = {
        "json_schema": answer_schema([1]),
        "logprobs": True,
    }  # rag.answering.confidence reads them
    assert request_body([1], embedded=True) == embedded
    remote = request_body([1], embedded=False)["response_format"]
    assert remote["type"] == "json_schema" and remote["json_schema"]["schema"] == answer_schema([1])


def test_partial_and_broken_replies() -> None:
    reply = parse_reply('{"answers": [{"answer": "36", "evidence": [1]}, {"answer": "4')
    assert [(x.answer, x.evidence) for x in reply.proposals] == [("36", [1]), ("4", [])]
    assert parse_reply("not json").proposals == [] and parse_reply("[1, 2]").sentence == ""
    odd = parse_reply('{"answers": [7, {"answer": 5}, {"answer": "x", "evidence": ["1", 2]}]}')
    assert [(x.answer, x.evidence) for x in odd.proposals] == [("x", [2])]


def test_stream_display_turns_json_into_words() -> None:
    chunks = [
        '{"answers": [{"ans',
        'wer": "36"',
        ', "evidence": [1]}], "sent',
        'ence": "Thirty-six',
        ' were taken."}',
    ]
    raw: list[str] = []
    shown = "".join(stream_display(iter(chunks), raw))
    assert shown == "36 — Thirty-six were taken."
    assert "".join(raw) == "".join(chunks)
