"""A conversation as Markdown (citations as footnotes) or JSON, and one answer as copied text."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from rag.answering.compose import Answer
from rag.app.render import MARKER_RE, answer_from_dict, safe_url, snippet, support_sentence
from rag.citations import Citation

_EXPORTS: Path | None = None
STEM_CHARS = 40  # an exported file name's length at most, from the first question


def _referenced(answer: Answer) -> list[Citation]:
    """What the answer's [n] markers open, by number: its citations, and in a refusal the
    closest passages it quotes (with no supporting sentence of their own)."""
    cited = {c.n: c for c in answer.citations}
    quoted = {int(m[1]) for m in MARKER_RE.finditer(answer.text)} - cited.keys()
    closest = {p.n: Citation.of(p, None) for p in answer.passages if p.n in quoted}
    return [c for _, c in sorted((cited | closest).items())]


def _quote(c: Citation) -> str:
    """The supporting sentence on one line; a passage without one: its start."""
    return " ".join(support_sentence(c).split()) if c.support else snippet(c.text)


def citation_line(c: Citation) -> str:
    """'Title — Source, 2014-01-02, https://… “the supporting sentence”'."""
    facts = ", ".join(x for x in (c.source, c.date, safe_url(c.url) or "") if x)
    return f"{c.title or c.article_id}" + (f" — {facts}" if facts else "") + f". “{_quote(c)}”"


def copy_text(answer: Answer) -> str:
    """The answer with [n] markers and its numbered citations below: what the copy link copies."""
    lines = [answer.text.strip()]
    if sources := _referenced(answer):
        lines += ["", "Sources:"] + [f"[{c.n}] {citation_line(c)}" for c in sources]
    return "\n".join(lines)


def _left_out(answer: Answer) -> list[str]:
    return [
        f"- *left out:* {s.text} ({s.reason or 'no article supports it'})" for s in answer.left_out
    ]


def answer_markdown(answer: Answer, turn: int) -> str:
    """One answer in Markdown: [n] markers become footnotes `[^turn-n]` defined below it."""
    sources = _referenced(answer)
    known = {c.n for c in sources}

    def footnote(match: re.Match[str]) -> str:
        n = int(match[1])
        return f"[^{turn}-{n}]" if n in known else match[0]

    body = MARKER_RE.sub(footnote, answer.text.strip())
    notes = [f"[^{turn}-{c.n}]: {citation_line(c)}" for c in sources]
    flags = ["", "*The articles disagree on this.*"] if answer.disagreement else []
    extra = ["", *_left_out(answer)] if answer.left_out else []
    return "\n".join([body, *flags, *extra, "", *notes]).rstrip()


def conversation_markdown(turns: list[dict[str, Any]], title: str = "") -> str:
    """The whole conversation: each question as a heading, then its answer with footnotes."""
    title = title or (turns[0]["question"] if turns else "Conversation")
    parts = [f"# {title}"]
    for i, turn in enumerate(turns, 1):
        parts.append(f"## {turn['question']}")
        if turn.get("answer"):
            parts.append(answer_markdown(answer_from_dict(turn["answer"]), i))
        else:
            parts.append(f"*{turn.get('error') or 'No answer.'}*")
    return "\n\n".join(parts) + "\n"


def answer_json(answer: Answer) -> dict[str, Any]:
    """One answer for the JSON export: its text and flags, and what each [n] opens as offsets
    into its article with the cited sentence. Not the passages the model read: those made a
    six-turn export 162 KB, and the offsets find them again in the article."""
    return {
        "text": answer.text,
        "abstained": answer.abstained,
        "disagreement": answer.disagreement,
        "kind": answer.kind,
        "notice": answer.notice,
        "citations": [_source_json(c) for c in _referenced(answer)],
        "left_out": [{"text": s.text, "reason": s.reason} for s in answer.left_out],
    }


def _source_json(c: Citation) -> dict[str, Any]:
    """A cited passage (or a refusal's closest one) by offsets, with its supporting sentence."""
    return {
        "n": c.n,
        "article_id": c.article_id,
        "title": c.title,
        "source": c.source,
        "date": c.date,
        "url": safe_url(c.url) or "",
        "start": c.start,
        "end": c.end,
        "support": list(c.support) if c.support else None,
        "sentence": _quote(c),
    }


def conversation_json(turns: list[dict[str, Any]]) -> str:
    """The conversation as JSON: every question with its answer (`answer_json`) or error."""
    items = [
        {
            "question": t["question"],
            "answer": answer_json(answer_from_dict(t["answer"])) if t.get("answer") else None,
            "error": t.get("error"),
        }
        for t in turns
    ]
    return json.dumps({"turns": items}, ensure_ascii=False, indent=2)


def file_stem(text: str, limit: int = STEM_CHARS) -> str:
    """A safe file name from a question, cut between words, never inside one.

    >>> file_stem("How many natural gas workers were kidnapped in April?")
    'How-many-natural-gas-workers-were'
    """
    words = re.sub(r"[^A-Za-z0-9_-]+", " ", text).split()
    kept = []
    for word in words:
        if len("-".join([*kept, word])) > limit:
            break
        kept.append(word)
    return "-".join(kept) or (words[0][:limit] if words else "") or "conversation"


def write_exports(turns: list[dict[str, Any]], stem: str) -> list[str]:
    """Both exports written to a private temporary folder; their paths, for download."""
    global _EXPORTS
    if _EXPORTS is None or not _EXPORTS.is_dir():
        _EXPORTS = Path(tempfile.mkdtemp(prefix="rag-exports-"))
    safe = file_stem(stem)
    md, js = _EXPORTS / f"{safe}.md", _EXPORTS / f"{safe}.json"
    md.write_text(conversation_markdown(turns), encoding="utf-8")
    js.write_text(conversation_json(turns), encoding="utf-8")
    return [str(md), str(js)]
