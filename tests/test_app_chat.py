"""The Chat and Settings tabs' handlers, called directly: no server, no browser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from fake_llm import ScriptedLLM
from helpers import GAS_QUESTION, cite_first_passage

from rag.answering.engine import Engine
from rag.app import chat, export, history, render
from rag.app.render import MARKER_RE
from rag.chat import Conversations
from rag.embedded import EmbeddedLLM


def run(gen: Iterator[chat.ChatView]) -> list[chat.ChatView]:
    return list(gen)


def test_respond_streams_then_cites(engine: Engine, conversations: Conversations) -> None:
    views = run(
        chat.respond(engine, conversations, "What offensive is Peru preparing?", None, "b1")
    )
    assert len(views) >= 3  # searching, streaming, done
    assert "rag-status" in views[0][0][-1]["content"]
    messages, sources, session, box, browser_id = views[-1]
    assert box == "" and browser_id == "b1"
    assert messages[0] == {"role": "user", "content": "What offensive is Peru preparing?"}
    assert 'href="#rag-0-c-1"' in messages[1]["content"]
    assert "Peru Prepares Major Offensive" in sources
    answer = session["turns"][0]["answer"]
    assert answer["citations"][0]["n"] == 1
    # persisted, listed for this browser only
    ((chat_id, title, _),) = conversations.list("b1")
    assert chat_id == session["chat_id"] and title == "What offensive is Peru preparing?"
    assert conversations.list("b2") == []

    # a follow-up is searched with the question it leans on and says what it searched for
    views = run(chat.respond(engine, conversations, "And who leads them?", session, "b1"))
    messages, _, session, _, _ = views[-1]
    assert len(session["turns"]) == 2 and session["chat_id"] == chat_id
    searched = "And who leads them? (earlier: What offensive is Peru preparing?)"
    assert f"Searched for: <q>{render.esc(searched)}</q>" in messages[3]["content"]
    assert len(conversations.load(chat_id)) == 4

    # clicking [1] of the first answer opens its article with the passage highlighted
    viewer, panel = chat.open_ref(engine, "rag-0-c-1", session)
    article = engine.store.article(answer["citations"][0]["article_id"])
    assert article is not None
    passage = article.text[answer["citations"][0]["start"] : answer["citations"][0]["end"]]
    assert render.esc(passage.split("\n")[0][:40]) in viewer
    assert '<mark class="rag-focus">' in viewer and '<mark class="rag-support">' in viewer
    assert "rag-active" in panel
    assert "rag-focus" not in chat.open_ref(engine, "rag-9-c-1", session)[0]
    assert "rag-focus" not in chat.open_ref(engine, "garbage", None)[0]

    # reopening: the owner gets the chat back, anyone else gets nothing
    messages2, sources2, _, reopened = history.open_chat(conversations, chat_id, "b1")
    assert len(reopened["turns"]) == 2 and messages2[1] == messages[1]
    assert history.open_chat(conversations, chat_id, "intruder")[3]["turns"] == []
    assert history.chat_choices(conversations, "b1")[0][1] == chat_id
    assert chat.history_of(reopened)[0]["role"] == "user"


def test_respond_validates_dates_and_empty(engine: Engine, conversations: Conversations) -> None:
    views = run(chat.respond(engine, conversations, "q?", None, "b", since="last week"))
    assert "not a date like" in views[-1][0][-1]["content"]
    assert views[-1][3] == "q?"  # the question stays in the box to fix
    assert run(chat.respond(engine, conversations, "   ", None, "b"))[-1][0] == []


def test_respond_filters_by_source(engine: Engine, conversations: Conversations) -> None:
    sources = engine.store.sources()
    views = run(chat.respond(engine, conversations, "offensive", None, "b", 4, True, [sources[-1]]))
    answer = views[-1][2]["turns"][0]["answer"]
    assert answer["passages"] and {p["source"] for p in answer["passages"]} == {sources[-1]}


def test_respond_reports_llm_failure(engine: Engine, conversations: Conversations,
                                     llm: ScriptedLLM) -> None:  # fmt: skip
    llm.mode = "http500"
    try:
        views = run(chat.respond(engine, conversations, "Shining Path offensive?", None, "b"))
    finally:
        llm.mode = "ok"
    content = views[-1][0][-1]["content"]
    assert "rag-notice" in content and "HTTP 500" in content  # extractive fallback notice


def test_new_chat_resets() -> None:
    messages, sources, viewer, session, past = chat.new_chat()
    assert messages == [] and session == chat.new_session() and past is None
    assert "Ask a question" in sources and "article viewer" in viewer


def test_llm_status(engine: Engine, tmp_path: Path) -> None:
    line, loading = chat.llm_status(engine)
    assert "Ready" in line and not loading
    none = Engine(engine.settings, engine.store, engine.embedder, None)
    assert chat.llm_status(none) == (
        "LLM: none. Answers quote the most relevant passages.",
        False,
    )
    embedded = Engine(engine.settings, engine.store, engine.embedder, EmbeddedLLM(engine.settings))
    line, loading = chat.llm_status(embedded)
    assert loading and "Loading model…" in line


def test_sources_come_before_the_answer(engine: Engine, conversations: Conversations) -> None:
    views = run(chat.respond(engine, conversations, "What offensive is Peru preparing?", None, "b"))
    pending = [v for v in views if "rag-pending" in v[1]]
    assert pending, "no view showed the sources while the answer was written"
    assert "rag-status" in pending[0][0][-1]["content"]  # still waiting for the answer
    assert "rag-pending" not in views[-1][1]
    passages = views[-1][2]["turns"][0]["answer"]["passages"]
    waiting = {"chat_id": None, "turns": [{"question": "q", "passages": passages}]}
    viewer, panel = chat.open_ref(engine, "rag-0-p-1", waiting)  # opens before the answer
    assert "rag-focus" in viewer and "rag-pending" in panel


def test_history_rename_delete_search_and_export(
    engine: Engine, conversations: Conversations
) -> None:
    first = run(chat.respond(engine, conversations, "What offensive is Peru preparing?", None, "b"))
    session = first[-1][2]
    run(chat.respond(engine, conversations, "Who claimed the kidnapping?", None, "b"))
    assert history.last_chat_id(conversations, "b") != session["chat_id"]  # newest first
    assert len(history.chat_choices(conversations, "b")) == 2
    ((label, chat_id),) = history.chat_choices(conversations, "b", "OFFENSIVE peru")
    assert chat_id == session["chat_id"] and label.startswith("What offensive is Peru preparing?")
    assert "Renamed" in history.rename_chat(conversations, session, "b", "  Peru  plans ")
    assert history.chat_choices(conversations, "b", "plans")[0][0].startswith("Peru plans · ")
    assert "Open a past" in history.rename_chat(conversations, session, "intruder", "x")
    assert "Open a past" in history.delete_chat(conversations, session, "intruder")

    md_path, json_path = history.export_chat(session) or []
    markdown = Path(md_path).read_text()
    answer = render.answer_from_dict(session["turns"][0]["answer"])
    n = answer.citations[0].n
    assert markdown.startswith("# What offensive is Peru preparing?\n\n## What offensive")
    assert f"[^1-{n}]: {answer.citations[0].title} — " in markdown and "“" in markdown
    assert json.loads(Path(json_path).read_text())["turns"][0]["question"].startswith("What")
    copied = export.copy_text(answer)
    assert f"\n\nSources:\n[{n}] {answer.citations[0].title}" in copied
    assert history.export_chat(chat.new_session()) is None

    assert "Deleted" in history.delete_chat(conversations, session, "b")
    assert len(history.chat_choices(conversations, "b")) == 1


def test_reading_on_clears_the_first_try(
    engine: Engine, conversations: Conversations, llm: ScriptedLLM
) -> None:
    """A figure from nowhere is left out, the model reads the next sentences: the words of its
    first try leave the screen when the new sources come."""
    tries = iter(["6,300", "7,400"])

    def made_up(request: dict) -> str:
        lines = request["messages"][-1]["content"].splitlines()
        first = next(int(line[1:].split("]")[0]) for line in lines if line.startswith("["))
        return json.dumps({"answers": [{"answer": next(tries), "evidence": [first]}]})

    llm.responder = made_up
    try:
        views = run(chat.respond(engine, conversations, GAS_QUESTION, None, "b"))
    finally:
        llm.responder = cite_first_passage
    shown = [v[0][-1]["content"] for v in views]
    first = next(i for i, text in enumerate(shown) if "6,300" in text)
    second = next(i for i, text in enumerate(shown) if "7,400" in text)
    assert first < second and "6,300" not in shown[second]
    assert views[-1][2]["turns"][0]["answer"]["abstained"]


def test_the_chat_hint_counts_the_articles_and_asks_about_their_titles(
    engine: Engine, conversations: Conversations
) -> None:
    line, examples = chat.library_hint(engine)
    count = len(engine.store.articles())
    assert line.startswith(f"The library holds {count} articles from ")
    assert len(examples) == chat.EXAMPLES
    titles = {a.title for a in engine.store.articles()}
    assert all(any(e.split("“")[1].rstrip("”?") in t for t in titles) for e in examples)
    assert "– Report" not in " ".join(examples)  # a site's suffix is no subject
    views = run(chat.respond(engine, conversations, examples[0], None, "b"))
    assert views[-1][2]["turns"][0]["answer"]["kind"] == "summary"  # asked as a summary


def test_exported_file_names_end_between_words() -> None:
    question = "How many natural gas workers were kidnapped in La Convención in April?"
    paths = export.write_exports([{"question": question, "error": "x"}], question)
    stems = {Path(p).stem for p in paths}
    assert stems == {"How-many-natural-gas-workers-were"}  # not "…-were-kidnap"
    assert export.file_stem("x" * 90) == "x" * 40  # one long word: cut, as nothing else fits


def test_export_keeps_offsets_and_sentences_and_footnotes_a_refusal(
    engine: Engine, conversations: Conversations, llm: ScriptedLLM
) -> None:
    """The JSON export says what each [n] opens by offsets and the cited sentence, not with the
    passages the model read; a refusal's [n] gets a Markdown footnote like a citation's."""
    session = run(chat.respond(engine, conversations, GAS_QUESTION, None, "b"))[-1][2]
    llm.responder = lambda request: json.dumps({"answers": [{"answer": "6,300", "evidence": [1]}]})
    try:
        session = run(chat.respond(engine, conversations, GAS_QUESTION, session, "b"))[-1][2]
    finally:
        llm.responder = cite_first_passage
    answered, refused = (render.answer_from_dict(t["answer"]) for t in session["turns"])
    assert not answered.abstained and answered.citations
    assert refused.abstained and MARKER_RE.search(refused.text)

    md_path, json_path = history.export_chat(session) or []
    exported = Path(json_path).read_text()
    first, second = (t["answer"] for t in json.loads(exported)["turns"])
    (cited,) = [s for s in first["citations"] if s["n"] == answered.citations[0].n]
    article = engine.store.article(cited["article_id"])
    assert article is not None
    start, end = cited["support"]
    assert cited["sentence"] == " ".join(article.text[start:end].split())
    assert cited["start"] <= start < end <= cited["end"]
    assert not {"passages", "retrieved", "sentences", "timings"} & first.keys()
    assert len(exported) * 4 < len(json.dumps(session["turns"]))  # the passages were the bulk

    quoted = {int(m[1]) for m in MARKER_RE.finditer(refused.text)}
    assert quoted and {s["n"] for s in second["citations"]} == quoted
    markdown = Path(md_path).read_text()
    for n in quoted:
        assert f"[^2-{n}]" in markdown.split("## ")[2].split("\n\n[^")[0]  # in the refusal
        assert f"\n[^2-{n}]: " in markdown  # and defined below it
        assert f"\n[{n}] " in export.copy_text(refused).split("\nSources:")[1]
