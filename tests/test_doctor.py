"""`rag doctor`'s LLM checks against the real scripted server: it asks, it does not assume."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fake_llm import ScriptedLLM, free_port
from helpers import make_settings

from rag.doctor import Check, run_checks


def llm_checks(tmp_path: Path, base_url: str, **overrides: Any) -> dict[str, Check]:
    settings = make_settings(
        tmp_path / "idx",
        llm_backend="openai",
        llm_base_url=base_url,
        llm_model=overrides.pop("llm_model", "scripted"),
        embed_backend="local",
        **overrides,
    )
    return {c.name: c for c in run_checks(settings) if c.name in ("llm", "constrained output")}


def json_when_constrained(request: dict[str, Any]) -> str:
    return '{"ok": true}' if "response_format" in request or "json_schema" in request else "ok"


def test_doctor_asks_the_llm_and_reports_model_and_schema(
    tmp_path: Path, llm_server: ScriptedLLM
) -> None:
    llm_server.responder = json_when_constrained
    checks = llm_checks(tmp_path, llm_server.base_url)
    assert checks["llm"].ok
    assert "answered 'ok' in" in checks["llm"].detail and "model: scripted" in checks["llm"].detail
    constrained = checks["constrained output"]
    assert constrained.ok
    assert constrained.detail.startswith("accepted (response_format json_schema)")
    asked = [r for r in llm_server.requests if "messages" in r]
    assert len(asked) == 2 and asked[0]["max_tokens"] == 4  # one tiny request, one with a schema
    assert asked[1]["response_format"]["type"] == "json_schema"


def test_a_server_that_refuses_schemas_is_reported(tmp_path: Path, llm_server: ScriptedLLM) -> None:
    llm_server.responder = json_when_constrained
    llm_server.refuse_schema = True
    checks = llm_checks(tmp_path, llm_server.base_url)
    assert checks["llm"].ok
    detail = checks["constrained output"].detail
    assert detail.startswith("not accepted:") and "HTTP 400" in detail
    assert "free-text path" in detail


def test_the_second_schema_form_is_tried(tmp_path: Path, llm_server: ScriptedLLM) -> None:
    """A server that ignores response_format but follows llama.cpp's json_schema field."""
    llm_server.responder = lambda r: '{"ok": true}' if "json_schema" in r else "ok"
    checks = llm_checks(tmp_path, llm_server.base_url)
    detail = checks["constrained output"].detail
    assert detail.startswith("accepted (json_schema)")


def test_a_model_the_server_lacks_is_named(tmp_path: Path, llm_server: ScriptedLLM) -> None:
    checks = llm_checks(tmp_path, llm_server.base_url, llm_model="gpt-x")
    assert "model 'gpt-x' is not among those it serves (scripted)" in checks["llm"].detail


def test_a_hanging_llm_fails_the_check_within_the_deadline(
    tmp_path: Path, llm_server: ScriptedLLM
) -> None:
    llm_server.mode = "hang"
    started = time.monotonic()
    checks = llm_checks(tmp_path, llm_server.base_url, llm_deadline=2.0)
    assert time.monotonic() - started < 2.0 + 5.0
    assert not checks["llm"].ok
    assert "no complete answer within 2 s" in checks["llm"].detail
    assert "constrained output" not in checks


@pytest.mark.parametrize("retries", [0, 1])
def test_an_llm_that_is_down_fails_the_check(tmp_path: Path, retries: int) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    checks = llm_checks(tmp_path, url, llm_retries=retries)
    assert not checks["llm"].ok and "not reachable" in checks["llm"].detail
