"""Who may reach the app: the bind/auth check of `serve()` and the browser-id secret.

No Gradio here: `ui.py` calls these before launching, tests call them directly.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from rag.errors import ConfigError

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """`user:password` -> (user, password); None when unset; ConfigError when malformed."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ConfigError("Auth must look like user:password (RAG_AUTH or --auth).")
    return user, password


def check_bind(host: str, auth: str | None) -> tuple[str, str] | None:
    """Refuse to listen beyond this machine without a password; returns the parsed auth."""
    credentials = parse_auth(auth)
    if host not in LOCAL_HOSTS and credentials is None:
        raise ConfigError(
            f"Refusing to listen on {host} without a password: anyone on the network could use "
            "the app. Pass --auth user:password (or set RAG_AUTH), or bind to 127.0.0.1."
        )
    return credentials


def browser_secret(state_dir: Path) -> str:
    """A per-installation secret that encrypts the browser id kept in localStorage."""
    path = state_dir / "browser_secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        state_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        path.write_text(secret, encoding="ascii")
        path.chmod(0o600)
        return secret
