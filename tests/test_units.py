"""Units: what a figure counts, and what a 'how many' question counts."""

from __future__ import annotations

from rag.answering.units import counted, unit_after


def test_the_unit_is_the_words_right_after_the_figure() -> None:
    assert unit_after("52", "the valley has 52 army bases") == {"armi", "base"}
    assert unit_after("46", "bases fell from 78 to 46, according to officials") == set()
    assert unit_after("16", "Sixteen people were murdered") == {"peopl"}
    assert unit_after("45", "it accounts for 45% of the crops") == {"percent"}


def test_what_a_question_counts() -> None:
    assert counted("How many Shining Path members were arrested?") == {"shine", "path", "member"}
    assert counted("How much ransom did they pay?") == {"ransom"}
    assert counted("Who paid the ransom?") == set()
