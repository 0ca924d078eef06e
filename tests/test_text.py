"""The text layer: the keyword index's terms."""

from __future__ import annotations

from rag.text import terms


def test_terms_are_the_keyword_index_terms() -> None:
    assert terms("The workers were kidnapped in Cuzco") == {"worker", "kidnap", "cuzco"}
