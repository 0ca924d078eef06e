"""An answer phrase said as one short sentence, built from the question or the cited sentence,
and dated by its article when the question is about time or the sources disagree.

The verifier keeps phrases ("36"); a reader wants "36 natural gas workers were kidnapped". A
sentence built here still holds the phrase and is checked like the model's own. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answering.asks import asking_clause, kind
from rag.answering.parts import parts
from rag.answering.units import counted
from rag.answering.verify import claim_ok, phrase_in
from rag.citations import CITATION, Passage, parse_numbers
from rag.dates import is_relative
from rag.text import terms

MAX_WORDS = 30  # a cited sentence longer than this is cut to the clause holding the answer
MIN_WORDS = 12  # ... and the clauses after it, to this many words
_MONTHS = "January February March April May June July August September October November "
_MONTHS += "December"
_BE = r"(?:is|are|was|were|has been|have been|had been|will be)"
# "How many natural gas workers were kidnapped?" -> counted words, the verb, the rest
_HOW_MANY = re.compile(rf"^how (?:many|much) (?P<what>.+?) (?P<be>{_BE}) (?P<rest>.+)$", re.I)
# "Who leads the Shining Path?" (not "Who did they elect?")
_WHO = re.compile(r"^who (?!(?:did|do|does|will|would|can|could)\b)(?P<rest>\w.+)$", re.I)
# "What is the name of the operation?"
_WHAT_IS = re.compile(rf"^(?:what|which) (?P<be>{_BE}) (?P<rest>.+)$", re.I)
_CLAUSES = re.compile(r"[,;:]\s+|\s+[—–-]\s+")
# Words that would read as a refusal or a disagreement: a sentence holding them is not built.
_MISLEADING = re.compile(
    r"d(?:o|oes|id) not|no (?:information|mention|answer)|not (?:mentioned|stated|specified)|"
    r"cannot|can't|don'?t know|unable to|disagree|conflicting|contradict|[;·“”]",
    re.IGNORECASE,
)


def human_date(iso: str) -> str:
    """An article date as words: '2012-04-23' -> '23 April 2012' ('' stays '').

    >>> human_date("2012-04-23"), human_date("2012-04"), human_date("2012"), human_date("soon")
    ('23 April 2012', 'April 2012', '2012', 'soon')
    """
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?", iso.strip())
    if not m or not 1 <= int(m[2] or 1) <= 12:
        return iso.strip()
    month = _MONTHS.split()[int(m[2]) - 1] if m[2] else ""
    return " ".join(x for x in (str(int(m[3])) if m[3] else "", month, m[1]) if x)


def about_time(question: str) -> bool:
    """Does the question ask when, or count time from now ("this week")?

    >>> about_time("When were the workers freed?"), about_time("How many were freed?")
    (True, False)
    """
    return kind(question) == "when" or is_relative(question)


def from_question(question: str, phrase: str) -> str:
    """The question turned into a statement of the phrase, or '' for a form not handled.

    >>> from_question("How many natural gas workers were kidnapped?", "36")
    '36 natural gas workers were kidnapped'
    >>> from_question("Who leads the Shining Path?", "Comrade Jose")
    'Comrade Jose leads the Shining Path'
    """
    asked = " ".join(asking_clause(question).split()).rstrip(" ?.!")
    if m := _HOW_MANY.match(asked):
        what = m["what"]
        said = phrase if counted(question) & counted(f"how many {phrase}") else f"{phrase} {what}"
        return f"{said} {m['be']} {m['rest']}"
    if m := _WHO.match(asked):
        return f"{phrase} {m['rest']}"
    if m := _WHAT_IS.match(asked):
        rest = m["rest"]
        return f"{rest[0].upper()}{rest[1:]} {m['be']} {phrase}"
    return ""


def from_sentence(phrase: str, cited: str) -> str:
    """The cited sentence when it is short, else its clauses around the one holding the phrase.

    >>> from_sentence("36", "The initiative follows the kidnapping of 36 workers, in Cusco.")
    'The initiative follows the kidnapping of 36 workers, in Cusco'
    """
    text = " ".join(cited.split()).rstrip(" .!?")
    if len(text.split()) <= MAX_WORDS:
        return text
    cuts = [0, *(m.end() for m in _CLAUSES.finditer(text)), len(text)]
    for i in range(len(cuts) - 1):
        if phrase_in(phrase, text[cuts[i] : cuts[i + 1]]):
            j = i + 1  # a short clause takes the next ones: "the ferry, which…, would sail"
            while j < len(cuts) - 1 and len(text[cuts[i] : cuts[j]].split()) < MIN_WORDS:
                j += 1
            clause = text[cuts[i] : cuts[j]].rstrip(" ,;:—–-")
            lead = "" if i == 0 else "…"
            return f"{lead}{clause}" if len(clause.split()) <= MAX_WORDS else ""
    return ""


def worded_by(statement: str, cited: Sequence[str]) -> bool:
    """Is every term of the statement in its cited sentences? A statement built from the
    question may only say what its citation says ("soldiers sent" is not "soldiers killed").

    >>> worded_by("36 workers were kidnapped", ["Rebels kidnapped 36 gas workers."])
    True
    >>> worded_by("Peru sent 36 soldiers", ["Rebels killed 36 soldiers."])
    False
    """
    return terms(statement) <= terms(" ".join(cited))


def phrased(question: str, phrase: str, cited: Sequence[Passage]) -> str:
    """One short sentence stating the phrase (no markers, no full stop): the question as a
    statement worded by the cited sentences, or the cited sentence; '' when neither holds the
    phrase and passes the check."""
    stated = from_question(question, phrase) if len(parts(question)) == 1 else ""
    stated = stated if worded_by(stated, [p.text for p in cited]) else ""
    for text in (stated, *(from_sentence(phrase, p.text) for p in cited)):
        if text and not _MISLEADING.search(text) and not claim_ok(text, [phrase], cited, question):
            return text[0].upper() + text[1:]
    return ""


def dated(text: str, passages: Sequence[Passage]) -> str:
    """Each ';'-separated value with the date of the article its first marker cites, before the
    markers: 'Sources disagree: 46 bases (reported 1 May 2022) [3]; 52 (reported 2020) [2].'"""
    by_n = {p.n: p for p in passages}
    out = []
    for part in text.split("; "):
        first = CITATION.search(part)
        numbers = parse_numbers(first[1]) if first else []
        when = human_date(by_n[numbers[0]].date) if numbers and numbers[0] in by_n else ""
        if when and first and when not in part:
            head = part[: first.start()].rstrip()
            part = f"{head} (reported {when}) {part[first.start() :]}"
        out.append(part)
    return "; ".join(out)
