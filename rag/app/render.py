"""Pure functions turning answers and articles into HTML for the web app.

Every piece of text that comes from an article, a user or the LLM goes through `esc()` before
it reaches the page, so a `<script>` or an `onerror=` in any of them stays inert text. Links
to originals are only made for http(s) URLs. Clickable references are plain anchors
`#rag-<turn>-<kind>-<n>` (kind `c`: a citation, `p`: a retrieved passage) that the page's
click handler (panels.SOURCES_JS) turns into an "open this in the viewer" event. The sources
panel and the article viewer are in `panels.py`.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from rag.answering.compose import QUOTE_LABEL, Answer, closest
from rag.answering.confidence import in_words
from rag.citations import Citation, Passage, Sentence

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


def meta_line(source: str, date: str) -> str:
    """'Source · date', escaped, leaving out whichever is empty."""
    return " · ".join(esc(x) for x in (source, date) if x)


def ext_link(url: str | None) -> str:
    """' · original ↗' linking to a safe URL in a new tab, or nothing."""
    if not url:
        return ""
    return (
        f' · <a class="rag-ext" href="{html.escape(url, quote=True)}" target="_blank"'
        ' rel="noopener noreferrer nofollow">original ↗</a>'
    )


def marked(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
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


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The text on one line, cut at a word before `limit` characters."""
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


FLAG_TEXT = "⚑ not verified"
LEFT_OUT_TEXT = "left out"
CONFLICT_TEXT = "⇄ articles disagree"
LEGEND = {
    "flag": f"<b>{FLAG_TEXT}</b>: the cited passages do not back this sentence",
    "left": f"<b>{LEFT_OUT_TEXT}</b>: the model proposed it, but it failed the check named"
    " beside it, so it is not part of the answer",
    "conflict": f"<b>{CONFLICT_TEXT}</b>: the sources give different figures or names",
}


def legend_html(kinds: Sequence[str]) -> str:
    """What each label shown in an answer means, for those shown."""
    shown = " · ".join(LEGEND[k] for k in kinds)
    return f'<div class="rag-legend">Labels: {shown}</div>' if shown else ""


def badge(kind: str, text: str) -> str:
    """A small label in words (kind: flag, left, conflict, pending), readable in both themes."""
    return f'<span class="rag-badge rag-badge-{kind}">{esc(text)}</span>'


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
    return (
        f'<span class="rag-unsupported" title="{esc(reason)}">{body}</span>'
        f'{badge("flag", FLAG_TEXT)}<span class="rag-reason">({esc(reason)})</span>'
    )


def _left_out_html(left_out: Sequence[Sentence]) -> str:
    """The claims the verifier dropped, behind a "why not shown" toggle, each with its reason."""
    items = "".join(
        f"<li>{esc(s.text)} "
        f'<span class="rag-reason">({esc(s.reason or "not checked against the articles")})</span>'
        "</li>"
        for s in left_out
    )
    if not items:
        return ""
    return (
        f'<details class="rag-why"><summary>{badge("left", LEFT_OUT_TEXT)} Why not shown'
        f' ({len(left_out)})</summary><ul class="rag-left-out">{items}</ul></details>'
    )


def _tools_html(copy: str) -> str:
    """The copy link with the plain text it copies (answer and citations) hidden beside it."""
    if not copy:
        return ""
    return (
        '<div class="rag-tools"><a class="rag-copy" href="#rag-copy" title="Copy the answer'
        f' with its citations">Copy with citations</a><span class="rag-copytext">{esc(copy)}'
        "</span></div>"
    )


def answer_html(answer: Answer, turn: int, copy: str = "") -> str:
    """The assistant's chat message: query line, notice, answer with clickable [n] markers,
    labelled flagged and left-out claims with a legend, and the copy link."""
    cited = {c.n for c in answer.citations}
    passages = {p.n for p in answer.passages}
    head = ""
    if answer.query and answer.query.strip() != answer.question.strip():
        head += f'<div class="rag-query">Searched for: <q>{esc(answer.query)}</q></div>'
    if answer.notice:
        head += f'<div class="rag-notice">{esc(answer.notice)}</div>'
    if answer.disagreement:
        head += f"<div>{badge('conflict', CONFLICT_TEXT)}</div>"
    left_out = _left_out_html(answer.left_out)
    kinds = [
        kind
        for kind, shown in (
            ("flag", any(not s.supported for s in answer.sentences)),
            ("left", bool(left_out)),
            ("conflict", answer.disagreement),
        )
        if shown
    ]
    legend = legend_html(kinds)
    if answer.abstained:
        return abstention_html(answer, turn, head, left_out + legend)
    items = [_sentence_html(s, turn, cited, passages) for s in answer.sentences]
    if len(items) > 1 and answer.kind != "factoid" and answer.mode == "generated":
        body = '<ul class="rag-points">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
    else:
        label = f"{esc(QUOTE_LABEL)} " if answer.text.startswith(QUOTE_LABEL) else ""
        text = " ".join(items) if items else _marker_links(answer.text, turn, cited, passages)
        body = f"<p>{label}{text}</p>"
    sure = in_words(answer)
    body += f'<div class="rag-confidence">{esc(sure)}</div>' if sure else ""
    tail = left_out + legend + _tools_html(copy)
    return f'<div class="rag-answer">{head}{body}{tail}</div>'


def abstention_html(answer: Answer, turn: int, head: str = "", tail: str = "") -> str:
    """A clearly marked "not found" box offering the closest passages (`head`: query line,
    `tail`: the left-out claims and their legend)."""
    text = answer.text or "The articles do not answer this question."
    shown = {p.n for p in answer.passages}
    items = "".join(
        f'<li><a class="rag-cite" href="#{ref(turn, "p", p.n)}">[{p.n}]</a> '
        f"<strong>{esc(p.title or p.article_id)}</strong>: {esc(snippet(p.text, 140))}</li>"
        for p in closest(answer.passages)
    )
    listed = f"<div>Closest passages:</div><ul>{items}</ul>" if items else ""
    return (
        f'<div class="rag-answer rag-abstain">{head}<div class="rag-abstain-head">'
        "⚠ No answer found in the articles</div>"
        f"<p>{_marker_links(text, turn, set(), shown)}</p>{listed}{tail}</div>"
    )


def streaming_html(text: str, status: str = "") -> str:
    """The assistant's message while the answer streams in (markers not yet clickable)."""
    body = esc(text).replace("\n", "<br>")  # cited points stream one per line
    line = f'<div class="rag-status">{esc(status)}</div>' if status else ""
    return f'<div class="rag-answer">{line}<p>{body}</p></div>'


def error_html(message: str) -> str:
    """An assistant message for a failure the user can act on."""
    return f'<div class="rag-answer rag-notice">⚠ {esc(message)}</div>'


def notice_html(message: str) -> str:
    """A one-line message (Library and Evaluate tabs)."""
    return f'<div class="rag-notice">{esc(message)}</div>'
