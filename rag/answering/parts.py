"""Two-part questions: 'Which firm bought the chain, and who was its CEO in 2024?'.

Each part is searched and checked as a question of its own: its answer often sits in
another article, and a year or a count named in one part says nothing about the other.
"""

from __future__ import annotations

import re

_SPLIT = re.compile(
    r",?\s+and\s+(?=(?:how|what|which|who|whom|whose|where|when|why|"
    r"(?:in|at|on|for|from|by|to)(?: about)? (?:what|which|whom))\b)",
    re.IGNORECASE,
)
MIN_PART_WORDS = 3


def parts(question: str) -> list[str]:
    """The question's parts, or the question alone.

    >>> parts("How many were kidnapped, and who paid the ransom?")
    ['How many were kidnapped?', 'who paid the ransom?']
    """
    pieces = [p.strip() for p in _SPLIT.split(question, maxsplit=1)]
    if len(pieces) < 2 or any(len(p.split()) < MIN_PART_WORDS for p in pieces):
        return [question]
    first, second = pieces
    return [first.rstrip(" ,;") + "?", second]
