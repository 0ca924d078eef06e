"""Candidate sentences: the retrieved chunks' sentences and one beyond either edge."""

from __future__ import annotations

from rag.answering.candidates import candidates
from rag.chunking import Chunk
from rag.records import Hit, StoredArticle

TEXT = (
    "Rebels attacked a base in Cusco on Monday. They kidnapped 36 natural gas workers. "
    "The army sent 1,500 troops to the valley. Weather was mild. "
    "Officials said the workers were released six days later."
)


def article(
    aid: str = "a", text: str = TEXT, title: str = "Gas workers kidnapped"
) -> StoredArticle:
    return StoredArticle(aid, "f", "h", "h", title, "Src", "2012-04-16", "", "", 1, text)


def hit(aid: str, start: int, end: int, text: str = TEXT) -> Hit:
    return Hit(Chunk(aid, 0, start, end, text[start:end]), 1.0, 0.5, 1, 1)


def test_candidates_reach_one_sentence_past_the_chunk() -> None:
    a = article()
    start = TEXT.index("The army")
    cands = candidates([hit("a", start, start + 20)], {"a": a})
    texts = [c.text for c in cands]
    assert texts == [
        "They kidnapped 36 natural gas workers.",  # the sentence before the chunk
        "The army sent 1,500 troops to the valley.",
    ]  # "Weather was mild." after it is too short to be evidence
