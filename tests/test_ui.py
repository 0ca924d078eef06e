"""The web app's handlers and HTML rendering, called directly: no server, no browser."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fake_llm import ScriptedLLM
from fakes import FakeEmbedder

import ui
from rag import eval_app, render
from rag.answer import Answer, Citation, Engine, Passage, Sentence
from rag.chat import Conversations
from rag.errors import ConfigError
from rag.indexer import stamp_for
from rag.llm import EmbeddedLLM, make_llm
from rag.settings import Settings
from rag.store import Store

ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> ![i](http://evil.test/x.png)'
ALLOWED_TAGS = {"div", "p", "a", "span", "q", "mark", "strong", "ul", "li", "details", "summary"}
ALLOWED_TAGS |= {"h4"}


def cite_first_passage(request: dict[str, Any]) -> str:
    """Scripted LLM: answer with the first sentence of passage [1], cited; rewrite follow-ups."""
    user = request["messages"][-1]["content"]
    if "Standalone query" in user:
        asked = user.rsplit("user:", 1)[-1].split("\n", 1)[0].strip()
        return f"Shining Path offensive VRAE {asked}"
    match = re.search(r"\[1\][^\n]*\n<<<(.*?)>>>", user, re.S)
    if not match:
        return "I don't know."
    first = re.split(r"(?<=[.!?])\s", match.group(1).strip())[0]
    return f"{first} [1]"


class TagCollector(HTMLParser):
    """Collects (tag, attributes) of every start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert(markup: str) -> None:
    """Only our own tags and attributes: no script, no image, no event handler, no src."""
    parser = TagCollector()
    parser.feed(markup)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "src", (tag, name)
            if name == "href":
                assert value and (value.startswith("#rag-") or value.startswith("http")), value


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    """The scripted OpenAI-compatible server, answering from passage [1]."""
    with ScriptedLLM() as server:
        server.responder = cite_first_passage
        yield server


@pytest.fixture(scope="module")
def engine(llm: ScriptedLLM, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The bundled articles indexed with the fake embedder, answered by the scripted LLM."""
    tmp = tmp_path_factory.mktemp("ui")
    settings = Settings(
        llm_backend="openai",
        llm_base_url=llm.base_url,
        llm_api_key="test",
        index_dir=tmp / "index",
        articles_dir=ARTICLES,
        abstain_threshold=-1.0,
        max_upload_mb=0.01,
    )
    emb = FakeEmbedder()
    eng = Engine(settings, Store(settings, stamp_for(settings, emb)), emb, make_llm(settings))
    assert ui.index_if_empty(eng, out=lambda _: None) is not None
    return eng


@pytest.fixture
def conversations(tmp_path: Path) -> Conversations:
    return Conversations(tmp_path / "chats.sqlite3")


def sample_answer() -> Answer:
    """An answer with one supported cited sentence, one unsupported one and an uncited passage."""
    text = "Intro sentence. The workers were freed after six days. Other text."
    start = 100
    passages = [
        Passage(1, "a1#0", "a1", "Title <b>", "Src", "2012-04-23", "https://ex.test/a?x=1#old",
                text, start, start + len(text)),
        Passage(2, "a2#0", "a2", "Other", "Src2", "", "javascript:alert(1)", "Uncited text.",
                0, 13),
    ]  # fmt: skip
    citation = Citation(**vars(passages[0]), support=(start + 16, start + 54))
    sentences = [
        Sentence("The workers were freed.", [1]),
        Sentence("They were paid a ransom.", [], supported=False, reason="No passage says so."),
    ]
    return Answer(
        "Were they freed?", "Were the gas workers freed?", "The workers were freed [1]. …",
        False, "generated", [citation], sentences, passages,
    )  # fmt: skip


# -- rendering ----------------------------------------------------------------------------------


def test_answer_html_markers_unsupported_and_query() -> None:
    html = render.answer_html(sample_answer(), 3)
    assert '<a class="rag-cite" href="#rag-3-c-1"' in html
    assert "The workers were freed <a" in html and "[1]</a>." in html
    assert 'class="rag-unsupported" title="No passage says so."' in html
    assert "Searched for: <q>Were the gas workers freed?</q>" in html
    assert_inert(html)


def test_everything_is_escaped() -> None:
    answer = sample_answer()
    answer.question = answer.query = XSS
    answer.sentences = [Sentence(XSS + " [1]", [1])]
    answer.citations[0].title = XSS
    answer.citations[0].text = XSS
    answer.notice = XSS
    for markup in (
        render.answer_html(answer, 0),
        render.sources_html(answer, 0),
        render.streaming_html(XSS, XSS),
        render.error_html(XSS),
        render.article_html(XSS, XSS, XSS, XSS, XSS, (2, 20), (5, 9)),
        render.index_report_html(None, [(XSS, XSS)]),
    ):
        assert_inert(markup)
        assert "<script" not in markup and "<img" not in markup and "](" not in markup


def test_abstention_offers_closest_passages() -> None:
    answer = sample_answer()
    answer.abstained, answer.citations, answer.sentences = True, [], []
    answer.text = "The articles do not say."
    html = render.answer_html(answer, 0)
    assert "No answer found in the articles" in html and "rag-abstain" in html
    assert 'href="#rag-0-p-1"' in html and 'href="#rag-0-p-2"' in html
    panel = render.sources_html(answer, 0)
    assert "<details" in panel and " open>" in panel and "Closest passages (2)" in panel


def test_sources_panel() -> None:
    panel = render.sources_html(sample_answer(), 0, active="rag-0-c-1")
    assert 'class="rag-src rag-active" data-rag-ref="rag-0-c-1"' in panel
    assert '<mark class="rag-support">The workers were freed after six days.</mark>' in panel
    assert (
        'href="https://ex.test/a?x=1#:~:text=The%20workers%20were%20freed%20after%20six%20days"'
        in panel
    )
    assert "Title &lt;b&gt;" in panel and "Src · 2012-04-23" in panel
    assert "Retrieved but not cited (1)" in panel and 'data-rag-ref="rag-0-p-2"' in panel
    assert "javascript:" not in panel  # unsafe URL: no link at all
    assert_inert(panel)
    assert "Ask a question" in render.sources_html(None, 0)


def test_article_viewer_highlights_passage_and_support() -> None:
    text = "Before. Passage one. Support here. After."
    html = render.article_html("T", "S", "2020-01-01", "http://x.test/p", text, (8, 34), (21, 34))
    assert (
        'Before. <mark class="rag-focus">Passage one. '
        '<mark class="rag-support">Support here.</mark></mark> After.'
    ) in html
    assert "http://x.test/p#:~:text=Support%20here" in html
    assert "rag-focus" not in render.article_html("T", "", "", "", text)


def test_text_fragment_and_refs() -> None:
    assert render.text_fragment("Well-known, fact & more: one two three four five") == (
        "#:~:text=Well%2Dknown%2C%20fact%20%26%20more%3A%20one%20two%20three%20four"
    )
    assert render.parse_ref("rag-2-c-11") == (2, "c", 11)
    assert render.parse_ref("#rag-0-p-1") == (0, "p", 1)
    assert render.parse_ref("rag-x-c-1") is None and render.parse_ref("") is None
    assert render.safe_url("file:///etc/passwd") is None
    assert render.safe_url("https://a.test/x") == "https://a.test/x"


def test_answer_dict_round_trip() -> None:
    answer = sample_answer()
    again = render.answer_from_dict(render.answer_to_dict(answer))
    assert again == answer
    assert render.answer_from_dict({"question": "q", "extra": 1}).query == "q"


# -- configuration ------------------------------------------------------------------------------


def test_bind_requires_auth_beyond_loopback() -> None:
    assert ui.check_bind("127.0.0.1", None) is None
    assert ui.check_bind("0.0.0.0", "me:secret") == ("me", "secret")
    assert ui.parse_auth("me:pa:ss") == ("me", "pa:ss")
    with pytest.raises(ConfigError, match="without a password"):
        ui.check_bind("0.0.0.0", None)
    with pytest.raises(ConfigError, match="user:password"):
        ui.check_bind("127.0.0.1", "nopassword")


def test_serve_refuses_public_host_without_auth(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "i", llm_backend="none", auth=None)
    with pytest.raises(ConfigError, match="--auth"):
        ui.serve(settings, host="0.0.0.0", block=False)
    assert not (tmp_path / "i").exists()  # refused before opening anything


def test_browser_secret_is_stable(tmp_path: Path) -> None:
    first = ui.browser_secret(tmp_path / "state")
    assert ui.browser_secret(tmp_path / "state") == first and len(first) > 20


# -- chat handlers ------------------------------------------------------------------------------


def run(gen: Iterator[ui.ChatView]) -> list[ui.ChatView]:
    return list(gen)


def test_respond_streams_then_cites(engine: Engine, conversations: Conversations) -> None:
    views = run(ui.respond(engine, conversations, "What offensive is Peru preparing?", None, "b1"))
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

    # a follow-up is condensed from the history and says what it searched for
    views = run(ui.respond(engine, conversations, "And who leads them?", session, "b1"))
    messages, _, session, _, _ = views[-1]
    assert len(session["turns"]) == 2 and session["chat_id"] == chat_id
    assert "Searched for: <q>Shining Path offensive VRAE" in messages[3]["content"]
    assert len(conversations.load(chat_id)) == 4

    # clicking [1] of the first answer opens its article with the passage highlighted
    viewer, panel = ui.open_ref(engine, "rag-0-c-1", session)
    article = engine.store.article(answer["citations"][0]["article_id"])
    assert article is not None
    passage = article.text[answer["citations"][0]["start"] : answer["citations"][0]["end"]]
    assert render.esc(passage.split("\n")[0][:40]) in viewer
    assert '<mark class="rag-focus">' in viewer and '<mark class="rag-support">' in viewer
    assert "rag-active" in panel
    assert "rag-focus" not in ui.open_ref(engine, "rag-9-c-1", session)[0]
    assert "rag-focus" not in ui.open_ref(engine, "garbage", None)[0]

    # reopening: the owner gets the chat back, anyone else gets nothing
    messages2, sources2, _, reopened = ui.open_chat(conversations, chat_id, "b1")
    assert len(reopened["turns"]) == 2 and messages2[1] == messages[1]
    assert ui.open_chat(conversations, chat_id, "intruder")[3]["turns"] == []
    assert ui.chat_choices(conversations, "b1")[0][1] == chat_id
    assert ui.history_of(reopened)[0]["role"] == "user"


def test_respond_validates_dates_and_empty(engine: Engine, conversations: Conversations) -> None:
    views = run(ui.respond(engine, conversations, "q?", None, "b", since="last week"))
    assert "not a date like" in views[-1][0][-1]["content"]
    assert views[-1][3] == "q?"  # the question stays in the box to fix
    assert run(ui.respond(engine, conversations, "   ", None, "b"))[-1][0] == []


def test_respond_filters_by_source(engine: Engine, conversations: Conversations) -> None:
    sources = engine.store.sources()
    views = run(ui.respond(engine, conversations, "offensive", None, "b", 4, True, [sources[-1]]))
    answer = views[-1][2]["turns"][0]["answer"]
    assert answer["passages"] and {p["source"] for p in answer["passages"]} == {sources[-1]}


def test_respond_reports_llm_failure(engine: Engine, conversations: Conversations,
                                     llm: ScriptedLLM) -> None:  # fmt: skip
    llm.mode = "http500"
    try:
        views = run(ui.respond(engine, conversations, "Shining Path offensive?", None, "b"))
    finally:
        llm.mode = "ok"
    content = views[-1][0][-1]["content"]
    assert "rag-notice" in content and "HTTP 500" in content  # extractive fallback notice


def test_new_chat_resets() -> None:
    messages, sources, viewer, session, past = ui.new_chat()
    assert messages == [] and session == ui.new_session() and past is None
    assert "Ask a question" in sources and "article viewer" in viewer


# -- library handlers ---------------------------------------------------------------------------


def test_sanitize_filename() -> None:
    assert ui.sanitize_filename("../../etc/passwd") == "passwd"
    assert ui.sanitize_filename("C:\\x\\Évil name<script>.TXT") == "Evil_name_script_.txt"
    assert ui.sanitize_filename("...hidden.md") == "hidden.md"
    assert ui.sanitize_filename("") == "upload"
    assert len(ui.sanitize_filename("a" * 300 + ".html")) <= ui.MAX_NAME_CHARS


def test_upload_index_and_remove(engine: Engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = inbox / "Llama Farm!.txt"
    good.write_text(
        "Title: Llamas of Puno\nSource: Test Wire\nDate: 2024-05-01\n\n"
        "The alpaca herders of Puno counted 4,000 llamas this spring. "
        "The regional office said the herd grew by a tenth.\n"
    )
    bad = inbox / "tool.exe"
    bad.write_bytes(b"MZ")
    big = inbox / "big.txt"
    big.write_text("x " * 10_000)
    calls: list[tuple[float, str]] = []
    report, rows = ui.index_uploads(
        engine, [str(good), str(bad), str(big)], lambda f, desc="": calls.append((f, desc))
    )
    assert "Added 1 article" in report
    assert "tool.exe" in report and "not a supported type" in report
    assert "big.txt" in report and "upload limit" in report
    saved = engine.settings.state_dir / "uploads" / "Llama_Farm_.txt"
    assert saved.exists()
    assert any(r[0] == "Llamas of Puno" and r[1] == "Test Wire" for r in rows)
    assert calls and calls[-1][0] == 1.0
    # the same text again is a duplicate or unchanged, never a second article
    copy = inbox / "copy.txt"
    copy.write_text(good.read_text())
    report2, rows2 = ui.index_uploads(engine, [str(copy)])
    assert "same text as the indexed article" in report2 and len(rows2) == len(rows)
    # remove it
    article_id = next(r[4] for r in rows if r[0] == "Llamas of Puno")
    message, rows3 = ui.remove_article(engine, article_id)
    assert "Removed Llamas of Puno" in message and len(rows3) == len(rows) - 1
    assert "not in the library" in ui.remove_article(engine, article_id)[0]
    assert "Choose" in ui.remove_article(engine, None)[0]
    assert "Uploaded files" in ui.index_uploads(engine, None)[0]


def test_library_rows(engine: Engine) -> None:
    rows = ui.library_rows(engine)
    assert len(rows) >= 5 and all(len(r) == len(ui.LIBRARY_HEADERS) for r in rows)
    assert {r[4] for r in rows} == {a.id for a in engine.store.articles()}
    assert len(ui.article_choices(engine)) == len(rows)


def test_llm_status(engine: Engine, tmp_path: Path) -> None:
    line, loading = ui.llm_status(engine)
    assert "Ready" in line and not loading
    none = Engine(engine.settings, engine.store, engine.embedder, None)
    assert ui.llm_status(none) == ("LLM: none. Answers quote the most relevant passages.", False)
    embedded = Engine(engine.settings, engine.store, engine.embedder, EmbeddedLLM(engine.settings))
    line, loading = ui.llm_status(embedded)
    assert loading and "Loading model…" in line


def test_build_app_has_named_endpoints(engine: Engine, conversations: Conversations) -> None:
    demo = ui.build_app(engine, conversations, "secret")
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert {"ask", "index"} <= names
    assert not demo.analytics_enabled


def test_esc_never_double_escapes() -> None:
    assert render.esc("group's [x] #1 & <b>") == ("group&#x27;s &#91;x&#93; &#35;1 &amp; &lt;b&gt;")


# -- evaluate handlers --------------------------------------------------------------------------

EVAL_DIR = ARTICLES.parent / "eval"
SMALL_SET = [
    '{"id": "k1", "question": "How many natural gas workers were kidnapped in La Convencion?", '
    '"answer": ["36"], "evidence": [{"article": "000_9d6e732136a79e44"}], "type": "numeric"}',
    '{"id": "broken", "question": ',
    '{"id": "x1", "question": "<script>window.__xss=1</script> Who leads the Shining Path?", '
    '"answer": ["<b>Gabriel</b>"], "evidence": [{"article": "000_9d6e732136a79e44"}]}',
    '{"id": "u1", "question": "What ransom was paid for the gas workers?", "type": "unanswerable"}',
]


class FrameParser(HTMLParser):
    """Collects every start tag with its (unescaped) attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def eval_engine(engine: Engine, tmp_path: Path) -> Engine:
    """The module's engine with its own state dir (runs, uploads) and the bundled eval sets."""
    settings = engine.settings.model_copy(
        update={"data_dir": tmp_path / "state", "eval_dir": EVAL_DIR}
    )
    return Engine(settings, engine.store, engine.embedder, engine.llm)


def test_eval_lists_bundled_sets_and_refuses_other_paths(eval_engine: Engine) -> None:
    choices = eval_app.question_sets(eval_engine)
    assert choices == [
        ("followups.jsonl (bundled)", "bundled:followups.jsonl"),
        ("seed.jsonl (bundled)", "bundled:seed.jsonl"),
    ]
    info = eval_app.describe_set(eval_engine, "bundled:seed.jsonl")
    assert "<strong>seed.jsonl</strong>: 66 question(s)" in info and "12 unanswerable" in info
    assert eval_app.resolve_set(eval_engine, "bundled:seed.jsonl") == EVAL_DIR / "seed.jsonl"
    for key in ("bundled:../eval/seed.jsonl", "bundled:/etc/passwd", "other:seed.jsonl",
                "bundled:README.md", "uploaded:seed.jsonl", "", None):  # fmt: skip
        assert eval_app.resolve_set(eval_engine, key) is None, key
    assert "Pick a question set" in eval_app.describe_set(eval_engine, "bundled:nope.jsonl")


def test_eval_upload_keeps_good_rows_and_refuses_bad_files(eval_engine: Engine,
                                                           tmp_path: Path) -> None:  # fmt: skip
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = inbox / "my set <1>.jsonl"
    good.write_text("\n".join(SMALL_SET) + "\n")
    key, message = eval_app.save_upload(eval_engine, str(good))
    assert key == "uploaded:my_set_1.jsonl"
    assert (eval_engine.settings.state_dir / "eval_sets" / "my_set_1.jsonl").is_file()
    assert "3 question(s)" in message and "line 2: not valid JSON" in message
    assert ("my_set_1.jsonl (uploaded)", key) in eval_app.question_sets(eval_engine)
    csv = inbox / "qs.csv"
    csv.write_text('id,question,answer\nc1,"How many workers?",36\n')
    assert eval_app.save_upload(eval_engine, str(csv))[0] == "uploaded:qs.csv"

    exe = inbox / "tool.exe"
    exe.write_bytes(b"MZ")
    big = inbox / "big.jsonl"
    big.write_text(SMALL_SET[0] * 200)  # over the fixture's 0.01 MB limit
    empty = inbox / "empty.jsonl"
    empty.write_text(SMALL_SET[1] + "\n")
    latin = inbox / "latin.csv"
    latin.write_bytes("question,answer\nCaf\xe9?,x\n".encode("latin-1"))
    for path, reason in ((exe, "must be .jsonl or .csv"), (big, "upload limit"),
                         (empty, "no valid question"), (latin, "not UTF-8")):  # fmt: skip
        key, message = eval_app.save_upload(eval_engine, str(path))
        assert key is None and reason in message, (path, message)
        assert str(inbox) not in message  # no server paths in messages
    assert eval_app.save_upload(eval_engine, None)[0] is None


def test_eval_run_report_runs_and_compare(eval_engine: Engine, tmp_path: Path) -> None:
    upload = tmp_path / "small.jsonl"
    upload.write_text("\n".join(SMALL_SET) + "\n")
    key, _ = eval_app.save_upload(eval_engine, str(upload))
    calls: list[tuple[tuple[int, int], str]] = []
    view = ui.evaluate(
        eval_engine, key, "first <b>", False, 2, True, lambda p, desc="": calls.append((p, desc))
    )
    runs = eval_engine.settings.state_dir / "runs"
    assert view.run_dir is not None and view.run_dir.parent == runs
    assert (view.run_dir / "summary.json").is_file() and (view.run_dir / "report.html").is_file()
    assert calls[0][0] == (0, 3) and calls[-1][0] == (3, 3)
    assert "line 2: not valid JSON" in view.status and "3 question(s)" in view.status
    summary = json.loads((view.run_dir / "summary.json").read_text())
    assert summary["counts"]["questions"] == 3 and summary["settings"]["top_k"] == 2
    assert summary["settings"]["question_set"] == "small.jsonl"
    assert "llm_api_key" not in summary["settings"]
    assert "rag-metric" in view.summary and ">accuracy<" in view.summary and "hit@5" in view.summary
    assert "first &lt;b&gt;" in view.summary
    # the report is shown in a sandboxed frame, escaped twice: nothing of it runs in the app
    assert "<script" not in view.report and "<b>" not in view.report
    frame = FrameParser()
    frame.feed(view.report)
    ((tag, attrs),) = frame.tags
    assert tag == "iframe" and attrs["sandbox"] is None  # present and empty: no allow-scripts
    report = (view.run_dir / "report.html").read_text()
    assert attrs["srcdoc"] == report
    assert "<script" not in report and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in report
    assert "<b>Gabriel" not in report and "&lt;b&gt;Gabriel" in report
    assert report.count('src="data:image/png;base64,') == 2  # by type, latency
    assert view.download is not None and view.download.read_text() == report
    assert not str(view.download).startswith(str(eval_engine.settings.state_dir))

    second = ui.evaluate(eval_engine, key, "second", True, None, None)
    assert second.run_dir is not None and second.run_dir != view.run_dir
    assert json.loads((second.run_dir / "summary.json").read_text())["retrieval_only"]
    choices = eval_app.run_choices(eval_engine)
    assert [value for _, value in choices] == [second.run_dir.name, view.run_dir.name]
    assert choices[0][0].startswith(second.run_dir.name) and "hit@5" in choices[0][0]
    run_a, run_b = ui.run_dropdowns(eval_engine, second.run_dir)
    assert (run_a.value, run_b.value) == (view.run_dir.name, second.run_dir.name)

    html = eval_app.compare(eval_engine, view.run_dir.name, second.run_dir.name)
    assert "B − A" in html and "hit@5" in html and "by hit@5" in html
    assert "<script" not in html
    assert str(runs) not in html  # run names, not server paths
    for a, b in ((view.run_dir.name, "../x"), (None, second.run_dir.name), ("/etc", "/tmp")):
        assert "Choose two finished runs" in eval_app.compare(eval_engine, a, b)


def test_eval_run_without_a_set_or_llm(eval_engine: Engine, tmp_path: Path) -> None:
    assert "Pick a question set" in ui.evaluate(eval_engine, None).status
    assert "Pick a question set" in ui.evaluate(eval_engine, "bundled:../../etc/passwd").status
    no_llm = Engine(eval_engine.settings, eval_engine.store, eval_engine.embedder, None)
    answer_fn, summary = eval_app.eval_pipeline(no_llm, top_k=3, hybrid=False)
    assert summary["llm"] == "none" and summary["top_k"] == 3 and summary["hybrid"] is False
    assert no_llm.settings.top_k == eval_engine.settings.top_k  # the app's engine is unchanged
    events = list(answer_fn("How many natural gas workers were kidnapped?", []))
    answer = events[-1].answer
    assert answer.mode == "extractive" and len(answer.passages) == 3
    assert eval_app.run_choices(eval_engine) == []


def test_build_app_has_evaluate_endpoint(eval_engine: Engine, conversations: Conversations) -> None:
    demo = ui.build_app(eval_engine, conversations, "secret")
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert "evaluate" in names
    (run,) = [d for d in demo.fns.values() if d.api_name == "evaluate"]
    assert run.concurrency_limit == 1 and run.concurrency_id == ui.EVAL_CONCURRENCY_ID
