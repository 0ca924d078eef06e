"""Units: what a figure counts, and what a 'how many' question counts."""

from __future__ import annotations

from rag.units import counted, counts_other, unit_after


def test_the_unit_is_the_words_right_after_the_figure() -> None:
    assert unit_after("52", "the valley has 52 army bases") == {"armi", "base"}
    assert unit_after("46", "bases fell from 78 to 46, according to officials") == set()
    assert unit_after("16", "Sixteen people were murdered") == {"peopl"}
    assert unit_after("45", "it accounts for 45% of the crops") == {"percent"}


def test_what_a_question_counts() -> None:
    assert counted("How many Shining Path members were arrested?") == {"shine", "path", "member"}
    assert counted("How much ransom did they pay?") == {"ransom"}
    assert counted("Who paid the ransom?") == set()


def test_a_figure_of_something_else_does_not_answer() -> None:
    guerrillas = "How many Shining Path guerrillas were killed in the attacks?"
    assert counts_other(guerrillas, "30", "a group of around 30 members of the faction")
    assert counts_other("How much ransom was paid?", "six days", "freed six days later")
    assert not counts_other("How many gas workers were kidnapped?", "36", "took 36 gas workers")
    assert not counts_other("How many bases are there?", "46", "fell from 78 to 46, officials")
    assert not counts_other("How many people died?", "18", "killing 18 climbers")


def test_a_sentence_that_names_the_counted_thing_may_count_it_otherwise() -> None:
    drones = "How many drones did the ministry say were used?"
    assert not counts_other(drones, "8", "a drone attack with 8 unmanned vehicles")
    assert counts_other("How much ransom was paid?", "six days", "paid a ransom six days later")
