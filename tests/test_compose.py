from __future__ import annotations

from test_citations import passage

from rag.answering.compose import answer_from_verdict, joined
from rag.answering.verify import Verdict
from rag.citations import Sentence

FIRST = passage(1, "The armed forces cut their bases in the VRAEM from 78 to 46.")
NEXT = passage(2, "The VRAEM currently has 52 bases and 8,000 troops.")
UNREAD = passage(3, "Officials counted 50 bases in the valley.")


def test_a_rival_from_a_sentence_read_on_the_first_try_is_not_listed_twice() -> None:
    # a second look read NEXT; its rival came from FIRST, which the first try had read
    claim = Sentence("Sources disagree: 52 bases [2]; 46 [1]; 50 [3].", [2, 1, 3])
    verdict = Verdict([claim], [], disagreement=True, added=[FIRST, UNREAD])
    answer = answer_from_verdict("How many bases?", "How many bases?", verdict, [FIRST, NEXT])
    assert [p.n for p in answer.passages] == [1, 2, 3]
    assert {c.n for c in answer.citations} == {1, 2, 3}


def test_a_part_neither_try_answers_is_named() -> None:
    asked = ["Who buys it?", "who runs it?"]
    nothing = Verdict([], [Sentence("Darden", [1], supported=False, reason="why")])
    found = Verdict([Sentence("Golden Gate [2].", [2])], [])
    empty = Verdict([], [Sentence("Darden", [2], supported=False, reason="again")])
    both = joined(nothing, asked, {"Who buys it?": found, "who runs it?": empty})
    assert [s.text for s in both.sentences] == ["Golden Gate [2]."]
    assert both.unanswered == ["who runs it?"]
    assert [s.reason for s in both.left_out] == ["why"]  # refused twice, listed once
    one = joined(nothing, ["Who buys it?"], {"Who buys it?": empty})
    assert one.abstained and one.unanswered == []
