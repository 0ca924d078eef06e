"""Who may reach the app: bind/auth checks and the browser-id secret (rag/security.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.app import security
from rag.errors import ConfigError


def test_bind_requires_auth_beyond_loopback() -> None:
    assert security.check_bind("127.0.0.1", None) is None
    assert security.check_bind("0.0.0.0", "me:secret") == ("me", "secret")
    assert security.parse_auth("me:pa:ss") == ("me", "pa:ss")
    with pytest.raises(ConfigError, match="without a password"):
        security.check_bind("0.0.0.0", None)
    with pytest.raises(ConfigError, match="user:password"):
        security.check_bind("127.0.0.1", "nopassword")


def test_browser_secret_is_stable(tmp_path: Path) -> None:
    first = security.browser_secret(tmp_path / "state")
    assert security.browser_secret(tmp_path / "state") == first and len(first) > 20
