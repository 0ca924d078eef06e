"""End to end: the real app on a free port, driven by headless Chromium and gradio_client.

The app runs with the real MiniLM embedder, the bundled articles and an XSS article indexed
into a temporary index, and the scripted LLM (answers from passage [1], cited).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fake_llm import ScriptedLLM, free_port
from helpers import cite_first_passage

import ui
from rag.answer import open_engine
from rag.indexer import index_paths
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
XSS_ARTICLE = """Title: Quokka census <script>window.__xss=1</script>
Source: XSS Wire
Date: 2023-03-03
URL: https://example.com/quokka-census

<img src=x onerror="window.__xss=1"> <img src="https://evil.example/pixel.png">
The quokka census on Rottnest Island counted 12,000 quokkas this year
<script>window.__xss=1</script>.
Rangers said the quokka population recovered after the dry summer. ![x](https://evil.example/md.png)
"""
UPLOAD_ARTICLE = """Title: Alpaca herders of Puno
Source: Andes Wire
Date: 2024-05-01

The alpaca herders of Puno counted 4,000 alpacas this spring in the high plains.
The regional agriculture office said the alpaca herd grew by a tenth since last year.
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app serving on 127.0.0.1:<free port>; yields its URL, settings and engine."""
    tmp = tmp_path_factory.mktemp("browser")
    llm = ScriptedLLM()
    llm.responder = cite_first_passage
    llm.start()
    settings = Settings(
        llm_backend="openai",
        llm_base_url=llm.base_url,
        llm_api_key="test",
        index_dir=tmp / "index",
        articles_dir=ROOT / "data" / "articles",
        concurrency=4,
    )
    engine = open_engine(settings)
    xss = tmp / "xss" / "quokka.txt"
    xss.parent.mkdir()
    xss.write_text(XSS_ARTICLE)
    ui.index_if_empty(engine)
    index_paths([xss], engine.store, engine.embedder, settings)
    port = free_port()
    demo = ui.serve(settings, port=port, block=False, engine=engine)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield {
            "url": f"http://127.0.0.1:{port}/",
            "settings": settings,
            "engine": engine,
            "tmp": tmp,
        }
    finally:
        demo.close()
        llm.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, app: dict[str, Any]) -> Iterator[Any]:
    """A fresh browser context (own localStorage) on the app; records every request made."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(app["url"])
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def ask(page: Any, question: str, answers_before: int) -> Any:
    """Type a question, send it, wait for the finished answer; returns its element."""
    page.fill("#question textarea", question)
    page.click("#ask")
    done = "#chat .rag-answer:not(:has(.rag-status))"
    page.wait_for_function(
        f"document.querySelectorAll('{done}').length > {answers_before}", timeout=30_000
    )
    return page.query_selector_all(done)[-1]


def test_ask_click_citation_follow_up(page: Any) -> None:
    """The answer streams in with a [1]; clicking it opens the article at the passage."""
    answer = ask(page, "What offensive is Peru preparing against the Shining Path?", 0)
    marker = answer.query_selector("a.rag-cite")
    assert marker is not None and marker.inner_text() == "[1]"
    page.wait_for_selector("#sources .rag-src[data-rag-ref='rag-0-c-1'] mark.rag-support")
    marker.click()
    focus = page.wait_for_selector("#viewer mark.rag-focus")
    assert focus.query_selector("mark.rag-support") is not None
    viewer_text = page.inner_text("#viewer")
    assert len(viewer_text) > len(focus.inner_text()) + 200  # the full article, not a snippet
    assert not re.search(r"&#?\w+;", viewer_text)  # escaped once, shown as typed
    assert page.query_selector("#sources .rag-src.rag-active") is not None
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "chat_citation.png"), full_page=True)

    # uncited passages are one click away
    summary = page.query_selector("#sources details summary")
    assert summary is not None and "Retrieved but not cited" in summary.inner_text()

    follow = ask(page, "And who leads them?", 1)
    query = follow.query_selector(".rag-query")
    assert query is not None and query.inner_text().startswith("Searched for:")
    assert "Shining Path" in query.inner_text()

    # the conversation is listed and reopens after a reload (same browser id)
    page.reload()
    item = page.wait_for_selector("#past-chats label", timeout=15_000)
    item.click()
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length == 2")


def test_upload_then_ask(page: Any, tmp_path: Path) -> None:
    """A .txt uploaded in the Library is indexed with progress and can be asked about."""
    upload = tmp_path / "alpacas of Puno.txt"
    upload.write_text(UPLOAD_ARTICLE)
    page.get_by_role("tab", name="Library").click()
    page.set_input_files("#uploads input[type=file]", str(upload))
    page.wait_for_timeout(1000)
    page.click("#index")
    page.wait_for_function(
        "document.querySelector('#index-report').innerText.includes('Added 1 article')",
        timeout=60_000,
    )
    assert "Alpaca herders of Puno" in page.inner_text("#library-table")
    page.get_by_role("tab", name="Chat").click()
    ask(page, "How many alpacas did the herders of Puno count?", 0)
    assert "Alpaca herders of Puno" in page.inner_text("#sources")


def test_xss_article_is_inert(page: Any) -> None:
    """Scripts, handlers and remote images in an article or reply never run or load."""
    answer = ask(page, "How many quokkas did the census on Rottnest Island count?", 0)
    answer.query_selector("a.rag-cite").click()
    page.wait_for_selector("#viewer mark.rag-focus")
    page.wait_for_timeout(500)
    assert "Quokka census <script>" in page.inner_text("#sources")
    assert "<img src=x" in page.inner_text("#viewer")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.query_selector("#chat img, #sources img, #viewer img, #chat script") is None
    remote = [u for u in page.requests if urlsplit(u).hostname not in ("127.0.0.1", None)]
    assert remote == [] or all(u.startswith(("data:", "blob:")) for u in remote), remote
    page.screenshot(path=str(ARTIFACTS / "xss_inert.png"), full_page=True)


def test_file_routes_serve_nothing_private(app: dict[str, Any]) -> None:
    """/etc/passwd, the index and .env are not reachable through Gradio's file routes."""
    base = app["url"].rstrip("/")
    index_dir = app["settings"].index_dir.resolve()
    targets = [
        "/etc/passwd",
        str(index_dir / "manifest.sqlite3"),
        str(Path.cwd() / ".env"),
        str(ROOT / "pyproject.toml"),
        str(app["tmp"] / "xss" / "quokka.txt"),
    ]
    for target in targets:
        for route in (f"/gradio_api/file={target}", f"/gradio_api/file/{target.lstrip('/')}"):
            status = httpx.get(base + route, timeout=10).status_code
            assert status in (403, 404), (route, status)
        legacy = httpx.get(f"{base}/file={target}", timeout=10)
        assert legacy.status_code in (403, 404) or "root:" not in legacy.text


def test_eight_concurrent_sessions(app: dict[str, Any]) -> None:
    """8 clients at once each get their own answer and sources, without errors."""
    from gradio_client import Client

    questions = [
        "What offensive is Peru preparing in the VRAE?",
        "Why do Shining Path attacks spark fears of a new offensive?",
        "Is Peru in a stalemate with the Shining Path rebels?",
        "How will Peru undermine Shining Path finances?",
        "What ties does Shining Path have to drug trafficking?",
        "Who claimed responsibility for kidnapping the gas workers?",
        "How many quokkas did the census count?",
        "Where is the coca-growing region of the VRAE?",
    ]
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            client = Client(app["url"], verbose=False)
            results[i] = client.predict(
                questions[i], f"load-{i}", 4, True, [], "", "", api_name="/ask"
            )
        except BaseException as err:  # collected and reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    assert sorted(results) == list(range(len(questions)))
    for i, (messages, sources, box, browser_id) in results.items():
        assert browser_id == f"load-{i}" and box == ""
        assert len(messages) == 2, messages
        asked = messages[0]["content"]
        asked = asked[0]["text"] if isinstance(asked, list) else asked
        assert asked == questions[i]
        reply = messages[1]["content"]
        reply = reply[0]["text"] if isinstance(reply, list) else reply
        assert re.search(r'href="#rag-0-[cp]-\d+"', reply), reply
        assert f"For: <q>{ui.render.esc(questions[i])}</q>" in sources


EVAL_UPLOAD = "\n".join(
    [
        '{"id": "b1", "question": "How many natural gas workers were kidnapped?", '
        '"answer": ["36"], "evidence": [{"article": "000_9d6e732136a79e44"}], "type": "numeric"}',
        '{"id": "broken", "question": ',
        '{"id": "b2", "question": "<script>window.__xss=1</script> Who leads the Shining Path?", '
        '"answer": ["Gabriel"], "evidence": [{"article": "000_9d6e732136a79e44"}]}',
        '{"id": "b3", "question": "How many quokkas did the census count?", "answer": ["12,000"]}',
        '{"id": "b4", "question": "What ransom was paid for the gas workers?", '
        '"type": "unanswerable"}',
    ]
)


def wait_text(page: Any, selector: str, text: str, timeout: int = 120_000) -> None:
    """Wait until the element's text contains `text`."""
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
        arg=[selector, text],
        timeout=timeout,
    )


def test_evaluate_tab_runs_and_compares(page: Any, tmp_path: Path) -> None:
    """Run a bundled set, chat meanwhile, run an uploaded set, then compare the two runs."""
    page.get_by_role("tab", name="Evaluate").click()
    page.click("#eval-set input")
    page.get_by_role("option", name="followups.jsonl (bundled)").click()
    wait_text(page, "#eval-info", "followups.jsonl: 8 question(s)")
    page.fill("#eval-name input, #eval-name textarea", "bundled")
    page.click("#eval-run")

    # the chat keeps answering while the evaluation runs
    page.get_by_role("tab", name="Chat").click()
    ask(page, "What offensive is Peru preparing against the Shining Path?", 0)
    page.get_by_role("tab", name="Evaluate").click()

    wait_text(page, "#eval-summary", "bundled: 8 questions")
    summary = page.inner_text("#eval-summary")
    assert re.search(r"\d\.\d{3}\s+accuracy", summary), summary
    assert re.search(r"\d\.\d{3}\s+hit@5", summary), summary
    link = page.wait_for_selector("#eval-download a[href]")
    assert "report.html" in link.inner_text() or "report" in (link.get_attribute("href") or "")
    report = page.frame_locator("#eval-report iframe")
    assert "Evaluation: bundled" in report.locator("h1").inner_text()
    assert "Questions (failures first)" in report.locator("body").inner_text()
    assert report.locator("img").count() >= 1  # the plots

    # an uploaded set: malformed lines are listed, the rest runs (retrieval only)
    upload = tmp_path / "four questions.jsonl"
    upload.write_text(EVAL_UPLOAD + "\n")
    page.set_input_files("#eval-upload input[type=file]", str(upload))
    wait_text(page, "#eval-info", "line 2: not valid JSON", timeout=30_000)
    assert "four_questions.jsonl: 4 question(s)" in page.inner_text("#eval-info")
    page.fill("#eval-name input, #eval-name textarea", "uploaded")
    page.check("#eval-retrieval-only input")
    page.click("#eval-run")
    wait_text(page, "#eval-summary", "uploaded · retrieval only: 4 questions")
    assert "hit@5" in page.inner_text("#eval-summary")
    assert "accuracy" not in page.inner_text("#eval-summary")  # no answers were generated
    question = report.get_by_text("Who leads the Shining Path?")
    assert "<script>window.__xss=1</script>" in question.first.inner_text()

    # run A / run B were filled with the two runs: compare them
    page.click("#eval-compare")
    wait_text(page, "#eval-compare-view", "B − A", timeout=30_000)
    compared = page.inner_text("#eval-compare-view")
    assert "A: bundled" in compared and "B: uploaded" in compared and "hit@5" in compared
    assert page.evaluate("typeof window.__xss") == "undefined"
    runs = app_runs(page)
    assert len(runs) >= 2
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "evaluate.png"), full_page=True)


def app_runs(page: Any) -> list[str]:
    """The Run B dropdown's options (opened and closed again)."""
    page.click("#eval-run-b input")
    options = [o.inner_text() for o in page.query_selector_all("[role=option]")]
    page.keyboard.press("Escape")
    return options
