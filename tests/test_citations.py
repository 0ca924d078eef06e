from __future__ import annotations

from rag.citations import Passage, figures, names, split_answer, support_span, verify


def passage(n: int, text: str, start: int = 0) -> Passage:
    return Passage(
        n, f"a{n}:0", f"a{n}", f"Title {n}", "Src", "2020-01-01", "", text, start, start + len(text)
    )


SEIZURE = passage(
    1,
    "The military attack also led to the seizure of weapons, explosives and "
    "79 kilograms of cocaine in Chachaspata.",
    start=100,
)
UNIT = passage(2, "The unit has so far this year seized 6,300 kilograms of cocaine hydrochloride.")


def test_split_answer_reads_all_marker_forms() -> None:
    text = "Troops seized 79 kg [1]. Others seized more [1, 2]. Both [1][2]! Plain."
    assert split_answer(text) == [
        ("Troops seized 79 kg.", [1]),
        ("Others seized more.", [1, 2]),
        ("Both!", [1, 2]),
        ("Plain.", []),
    ]


def test_figures_and_names() -> None:
    assert figures("It seized 6,300 kilograms and 79 kg in 2021.") == {"6300", "79", "2021"}
    assert figures("Police came at 10:12 p.m.") == {"10:12"}
    assert names("Troops killed alias Cirilo in Chachaspata.") == {"cirilo", "chachaspata"}


def test_supported_claim_keeps_its_citation() -> None:
    [s] = verify(
        [("The attack led to the seizure of 79 kilograms of cocaine.", [1])],
        [SEIZURE, UNIT],
        "How much cocaine was seized?",
    )
    assert s.supported and s.citations == [1] and not s.attached


def test_wrong_figure_from_another_passage_is_unsupported() -> None:
    [s] = verify(
        [("The attack led to the seizure of 6,300 kilograms of cocaine.", [1])],
        [SEIZURE, UNIT],
        "How much cocaine was seized after the Chachaspata firefight?",
    )
    assert not s.supported
    assert "6300" in s.reason


def test_passage_about_another_event_is_unsupported() -> None:
    [s] = verify(
        [("The unit seized 6,300 kilograms of cocaine.", [2])],
        [SEIZURE, UNIT],
        "How much cocaine was seized in Chachaspata?",
    )
    assert not s.supported
    assert "chachaspata" in s.reason.lower()


def test_bogus_number_is_dropped_and_missing_citation_attached() -> None:
    [s] = verify(
        [("The attack led to the seizure of 79 kilograms of cocaine.", [9])],
        [SEIZURE, UNIT],
        "How much cocaine was seized?",
    )
    assert s.supported and s.citations == [1] and s.attached


def test_unsupported_uncited_claim_is_flagged() -> None:
    [s] = verify(
        [("The president resigned in protest over the budget.", [])],
        [SEIZURE, UNIT],
        "What happened?",
    )
    assert not s.supported and s.citations == []


def test_support_span_points_at_the_best_sentence_in_article_offsets() -> None:
    p = passage(1, "Unrelated opening line. The attack seized 79 kilograms of cocaine.", start=50)
    span = support_span("79 kilograms of cocaine were seized", p)
    assert span is not None
    assert p.text[span[0] - 50 : span[1] - 50] == "The attack seized 79 kilograms of cocaine."
