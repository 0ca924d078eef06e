"""An answer phrase said as a sentence, dated when the question is about time."""

from __future__ import annotations

from test_citations import passage

from rag.answering.compose import answer_from_verdict
from rag.answering.phrasing import phrased
from rag.answering.verify import Verdict
from rag.citations import Passage, Sentence
from rag.metrics import strict_correct
from rag.questions import Question

GAS = passage(
    3,
    "The initiative follows the kidnapping of 36 natural gas workers earlier this month in the "
    "province of La Convencion, in Cusco region.",
)
FREED = Passage(
    2, "b:0", "b", "Workers freed", "Wire", "2012-04-14", "", "The workers were freed on "
    "Tuesday after six days in captivity, police said.", 0, 80,
)  # fmt: skip
LONG = passage(
    4,
    "After a week of talks between the mayors of the two towns and the regional government, "
    "officials agreed that the ferry, which carries 300 passengers, would sail again on Monday, "
    "while the bridge stays closed to cars until the repairs end next spring.",
)


def _answer(question: str, phrase: str, cited: Passage) -> str:
    listed = Sentence(f"{phrase} [{cited.n}].", [cited.n], phrase=phrase)
    return answer_from_verdict(question, question, Verdict([listed], []), [cited]).text


def test_a_bare_figure_is_said_as_a_sentence_that_still_scores() -> None:
    question = "How many natural gas workers were kidnapped?"
    text = _answer(question, "36", GAS)
    assert text == "36 natural gas workers were kidnapped [3]."
    # the scorer strips the markers and finds the accepted answer
    assert strict_correct(Question("q", question, answers=["36"]), text, abstained=False)


def test_a_when_answer_is_the_cited_sentence_with_its_articles_date() -> None:
    text = _answer("When were the workers freed?", "Tuesday", FREED)
    assert text == (
        "The workers were freed on Tuesday after six days in captivity, police said"
        " (reported 14 April 2012) [2]."
    )


def test_a_long_sentence_is_cut_to_the_clause_holding_the_answer() -> None:
    text = _answer("What sails again on Monday?", "the ferry", LONG)
    assert text == (
        "…officials agreed that the ferry, which carries 300 passengers, would sail again on"
        " Monday (reported 1 January 2020) [4]."  # "on Monday" counts time from the question
    )


def test_no_sentence_is_built_from_wording_that_reads_as_a_refusal() -> None:
    said = passage(5, "Police did not say whether 12 people were hurt.")
    assert phrased("Which figure did police give?", "12", [said]) == ""
    assert _answer("Which figure did police give?", "12", said) == "12 [5]."


def test_a_statement_from_the_question_only_says_what_its_citation_says() -> None:
    killed = passage(5, "Two soldiers were also killed when rebels ambushed the patrol.")
    text = _answer("How many soldiers were sent to the valley?", "Two", killed)
    assert text == "Two soldiers were also killed when rebels ambushed the patrol [5]."
