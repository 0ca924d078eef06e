"""Bytes to text for article files: UTF-8, UTF-16/32 (with or without BOM), legacy code pages.

Only what really is binary comes back as None; a few stray NUL bytes in a text are dropped.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

BINARY_REASON = (
    "binary file: not text in any encoding we know; save it as UTF-8 text (.txt/.md) or as a PDF,"
    " then index it again"
)
SAMPLE_BYTES = 4096
STRAY_NULS = 16  # this many NUL bytes, or 1% of the file, count as stray (more: binary or UTF-16)
STRAY_NUL_SHARE = 0.01
CONTROL_SHARE = 0.01  # decoded text with more control characters than this is binary
# C0/C1 controls other than tab, newline, vertical tab, form feed, carriage return; surrogates;
# the replacement character.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes) -> str | None:
    """The text in `data`, or None when it is binary (see BINARY_REASON)."""
    text = _decode(data)
    if text is None or not looks_like_text(text):
        return None
    return text


def looks_like_text(text: str) -> bool:
    """Few control characters in the first part of the text (binary decodes into many)."""
    sample = text[: SAMPLE_BYTES * 4]
    return len(_CONTROL.findall(sample)) <= len(sample) * CONTROL_SHARE


def _decode(data: bytes) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _strict(data, codec)
    if b"\x00" in data:
        codec = utf16_without_bom(data)
        text = _strict(data, codec) if codec else None
        if text is not None and looks_like_text(text):
            return text
        if data.count(b"\x00") > max(STRAY_NULS, len(data) * STRAY_NUL_SHARE):
            return None
        data = data.replace(b"\x00", b"")
    return _text_codec(data)


def utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le"/"utf-16-be" when NULs sit at one byte parity only (spaces, digits and Latin
    letters have a NUL high byte in UTF-16), else None."""
    sample = data[:SAMPLE_BYTES]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd >= 0.1 * pairs and even <= 0.01 * pairs:
        return "utf-16-le"
    if even >= 0.1 * pairs and odd <= 0.01 * pairs:
        return "utf-16-be"
    return None


def _strict(data: bytes, codec: str) -> str | None:
    if codec.startswith("utf-16") and len(data) % 2:
        data = data[:-1]  # a cut-off last byte
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _text_codec(data: bytes) -> str | None:
    """UTF-8, else the detected legacy encoding (cp1252 on ties), else None."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    # Short Western text fits many code pages equally well; cp1252 is by far the likeliest.
    for match in matches:
        tie = match.chaos <= best.chaos and match.coherence >= best.coherence
        if tie and "cp1252" in match.could_be_from_charset:
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:
                break
    return str(best)
