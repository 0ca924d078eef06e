"""Chroma failures as one user-facing line: which Chroma, what happened, what to do.

A Chroma server that is down or dies mid-run shows up as httpx/httpcore errors (or chromadb's
ValueError "Could not connect…"); nobody should see those tracebacks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import httpx

from rag.errors import RagError, StoreError
from rag.settings import Settings

log = logging.getLogger(__name__)


def chroma_where(settings: Settings) -> str:
    """The Chroma the settings point at: its URL, or the embedded store's folder."""
    return settings.chroma_url or str(settings.index_dir / "chroma")


def unreachable_message(settings: Settings) -> str:
    """What to say when the Chroma server does not answer."""
    url = settings.chroma_url or ""
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    return (
        f"Chroma at {url} is not reachable: start it with `chroma run --path DIR --host {host}"
        f" --port {port}` or unset RAG_CHROMA_URL, then re-run."
    )


def is_connection_error(err: BaseException) -> bool:
    """Is `err` (or what caused it) a failure to reach or keep talking to a server?"""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.TransportError | ConnectionError | TimeoutError):
            return True
        if isinstance(current, ValueError) and "could not connect" in str(current).lower():
            return True
        current = current.__cause__ or current.__context__
    return False


def chroma_failure(settings: Settings, err: BaseException) -> str:
    """One line for any Chroma failure."""
    if settings.chroma_url and is_connection_error(err):
        return unreachable_message(settings)
    detail = " ".join(str(err).split())[:200] or type(err).__name__
    return f"Chroma at {chroma_where(settings)} failed ({type(err).__name__}: {detail})."


@contextmanager
def chroma_guard(settings: Settings) -> Iterator[None]:
    """Turn anything chromadb (or its HTTP client) raises inside the block into a StoreError."""
    try:
        yield
    except RagError:
        raise
    except Exception as err:  # chromadb raises many kinds; the user needs one message
        log.debug("chroma call failed", exc_info=True)
        raise StoreError(chroma_failure(settings, err)) from None
