"""Cited points: kept when their sentences hold them, else left out; quotes when none hold."""

from __future__ import annotations

from rag.answering.points import check_point, decide_points, speaking
from rag.answering.verify import Proposal
from rag.citations import Passage

VALLEY = "The VRAEM is the valley of the Apurimac, Ene and Mantaro rivers in southern Peru."
COCA = "About 60 percent of the coca grown in Peru comes from the VRAEM, officials say."
REBELS = "Remnants of the Shining Path protect drug traffickers in the valley."
BUDGET = "The city council approved a new budget for its parks on Tuesday."


def _p(n: int, text: str, article: str = "a") -> Passage:
    return Passage(n, f"{article}#{n}", article, "Peru's valley", "s", "2020", "u", text, 0, 1)


SHOWN = [_p(1, VALLEY), _p(2, COCA), _p(3, REBELS, "b"), _p(4, BUDGET, "c")]
WEIGHTS = {"vraem": 3.0}


def test_a_point_its_sentences_hold_is_kept_with_its_citation() -> None:
    point = check_point(Proposal("The VRAEM is a valley of three rivers in Peru.", [1]), SHOWN, "")
    assert point.supported and point.citations == [1]


def test_a_point_may_join_two_sentences_it_cites() -> None:
    joined = "The VRAEM, on the Apurimac, Ene and Mantaro rivers, grows 60 percent of Peru's coca."
    assert check_point(Proposal(joined, [1, 2]), SHOWN, "").supported
    assert not check_point(Proposal(joined, [1]), SHOWN, "").supported


def test_a_figure_or_name_not_in_the_cited_sentences_is_left_out() -> None:
    made_up = check_point(Proposal("About 70 percent of Peru's coca comes from the VRAEM.", [2]),
                          SHOWN, "")  # fmt: skip
    assert not made_up.supported and "70" in made_up.reason
    other = check_point(Proposal("Colombian rebels protect traffickers in the valley.", [3]),
                        SHOWN, "")  # fmt: skip
    assert not other.supported


def test_decide_keeps_supported_points_and_drops_repeats() -> None:
    points = [
        Proposal("The VRAEM is the valley of the Apurimac, Ene and Mantaro rivers.", [1]),
        Proposal("The VRAEM is the valley of the Apurimac, Ene and Mantaro rivers.", [1]),
        Proposal("About 60 percent of Peru's coca comes from the VRAEM.", [2]),
        Proposal("The VRAEM has 12 airports.", [2]),
    ]
    verdict = decide_points("What is the VRAEM?", points, SHOWN, WEIGHTS)
    assert [s.citations for s in verdict.sentences] == [[1], [2]]
    reasons = [s.reason for s in verdict.left_out]
    assert reasons[0] == "it repeats an earlier point" and "12" in reasons[1]


def test_points_about_something_else_are_not_an_answer() -> None:
    verdict = decide_points(
        "What is the VRAEM?", [Proposal("The council approved a parks budget.", [4])], SHOWN,
        WEIGHTS,
    )  # fmt: skip
    assert verdict.abstained and verdict.left_out


def test_speaking_sentences_carry_the_question_terms() -> None:
    quoted = speaking("What is the VRAEM?", SHOWN, WEIGHTS)
    assert {p.n for p in quoted} == {1, 2} and len(quoted) <= 3
    assert speaking("Who won the chess final?", SHOWN, {}) == []
