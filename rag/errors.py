"""The errors a user can meet. Each message says what went wrong and what to do next."""

from __future__ import annotations


class RagError(Exception):
    """Base class: `str(err)` is a short message written for the user."""


class ConfigError(RagError):
    """Settings that cannot work (bad path, missing URL, unsafe host without auth)."""


class IndexMismatch(RagError):
    """The index was built with another embedding model or chunking."""


class StoreError(RagError):
    """The index cannot be opened or written."""


class LLMError(RagError):
    """The LLM could not produce an answer (down, slow, or garbage).

    `status` is the HTTP status when the server answered with an error (400: it refused the
    request, e.g. a response format it does not support).
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EvalFormatError(RagError):
    """A question-set row that cannot be read; the message names the line."""


class IndexDamaged(StoreError):
    """The index's files are damaged or out of step; the message names the command that fixes it."""
