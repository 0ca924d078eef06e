"""HTML and PDF text: pages nested deeper than lxml reads keep their innermost text."""

from __future__ import annotations

from rag.readers import LXML_MAX_DEPTH, html_parts, nesting_depth


def nested_page(depth: int) -> str:
    inner = "<p>Innermost: 36 workers were kidnapped in La Convencion in April.</p>"
    return (
        "<html><head><title>Deep page</title><style>p {color: red}</style></head><body>"
        "<p>Outer paragraph about the VRAEM valley and the coca growers of Peru.</p>"
        + "<div>" * depth
        + inner
        + "</div>" * depth
        + "</body></html>"
    )


def test_text_nested_past_lxmls_limit_is_kept() -> None:
    """200,000 nested <div>s once dropped the innermost text without a word."""
    meta, text = html_parts(nested_page(200_000))
    assert "36 workers were kidnapped" in text and "VRAEM valley" in text
    assert meta["title"] == "Deep page" and "color" not in text


def test_ordinary_pages_still_go_through_trafilatura() -> None:
    page = nested_page(3).replace("<title>", '<meta name="author" content="Ana Ruiz"><title>')
    assert nesting_depth(page) < LXML_MAX_DEPTH
    meta, text = html_parts(page)
    assert "36 workers" in text and meta.get("author") == "Ana Ruiz"
