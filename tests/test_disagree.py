"""Disagreement: another article's different figure or name for the one thing asked."""

from __future__ import annotations

from rag.answering.disagree import figure_rival, name_rival, rivals, same_value
from rag.answering.verify import Proposal, decide
from rag.citations import Passage

WEIGHTS = {"": 0.0}


def sentence(n: int, text: str, article: str) -> Passage:
    return Passage(n, f"{article}:0", article, f"{article} title", "src", "2020", "", text,
                   0, len(text))  # fmt: skip


def test_same_value() -> None:
    assert same_value("36", "36 workers") and same_value("Six", "6")
    assert not same_value("52", "46")


def test_a_figure_with_the_same_unit_is_a_rival() -> None:
    lives = "How many lives did the conflict claim?"
    assert figure_rival("70,000", "took some 70,000 lives", "claimed 69,000 lives", lives) == (
        "69,000 lives"
    )
    crops = "What share of coca crops is in the valley?"
    other = "It covers some 28,000 hectares and accounts for 45% of coca agriculture."
    assert figure_rival("70 percent", "nearly 70 percent of crops", other, crops) == "45%"
    bases = "How many bases are there?"
    assert figure_rival("52", "has 52 bases", "bases fell from 78 to 46", bases) == (
        "from 78 to 46"
    )


def test_a_lone_figure_is_a_rival_but_the_questions_own_figures_and_years_are_not() -> None:
    quake = "How many people died on Everest after the magnitude-7.8 quake in 2015?"
    alone = "At least 18 were killed on Everest, where the 7.8 quake hit in 2015."
    assert figure_rival("10", "killing at least 10 people", alone, quake) == "18"
    assert figure_rival("10", "killing 10 people", "In 2015 the 7.8 quake hit.", quake) == ""
    many = "It killed 3 guides and 12 climbers."
    assert figure_rival("10", "killing at least 10 people", many, quake) == ""


def test_the_same_figure_elsewhere_is_no_rival() -> None:
    q = "How many bases are there?"
    assert figure_rival("52", "has 52 bases", "Of the 52 bases, 46 are new.", q) == ""


def test_a_name_spelled_otherwise_is_a_rival() -> None:
    assert name_rival("Abbas Araghchi", "Foreign Minister Abbas Araqchi said.") == "Abbas Araqchi"
    assert name_rival("Martin Quispe Palomino", "a leader, Marco Quispe Palomino, alias") == (
        "Marco Quispe Palomino"
    )
    assert name_rival("Martin Quispe Palomino", "Martin Quispe Palomino, alias Gabriel") == ""
    assert name_rival("Ollanta Humala", "President Ollanta Humala and Lima") == ""
    assert name_rival("Ollanta Humala", "Carmen Masias of Devida said") == ""


def test_a_value_the_answers_own_article_also_states_is_no_disagreement() -> None:
    shown = [
        sentence(1, "Jorge Quispe Palomino died; Víctor Quispe Palomino leads.", "a"),
        sentence(2, "Jorge Quispe Palomino leads the rebels, police said.", "b"),
    ]
    texts = {p.article_id: p.text for p in shown}
    assert rivals("Víctor Quispe Palomino", [1], "Who leads?", shown, texts) == []
    texts["a"] = "Víctor Quispe Palomino leads."
    assert rivals("Víctor Quispe Palomino", [1], "Who leads?", shown, texts) == [
        ("Jorge Quispe Palomino", 2)
    ]


def test_one_proposal_with_a_rival_in_another_article_is_a_disagreement() -> None:
    shown = [
        sentence(1, "The valley has 52 army bases, officials said.", "a"),
        sentence(2, "Army bases in the valley fell from 78 to 46.", "b"),
        sentence(3, "The valley grows coca on 28,000 hectares.", "c"),
    ]
    texts = {p.article_id: p.text for p in shown}
    q = "How many army bases are in the valley?"
    verdict = decide(q, [Proposal("52", [1])], "", shown, WEIGHTS, texts=texts)
    assert verdict.disagreement
    assert verdict.sentences[0].text == "Sources disagree: 52 [1]; from 78 to 46 [2]."
    alone = decide(q, [Proposal("52", [1])], "", shown, WEIGHTS)
    assert not alone.disagreement
    two_part = "How many army bases are in the valley, and how many troops?"
    assert not decide(two_part, [Proposal("52", [1])], "", shown, WEIGHTS, texts=texts).disagreement


def test_a_far_figure_is_another_measure_not_a_rival() -> None:
    q = "How high does the volcano rise above sea level?"
    other = "It has an elevation above the sea floor of about 33,500 feet."
    assert figure_rival("13,679 feet", "rises 13,679 feet", other, q) == ""
    assert figure_rival("13,679 feet", "rises 13,679 feet", "It rises 13,681 feet.", q) == (
        "13,681 feet"
    )


def test_in_18_of_the_80_people_the_18_counts_people_and_80_is_no_rival() -> None:
    shown = [
        sentence(1, "The jet flipped, injuring 18 of the 80 people on board.", "a"),
        sentence(2, "It flipped, injuring 21 of the 80 people onboard.", "b"),
    ]
    texts = {p.article_id: p.text for p in shown}
    assert rivals("18", [1], "How many people were injured?", shown, texts) == [("21", 2)]
    same = [shown[0], sentence(2, "It flipped; 18 of the 80 people onboard were hurt.", "b")]
    texts = {p.article_id: p.text for p in same}
    assert rivals("18", [1], "How many people were injured?", same, texts) == []


def test_a_rival_in_a_sentence_the_model_did_not_read_joins_with_its_sentence() -> None:
    """The prompt holds few sentences: another article's spelling of the name asked may lie in
    one that did not fit. It joins the answer, numbered after the shown ones, and comes back
    in `added` so the answer can cite it; a spare sentence about something else does not."""
    shown = [sentence(1, "Leader Marco Quispe Palomino, alias Gabriel, was killed.", "a")]
    spare = [
        sentence(2, "The rebels took 36 gas workers, police said.", "b"),
        sentence(3, "Martin Quispe Palomino, alias Gabriel, claimed the kidnapping.", "c"),
    ]
    texts = {p.article_id: p.text for p in shown + spare}
    q = "What is the real name of the rebel leader known as alias Gabriel?"
    got = decide(
        q, [Proposal("Marco Quispe Palomino", [1])], "", shown, WEIGHTS, texts=texts, spare=spare
    )
    assert got.disagreement and got.added == [spare[1]]
    assert got.sentences[0].text == (
        "Sources disagree: Marco Quispe Palomino [1]; Martin Quispe Palomino [3]."
    )
    off = [sentence(3, "Martin Quispe Palomino runs a bakery in Lima.", "c")]
    alone = decide(
        q, [Proposal("Marco Quispe Palomino", [1])], "", shown, WEIGHTS, texts=texts, spare=off
    )
    assert not alone.disagreement and alone.added == []
    assert alone.sentences[0].citations == [1]


def test_a_figure_in_an_unread_sentence_must_have_the_answers_own_unit_and_be_no_year() -> None:
    """Dev set: 3.6% of a flock against '5 million chickens' a farm keeps, and 2003 against
    the year the zoo opened, were false disagreements from sentences the model never read."""
    culled = "How many chickens had to be killed there?"
    said = "The culled chickens are about 3.6% of the flock."
    other = "Colorado farms keep about 5.1 million chickens."
    assert figure_rival("3.6%", said, other, culled) == "5.1 million chickens"
    assert figure_rival("3.6%", said, other, culled, strict=True) == ""
    year = "In what year did the pandas first arrive at the zoo?"
    assert figure_rival("2003", "The pandas arrived in 2003.", "The zoo opened in 2001.", year)
    assert not figure_rival(
        "2003", "The pandas arrived in 2003.", "The zoo opened in 2001.", year, strict=True
    )
    lives = "How many lives did the conflict claim?"
    assert figure_rival("70,000", "took 70,000 lives", "claimed 69,000 lives", lives, strict=True)


def test_a_clock_time_is_one_figure_and_rivals_only_another_time() -> None:
    q = "At what time did police respond to the shooting?"
    said = "Officers responded around 10:12 p.m. and found the victims."
    other = "Police responded to a report of a shooting around 10:15 p.m. on Tuesday."
    assert figure_rival("10:12 p.m.", said, other, q) == "10:15 p.m."
    assert figure_rival("254", "254 flights were canceled", "By 8:15 a.m. it was over.", q) == ""
