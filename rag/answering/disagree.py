"""Disagreement: articles that give different figures or names for the one thing asked.

The model usually proposes the value one article gives. A shown sentence of another article
that states a value of the same shape (a figure with the same unit, a name spelled
otherwise) is that answer's rival; both are shown, each with its citation. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from difflib import SequenceMatcher

from rag.answering.units import VALUE, counted, unit, unit_after
from rag.citations import Passage, figures, fold
from rag.text import YEAR, normalize, terms
from rag.tuning import TUNED, Tuning

_YEAR = re.compile(rf"^{YEAR}$")
_NAME = re.compile(r"[^\W\d_][\w’'-]*")
_CLOCK = re.compile(r"\s*[ap]\.?m\b\.?", re.IGNORECASE)
_PARTICLES = frozenset({"de", "del", "la", "von", "van", "da", "bin", "al", "el"})


def same_value(a: str, b: str) -> bool:
    """Do two answers say the same thing (one contains the other after normalisation)?"""
    x, y = normalize(a), normalize(b)
    return bool(x and y) and (x in y or y in x)


def figure_rival(
    answer: str,
    said: str,
    other: str,
    question: str,
    strict: bool = False,
    max_ratio: float = TUNED.max_ratio,
) -> str:
    """The phrase of `other` that gives a different figure for what `answer` counts, or ''.

    `said` is the text the answer comes from (for its unit). A figure qualifies when it has
    the answer's unit, or is the only figure `other` states beyond the question's own and no
    noun follows it ('At least 18 were killed'). `strict` (a sentence the model did not
    read): no years, and the unit must be the answer's own when it has one. Two figures more than
    `max_ratio` apart count different things.

    >>> figure_rival("52", "the VRAEM has 52 bases", "bases went from 78 to 46", "How many bases?")
    'from 78 to 46'
    """
    asked = figures(question)
    stated = [m for m in VALUE.finditer(answer) if not figures(m["num"]) <= asked]
    if len(stated) != 1:
        return ""
    value = next(iter(figures(stated[0]["num"])))
    own = unit_after(value, answer) or unit_after(value, said)
    if strict and _YEAR.match(value):
        return ""
    found = [
        m
        for m in VALUE.finditer(other)
        if (v := next(iter(figures(m["num"])), "")) not in asked
        and (not _YEAR.match(v) or _YEAR.match(value))
    ]
    if any(value in figures(m["num"]) for m in found):
        return ""  # the other article gives the same figure
    alone = len(found) == 1
    found = [m for m in found if _close(value, next(iter(figures(m["num"]))), max_ratio)]
    # '52 bases' for 'How many bases…?'; from an unread sentence, the answer's own unit only
    units = own if strict and own else (own | counted(question)) or terms(question)
    for m in found:
        if unit(m["unit"]) & units:
            return _phrase(m)
        if m["old"] and units & terms(other[: m.start()]):
            return m[0][: m.end("num") - m.start()]
    bare = alone and found and not unit((found[0]["unit"] or "").split(" ")[0])
    return found[0]["num"] if bare else ""


def _phrase(m: re.Match[str]) -> str:
    """A matched figure with its unit words up to the first stopword: '52 bases'."""
    clock = _CLOCK.match(m.string, m.end("num"))
    if ":" in m["num"] and clock:
        return m.string[m.start() : clock.end()]
    end = m.end("num")
    for w in re.finditer(r"%|[^\W\d_]+", m.string[end : m.end()]):
        if w[0] != "%" and not terms(w[0]):
            break
        end = m.end("num") + w.end()
    return m.string[m.start() : end]


def _runs(text: str) -> list[str]:
    """Runs of capitalised words (with 'de', 'von'… inside): the names a text states."""
    runs: list[list[str]] = []
    run: list[str] = []
    pending: list[str] = []
    end = -1
    for m in _NAME.finditer(text):
        word, joined = m[0], text[end : m.start()] == " "
        end = m.end()
        if word[0].isupper() and run and joined:
            run += [*pending, word]
        elif word[0].isupper():
            runs.append(run)
            run = [word]
        elif run and joined and word in _PARTICLES and len(pending) < 2:
            pending.append(word)
            continue
        else:
            runs.append(run)
            run = []
        pending = []
    runs.append(run)
    return [" ".join(r) for r in runs if r]


def name_rival(answer: str, other: str, similarity: float = TUNED.name_similarity) -> str:
    """A name in `other` spelled close to (`similarity`), but not as, a name of the answer, or ''.

    >>> name_rival("Martin Quispe Palomino", "another leader, Marco Quispe Palomino, alias")
    'Marco Quispe Palomino'
    """
    folded = fold(other)
    for name in _runs(answer):
        if fold(name) in folded:
            continue
        size = len(name.split())
        for run in _runs(other):
            words = run.split()
            for i in range(max(len(words) - size + 1, 1)):
                part = " ".join(words[i : i + size])
                close = SequenceMatcher(None, fold(name), fold(part)).ratio() >= similarity
                if close and not same_value(part, name):
                    return part
    return ""


def _states(text: str, phrase: str) -> bool:
    """Does the text state the phrase's figure with its unit (or, for a name, the name)?"""
    said = list(VALUE.finditer(phrase))
    if not said:
        return fold(phrase) in fold(text)
    value, named = figures(said[-1]["num"]), unit(said[-1]["unit"])
    return any(
        figures(m["num"]) == value and (not named or named & unit(m["unit"]))
        for m in VALUE.finditer(text)
    )


def _close(a: str, b: str, max_ratio: float) -> bool:
    """Are two figures near enough to be two reports of one count (10 and 18, not 10 and
    1,800)?"""
    if (":" in a) != (":" in b):
        return False  # a clock time and a count
    try:
        x, y = _amount(a), _amount(b)
    except ValueError:
        return False
    return min(x, y) > 0 and max(x, y) / min(x, y) <= max_ratio


def _amount(figure: str) -> float:
    """A figure as a number; a clock time as minutes after midnight ('10:12' -> 612)."""
    hours, _, minutes = figure.partition(":")
    return float(hours) * 60 + float(minutes) if minutes else float(figure)


def rivals(
    answer: str,
    evidence: Sequence[int],
    question: str,
    passages: Sequence[Passage],
    texts: Mapping[str, str],
    unread: Collection[int] = (),
    tuning: Tuning = TUNED,
) -> list[tuple[str, int]]:
    """(phrase, sentence id) of other articles' sentences that give another value than
    `answer`, one per article, taken from the passages in the order given (best first); a
    value the answer's own articles also state is not a disagreement. A figure in an `unread`
    sentence (one not in the prompt) must match more strictly (`figure_rival`)."""
    by_n = {p.n: p for p in passages}
    own = {by_n[n].article_id for n in evidence if n in by_n}
    said = " ".join(by_n[n].text for n in evidence if n in by_n)
    out: list[tuple[str, int]] = []
    seen = set(own)
    for p in passages:
        if p.article_id in seen:
            continue
        strict = p.n in unread
        if figures(answer):
            phrase = figure_rival(answer, said, p.text, question, strict, tuning.max_ratio)
        else:
            phrase = name_rival(answer, p.text, tuning.name_similarity)
        if not phrase or any(_states(texts.get(a, ""), phrase) for a in own):
            continue
        out.append((phrase, p.n))
        seen.add(p.article_id)
        if len(out) == tuning.max_rivals:
            break
    return out
