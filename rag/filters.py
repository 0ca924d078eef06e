"""What retrieval may be restricted to, in a module of its own so both indexes can take it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some sources and a date range (ISO dates, inclusive)."""

    sources: tuple[str, ...] = ()
    since: str = ""
    until: str = ""

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until)
