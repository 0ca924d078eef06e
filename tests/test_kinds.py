"""Question kinds: told from the wording, so quiz questions keep the answer-phrase path."""

from __future__ import annotations

import pytest

from rag.answering.kinds import clip_question, question_kind, wants_points


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What is the VRAEM?", "definition"),
        ("Who is Gabriel?", "definition"),
        ("What are sanctuary cities?", "definition"),
        ("Why did the army close the border crossing?", "explanation"),
        ("How does the cartel move its money?", "explanation"),
        ("What caused the blackout?", "explanation"),
        ("What happened at the stadium on Sunday?", "event"),
        ("Summarize what these articles say about the strike.", "summary"),
        ("Tell me about the new vaccine.", "summary"),
        ("How has rice production changed since 2010?", "comparison"),
        ("What are the differences between the two plans?", "comparison"),
        ("What are the main reasons for the delay?", "list"),
        ("Which countries were hit by the storm?", "list"),
    ],
)
def test_open_questions_get_points(question: str, kind: str) -> None:
    assert question_kind(question) == kind
    assert wants_points(question)


@pytest.mark.parametrize(
    "question",
    [
        "How many workers were kidnapped?",
        "How long did the siege last?",
        "Who is the president of the club?",
        "What is the name of the ship?",
        "What was the final score?",
        "Which company bought the chain in 2021?",
        "When was the bridge opened?",
        "The team played versus the champions; who scored first?",
    ],
)
def test_quiz_facts_keep_the_answer_phrase(question: str) -> None:
    assert question_kind(question) == "factoid"
    assert not wants_points(question)


def test_clip_question_keeps_short_questions_and_cuts_at_a_sentence_end() -> None:
    assert clip_question("How many?", 1000) == "How many?"
    long = "How many workers were kidnapped? " + "More words here. " * 100
    assert clip_question(long, 60) == "How many workers were kidnapped? More words here."
    assert clip_question("x" * 50, 20) == "x" * 20
