from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_text, estimate_tokens, sentence_spans

TEXT = (
    "Sixteen people were murdered in May 2021. Gen. Gómez said so.\n\n"
    "The VRAEM produces roughly half of Peru’s cocaine! Is it true? “Yes,” he said.\n"
)


def test_sentence_spans_split_on_ends_and_lines_but_not_abbreviations() -> None:
    spans = [TEXT[s:e] for s, e in sentence_spans(TEXT)]
    assert spans == [
        "Sixteen people were murdered in May 2021.",
        "Gen. Gómez said so.",
        "The VRAEM produces roughly half of Peru’s cocaine!",
        "Is it true?",
        "“Yes,” he said.",
    ]
    news = "Users of Red No. 3 have until Jan. 15, 2027. Rep. Matt Gaetz, R-Fla., agreed."
    assert [news[s:e] for s, e in sentence_spans(news)] == [
        "Users of Red No. 3 have until Jan. 15, 2027.",
        "Rep. Matt Gaetz, R-Fla., agreed.",
    ]


@given(st.text())
@example("A\xa0.”  ébb\xa0”")  # panicked sentencex 1.0.32 when given as it is
def test_sentence_spans_of_any_text_are_trimmed_and_in_order(text: str) -> None:
    spans = sentence_spans(text)
    assert all(text[s:e] == text[s:e].strip() and s < e for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_chunks_cover_every_sentence_within_budget_and_overlap() -> None:
    text = " ".join(f"Sentence number {i} talks about coca crops in the valley." for i in range(60))
    chunks = chunk_text("a1", text, max_tokens=50, overlap_tokens=12)
    assert len(chunks) > 5
    assert all(estimate_tokens(c.text) <= 50 for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(c.id == f"a1:{c.index}" for c in chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end, "consecutive chunks overlap"
        assert b.start > a.start, "chunking always moves forward"
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for s, e in sentence_spans(text):
        assert set(range(s, e)) <= covered


def test_overlong_sentence_is_cut_at_word_boundaries() -> None:
    text = "word " * 500
    chunks = chunk_text("x", text, max_tokens=40, overlap_tokens=0)
    assert all(estimate_tokens(c.text) <= 40 for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) == 500


def test_empty_and_blank_text_give_no_chunks() -> None:
    assert chunk_text("x", "") == []
    assert chunk_text("x", "\n\n   \n\t") == []


hostile = st.lists(
    st.sampled_from(list("ab. !?\n  éß漢字“”’…Z1\u00a0\t") + ["Word", "Gen.", "\n\n"]),
    max_size=400,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(hostile, st.integers(5, 60), st.integers(0, 20))
def test_offsets_are_exact_on_hostile_text(text: str, size: int, overlap: int) -> None:
    chunks = chunk_text("h", text, max_tokens=size, overlap_tokens=overlap)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text.strip() == c.text and c.text
    if text.strip():
        assert chunks, "non-blank text yields chunks"
