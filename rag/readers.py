"""Text and metadata out of HTML and PDF files, offline; the article loader calls these."""

from __future__ import annotations

import io
import re
import warnings
from html.parser import HTMLParser

LXML_MAX_DEPTH = 255  # libxml2's limit without XML_PARSE_HUGE
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_SKIPPED_TAGS = frozenset({"script", "style", "template", "noscript"})
_BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section"})


def nesting_depth(html: str) -> int:
    """How deep elements nest (void and self-closed tags do not nest).

    >>> nesting_depth("<div><p>a<br>b</p><div><span>c</span></div></div>")
    3
    """
    depth = deepest = 0
    for closing, name, self_closed in _TAG.findall(html):
        if closing:
            depth = max(0, depth - 1)
        elif not self_closed and name.lower() not in _VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


class _PlainText(HTMLParser):
    """Collect the visible text and the <title>, with a paragraph break at block ends."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in _SKIPPED_TAGS
        self._in_title = self._in_title or tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS and self._skip:
            self._skip -= 1
        self._in_title = self._in_title and tag != "title"
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def plain_html_parts(html: str) -> tuple[dict[str, str], str]:
    """Title and visible text by the standard library's parser (no depth limit, no boilerplate
    removal)."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    text = re.sub(r"\n\s*\n\s*", "\n\n", "".join(parser.parts)).strip()
    title = " ".join("".join(parser.title).split())
    return ({"title": title} if title else {}), text


def html_parts(html: str) -> tuple[dict[str, str], str]:
    """Extract main text and metadata with trafilatura, offline (string input only).

    lxml stops at 256 nested elements and trafilatura then drops what lies deeper without a
    word: a page nested deeper is read by the standard library's parser, which has no limit.
    """
    import trafilatura

    if nesting_depth(html) > LXML_MAX_DEPTH:
        return plain_html_parts(html)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = trafilatura.bare_extraction(
            html, include_comments=False, include_tables=True, with_metadata=True
        )
    if doc is None:
        return {}, ""
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    meta = {k: str(data.get(k) or "") for k in ("title", "date", "url", "author")}
    meta["source"] = str(data.get("sitename") or "")
    return {k: v for k, v in meta.items() if v}, str(data.get("text") or "")


def pdf_parts(data: bytes) -> tuple[dict[str, str], str] | None:
    """Extract text of all pages and title/author metadata with pypdf, or None if unreadable."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        text = "\n\n".join((page.extract_text() or "") for page in reader.pages)
        info = reader.metadata
        meta = {"title": str(info.title or ""), "author": str(info.author or "")} if info else {}
    except Exception:  # pypdf raises many types on malformed files
        return None
    return {k: v.strip() for k, v in meta.items() if v and v.strip()}, text
