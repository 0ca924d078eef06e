"""What kind of answer a question wants, told from its form alone (no model call).

A factoid ("How many…", "Who won…") has a short answer phrase; a definition ("What is the
VRAEM?"), an explanation ("Why did…"), an event ("What happened…"), a summary, a comparison
or a list has none, and is answered in a few cited points instead. Pure functions.
"""

from __future__ import annotations

import re
from typing import Literal

from rag.answering.parts import parts

QuestionKind = Literal[
    "factoid", "definition", "explanation", "event", "summary", "comparison", "list"
]
POINT_KINDS = frozenset({"definition", "explanation", "event", "summary", "comparison", "list"})

_SUMMARY = re.compile(
    r"^\s*(?:what (?:did|does|do) .{1,80}? (?:say|said|argue|find|found|reveal|announce|tell|"
    r"think|show|report|conclude|propose|recommend|promise)\b|"
    r"(?:please\s+)?(?:summari[sz]e|sum up|recap|give (?:me )?(?:a |an )?(?:summary|overview|"
    r"recap)|(?:an? )?overview of|tell me (?:about|more)|what (?:do|does) (?:the|these|this|"
    r"those) (?:articles?|stor(?:y|ies)|reports?|sources?) (?:say|report|tell)|what is known "
    r"about|what do we know about|what(?:'s| is) the (?:latest|news|story) (?:on|about|with)))\b",
    re.IGNORECASE,
)
_EVENT = re.compile(
    r"^\s*what (?:happened|happens|has happened|is happening|was happening|will happen|went "
    r"(?:on|wrong)|(?:damage|impact|effects?|harm|destruction) (?:did|does|do|has|have|had|"
    r"will|could))\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"^\s*(?:compare|contrast|how (?:has|have|did|does|do) .{1,80}? (?:change[sd]?|evolve[sd]?|"
    r"develop(?:ed)?|grow|grown|shift(?:ed)?|compare|differ)|what (?:is|are|were) the "
    r"(?:main |key )?(?:differences?|similarities) between|how is .{1,60}? different)\b",
    re.IGNORECASE,
)
_LIST = re.compile(
    r"^\s*(?:list|name (?:the|all|some|three|two)|what (?:are|were) (?:the |some )?(?:main |key |"
    r"major |biggest |different |other )?(?:\w+ )?(?:reasons|causes|effects|consequences|"
    r"steps|measures|ways|factors|problems|risks|demands|changes|charges|options|goals|"
    r"arguments|issues|concerns)\b|which (?:\w+ ){0,2}\w{3,}(?<![su])s (?:are|were|have|had|did|"
    r"do|will|would|could|can|made|make|won|took|got|played|received|joined|left|lost|signed|"
    r"voted|said|went)\b)",
    re.IGNORECASE,
)
_EXPLANATION = re.compile(
    r"^\s*(?:why\b|how (?:does|do|did|is|are|was|were|can|could|will|would|has|have|should)"
    r"\b(?! (?:many|much|long|old|far|often|big|large|tall|high)\b)|what (?:caused|causes|is "
    r"causing|are causing|led to|is behind|drives|explains)\b|what (?:is|was|are|were) the "
    r"(?:reason|cause|purpose|impact|effect|significance|point) of\b)",
    re.IGNORECASE,
)
# "What is the VRAEM?", "Who is Gabriel?", "What is the Venezuelan oil scandal?": a subject of
# up to six words and nothing more ('the name of', 'the capital of' make it a factoid).
_DEFINITION = re.compile(
    r"^\s*(?:what|who)(?:'s| is| are| was| were)\s+(?:an?\s+|the\s+)?"
    r"(?:[\w'’.&-]+\s+){0,5}[\w'’.&-]+\s*\??\s*$",
    re.IGNORECASE,
)
_NOT_A_SUBJECT = re.compile(
    r"\b(name|number|capital|population|cost|price|age|date|year|total|amount|score|"
    r"winner|title|size|height|length|distance|percentage|rate|time|day|month|reason|"
    r"largest|biggest|smallest|first|last|highest|lowest|oldest|youngest|most|least|new|"
    r"current|next|former|latest|president|ceo|leader|head|chief|owner|founder|author|"
    r"sculptor|director|coach|mayor|governor|minister|king|queen|champion)\b",
    re.IGNORECASE,
)


_CLAUSE = re.compile(  # "Who was the person that led…": a factoid with a clause, not a subject
    r"\b(that|which|who|whom|whose|when|where|with|while|after|before|during|did|does|do|has|"
    r"have|had|in|at|on|to|by|from)\b",
    re.IGNORECASE,
)


def question_kind(question: str) -> QuestionKind:
    """The kind of answer `question` wants, from its wording; a two-part question wants points
    when a part does ("What is X and why…?").

    >>> [question_kind(q) for q in ("What is the VRAEM?", "How many bases are there?",
    ...     "Why did the army move the villagers?", "Summarize the articles on coca.")]
    ['definition', 'factoid', 'explanation', 'summary']
    """
    asked = parts(question)
    if len(asked) > 1:
        return next((k for k in map(_kind, asked) if k != "factoid"), "factoid")
    return _kind(question)


def _kind(question: str) -> QuestionKind:
    """The kind of a one-part question."""
    text = " ".join(question.split())
    forms: tuple[tuple[QuestionKind, re.Pattern[str]], ...] = (
        ("summary", _SUMMARY),
        ("event", _EVENT),
        ("comparison", _COMPARISON),
        ("list", _LIST),
        ("explanation", _EXPLANATION),
    )
    found = next((name for name, form in forms if form.search(text)), None)
    if found:
        return found
    rest = text.split(maxsplit=1)[-1]
    if _DEFINITION.match(text) and not _NOT_A_SUBJECT.search(text) and not _CLAUSE.search(rest):
        return "definition"
    return "factoid"


SPREAD_KINDS = frozenset({"summary", "list", "comparison"})  # evidence from many articles
_LEAD = re.compile(
    r"^\s*(?:please\s+)?(?:summari[sz]e|sum up|recap|give (?:me )?(?:a |an )?(?:summary|overview|"
    r"recap)(?: of)?|(?:an? )?overview of|tell me (?:more )?about|what (?:do|does) (?:the|these|"
    r"this|those) (?:articles?|stor(?:y|ies)|reports?|sources?) (?:say|report|tell)(?: us)?|what "
    r"is known|what do we know)\s*(?:what (?:the|these|this|those) (?:articles?|stor(?:y|ies)|"
    r"reports?|sources?) (?:say|report)\s*)?(?:about|on|of|regarding)?\s+",
    re.IGNORECASE,
)


def subject(question: str) -> str:
    """What a summary asks about, without its lead-in (searched instead of the whole wording).

    >>> subject("Summarize what these articles say about the Shining Path.")
    'the Shining Path'
    """
    rest = _LEAD.sub("", question, count=1).strip(" ?.!")
    return rest or question


def wants_points(question: str) -> bool:
    """Is the question answered in cited points rather than an answer phrase?"""
    return question_kind(question) in POINT_KINDS


def clip_question(question: str, limit: int) -> str:
    """The question cut to `limit` characters, at its last sentence end within them if any.

    A prompt of a few hundred tokens has no room for more; a pasted article as a question
    once failed in SQLite ("too many SQL variables").

    >>> clip_question("Who won? " + "x" * 50, 20)
    'Who won?'
    """
    if len(question) <= limit:
        return question
    head = question[:limit]
    end = max(head.rfind(". "), head.rfind("? "), head.rfind("! "))
    return head[: end + 1] if end > 0 else head
