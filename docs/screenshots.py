"""Retake the README's screenshots: docs/screenshot.png (light) and docs/screenshot-dark.png.

`python docs/screenshots.py` serves the app on a free port over the bundled articles (indexed
into a temporary directory with the packaged MiniLM) with the real embedded model, asks one
question whose sources disagree in headless Debian chromium, opens its first [n] marker, and
saves both colour schemes. Offline: nothing is downloaded.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from rag.settings import Settings, go_offline  # noqa: E402

go_offline()  # before gradio, llama-index or transformers are imported

from fake_llm import free_port  # noqa: E402

import ui  # noqa: E402
from rag.api import open_engine  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
QUESTION = "How many hectares of coca are grown in the VRAEM?"  # two articles, two figures
SHOTS = {"light": ROOT / "docs" / "screenshot.png", "dark": ROOT / "docs" / "screenshot-dark.png"}


def take(url: str) -> None:
    """Ask, open the first citation, and save one screenshot per colour scheme."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for scheme, path in SHOTS.items():
            context = browser.new_context(
                viewport={"width": 1400, "height": 860}, color_scheme=scheme
            )
            page = context.new_page()
            page.goto(url)
            page.fill("#question textarea", QUESTION)
            page.click("#ask")
            page.wait_for_selector("#chat .rag-answer a.rag-cite", timeout=300_000)
            page.click("#chat .rag-answer a.rag-cite")
            page.wait_for_selector("#viewer mark.rag-focus")
            page.wait_for_timeout(500)
            page.screenshot(path=str(path))
            print(f"wrote {path.relative_to(ROOT)}")
            context.close()
        browser.close()


def main() -> int:
    """Serve the app with the embedded model, take the screenshots, stop."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            llm_backend="embedded",
            index_dir=Path(tmp) / "index",
            articles_dir=ROOT / "data" / "articles",
        )
        engine = open_engine(settings)
        port = free_port()
        demo = ui.serve(settings, port=port, block=False, engine=engine)
        try:
            take(f"http://127.0.0.1:{port}/")
        finally:
            demo.close()
            engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
