"""Pure functions turning answers and articles into HTML for the web app.

Every piece of text that comes from an article, a user or the LLM goes through `esc()` before
it reaches the page, so a `<script>` or an `onerror=` in any of them stays inert text. Links
to originals are only made for http(s) URLs. Clickable references are plain anchors
`#rag-<turn>-<kind>-<n>` (kind `c`: a citation, `p`: a retrieved passage) that the page's
click handler turns into an "open this in the viewer" event.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from rag.answer import Answer, Citation, Passage, Sentence

MARKER_RE = re.compile(r"\[(\d{1,3})\]")
REF_RE = re.compile(r"^#?rag-(\d{1,5})-([cp])-(\d{1,3})$")
# HTML's special characters, plus those Markdown would treat as syntax (so nothing can build a
# link or an image), each mapped to an entity in one pass: entities are never escaped twice.
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
    | {c: f"&#{ord(c)};" for c in "[]()!*_`#|~\\{}$"}
)
FRAGMENT_WORDS = 8
SNIPPET_CHARS = 220

CSS = """
.rag-answer p { margin: 0 0 .4em 0; }
.rag-cite { font-weight: 600; text-decoration: none; cursor: pointer; padding: 0 1px;
  color: var(--link-text-color, #2563eb); }
.rag-cite:hover { text-decoration: underline; }
.rag-unsupported { text-decoration: underline dotted; text-underline-offset: 3px;
  color: var(--body-text-color-subdued, #6b7280); cursor: help; }
.rag-query { font-size: .85em; color: var(--body-text-color-subdued, #6b7280);
  margin-bottom: .3em; }
.rag-notice { font-size: .85em; border-left: 3px solid #d97706; padding-left: .5em;
  margin-bottom: .4em; }
.rag-abstain { border: 1px dashed #d97706; border-radius: 6px; padding: .5em .7em; }
.rag-abstain-head { font-weight: 600; color: #b45309; }
.rag-sources { font-size: .92em; }
.rag-src { border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 6px;
  padding: .45em .6em; margin: .4em 0; cursor: pointer; }
.rag-src:hover { border-color: var(--color-accent, #f97316); }
.rag-src.rag-active { border-color: var(--color-accent, #f97316); border-width: 2px; }
.rag-src-title { font-weight: 600; }
.rag-src-meta { font-size: .85em; color: var(--body-text-color-subdued, #6b7280); }
.rag-passage { margin: .3em 0 0 0; padding-left: .6em; border-left: 3px solid #d1d5db;
  white-space: pre-wrap; }
mark.rag-support { background: #fde68a; color: inherit; }
mark.rag-focus { background: #dbeafe; color: inherit; }
.rag-article { white-space: pre-wrap; max-height: 60vh; overflow-y: auto; line-height: 1.5;
  padding: .5em; border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: 6px; }
.rag-viewer-head { margin-bottom: .4em; }
.rag-empty { color: var(--body-text-color-subdued, #6b7280); font-style: italic; }
.rag-status { color: var(--body-text-color-subdued, #6b7280); font-style: italic; }
"""

# Installed by the sources panel: one document-level click listener for every `#rag-…` anchor
# (in the chat, the sources panel, the abstention box) that forwards the reference to Python.
SOURCES_JS = """
window.__ragOpen = (ref) => trigger('click', {ref: ref});
if (!window.__ragClickInstalled) {
  window.__ragClickInstalled = true;
  document.addEventListener('click', (e) => {
    const t = e.target;
    if (!(t instanceof Element) || t.closest('a.rag-ext')) return;
    const el = t.closest('a[href^="#rag-"], [data-rag-ref]');
    if (!el) return;
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


# -- plain data <-> Answer --------------------------------------------------------------------


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """A JSON-safe dict of an Answer (for gr.State and the chat database)."""
    return dataclasses.asdict(answer)


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """Rebuild an Answer from `answer_to_dict` output, tolerating missing or extra keys."""
    names = {f.name for f in dataclasses.fields(Answer)}
    fields = {k: v for k, v in data.items() if k in names}
    fields["citations"] = [_citation(c) for c in data.get("citations") or []]
    fields["sentences"] = [_build(Sentence, s) for s in data.get("sentences") or []]
    fields["left_out"] = [_build(Sentence, s) for s in data.get("left_out") or []]
    fields["passages"] = [_build(Passage, p) for p in data.get("passages") or []]
    fields.setdefault("question", "")
    fields.setdefault("query", fields["question"])
    fields.setdefault("text", "")
    fields.setdefault("abstained", False)
    fields.setdefault("mode", "generated")
    return Answer(**fields)


def _build(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def _citation(data: dict[str, Any]) -> Citation:
    citation = _build(Citation, data)
    if citation.support is not None:
        citation.support = (int(citation.support[0]), int(citation.support[1]))
    return citation


# -- small helpers ----------------------------------------------------------------------------


def esc(text: object) -> str:
    """HTML-escape text (quotes too) and neutralise Markdown syntax characters."""
    return str(text).translate(_ESCAPES)


def ref(turn: int, kind: str, n: int) -> str:
    """The anchor name of a citation (`c`) or retrieved passage (`p`) of one answer."""
    return f"rag-{turn}-{kind}-{n}"


def parse_ref(value: str) -> tuple[int, str, int] | None:
    """`rag-2-c-1` -> (2, "c", 1); None for anything else."""
    match = REF_RE.match(value.strip()) if isinstance(value, str) else None
    return (int(match[1]), match[2], int(match[3])) if match else None


def safe_url(url: str) -> str | None:
    """The URL if it is http(s) with a host, else None (no javascript:, data:, file: links)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def text_fragment(sentence: str) -> str:
    """`#:~:text=` fragment for the first words of a sentence (browsers scroll to it)."""
    words = sentence.split()[:FRAGMENT_WORDS]
    start = " ".join(words).rstrip(".,;:!?\"'”’)")
    if not start:
        return ""
    return "#:~:text=" + quote(start, safe="").replace("-", "%2D")


def link_with_fragment(url: str, sentence: str) -> str | None:
    """The original's URL (fragment replaced) pointing at the supporting sentence."""
    base = safe_url(url)
    if base is None:
        return None
    return base.split("#", 1)[0] + text_fragment(sentence)


def _meta(source: str, date: str) -> str:
    return " · ".join(esc(x) for x in (source, date) if x)


def _ext_link(url: str | None) -> str:
    if not url:
        return ""
    return (
        f' · <a class="rag-ext" href="{html.escape(url, quote=True)}" target="_blank"'
        ' rel="noopener noreferrer nofollow">original ↗</a>'
    )


def _marked(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """Escape text, wrapping non-overlapping sorted spans (start, end, css class) in <mark>."""
    out, pos = [], 0
    for start, end, cls in spans:
        start, end = max(pos, start), min(len(text), end)
        if end <= start:
            continue
        out.append(esc(text[pos:start]))
        out.append(f'<mark class="{cls}">{esc(text[start:end])}</mark>')
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def support_in_passage(citation: Citation) -> tuple[int, int] | None:
    """The supporting sentence's span relative to the passage text, clamped; None if outside."""
    if citation.support is None:
        return None
    s0 = max(0, citation.support[0] - citation.start)
    s1 = min(len(citation.text), citation.support[1] - citation.start)
    return (s0, s1) if s1 > s0 else None


def support_sentence(citation: Citation) -> str:
    """The text of the supporting sentence, or the start of the passage when unknown."""
    span = support_in_passage(citation)
    return citation.text[span[0] : span[1]] if span else citation.text


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# -- the chat message -------------------------------------------------------------------------


def _marker_links(text: str, turn: int, cited: set[int], passages: set[int]) -> str:
    """Escape text and turn each [n] into a clickable anchor when n is known."""
    out, pos = [], 0
    for match in MARKER_RE.finditer(text):
        out.append(esc(text[pos : match.start()]))
        out.append(_marker(turn, int(match[1]), cited, passages))
        pos = match.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _marker(turn: int, n: int, cited: set[int], passages: set[int]) -> str:
    if n in cited:
        kind = "c"
    elif n in passages:
        kind = "p"
    else:
        return esc(f"[{n}]")
    return f'<a class="rag-cite" href="#{ref(turn, kind, n)}" title="Open source {n}">[{n}]</a>'


def _sentence_html(sentence: Sentence, turn: int, cited: set[int], passages: set[int]) -> str:
    present = {int(m) for m in MARKER_RE.findall(sentence.text)}
    marks = "".join(
        _marker(turn, n, cited, passages) for n in sentence.citations if n not in present
    )
    text = sentence.text
    end = ""
    if marks and text[-1:] in (".", "!", "?"):  # "Claim [1]." like the answer text
        text, end = text[:-1], text[-1]
    body = _marker_links(text, turn, cited, passages) + (" " if marks else "") + marks + end
    if sentence.supported:
        return body
    reason = sentence.reason or "Not supported by the cited passages."
    return f'<span class="rag-unsupported" title="{esc(reason)}">{body}</span>'


def answer_html(answer: Answer, turn: int) -> str:
    """The assistant's chat message: query line, notice, answer with clickable [n] markers."""
    cited = {c.n for c in answer.citations}
    passages = {p.n for p in answer.passages}
    head = ""
    if answer.query and answer.query.strip() != answer.question.strip():
        head += f'<div class="rag-query">Searched for: <q>{esc(answer.query)}</q></div>'
    if answer.notice:
        head += f'<div class="rag-notice">{esc(answer.notice)}</div>'
    if answer.abstained:
        return abstention_html(answer, turn, head)
    if answer.sentences:
        body = " ".join(_sentence_html(s, turn, cited, passages) for s in answer.sentences)
    else:
        body = _marker_links(answer.text, turn, cited, passages)
    return f'<div class="rag-answer">{head}<p>{body}</p></div>'


def abstention_html(answer: Answer, turn: int, head: str = "") -> str:
    """A clearly marked "not found" box offering the closest passages (`head`: query line)."""
    text = answer.text or "The articles do not answer this question."
    items = "".join(
        f'<li><a class="rag-cite" href="#{ref(turn, "p", p.n)}">[{p.n}]</a> '
        f"<strong>{esc(p.title or p.article_id)}</strong>: {esc(_snippet(p.text, 140))}</li>"
        for p in answer.passages[:3]
    )
    closest = f"<div>Closest passages:</div><ul>{items}</ul>" if items else ""
    return (
        f'<div class="rag-answer rag-abstain">{head}<div class="rag-abstain-head">'
        "⚠ No answer found in the articles</div>"
        f"<p>{esc(text)}</p>{closest}</div>"
    )


def streaming_html(text: str, status: str = "") -> str:
    """The assistant's message while the answer streams in (markers not yet clickable)."""
    body = esc(text)
    line = f'<div class="rag-status">{esc(status)}</div>' if status else ""
    return f'<div class="rag-answer">{line}<p>{body}</p></div>'


def error_html(message: str) -> str:
    """An assistant message for a failure the user can act on."""
    return f'<div class="rag-answer rag-notice">⚠ {esc(message)}</div>'


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
        f'<div class="rag-src-meta">{meta}{_ext_link(url)}</div>'
        f'<div class="rag-passage">{passage}</div></div>'
    )


def citation_card(citation: Citation, turn: int, active: str = "") -> str:
    """One cited passage: title, source, date, link to the original, supporting sentence marked."""
    span = support_in_passage(citation)
    passage = _marked(citation.text, [(span[0], span[1], "rag-support")] if span else [])
    url = link_with_fragment(citation.url, support_sentence(citation))
    meta = _meta(citation.source, citation.date)
    title = citation.title or citation.article_id
    return _source_card(turn, "c", citation.n, title, meta, url, passage, active)


def passage_card(passage: Passage, turn: int, active: str = "") -> str:
    """One retrieved passage (not cited): title, source, date, link, a snippet."""
    url = link_with_fragment(passage.url, passage.text)
    meta = _meta(passage.source, passage.date)
    title = passage.title or passage.article_id
    snippet = esc(_snippet(passage.text))
    return _source_card(turn, "p", passage.n, title, meta, url, snippet, active)


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


# -- library messages -------------------------------------------------------------------------


def notice_html(message: str) -> str:
    """A one-line message in the Library tab."""
    return f'<div class="rag-notice">{esc(message)}</div>'


def index_report_html(report: Any, rejected: Sequence[tuple[str, str]]) -> str:
    """What an upload did: added, updated, unchanged, and every rejected file with its reason."""
    if report is None and not rejected:
        return '<div class="rag-empty">Uploaded files are indexed here.</div>'
    lines: list[str] = []
    if report is not None:
        if report.added:
            lines.append(f"Added {len(report.added)} article(s): {esc(', '.join(report.added))}")
        if report.updated:
            lines.append(f"Updated {len(report.updated)}: {esc(', '.join(report.updated))}")
        if report.unchanged:
            lines.append(f"{report.unchanged} already indexed and unchanged")
        for skipped in report.skipped:
            rejected = [*rejected, (_base(skipped.origin), skipped.reason)]
        for origin, twin in report.duplicates:
            rejected = [*rejected, (_base(origin), f"same text as the indexed article {twin}")]
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    bad = "".join(f"<li><strong>{esc(n)}</strong>: {esc(r)}</li>" for n, r in rejected)
    out = f'<div class="rag-report"><ul>{items}</ul>' if items else '<div class="rag-report">'
    if bad:
        out += f'<div class="rag-notice">Not indexed:</div><ul class="rag-rejected">{bad}</ul>'
    return out + "</div>"


def _base(origin: str) -> str:
    """The file name of an origin path (`…/uploads/a.jsonl#3` -> `a.jsonl#3`)."""
    return origin.replace("\\", "/").rsplit("/", 1)[-1]


# -- the article viewer -----------------------------------------------------------------------


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
        f'<div class="rag-viewer-head"><strong>{esc(title)}</strong>'
        f'<div class="rag-src-meta">{_meta(source, date)}{_ext_link(link)}</div></div>'
    )
    if span is None:
        return f'<div class="rag-viewer">{head}<div class="rag-article">{esc(text)}</div></div>'
    start, end = max(0, span[0]), min(len(text), span[1])
    inner: list[tuple[int, int, str]] = []
    if support is not None:
        s0, s1 = max(start, support[0]), min(end, support[1])
        if s1 > s0:
            inner.append((s0 - start, s1 - start, "rag-support"))
    body = (
        esc(text[:start])
        + f'<mark class="rag-focus">{_marked(text[start:end], inner)}</mark>'
        + esc(text[end:])
    )
    return f'<div class="rag-viewer">{head}<div class="rag-article">{body}</div></div>'


def viewer_empty() -> str:
    """The viewer before anything was opened."""
    return (
        '<div class="rag-viewer rag-empty">The article viewer: click a [n] marker or a source'
        " to read the passage in its full article.</div>"
    )


# -- evaluation -------------------------------------------------------------------------------

EVAL_HEADLINE_METRICS = (
    "accuracy",
    "f1",
    "hit@1",
    "hit@5",
    "mrr@10",
    "citation_precision",
    "citation_recall",
    "correct_refusal_rate",
    "false_refusal_rate",
)


def eval_set_html(name: str, counts: dict[str, int], errors: Sequence[str]) -> str:
    """A question set about to run: its size by type, and every malformed line with its reason."""
    total = sum(counts.values())
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    head = f"<strong>{esc(name)}</strong>: {total} question(s)" + (
        f" ({esc(kinds)})" if kinds else ""
    )
    out = f'<div class="rag-report"><div>{head}</div>'
    if errors:
        items = "".join(f"<li>{esc(e)}</li>" for e in errors)
        out += (
            f'<div class="rag-notice">{len(errors)} malformed line(s) skipped; the rest run:</div>'
            f'<ul class="rag-rejected">{items}</ul>'
        )
    return out + "</div>"


def eval_summary_html(summary: dict[str, Any]) -> str:
    """The headline of a finished run: its counts and main metrics (definitions on hover)."""
    counts = summary.get("counts", {})
    metrics = summary.get("metrics", {})
    definitions = summary.get("definitions", {})
    mode = " · retrieval only" if summary.get("retrieval_only") else ""
    cells = []
    for key in EVAL_HEADLINE_METRICS:
        value = metrics.get(key)
        if value is None:
            continue
        title = esc(definitions.get(key, ""))
        cells.append(
            f'<div class="rag-metric" title="{title}"><div class="rag-metric-value">'
            f'{value:.3f}</div><div class="rag-metric-name">{esc(key)}</div></div>'
        )
    head = (
        f"<strong>{esc(summary.get('name', ''))}</strong>{esc(mode)}: "
        f"{esc(counts.get('questions', 0))} questions · {esc(counts.get('errors', 0))} errors · "
        f"{esc(counts.get('abstained', 0))} abstained"
    )
    grid = "".join(cells) or '<div class="rag-empty">No metric applies to these questions.</div>'
    metrics_row = f'<div class="rag-metrics">{grid}</div>'
    return f'<div class="rag-eval-summary"><div>{head}</div>{metrics_row}</div>'


def report_frame(report_html: str) -> str:
    """A run's self-contained report.html shown inline in a sandboxed frame (no scripts run)."""
    return (
        '<iframe class="rag-eval-report" title="Evaluation report" sandbox'
        ' referrerpolicy="no-referrer"'
        f' srcdoc="{html.escape(report_html, quote=True)}"></iframe>'
    )
