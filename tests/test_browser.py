"""End to end: the real app on a free port, driven by headless Chromium and gradio_client.

The app runs with the real MiniLM embedder, the bundled articles and an XSS article indexed
into a temporary index, and the scripted LLM (answers from passage [1], cited).
"""

from __future__ import annotations

import json
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
from helpers import GAS_QUESTION, scripted_reply

import ui
from rag.api import open_engine
from rag.app import render
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
UPLOAD_ARTICLE = """<html><head><title>Alpaca herders of Puno</title>
<meta name="date" content="2024-05-01"></head><body><article>
<h1>Alpaca herders of Puno</h1>
<p>The alpaca herders of Puno counted 4,000 alpacas this spring in the high plains.</p>
<p>The regional agriculture office said the alpaca herd grew by a tenth since last year.</p>
</article></body></html>
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app serving on 127.0.0.1:<free port>; yields its URL, settings and engine."""
    tmp = tmp_path_factory.mktemp("browser")
    llm = ScriptedLLM()
    llm.responder = scripted_reply
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
            "llm": llm,
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


def open_page(browser: Any, url: str, **options: Any) -> Any:
    """A page in a fresh browser context (own localStorage) on the app; records its requests."""
    options = {"viewport": {"width": 1400, "height": 1000}, **options}
    context = browser.new_context(**options)
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(url)
    page.wait_for_selector("#question textarea")
    return page


@pytest.fixture
def page(browser: Any, app: dict[str, Any]) -> Iterator[Any]:
    """A fresh browser context on the app, 1400×1000, light colour scheme."""
    page = open_page(browser, app["url"])
    yield page
    page.context.close()


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
    page.click("#viewer a.rag-back")
    page.wait_for_selector("#sources .rag-src", state="visible")

    # uncited passages are one click away
    summary = page.query_selector("#sources details summary")
    assert summary is not None and "Retrieved but not cited" in summary.inner_text()

    follow = ask(page, "And who leads them?", 1)
    query = follow.query_selector(".rag-query")
    assert query is not None and query.inner_text().startswith("Searched for:")
    assert "Shining Path" in query.inner_text()

    # the conversation reopens after a reload (same browser id)
    page.reload()
    page.wait_for_function("document.querySelectorAll('#chat .rag-answer').length == 2")
    assert page.query_selector("#past-chats label") is not None


def test_upload_then_ask(page: Any, tmp_path: Path) -> None:
    """An HTML file's date fills the form, the source is typed; the report names the title."""
    upload = tmp_path / "alpaca_herders_of_puno.html"
    upload.write_text(UPLOAD_ARTICLE)
    page.get_by_role("tab", name="Library").click()
    page.click("#index")  # nothing chosen yet
    wait_text(page, "#index-report", "Choose one or more files", timeout=15_000)
    page.set_input_files("#uploads input[type=file]", str(upload))
    page.wait_for_function(
        "document.querySelector('#upload-date textarea, #upload-date input').value"
        " === '2024-05-01'",
        timeout=15_000,
    )
    page.fill("#upload-source textarea, #upload-source input", "Andes_Wire")
    page.click("#index")
    wait_text(page, "#index-report", "Added 1 article", timeout=60_000)
    report = page.inner_text("#index-report")
    assert "Alpaca herders of Puno" in report and "alpaca_herders_of_puno" not in report
    assert "&#" not in report
    table = page.inner_text("#library-table")
    assert "Alpaca herders of Puno" in table and "Andes_Wire" in table and "2024-05-01" in table
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
        assert f"For: <q>{render.esc(questions[i])}</q>" in sources


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


# -- issue 13: the reader's first hour ---------------------------------------------------------

CONTRAST_JS = """
(selectors) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  };
  const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const layer of layers.reverse()) out = over(layer, out);
    return out;
  };
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const out = [];
  for (const sel of selectors) {
    for (const el of document.querySelectorAll(sel)) {
      if (!el.getClientRects().length) continue;
      const bg = background(el);
      const fg = over(parse(getComputedStyle(el).color), bg);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      out.push({sel, text: el.textContent.slice(0, 30), ratio: (a + 0.05) / (b + 0.05)});
    }
  }
  return out;
}
"""
HIGHLIGHTS = ["mark.rag-support", "mark.rag-focus", ".rag-badge", ".rag-cite"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_highlights_are_readable_in_both_themes(
    browser: Any, app: dict[str, Any], scheme: str
) -> None:
    """Every highlight, mark and badge has a contrast ratio of at least 4.5:1."""
    page = open_page(browser, app["url"], color_scheme=scheme)
    try:
        assert page.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
        answer = ask(page, GAS_QUESTION, 0)
        page.wait_for_selector("#sources mark.rag-support")
        measured = page.evaluate(CONTRAST_JS, HIGHLIGHTS)
        answer.query_selector("a.rag-cite").click()
        page.wait_for_selector("#viewer mark.rag-focus mark.rag-support")
        measured += page.evaluate(CONTRAST_JS, HIGHLIGHTS)
        page.screenshot(path=str(ARTIFACTS / f"contrast_{scheme}.png"))
    finally:
        page.context.close()
    kinds = {m["sel"] for m in measured}
    assert {"mark.rag-support", "mark.rag-focus", ".rag-badge"} <= kinds, kinds
    low = [m for m in measured if m["ratio"] < 4.5]
    assert not low, low


def test_sources_show_before_the_first_word(page: Any, app: dict[str, Any]) -> None:
    """With a slow LLM the sources panel and the wait estimate are up before any answer text."""
    llm = app["llm"]
    llm.mode, llm.delay = "slow", 4.0
    try:
        page.fill("#question textarea", GAS_QUESTION)
        page.click("#ask")
        page.wait_for_selector("#sources .rag-pending .rag-src", timeout=15_000)
        streaming = page.query_selector("#chat .rag-answer:has(.rag-status)")
        assert streaming is not None, "the answer had already finished"
        assert streaming.query_selector("p").inner_text().strip() == ""  # no token yet
        wait_text(page, "#chat .rag-status", "Reading", timeout=3_000)
        assert re.search(r"Reading \d+ sentences from \d+ articles?… \((about \d+ s|first a)",
                         page.inner_text("#chat .rag-status"))  # fmt: skip
        assert "36 natural gas workers" in page.inner_text("#sources")
    finally:
        llm.mode = "ok"
    page.wait_for_function(
        "document.querySelectorAll('#chat .rag-answer:not(:has(.rag-status))').length > 0",
        timeout=30_000,
    )
    assert page.query_selector("#sources .rag-pending") is None


def test_left_out_claims_are_labelled_in_words(page: Any) -> None:
    """A made-up claim is behind a "why not shown" toggle, listed with its reason, with a
    legend; the label is in words, without hovering."""
    answer = ask(page, GAS_QUESTION, 0)
    label = answer.query_selector(".rag-badge-left")
    assert label is not None and label.is_visible() and label.inner_text() == "left out"
    item = answer.query_selector(".rag-left-out li")
    assert not item.is_visible()  # behind the toggle, below a correct answer
    answer.query_selector(".rag-why summary").click()
    assert item.is_visible()
    assert "500 soldiers" in item.inner_text() and "not in the cited sentences" in item.inner_text()
    legend = answer.query_selector(".rag-legend")
    assert legend is not None and legend.is_visible() and "left out" in legend.inner_text()


def test_viewer_opens_in_place_of_the_sources(page: Any) -> None:
    """A [n] opens the article where the sources were; back returns; a new answer closes it."""
    answer = ask(page, GAS_QUESTION, 0)
    answer.query_selector("a.rag-cite").click()
    page.wait_for_selector("#viewer mark.rag-focus", state="visible")
    assert not page.is_visible("#sources")
    box = page.query_selector("#viewer").bounding_box()
    assert box["y"] < 400  # beside the chat, not below the fold
    page.click("#viewer a.rag-back")
    page.wait_for_selector("#sources .rag-src", state="visible")
    assert not page.is_visible("#viewer")
    page.click("#sources .rag-src a.rag-cite")
    page.wait_for_selector("#viewer mark.rag-focus", state="visible")
    ask(page, "Who claimed responsibility for the kidnapping?", 1)
    assert page.is_visible("#sources") and not page.is_visible("#viewer")
    assert "Who claimed responsibility" in page.inner_text("#sources")


def past_labels(page: Any) -> list[str]:
    """The past-conversation entries as shown."""
    return [e.inner_text() for e in page.query_selector_all("#past-chats label")]


def test_conversations_reopen_rename_delete_search_export(
    browser: Any, app: dict[str, Any]
) -> None:
    """Reload shows the last chat; the list is one line each; rename, search, export, delete."""
    page = open_page(browser, app["url"], permissions=["clipboard-read", "clipboard-write"])
    try:
        ask(page, "Who claimed responsibility for the kidnapping?", 0)
        page.click("#new-chat")
        page.wait_for_function("!document.querySelector('#chat .rag-answer')")
        ask(page, GAS_QUESTION, 0)
        page.reload()
        page.wait_for_selector("#chat .rag-answer")
        assert GAS_QUESTION in page.inner_text("#chat")
        page.wait_for_function("document.querySelectorAll('#past-chats label').length == 2")
        for label in page.query_selector_all("#past-chats label span"):
            height = label.bounding_box()["height"]
            line = float(label.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20"))
            assert height < 1.6 * line, (label.inner_text(), height, line)
        assert re.search(r"· [A-Z][a-z]{2} \d\d \d\d:\d\d$", past_labels(page)[0])

        # copy: the answer with its citations
        page.click("#chat a.rag-copy")
        copied = page.evaluate("navigator.clipboard.readText()")
        cited = re.match(r"36 workers were kidnapped \[(\d+)\]\.\n\nSources:\n", copied)
        assert cited, copied
        n = cited[1]
        assert f"[{n}] Peru Prepares Major Offensive" in copied
        assert "36 natural gas workers" in copied

        # export as Markdown (footnotes) and JSON
        page.click("#export-chat")
        links = page.wait_for_selector("#export-files a[href]", timeout=15_000)
        hrefs = [a.get_attribute("href") for a in page.query_selector_all("#export-files a[href]")]
        assert links and len(hrefs) == 2
        bodies = {h.rsplit(".", 1)[-1].split("?")[0]: page.request.get(h).text() for h in hrefs}
        markdown = bodies["md"]
        assert f"## {GAS_QUESTION}" in markdown
        assert f"36 workers were kidnapped [^1-{n}]." in markdown
        footnote = next(line for line in markdown.splitlines() if line.startswith(f"[^1-{n}]: "))
        assert "Peru Prepares Major Offensive" in footnote and "Peruvian Times" in footnote
        assert "2012-04-23" in footnote and "http" in footnote and "“" in footnote
        assert "*left out:* 500 soldiers" in markdown
        exported = json.loads(bodies["json"])
        assert exported["turns"][0]["answer"]["citations"][0]["n"] == int(n)

        # rename the open chat, then search
        page.fill("#chat-title input, #chat-title textarea", "Gas workers")
        page.click("#rename-chat")
        page.wait_for_function(
            "[...document.querySelectorAll('#past-chats label')]"
            ".some(l => l.innerText.startsWith('Gas workers · '))"
        )
        page.fill("#chat-search input, #chat-search textarea", "responsibility")
        page.wait_for_function("document.querySelectorAll('#past-chats label').length == 1")
        assert past_labels(page)[0].startswith("Who claimed responsibility")
        page.fill("#chat-search input, #chat-search textarea", "")
        page.wait_for_function("document.querySelectorAll('#past-chats label').length == 2")

        # delete the open chat: gone from the list and from the screen
        page.click("#delete-chat")
        page.wait_for_function("document.querySelectorAll('#past-chats label').length == 1")
        assert not page.query_selector("#chat .rag-answer")
        assert past_labels(page)[0].startswith("Who claimed responsibility")
    finally:
        page.context.close()


def test_placeholder_fits_at_420_px(browser: Any, app: dict[str, Any]) -> None:
    """On a narrow screen the question box shows its whole placeholder."""
    page = open_page(browser, app["url"], viewport={"width": 420, "height": 900})
    try:
        room, needed = page.evaluate(
            """() => {
              const t = document.querySelector('#question textarea');
              const s = getComputedStyle(t);
              const ctx = document.createElement('canvas').getContext('2d');
              ctx.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
              const pad = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);
              return [t.clientWidth - pad, ctx.measureText(t.placeholder).width];
            }"""
        )
        assert needed <= room, (needed, room)
        page.screenshot(path=str(ARTIFACTS / "narrow.png"), full_page=True)
    finally:
        page.context.close()


def test_evaluate_tab_eta_cancel_reload_resume(page: Any, app: dict[str, Any]) -> None:
    """seed.jsonl is the default; a run shows an ETA, survives a reload, cancels, resumes."""
    llm = app["llm"]
    page.get_by_role("tab", name="Evaluate").click()
    wait_text(page, "#eval-info", "seed.jsonl: 66 question(s)", timeout=15_000)
    llm.mode, llm.delay = "slow", 0.7
    try:
        page.click("#eval-run")
        page.wait_for_function(
            "/about \\d+ (s|min) left/.test(document.querySelector('#eval-status').innerText)",
            timeout=60_000,
        )
        assert re.search(r"\d+ of 66 questions · about \d+ (s|min) left",
                         page.inner_text("#eval-status"))  # fmt: skip
        page.reload()
        page.wait_for_selector("#question textarea")
        page.get_by_role("tab", name="Evaluate").click()
        wait_text(page, "#eval-status", "of 66 questions", timeout=15_000)
        page.click("#eval-cancel")
        wait_text(page, "#eval-status", "Cancelled", timeout=60_000)
        runs = app["settings"].eval_runs_dir
        (run,) = [d for d in runs.iterdir() if d.name.endswith("-seed")]
        kept = len((run / "results.jsonl").read_text().splitlines())
        assert 1 <= kept < 66 and not (run / "summary.json").exists()
        assert f"{kept} question(s) answered are kept" in page.inner_text("#eval-status")

        page.click("#eval-run")  # same set and options: resumes the cancelled run
        wait_text(page, "#eval-status", "of 66 questions", timeout=15_000)
        page.click("#eval-cancel")
        wait_text(page, "#eval-status", "Cancelled", timeout=60_000)
        assert [d for d in runs.iterdir() if d.name.endswith("-seed")] == [run]
        assert len((run / "results.jsonl").read_text().splitlines()) >= kept
    finally:
        llm.mode = "ok"


def evaluate_settled(tables: Any, script: str) -> Any:
    """`tables.evaluate_all(script)` once the report frame has stopped being replaced.

    The tab may set the report again just after a run ends (the last timer ticks), which
    reloads its frame; reading a frame mid-reload fails with "Execution context was destroyed".
    """
    from playwright.sync_api import Error

    for _ in range(4):
        tables.first.wait_for()
        try:
            return tables.evaluate_all(script)
        except Error as err:
            if "Execution context was destroyed" not in str(err):
                raise
    tables.first.wait_for()
    return tables.evaluate_all(script)


def test_report_tables_fit_or_scroll(page: Any) -> None:
    """Every table of a run's report fits the frame or sits in a scrolling box."""
    page.get_by_role("tab", name="Evaluate").click()
    page.click("#eval-set input")
    page.get_by_role("option", name="followups.jsonl (bundled)").click()
    page.check("#eval-retrieval-only input")
    page.fill("#eval-name input, #eval-name textarea", "tables")
    page.click("#eval-run")
    wait_text(page, "#eval-summary", "tables · retrieval only")
    report = page.frame_locator("#eval-report iframe")
    overflowing = evaluate_settled(
        report.locator("table"),
        """tables => tables.filter(t => {
          const width = document.documentElement.clientWidth;
          if (t.getBoundingClientRect().right <= width + 1) return false;
          for (let e = t.parentElement; e; e = e.parentElement) {
            const o = getComputedStyle(e).overflowX;
            if ((o === 'auto' || o === 'scroll') && e.getBoundingClientRect().right <= width + 1)
              return false;
          }
          return true;
        }).map(t => t.innerText.slice(0, 40))""",
    )
    assert overflowing == []


def test_chat_hint_counts_articles_and_asks_an_example(page: Any, app: dict[str, Any]) -> None:
    """The Chat tab says how many articles there are; an example question is one click."""
    count = len(app["engine"].store.articles())
    wait_text(page, "#library-line", f"The library holds {count} articles")
    example = page.wait_for_selector("#library-hint button.rag-example", state="visible")
    asked = example.inner_text()
    assert asked.startswith("What do the articles say about “")
    example.click()
    page.wait_for_function(
        "document.querySelectorAll('#chat .rag-answer:not(:has(.rag-status))').length > 0",
        timeout=30_000,
    )
    assert asked in page.inner_text("#chat")


TIMER_WATCH = """() => { window.__timers = []; const tick = () => {
  for (const el of document.querySelectorAll('#chat *, #sources *')) {
    if (!el.children.length && /processing \\|/.test(el.textContent)
        && el.checkVisibility({opacityProperty: true, visibilityProperty: true}))
      window.__timers.push(el.closest('[id]').id);
  }
  if (window.__timers.length < 50) requestAnimationFrame(tick);
}; requestAnimationFrame(tick); }"""


def test_bold_titles_and_status_have_no_stray_font_or_timer(page: Any, app: dict[str, Any]) -> None:
    """A bold title's letters all come from one web font (Gradio's SemiBold file holds 'A' and
    'B' alone, so 'Against' mixed two fonts), and Gradio's own timer stays off our status."""
    llm = app["llm"]
    llm.mode, llm.delay = "trickle", 0.3
    page.evaluate(TIMER_WATCH)  # every frame: is a "processing | 0.2s" visible?
    try:
        page.fill("#question textarea", GAS_QUESTION)
        page.click("#ask")
        page.wait_for_function(
            "document.querySelectorAll('#chat .rag-answer:not(:has(.rag-status))').length > 0",
            timeout=60_000,
        )
    finally:
        llm.mode = "ok"
    assert page.evaluate("window.__timers") == []
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    titles = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": ".rag-src-title"})
    used = [
        cdp.send("CSS.getPlatformFontsForNode", {"nodeId": n})["fonts"] for n in titles["nodeIds"]
    ]
    used = [fonts for fonts in used if fonts]  # hidden ones render nothing
    assert used and all(len(f) == 1 and f[0]["isCustomFont"] for f in used), used


# -- issue 25: a new user's first hour, again ----------------------------------------------------


def test_a_run_that_ended_with_no_page_open_opens_after_a_reload(
    browser: Any, app: dict[str, Any]
) -> None:
    """Two runs end while no page is open; a page then opens the newest (summary, report,
    download) with Run A / Run B filled, and the list opens the other one."""
    from rag.app import evaluate

    engine = app["engine"]
    for name in ("unseen-first", "unseen-newest"):
        view = evaluate.evaluate(engine, "bundled:short.jsonl", name, True)
        assert view.run_dir is not None, view.status
    page = open_page(browser, app["url"])
    try:
        page.get_by_role("tab", name="Evaluate").click()
        wait_text(page, "#eval-summary", "unseen-newest · retrieval only", timeout=30_000)
        assert "hit@5" in page.inner_text("#eval-summary")
        link = page.wait_for_selector("#eval-download a[href]")
        assert (link.get_attribute("href") or "").endswith("-unseen-newest-report.html")
        report = page.frame_locator("#eval-report iframe")
        assert "Evaluation: unseen-newest" in report.locator("h1").inner_text()
        values = [page.input_value(f"#{i} input") for i in ("eval-run-a", "eval-run-b")]
        assert "unseen-first" in values[0] and "unseen-newest" in values[1]

        page.click("#eval-runs input")
        page.get_by_role("option", name=re.compile("unseen-first")).click()
        wait_text(page, "#eval-summary", "unseen-first · retrieval only", timeout=30_000)
        assert "Evaluation: unseen-first" in report.locator("h1").inner_text()
    finally:
        page.context.close()
