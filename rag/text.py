"""The text layer: normalisation shared by grading and checking (citation markers stripped,
whole-word containment), the stopwords keyword search and claim checks drop, and the one
stemmer every check and the keyword index compare."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_UNITS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_TENS_RE = re.compile(rf"\b({'|'.join(_TENS)})(?:[\s-]+({'|'.join(_UNITS[1:10])}))?\b")
_UNITS_RE = re.compile(rf"\b({'|'.join(_UNITS)})\b")
# A count said in words ('forty thousand', 'dozens', 'none'), for "how many" answers.
NUMBER_WORDS = re.compile(
    rf"\b({'|'.join([*_UNITS[1:], *_TENS])}|dozens?|hundreds?|thousands?|millions?|billions?|"
    r"half|none|no)\b",
    re.IGNORECASE,
)
_ARTICLES = frozenset({"a", "an", "the"})
# The scorer's reading of `[n]` markers, ranges included: broader than the pipeline's parser.
_MARKERS = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "their",
        "there",
        "they",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
    ]
)

# The words a claim's support and a sentence's names ignore: function words and reporting
# words ('said', 'according'), which every news sentence has.
CLAIM_STOPWORDS = frozenset(
    "a about after against all also an and any are as at be been before but by can could did "
    "do does during each for from had has have he her his how i in into is it its more most "
    "no not of on or other our out over said says she since so some such than that the their "
    "them then there these they this those through to up was we were what when where which "
    "while who whom why will with would year years according reported report".split()
)

YEAR = r"(?:19|20)\d\d"  # a figure read as a year: 1900-2099


def _number_words(match: re.Match[str]) -> str:
    """Replace a matched English number word (0-99) with its digits."""
    if match.group(0) in _UNITS:
        return str(_UNITS.index(match.group(0)))
    tens = (_TENS.index(match.group(1)) + 2) * 10
    return str(tens + (_UNITS.index(match.group(2)) if match.group(2) else 0))


def strip_accents(text: str) -> str:
    """The text with its accents dropped: 'Guzmán' -> 'Guzman'.

    >>> strip_accents("Guzmán, Cusqueño")
    'Guzman, Cusqueno'
    """
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase; drop accents, punctuation, a/an/the; '6,300'→'6300', 'six'→'6', %→percent."""
    text = strip_accents(text).lower()
    text = text.replace("%", " percent ").replace("per cent", "percent")
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    text = _TENS_RE.sub(_number_words, text)
    text = _UNITS_RE.sub(_number_words, text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    text = re.sub(r"[^\w\s.]|_", " ", text)
    return " ".join(t for t in text.split() if t not in _ARTICLES)


def strip_markers(text: str) -> str:
    """The text without its citation markers, so '[3]' is never read as the answer '3'.

    >>> strip_markers("Two people died [3][4]. Police came [1, 2].")
    'Two people died . Police came .'
    """
    return " ".join(_MARKERS.sub(" ", text).split())


def contains(haystack_norm: str, needle: str) -> bool:
    """True when the normalised needle occurs in the normalised haystack as whole words."""
    n = normalize(needle)
    return bool(n) and f" {n} " in f" {haystack_norm} "


def strip_stopwords(text: str) -> str:
    """The question without stopwords, for the keyword index's tokenizer."""
    return " ".join(w for w in re.findall(r"\w+", text.lower()) if w not in _STOPWORDS)


_TERM = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    """Porter's original algorithm in Snowball's C (PyStemmer): nltk's gave the same stems for
    78,025 of 78,031 news words, and its import (sklearn, scipy) cost each process 92 MB."""
    import Stemmer

    return Stemmer.Stemmer("porter").stemWord


def stem(word: str) -> str:
    """A word's Porter stem, the one stem every check and the keyword index compare.

    >>> stem("kidnapping"), stem("kidnapped")
    ('kidnap', 'kidnap')
    """
    return _stemmer()(word)


def terms(text: str) -> set[str]:
    """Porter-stemmed, accent-free, stopword-free words: the keyword index's own terms.

    >>> sorted(terms("The workers were kidnapped"))
    ['kidnap', 'worker']
    """
    return {stem(w) for w in _TERM.findall(strip_accents(strip_stopwords(text)))}
