"""Who may reach the app: the bind/auth check of `serve()`, the login brake, the browser-id secret.

No Gradio here: `ui.py` calls these before launching, tests call them directly. Gradio's auth
callable only gets (username, password), so a tiny ASGI middleware records each request's
client address in a context variable for the brake.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

log = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
FREE_FAILURES = 3  # typos cost nothing
BASE_DELAY = 0.5  # then 0.5 s, 1 s, 2 s, … before each further attempt
MAX_DELAY = 30.0
FORGET_AFTER = 15 * 60.0  # seconds without a failure
MAX_CLIENTS = 10_000  # remembered at once; the stalest are dropped beyond that
LOGIN_CLIENT: ContextVar[str] = ContextVar("login_client", default="unknown")


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


class LoginBrake:
    """Failed logins per client: free for the first few, then a delay that doubles up to a cap.

    Attempts of one client are taken one at a time, so parallel guesses queue up too.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (count, last failure)
        self._locks: dict[str, asyncio.Lock] = {}

    def failures(self, client: str) -> int:
        """Failures in a row of this client (0 once it has been quiet for FORGET_AFTER)."""
        count, last = self._failures.get(client, (0, 0.0))
        if count and self._clock() - last > FORGET_AFTER:
            self.succeeded(client)
            return 0
        return count

    def delay(self, client: str) -> float:
        """Seconds this client's next attempt waits before its password is checked."""
        extra = self.failures(client) - FREE_FAILURES
        return 0.0 if extra < 0 else min(MAX_DELAY, BASE_DELAY * 2.0**extra)

    def failed(self, client: str, username: str) -> None:
        """Count a failure and log it (never the password)."""
        count = self.failures(client) + 1
        self._failures[client] = (count, self._clock())
        if len(self._failures) > MAX_CLIENTS:
            stalest = min(self._failures, key=lambda c: self._failures[c][1])
            self.succeeded(stalest)
        log.warning(
            "failed login for user %r from %s (%d in a row); the next attempt waits %.1f s",
            username[:64],
            client,
            count,
            self.delay(client),
        )

    def succeeded(self, client: str) -> None:
        """Forget a client's failures."""
        self._failures.pop(client, None)
        lock = self._locks.get(client)
        if lock is not None and not lock.locked():
            del self._locks[client]

    def lock(self, client: str) -> asyncio.Lock:
        """The lock that makes one client's attempts wait for each other."""
        if len(self._locks) > MAX_CLIENTS:
            self._locks = {c: lk for c, lk in self._locks.items() if lk.locked() or c == client}
        return self._locks.setdefault(client, asyncio.Lock())


def login_checker(
    credentials: tuple[str, str],
    brake: LoginBrake,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> Callable[[str, str], Awaitable[bool]]:
    """Gradio's `auth` callable: waits out the client's delay, then compares in constant time."""
    user, password = (part.encode() for part in credentials)

    async def check(username: str, attempt: str) -> bool:
        client = LOGIN_CLIENT.get()
        async with brake.lock(client):
            wait = brake.delay(client)
            if wait:
                await sleep(wait)
            ok = secrets.compare_digest(username.encode(), user)
            ok &= secrets.compare_digest(attempt.encode(), password)
            if ok:
                brake.succeeded(client)
            else:
                brake.failed(client, username)
            return ok

    return check


class ClientAddressMiddleware:
    """ASGI middleware: puts the request's client address into LOGIN_CLIENT for the brake."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            client = scope.get("client")
            LOGIN_CLIENT.set(str(client[0]) if client else "unknown")
        await self.app(scope, receive, send)
