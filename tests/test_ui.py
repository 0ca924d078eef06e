"""The app itself: `serve()` refusing unsafe binds, and `build_app()` wiring named endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

import ui
from rag.answering.engine import Engine
from rag.app import evaluate_tab
from rag.chat import Conversations
from rag.errors import ConfigError
from rag.settings import Settings


def test_serve_refuses_public_host_without_auth(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "i", llm_backend="none", auth=None)
    with pytest.raises(ConfigError, match="--auth"):
        ui.serve(settings, host="0.0.0.0", block=False)
    assert not (tmp_path / "i").exists()  # refused before opening anything


def test_build_app_has_named_endpoints(engine: Engine, conversations: Conversations) -> None:
    demo = ui.build_app(engine, conversations, "secret")
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert {"ask", "index"} <= names
    assert not demo.analytics_enabled


def test_build_app_has_evaluate_endpoint(eval_engine: Engine, conversations: Conversations) -> None:
    demo = ui.build_app(eval_engine, conversations, "secret")
    names = {d.api_name for d in demo.fns.values() if d.api_name}
    assert "evaluate" in names
    (run,) = [d for d in demo.fns.values() if d.api_name == "evaluate"]
    assert run.concurrency_limit == 1 and run.concurrency_id == evaluate_tab.EVAL_CONCURRENCY_ID


def test_tabs_show_one_progress_indicator_and_seed_by_default(
    eval_engine: Engine, conversations: Conversations
) -> None:
    demo = ui.build_app(eval_engine, conversations, "secret")
    (index,) = [d for d in demo.fns.values() if d.api_name == "index"]
    assert [c.elem_id for c in index.show_progress_on or []] == ["index-report"]
    eval_set = next(b for b in demo.blocks.values() if getattr(b, "elem_id", "") == "eval-set")
    assert eval_set.value == "bundled:seed.jsonl"


def test_runs_dir_is_one_setting(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "i", llm_backend="none")
    assert settings.eval_runs_dir == tmp_path / "i" / "runs"
    assert Settings(index_dir=tmp_path, runs_dir=tmp_path / "r").eval_runs_dir == tmp_path / "r"


@pytest.mark.slow
def test_an_app_stopped_by_sigterm_withdraws_its_models_card(tmp_path: Path) -> None:
    """The app shares its loaded model through a card; `kill` (SIGTERM) ends it like Ctrl-C, so
    the card goes and no other process tries a server that is gone."""
    import signal
    import subprocess
    import sys
    import time

    from fake_llm import ScriptedLLM, free_port
    from rag_procs import PROJECT_DIR, cli_env

    from rag.embedded import cards_dir

    port = free_port()
    with ScriptedLLM() as server:
        env = cli_env(server) | {"RAG_LLM_BACKEND": "embedded"}
        app = subprocess.Popen(
            [sys.executable, "ui.py", "--index-dir", str(tmp_path / "idx"), "--port", str(port)],
            cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        card = cards_dir(Settings()) / f"{app.pid}.json"
        try:
            waited = time.monotonic()
            while not (card.exists() and _serves(port)) and time.monotonic() - waited < 300:
                assert app.poll() is None, app.communicate()[0]
                time.sleep(0.5)
            assert card.exists()
            app.send_signal(signal.SIGTERM)
            out, _ = app.communicate(timeout=120)
        finally:
            app.kill()
    # stopped like Ctrl-C: 0 when Gradio's loop caught it, 130 when ui.main did (mid-launch)
    assert app.returncode in (0, 130), out
    assert not card.exists()


def _serves(port: int) -> bool:
    """Does the app answer its page on 127.0.0.1:port?"""
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
