"""What a question asks for: a number, a time or a person, and the clause that asks it.

Verification checks an answer phrase against it. Pure functions.
"""

from __future__ import annotations

import re
from typing import Literal

from rag.text import NUMBER_WORDS

Kind = Literal["number", "when", "who", ""]

_TIME_WORDS = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|\b(monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|yesterday|today|week|month|year|decade|"
    r"century|spring|summer|fall|autumn|winter|morning|night|ago|later|earlier)\b",
    re.IGNORECASE,
)
# "In what year…", "By how much…", "For about how long…"
_PREPOSITION = r"(?:in|on|at|by|for|from|to|under|with|until|since)(?:\s+about)?\s+"
_LEAD = rf"^\s*(?:{_PREPOSITION})?"
_ASKS_NUMBER = re.compile(
    _LEAD + r"(how (many|much|long|old|far|big|large|tall|high)|"
    r"what (percentage|share|number|amount|age)\b)",
    re.IGNORECASE,
)
_ASKS_WHEN = re.compile(
    _LEAD + r"(when|(what|which) (year|day|date|month|time(?! zone)))\b", re.IGNORECASE
)
_ASKS_WHO = re.compile(r"^\s*(who|whom|whose)\b", re.IGNORECASE)
_ROLE = re.compile(r"\b(police|officials?|government|president|minister)\b", re.IGNORECASE)
# "When Leach died in 2022, to which city was he flown?": the asking clause after a lead-in.
_ASKING_CLAUSE = re.compile(
    rf"[,.]\s+((?:{_PREPOSITION})?"
    r"(?:how|what|which|who|whom|whose|when|where|why)\b.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ASKS_FIRST = re.compile(r"\s*(how|what|which|who|whom|whose|where|why)\b", re.IGNORECASE)


def asking_clause(question: str) -> str:
    """The clause that asks, without a lead-in that sets the scene.

    >>> asking_clause("When Mike Leach died, to which city was he airlifted?")
    'to which city was he airlifted?'
    """
    if _ASKS_FIRST.match(question):
        return question
    found = _ASKING_CLAUSE.search(question)
    return found.group(1) if found else question


def kind(question: str) -> Kind:
    """The kind of answer the question asks for, '' for any other.

    >>> kind("When Mike Leach died, how many people came to his funeral?")
    'number'
    """
    clause = asking_clause(question)
    if _ASKS_NUMBER.search(clause):
        return "number"
    if _ASKS_WHEN.search(clause):
        return "when"
    if _ASKS_WHO.search(clause):
        return "who"
    return ""


def answer_kind_ok(question: str, phrase: str) -> bool:
    """Is the phrase the kind of thing the question asks for (number, time, person)?"""
    asked = kind(question)
    if asked == "number":
        return bool(re.search(r"\d", phrase) or NUMBER_WORDS.search(phrase))
    if asked == "when":
        return bool(re.search(r"\d", phrase) or _TIME_WORDS.search(phrase))
    if asked == "who":
        return any(w[:1].isupper() for w in phrase.split()) or bool(_ROLE.search(phrase))
    return True
