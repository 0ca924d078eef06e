"""The embedded model: make_llm, a missing or broken GGUF, the packaged model, and a running
app's model reused by another process through its card."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fake_llm import ScriptedLLM

from rag.embedded import Card, EmbeddedLLM, cards_dir, find_served, make_llm, publish
from rag.errors import ConfigError, LLMError
from rag.llm import ChatLLM, LLMStatus
from rag.settings import Settings

KEY = "sk-test-very-secret-key-0123456789"
QUESTION = [{"role": "user", "content": "What happened?"}]


def settings(**values: object) -> Settings:
    """Settings built only from the given values (no rag.toml or RAG_* surprises matter here)."""
    return Settings(**values)  # type: ignore[arg-type]


def test_make_llm_backends(tmp_path: Path) -> None:
    """Each backend gives the right object; openai without a URL is a ConfigError."""
    assert make_llm(settings(llm_backend="none")) is None
    with pytest.raises(ConfigError, match="RAG_LLM_BASE_URL"):
        make_llm(settings(llm_backend="openai", llm_base_url=None))
    remote = make_llm(
        settings(
            llm_backend="openai",
            llm_base_url="http://example.invalid:8000/v1",
            llm_api_key=KEY,
            llm_model="gpt-4o-mini",
        )
    )
    assert isinstance(remote, ChatLLM)
    assert remote.name == "openai:gpt-4o-mini @ example.invalid"
    assert KEY not in repr(remote)
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF")
    embedded = make_llm(settings(llm_backend="embedded", llm_model_path=model))
    assert isinstance(embedded, EmbeddedLLM)
    assert embedded.name == "embedded:mine"
    assert embedded.status == LLMStatus("off", embedded.status.message)
    with pytest.raises(ConfigError):
        make_llm(settings(llm_backend="embedded", llm_model_path=tmp_path / "missing.gguf"))


def test_openai_backend_against_scripted_server(llm_server: ScriptedLLM) -> None:
    """make_llm's remote client really talks to the configured server."""
    llm_server.reply = "remote says hi"
    llm = make_llm(settings(llm_backend="openai", llm_base_url=llm_server.base_url))
    assert llm is not None
    assert llm.complete(QUESTION, max_tokens=8) == "remote says hi"


def test_embedded_missing_or_broken_model(tmp_path: Path) -> None:
    """A model file that is missing or not a GGUF gives LLMError and an "error" status."""
    llm = EmbeddedLLM(settings(llm_model_path=tmp_path / "gone.gguf"))
    with pytest.raises(LLMError, match="does not exist"):
        list(llm.stream(QUESTION, max_tokens=4))
    assert llm.status.state == "error"
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf at all" * 64)
    llm = EmbeddedLLM(settings(llm_model_path=broken))
    llm.start_background()
    with pytest.raises(LLMError, match="GGUF"):
        llm.start()
    assert llm.status.state == "error"
    assert "GGUF" in llm.status.message


@pytest.mark.slow
def test_embedded_model_answers_and_requires_its_key() -> None:
    """The packaged model starts, streams a short answer, and refuses requests without its key."""
    llm = EmbeddedLLM(settings(llm_backend="embedded", llm_context=1024))
    try:
        llm.start_background()
        assert llm.status.state in {"loading", "ready"}
        llm.start()  # waits for the background start, then returns at once
        assert llm.status.state == "ready"
        llm.start()
        messages = [{"role": "user", "content": "What is the capital of France? One word."}]
        answer = "".join(llm.stream(messages, max_tokens=8))
        assert "paris" in answer.lower()
        assert llm._client is not None
        url = llm._client.base_url + "/chat/completions"
        body = {"model": "local", "messages": messages, "max_tokens": 4}
        assert httpx.post(url, json=body, timeout=60).status_code == 401
        wrong = {"Authorization": "Bearer wrong"}
        assert httpx.post(url, json=body, headers=wrong, timeout=60).status_code == 401
        assert llm._client._secret not in repr(llm)
    finally:
        llm.close()
    assert llm.status.state == "off"


@pytest.mark.slow
def test_the_apps_packaged_model_serves_another_engine_in_its_place() -> None:
    """The app's real server publishes its card; another EmbeddedLLM answers through it without
    loading a second model, and the card goes when the app's model stops."""
    app = EmbeddedLLM(settings(llm_backend="embedded", llm_context=1024))
    try:
        app.start_background(share=True)
        app.start()
        cards = list(cards_dir(app._settings).glob(f"{os.getpid()}.json"))
        assert len(cards) == 1
        other = EmbeddedLLM(settings(llm_backend="embedded", llm_context=1024))
        messages = [{"role": "user", "content": "What is the capital of France? One word."}]
        assert "paris" in other.complete(messages, max_tokens=8).lower()
        assert other.shared_by == os.getpid() and other._server is None
    finally:
        app.close()
    assert not cards[0].exists()


# -- a running app's model, reused ------------------------------------------------------------


def _own_model(tmp_path: Path) -> tuple[Settings, Path]:
    """Settings for a private model cache and a model file that is not a GGUF: loading it fails,
    so an answer can only come from a server found through a card."""
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"not a gguf at all" * 64)
    return settings(llm_model_path=model, model_cache_dir=tmp_path / "cache"), model


def _dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_published_card_is_private_and_found_only_for_the_same_model(
    llm_server: ScriptedLLM, tmp_path: Path
) -> None:
    conf, model = _own_model(tmp_path)
    folder = cards_dir(conf)
    card = Card(os.getpid(), llm_server.base_url, KEY, str(model.resolve()), conf.llm_context)
    path = publish(folder, card)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the server's key
    assert find_served(folder, model, conf.llm_context) == card
    assert find_served(folder, model, conf.llm_context * 2) is None  # another context
    assert find_served(folder, tmp_path / "other.gguf", conf.llm_context) is None


def test_a_card_of_a_gone_process_or_a_dead_server_is_not_used(
    llm_server: ScriptedLLM, tmp_path: Path
) -> None:
    conf, model = _own_model(tmp_path)
    folder = cards_dir(conf)
    gone = publish(folder, Card(_dead_pid(), llm_server.base_url, KEY, str(model.resolve()), 4096))
    assert find_served(folder, model, 4096) is None
    assert not gone.exists()  # the reader removes it
    down = Card(os.getpid(), "http://127.0.0.1:9/v1", KEY, str(model.resolve()), 4096)
    publish(folder, down)
    assert find_served(folder, model, 4096) is None


def test_the_embedded_backend_answers_through_a_running_apps_model(
    llm_server: ScriptedLLM, tmp_path: Path
) -> None:
    """With an app's card beside the model cache, start() loads nothing and says whose model it
    uses; without the card the same settings try to load the file and fail."""
    conf, model = _own_model(tmp_path)
    llm_server.reply = "the app's model says hi"
    card = Card(os.getpid(), llm_server.base_url, KEY, str(model.resolve()), conf.llm_context)
    path = publish(cards_dir(conf), card)
    llm = EmbeddedLLM(conf)
    assert llm.complete(QUESTION, max_tokens=8) == "the app's model says hi"
    assert llm.shared_by == os.getpid()
    assert llm.status.state == "ready" and "already loaded by the app" in llm.status.message
    assert llm_server.headers[-1]["Authorization"] == f"Bearer {KEY}"
    llm.close()
    assert path.exists()  # only the app that published it removes its card
    path.unlink()
    with pytest.raises(LLMError, match="GGUF"):
        EmbeddedLLM(conf).start()


def test_the_app_shares_its_own_model_and_never_uses_anothers(
    llm_server: ScriptedLLM, tmp_path: Path
) -> None:
    """An app (share=True) loads its own model even when a card exists: it would otherwise
    publish a server it does not own."""
    conf, model = _own_model(tmp_path)
    card = Card(os.getpid(), llm_server.base_url, KEY, str(model.resolve()), conf.llm_context)
    publish(cards_dir(conf), card)
    llm = EmbeddedLLM(conf)
    llm.start_background(share=True)
    with pytest.raises(LLMError, match="GGUF"):
        llm.start()
    assert llm.shared_by is None
