"""Boilerplate removal and date reading for scraped news text.

Scraped articles carry share buttons, donation pleas, comment forms, breadcrumbs,
feed-reader chrome and "related content" lists. The rules below are line based and
general (regexes over whole lines), so the same kinds of pages from other sites are
cleaned too. Everything here is pure: str in, str out.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

# Whole lines (stripped, case-insensitive) that are dropped wherever they appear.
BOILERPLATE_LINES: tuple[str, ...] = (
    r"sharing is caring\W*",
    r"share(\s+(this|on\s+\w+|via\s+\w+|icon|article|story|post))*\W*",
    r"(tweet|email|e-mail|print|facebook|twitter|whatsapp|linkedin|pinterest|reddit)\W*",
    r"leave a (reply|comment)\W*",
    r"your email address will not be published.*",
    r"required fields are marked.*",
    r"(please\s+)?donate(\s+(now|today))?\W*",
    r"was this (content|article|story|page|information) (helpful|useful)\W*",
    r"we want to sustain\b.*",
    r"what are your thoughts\?.*",
    r"we encourage readers to (copy|share|republish)\b.*",
    r"click here to\b.{0,150}",
    r"(subscribe|sign up)( now| today)?( to| for)? (our|the) (newsletter|mailing list).{0,100}",
    r"(see|read) also\s*:.*",
    r"(read more|related|more)\s*:.{0,150}",
    r"tags?\s*:.{0,200}",
    r"advertisement|sponsored( content)?|story continues below( advertisement)?",
    r"quantcast",
    r"channel\s*:.{0,300}",
    r"viewing all articles",
    r"browse (latest|all)\b.{0,60}",
    r"(previous|next) (article|post|story)\b.{0,150}",
    r"back to (the )?top( button)?",
    r"skip to (main )?content",
    r"all rights reserved\W*",
    r"(copyright|©)\s*(\(c\)\s*)?\d{4}.{0,120}",
    r"[•·▪◦‣]\s*[^\s\d.!?:;,]+( [^\s\d.!?:;,]+){0,3}",  # bullet tag lists: "• Peru"
)

# Headings that start a non-article tail (related links, comment forms, org blurbs).
# The text is cut from the heading to the end when it sits in the back part.
TAIL_HEADINGS: tuple[str, ...] = (
    r"related (content|articles?|stories|posts|news|coverage|reading)\W*",
    r"(trending|popular|most read|most popular|recommended)"
    r"( articles| stories| posts| now| news)?\W*",
    r"you (may|might) also (like|be interested in)\W*",
    r"(?-i:More (from|on) [A-Z][\w&.'’-]*( [A-Z][\w&.'’-]*){0,4})",
    r"about us|about the author|(?-i:About [A-Z][\w&.'’-]*( [A-Z][\w&.'’-]*){0,4})",
    r"(leave a (reply|comment)|comments?|\d+ comments?)\W*",
    r"back to top( button)?",
)

# Lines dropped only among the first HEAD_LINES non-empty lines: crumbs, bylines, labels.
HEAD_PATTERNS: tuple[str, ...] = (
    r"home\s*[>»›/|].*",  # "Home > News > Brief"
    r"(?-i:Home[A-Z]).*",  # glued crumbs: "HomeNewsBriefWave of ..."
    r"by\s+[\w.'’-]+(\s+[\w.'’-]+){0,4}",  # "By Carla Samon Ros"
    r"(?-i:[A-Z][A-Z &/-]{1,24})",  # section labels: "BRIEF", "CRIME & JUSTICE"
)
HEAD_LINES = 8
LEAD_IN_MAX_LINES = 12  # a duplicated headline is looked for this far down
LEAD_IN_MAX_CHARS = 200  # chrome before the headline is never longer than this per line
REPEAT_MAX_CHARS = 80  # short lines seen twice in one article are chrome, unless...
# ...speaker/field labels, questions, and list items with numbers or quoted titles.
_LABEL_RE = re.compile(r"(?:.*[:?]|(?-i:[A-Z][A-Z.'’ -]{0,30})|.*[\d\"“”].*)")
TAIL_MIN_FRACTION = 0.3  # a tail heading must sit after this share of the text...
TEXT_DATE_LINES = 5  # a plain text's date is looked for in its first lines only
TEASER_MAX_CHARS = 250  # ...and be followed only by lines this short (links, teasers, dates)
AGENCY_SIGNOFFS: tuple[str, ...] = ("EFE", "AFP", "dpa", "IANS", "ANSA")

MONTHS: dict[str, int] = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january", "ene", "enero"),
            ("feb", "february", "febrero"),
            ("mar", "march", "marzo"),
            ("apr", "april", "abr", "abril"),
            ("may", "mayo"),
            ("jun", "june", "junio"),
            ("jul", "july", "julio"),
            ("aug", "august", "ago", "agosto"),
            ("sep", "sept", "september", "septiembre"),
            ("oct", "october", "octubre"),
            ("nov", "november", "noviembre"),
            ("dec", "december", "dic", "diciembre"),
        ),
        start=1,
    )
    for m in names
}

_BOILERPLATE_RE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE_LINES), re.IGNORECASE)
_TAIL_RE = re.compile("|".join(f"(?:{p})" for p in TAIL_HEADINGS), re.IGNORECASE)
_HEAD_RE = re.compile("|".join(f"(?:{p})" for p in HEAD_PATTERNS), re.IGNORECASE)
_SIGNOFF_RE = re.compile(r"(?<=[.!?\"”’)])\s*(?:" + "|".join(AGENCY_SIGNOFFS) + ")$")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2007\u202f\u3000]+")
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ISO_RE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DMY_RE = re.compile(
    r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\.?\s+(?:de\s+)?([a-z]{3,10})\.?,?\s+(?:de\s+)?(\d{4})\b",
    re.I,
)
_MONTH_YEAR_RE = re.compile(r"(\d{4})[-/](\d{1,2})|([a-z]{3,10})\.?,?\s+(\d{4})", re.I)
_MDY_RE = re.compile(r"\b([a-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I)


def parse_date(value: str) -> str:
    """Read a date written in a common news style: ISO YYYY-MM-DD, or YYYY-MM when only the
    month is given ("January 2014", "2014-01"), else ""."""
    text = str(value or "")
    candidates: list[tuple[str, str, str]] = [(y, m, d) for y, m, d in _ISO_RE.findall(text)]
    candidates += [(y, mon, d) for d, mon, y in _DMY_RE.findall(text)]
    candidates += [(y, mon, d) for mon, d, y in _MDY_RE.findall(text)]
    for year, month, day in candidates:
        month_no = int(month) if month.isdigit() else MONTHS.get(month.lower(), 0)
        try:
            parsed = date(int(year), month_no, int(day))
        except ValueError:
            continue
        if 1800 <= parsed.year <= 2200:
            return parsed.isoformat()
    month_only = _MONTH_YEAR_RE.fullmatch(text.strip())
    if month_only:
        iso_year, iso_month, name, named_year = month_only.groups()
        year, month = (iso_year, iso_month) if iso_year else (named_year, name)
        month_no = int(month) if month.isdigit() else MONTHS.get(month.lower(), 0)
        if 1 <= month_no <= 12 and 1800 <= int(year) <= 2200:
            return f"{int(year):04d}-{month_no:02d}"
    return ""


def date_in_text(body: str, lines: int = TEXT_DATE_LINES) -> str:
    """The first date written in the first few non-empty lines of an article ("14 March 2025"
    under the title), else "". Only the head: a date further down is what the story is about,
    not when it was written."""
    head = [line for line in body.splitlines() if line.strip()][:lines]
    return next((day for day in map(parse_date, head) if day), "")


def normalize_line(line: str) -> str:
    """Strip a line and squeeze odd spaces, so rules and dedup see plain text."""
    return _SPACES_RE.sub(" ", _INVISIBLE_RE.sub("", line)).strip()


def _key(line: str) -> str:
    return " ".join(line.casefold().split())


def _ends_like_sentence(line: str) -> bool:
    return line.rstrip('"”’)').endswith((".", "!", "?"))


def is_chrome_line(line: str, in_head: bool = False) -> bool:
    """Tell whether one normalized line is boilerplate rather than article text."""
    if not line:
        return False
    if len(line) <= 3 and not any(c.isalpha() for c in line):
        return True  # lone "$", "0", "*" left over from widgets
    if _BOILERPLATE_RE.fullmatch(line):
        return True
    if in_head:
        if _HEAD_RE.fullmatch(line):
            return True
        if len(line) <= 80 and not _ends_like_sentence(line) and parse_date(line):
            return True  # dateline: "PERU / 3 MAR 2014 BY JAMES BARGENT EN"
    return False


def guess_title(raw: str) -> str:
    """Return the first non-chrome line if it looks like a headline, else ""."""
    lines = [normalize_line(x) for x in raw.splitlines()]
    seen = 0
    for line in lines:
        if not line:
            continue
        seen += 1
        if is_chrome_line(line, in_head=seen <= HEAD_LINES):
            continue
        line = line.lstrip("#").strip()
        ends_like_sentence = line.rstrip('"”’)').endswith((".", "!", "?", ":", ";", ","))
        return line if len(line) < 200 and not ends_like_sentence else ""
    return ""


def _drop_lead_in(lines: list[str], title: str) -> list[str]:
    """Drop headline copies at the top and the short non-sentence chrome above them."""
    key = _key(title.lstrip("#"))
    last_hit = -1
    for i in [i for i, line in enumerate(lines) if line][:LEAD_IN_MAX_LINES]:
        if key and _key(lines[i].lstrip("#")) == key:
            last_hit = i
        elif is_chrome_line(lines[i], in_head=True):
            continue
        elif len(lines[i]) > LEAD_IN_MAX_CHARS or _ends_like_sentence(lines[i]):
            break  # article text has started
    return lines[last_hit + 1 :]


def _may_repeat_drop(line: str) -> bool:
    """Short lines may be dropped as repeated chrome; labels and questions never are."""
    return 0 < len(line) <= REPEAT_MAX_CHARS and not _LABEL_RE.fullmatch(line) and ": " not in line


def _cut_tail(lines: list[str]) -> list[str]:
    """Cut from a tail heading to the end when it sits in the back part and only teasers follow."""
    total = sum(len(line) + 1 for line in lines)
    seen = 0
    for i, line in enumerate(lines):
        at_back = line and seen >= TAIL_MIN_FRACTION * total
        if at_back and _TAIL_RE.fullmatch(line) and max(map(len, lines[i:])) <= TEASER_MAX_CHARS:
            return lines[:i]
        seen += len(line) + 1
    return lines


def clean_text(raw: str, title: str = "") -> str:
    """Remove scraped boilerplate and normalise whitespace, keeping every news sentence."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    lines = [x.strip() for x in _SPACES_RE.sub(" ", _INVISIBLE_RE.sub("", text)).split("\n")]
    if title:
        lines = _drop_lead_in(lines, title)
    kept: list[str] = []
    nonempty = 0
    for line in lines:
        nonempty += bool(line)
        if not is_chrome_line(line, in_head=nonempty <= HEAD_LINES):
            kept.append(line)
    kept = _cut_tail(kept)
    counts = Counter(_key(x) for x in kept if _may_repeat_drop(x))
    kept = [x for x in kept if not _may_repeat_drop(x) or counts[_key(x)] < 2]
    kept = [_SIGNOFF_RE.sub("", x) if x.endswith(AGENCY_SIGNOFFS) else x for x in kept]
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
