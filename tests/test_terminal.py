"""`rag.terminal`: what the `rag` command prints, drawn on an in-memory rich Console."""

from __future__ import annotations

import io


def test_words_of_a_first_try_and_of_reading_on_stay_on_separate_lines() -> None:
    from rich.console import Console

    from rag.answering.compose import Answer
    from rag.answering.engine import Done, Sources, Token
    from rag.terminal import show_answer

    buffer = io.StringIO()
    answer = Answer("q", "q", "The articles do not say.", True, "generated")
    events = [Sources([]), Token("6,300"), Sources([]), Token("7,400"), Done(answer)]
    show_answer(iter(events), Console(file=buffer, width=100))
    assert buffer.getvalue().startswith("6,300\n7,400\n")


def test_articles_table_prints_whole_ids_at_80_columns() -> None:
    from rich.console import Console

    from rag.records import StoredArticle
    from rag.terminal import articles_table

    ids = [f"news-2024-05-01-{'x' * 30}-{i}" for i in range(3)]
    title = "A rather long title about the regional elections and what the parties promised"
    rows = [StoredArticle(i, "o", "h", "r", title, "Wire", "2024-05-01", "", "", 4) for i in ids]
    buffer = io.StringIO()
    Console(file=buffer, width=80).print(articles_table(rows))
    assert all(i in buffer.getvalue() for i in ids)  # each on one line, to copy
