"""Settings from the environment and rag.toml: a bad value is named in one line, with its key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.settings import load_settings


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_bad_environment_value_names_the_variable_and_what_it_takes(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_TOP_K", "abc")
    monkeypatch.setenv("RAG_LLM_BACKEND", "gpt")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert "RAG_TOP_K" in message and "'abc'" in message and "integer" in message
    assert "RAG_LLM_BACKEND" in message and "'embedded', 'openai' or 'none'" in message


def test_a_broken_rag_toml_says_where(clean: Path) -> None:
    (clean / "rag.toml").write_text("top_k = 3\n[broken\n")
    with pytest.raises(ConfigError, match=r"rag.toml is not valid TOML: .*line 2"):
        load_settings()


def test_good_settings_load(clean: Path) -> None:
    (clean / "rag.toml").write_text("top_k = 3\n")
    assert load_settings(port=9000).top_k == 3
