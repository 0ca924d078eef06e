"""What kind of answer a question wants, told from its form alone (no model call).

A factoid ("How many…", "Who won…") has a short answer phrase; a definition ("What is the
VRAEM?"), an explanation ("Why did…"), an event ("What happened…"), a summary, a comparison
or a list has none, and is answered in a few cited points instead. Pure functions.
"""

from __future__ import annotations

import re
from typing import Literal

QuestionKind = Literal[
    "factoid", "definition", "explanation", "event", "summary", "comparison", "list"
]
POINT_KINDS = frozenset({"definition", "explanation", "event", "summary", "comparison", "list"})

_SUMMARY = re.compile(
    r"^\s*(?:please\s+)?(?:summari[sz]e|sum up|recap|give (?:me )?(?:a |an )?(?:summary|overview|"
    r"recap)|(?:an? )?overview of|tell me (?:about|more)|what (?:do|does) (?:the|these|this|"
    r"those) (?:articles?|stor(?:y|ies)|reports?|sources?) (?:say|report|tell)|what is known "
    r"about|what do we know about|what(?:'s| is) the (?:latest|news|story) (?:on|about|with))\b",
    re.IGNORECASE,
)
_EVENT = re.compile(
    r"^\s*what (?:happened|has happened|is happening|was happening|went (?:on|wrong))\b",
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
    r"arguments|issues|concerns)\b|which (?:\w+ ){0,2}\w+s (?:are|were|have|did|do)\b)",
    re.IGNORECASE,
)
_EXPLANATION = re.compile(
    r"^\s*(?:why\b|how (?:does|do|did|is|are|was|were|can|could|will|would|has|have|should)"
    r"\b(?! (?:many|much|long|old|far|often|big|large|tall|high)\b)|what (?:caused|causes|led"
    r" to|is behind|drives|explains)\b|what (?:is|was|are|were) the (?:reason|cause|purpose|"
    r"impact|effect|significance|point) of\b)",
    re.IGNORECASE,
)
# "What is the VRAEM?", "Who is Gabriel?", "What are sanctuary cities?": a subject and nothing
# more (a lower-case noun of the kind 'the name of', 'the capital of' makes a factoid).
_DEFINITION = re.compile(
    r"^\s*(?:[Ww]hat|[Ww]ho)(?:'s| is| are| was| were)\s+(?:an?\s+|the\s+)?"
    r"(?:[A-Z][\w'’.&-]*(?:\s+(?:[A-Z][\w'’.&-]*|of|de|del|la|and|the|for))*|[\w'’-]+"
    r"(?:\s+[\w'’-]+)?)\s*\??\s*$"
)
_NOT_A_SUBJECT = re.compile(
    r"\b(name|number|capital|population|cost|price|age|date|year|total|amount|score|"
    r"winner|title|size|height|length|distance|percentage|rate|time|day|month|reason)\b",
    re.IGNORECASE,
)


def question_kind(question: str) -> QuestionKind:
    """The kind of answer `question` wants, from its wording.

    >>> [question_kind(q) for q in ("What is the VRAEM?", "How many bases are there?",
    ...     "Why did the army move the villagers?", "Summarize the articles on coca.")]
    ['definition', 'factoid', 'explanation', 'summary']
    """
    text = " ".join(question.split())
    if _SUMMARY.search(text):
        return "summary"
    if _EVENT.search(text):
        return "event"
    if _COMPARISON.search(text):
        return "comparison"
    if _LIST.search(text):
        return "list"
    if _EXPLANATION.search(text):
        return "explanation"
    if _DEFINITION.match(text) and not _NOT_A_SUBJECT.search(text):
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
