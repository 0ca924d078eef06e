"""Units: what a figure counts ('52 bases'), and what a 'how many' question counts; the
disagreement check compares two articles' figures only when they count the same thing.
"""

from __future__ import annotations

import re

from rag.citations import NUMBER, figures
from rag.text import normalize, terms

# A figure, with what it changed from ('from 78 to 46') and the words naming what it counts;
# in '18 of the 80 people' that is 'people'.
VALUE = re.compile(
    rf"(?:(?:\bfrom\s+)?(?P<old>\d[\d,.]*)\s+to\s+)?(?P<num>{NUMBER})"
    r"(?:\s+of\s+(?:the\s+)?\d[\d,.]*)?"
    r"(?:\s*(?P<unit>%|[^\W\d_]+(?:[ -][^\W\d_]+)?))?"
)
_COUNTED = re.compile(r"^\s*how (?:many|much)\s+(?P<rest>.*)", re.IGNORECASE)
_ENDS_COUNTED = frozenset(
    "are is was were be been do does did have has had will would can could may might should "
    "of in on at for to from by with after before during since when where that than".split()
)


_SPELLINGS = re.compile(r"(met|lit|cent|fib|theat)re$")  # metre/meter, litre/liter, …


def spelled(word: str) -> str:
    """One spelling of a unit word, so '145 meters' is in 'a 145-metre bridge'.

    >>> spelled("metre"), spelled("kilometre"), spelled("meter"), spelled("genre")
    ('meter', 'kilometer', 'meter', 'genre')
    """
    return _SPELLINGS.sub(r"\1er", word)


def unit(words: str | None) -> set[str]:
    """The stems of the (up to two) words after a figure: '52 army bases' -> {'armi', 'base'}."""
    if not words:
        return set()
    return {"percent"} if words == "%" else terms(words)


def unit_after(value: str, text: str) -> set[str]:
    """The unit written after the figure `value` in the text ('' when none is).

    >>> sorted(unit_after("16", "Sixteen people were murdered"))
    ['peopl']
    """
    for written in (text, normalize(text)):  # as written, then with number words as digits
        for m in VALUE.finditer(written):
            if figures(m["num"]) == {value}:
                return unit(m["unit"])
    return set()


def counted(question: str) -> set[str]:
    """The stems of what a 'how many' question counts, or nothing.

    >>> sorted(counted("How many natural gas workers were kidnapped?"))
    ['ga', 'natur', 'worker']
    """
    m = _COUNTED.match(question)
    if not m:
        return set()
    words = []
    for word in m["rest"].split():
        if word.lower().strip("?,.") in _ENDS_COUNTED:
            break
        words.append(word)
    return terms(" ".join(words[:4]))
