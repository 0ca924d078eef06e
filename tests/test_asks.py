"""What a question asks for: pure functions over question and phrase text."""

from __future__ import annotations

from rag.answering.asks import answer_kind_ok, asking_clause, kind


def test_number_words_beyond_twelve_answer_how_many() -> None:
    assert answer_kind_ok("How many people were murdered?", "Sixteen")
    assert answer_kind_ok("How many troops?", "forty thousand")
    assert not answer_kind_ok("How many people were murdered?", "the villagers")


def test_answer_kinds() -> None:
    assert answer_kind_ok("How many workers were kidnapped?", "36")
    assert answer_kind_ok("How many workers were kidnapped?", "thirty-six")
    assert not answer_kind_ok("How many workers were kidnapped?", "Camisea companies")
    assert answer_kind_ok("When were they freed?", "six days later")
    assert not answer_kind_ok("When were they freed?", "in La Convencion")
    assert answer_kind_ok("Who claimed it?", "Martin Quispe Palomino")
    assert not answer_kind_ok("Who claimed it?", "the kidnapping")
    assert answer_kind_ok("Which province?", "anything goes")


def test_a_lead_in_clause_does_not_set_the_kind_of_answer() -> None:
    question = "When Mike Leach died in 2022, to which city's hospital was he airlifted?"
    assert asking_clause(question) == "to which city's hospital was he airlifted?"
    assert answer_kind_ok(question, "Jackson")  # not a date: the question asks where
    assert not answer_kind_ok("In the May 2021 collapse, how many were hurt?", "the riders")
    assert (
        asking_clause("What did Smith say, which was odd?") == "What did Smith say, which was odd?"
    )


def test_the_kind_of_answer_asked_for() -> None:
    assert kind("How many soldiers died?") == "number" and kind("Who led it?") == "who"
    assert kind("What year did it open?") == "when" and kind("Where is it?") == ""
    assert kind("In what year did it open?") == "when" and kind("By how much?") == "number"
    assert not answer_kind_ok("On what date was it signed?", "in the capital")


def test_a_leading_preposition_or_about_keeps_the_kind() -> None:
    assert kind("For how many years did he serve?") == "number"
    assert kind("For about how long was he held?") == "number"
    assert kind("At about what time did it start?") == "when"
    assert kind("In which year did it open?") == "when"
    assert kind("What time zone is it in?") == ""
    assert asking_clause("When Leach died, for about how long was he ill?") == (
        "for about how long was he ill?"
    )
