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
    """The LLM could not produce an answer (down, slow, or garbage)."""


class EvalFormatError(RagError):
    """A question-set row that cannot be read; the message names the line."""
