"""The time a question points at: a year it names, or "this week" counted from its date.

Retrieval uses the window as a soft preference for articles dated inside it, never a filter.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from rag.text import YEAR

_YEAR = re.compile(rf"\b({YEAR})\b")
# relative wording -> (days before the question date, days after) that it covers
_RELATIVE = [
    (re.compile(r"\b(today|tonight|this morning|this afternoon)\b", re.I), (1, 0)),
    (re.compile(r"\byesterday\b|\blast night\b", re.I), (2, 0)),
    (re.compile(r"\b(this|past) week(end)?\b|\bthese days\b|\bon \w+day\b", re.I), (8, 0)),
    (re.compile(r"\blast week(end)?\b", re.I), (15, 0)),
    (re.compile(r"\b(this|past) month\b|\brecent(ly)?\b|\blatest\b|\bjust\b", re.I), (31, 0)),
    (re.compile(r"\blast month\b|\bearlier this (year|month)\b", re.I), (62, 0)),
    (re.compile(r"\bthis year\b", re.I), (366, 0)),
    (re.compile(r"\blast year\b", re.I), (731, 0)),
]


def _iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def is_relative(question: str) -> bool:
    """Does the question count time from when it is asked ("this week", "recently")?

    >>> is_relative("Who won the race this week?"), is_relative("Who won in 2019?")
    (True, False)
    """
    return any(pattern.search(question) for pattern, _ in _RELATIVE)


def date_window(question: str, question_date: str = "") -> tuple[str, str] | None:
    """(first, last) ISO dates the question is about, or None when it names no time.

    >>> date_window("What did the Senate pass this week?", "2022-08-10")
    ('2022-08-02', '2022-08-10')
    >>> date_window("Who won the 2019 Iditarod?")
    ('2019-01-01', '2019-12-31')
    """
    asked = _iso(question_date)
    if asked is not None:
        for pattern, (before, after) in _RELATIVE:
            if pattern.search(question):
                first, last = asked - timedelta(days=before), asked + timedelta(days=after)
                return first.isoformat(), last.isoformat()
    years = sorted({int(y) for y in _YEAR.findall(question)})
    if years:
        return f"{years[0]}-01-01", f"{years[-1]}-12-31"
    return None


def in_window(article_date: str, window: tuple[str, str]) -> bool:
    """Is an article's date (ISO, possibly only a year or month) inside the window?"""
    if not article_date:
        return False
    first, last = window
    return first[: len(article_date)] <= article_date <= last[: len(article_date)]
