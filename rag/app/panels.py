"""The side panel of the Chat tab: the sources of an answer, and the article viewer that opens
in their place (with a way back) when a [n] marker or a source is clicked.

Pure functions returning HTML; every text goes through `render.esc`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answering.compose import Answer
from rag.app.render import (
    badge,
    esc,
    ext_link,
    link_with_fragment,
    marked,
    meta_line,
    ref,
    safe_url,
    snippet,
    support_in_passage,
    support_sentence,
)
from rag.citations import Citation, Passage

BACK_REF = "back"

# Installed by the sources panel: one document-level click listener for every `#rag-…` anchor
# (in the chat, the sources panel, the abstention box, the viewer's way back) that forwards
# the reference to Python; the copy link instead copies its answer's text to the clipboard.
SOURCES_JS = """
window.__ragOpen = (ref) => trigger('click', {ref: ref});
if (!window.__ragClickInstalled) {
  window.__ragClickInstalled = true;
  document.addEventListener('click', (e) => {
    const t = e.target;
    if (!(t instanceof Element) || t.closest('a.rag-ext')) return;
    const el = t.closest('a[href^="#rag-"], [data-rag-ref]');
    if (!el) return;
    if (el.classList.contains('rag-copy')) {
      e.preventDefault();
      const text = el.parentElement.querySelector('.rag-copytext')?.textContent || '';
      navigator.clipboard?.writeText(text).then(() => { el.textContent = '✓ Copied'; });
      return;
    }
    const ref = el.getAttribute('data-rag-ref') || el.getAttribute('href').slice(1);
    e.preventDefault();
    e.stopPropagation();
    window.__ragOpen(ref);
  }, true);
}
"""

# Installed by the article viewer: bring the highlighted passage into view on every update.
VIEWER_JS = """
const focus = () => {
  const m = element.querySelector('.rag-focus');
  if (m) m.scrollIntoView({block: 'center'});
};
watch('value', focus);
focus();
"""


# -- the sources panel ------------------------------------------------------------------------


def _source_card(
    turn: int,
    kind: str,
    n: int,
    title: str,
    meta: str,
    url: str | None,
    passage: str,
    active: str = "",
) -> str:
    r = ref(turn, kind, n)
    cls = "rag-src rag-active" if r == active else "rag-src"
    return (
        f'<div class="{cls}" data-rag-ref="{r}"><div class="rag-src-title">'
        f'<a class="rag-cite" href="#{r}">[{n}]</a> {esc(title)}</div>'
        f'<div class="rag-src-meta">{meta}{ext_link(url)}</div>'
        f'<div class="rag-passage">{passage}</div></div>'
    )


def citation_card(citation: Citation, turn: int, active: str = "") -> str:
    """One cited passage: title, source, date, link to the original, supporting sentence marked."""
    span = support_in_passage(citation)
    passage = marked(citation.text, [(span[0], span[1], "rag-support")] if span else [])
    url = link_with_fragment(citation.url, support_sentence(citation))
    meta = meta_line(citation.source, citation.date)
    title = citation.title or citation.article_id
    return _source_card(turn, "c", citation.n, title, meta, url, passage, active)


def passage_card(passage: Passage, turn: int, active: str = "") -> str:
    """One retrieved passage (not cited): title, source, date, link, a snippet."""
    url = link_with_fragment(passage.url, passage.text)
    meta = meta_line(passage.source, passage.date)
    title = passage.title or passage.article_id
    shown = esc(snippet(passage.text))
    return _source_card(turn, "p", passage.n, title, meta, url, shown, active)


def pending_sources_html(passages: Sequence[Passage], question: str, turn: int) -> str:
    """The passages found for a question, shown while the model is still writing its answer."""
    cards = "".join(passage_card(p, turn) for p in passages)
    if not cards:
        cards = '<div class="rag-empty">No passage matched.</div>'
    state = badge("pending", "found · the answer is being written")
    question_line = f'<div class="rag-src-meta">For: <q>{esc(question)}</q></div>'
    return (
        f'<div class="rag-sources rag-pending"><h4>Sources {state}</h4>{question_line}{cards}</div>'
    )


def sources_html(answer: Answer | None, turn: int, active: str = "") -> str:
    """The panel beside the chat: cited passages, then the uncited ones in a <details>."""
    if answer is None:
        return (
            '<div class="rag-sources rag-empty">Ask a question: the passages the answer cites'
            " appear here. Click a [n] marker or a source to read it in its article.</div>"
        )
    cited_ids = {(c.article_id, c.start, c.end) for c in answer.citations}
    cards = "".join(citation_card(c, turn, active) for c in answer.citations)
    if not cards:
        cards = '<div class="rag-empty">No passage was cited.</div>'
    rest = [p for p in answer.passages if (p.article_id, p.start, p.end) not in cited_ids]
    more = ""
    if rest:
        label = "Closest passages" if answer.abstained else "Retrieved but not cited"
        items = "".join(passage_card(p, turn, active) for p in rest)
        opened = " open" if answer.abstained or active.split("-")[-2:-1] == ["p"] else ""
        more = (
            f'<details class="rag-more"{opened}><summary>{label} ({len(rest)})</summary>'
            f"{items}</details>"
        )
    question = f'<div class="rag-src-meta">For: <q>{esc(answer.question)}</q></div>'
    return f'<div class="rag-sources"><h4>Sources</h4>{question}{cards}{more}</div>'


# -- the article viewer -----------------------------------------------------------------------

BACK_LINK = (
    f'<div><a class="rag-back" href="#rag-{BACK_REF}" data-rag-ref="{BACK_REF}">'
    "← Back to the sources</a></div>"
)


def article_html(
    title: str,
    source: str,
    date: str,
    url: str,
    text: str,
    span: tuple[int, int] | None = None,
    support: tuple[int, int] | None = None,
) -> str:
    """The full article text with the passage (`span`) and its supporting sentence highlighted."""
    sentence = (
        text[support[0] : support[1]] if support else (text[span[0] : span[1]] if span else "")
    )
    link = link_with_fragment(url, sentence) if sentence else safe_url(url)
    head = (
        f'<div class="rag-viewer-head">{BACK_LINK}<strong>{esc(title)}</strong>'
        f'<div class="rag-src-meta">{meta_line(source, date)}{ext_link(link)}</div></div>'
    )
    if span is None:
        body = esc(text)
    else:
        start, end = max(0, span[0]), min(len(text), span[1])
        inner: list[tuple[int, int, str]] = []
        if support is not None:
            s0, s1 = max(start, support[0]), min(end, support[1])
            if s1 > s0:
                inner.append((s0 - start, s1 - start, "rag-support"))
        body = (
            esc(text[:start])
            + f'<mark class="rag-focus">{marked(text[start:end], inner)}</mark>'
            + esc(text[end:])
        )
    return (
        f'<div class="rag-viewer rag-viewer-open">{head}<div class="rag-article">{body}</div></div>'
    )


def viewer_empty() -> str:
    """The viewer before anything was opened."""
    return (
        '<div class="rag-viewer rag-empty">The article viewer: click a [n] marker or a source'
        " to read the passage in its full article.</div>"
    )
