"""rag.decoding: UTF-16 with and without BOM, stray NULs and real binaries, through load_file."""

from __future__ import annotations

import codecs
import gzip
import random
from pathlib import Path

import pytest

from rag.articles import Article, Skipped, load_file
from rag.decoding import BINARY_REASON, decode_bytes, utf16_without_bom

TEXT = (
    "Title: Río Apurímac\nSource: Andes Daily\nDate: 2014-03-03\n\n"
    "Police in the valley seized 1,200 kilograms of cocaine on Monday, officials said.\n\n"
    "The operation near Pichari lasted three days — the largest this year.\n"
)
RUSSIAN = "\nПолиция изъяла 1200 килограммов кокаина в понедельник, сообщили власти.\n"


def load(path: Path) -> Article | Skipped:
    [item] = list(load_file(path, 20 * 1_048_576))
    return item


@pytest.mark.parametrize(
    "name, data",
    [
        ("utf16-bom-le", codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")),
        ("utf16-bom-be", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be")),
        ("utf16-le-no-bom", TEXT.encode("utf-16-le")),
        ("utf16-be-no-bom", TEXT.encode("utf-16-be")),
        ("utf32-bom", TEXT.encode("utf-32")),
        ("utf16-le-no-bom-cyrillic", (TEXT + RUSSIAN).encode("utf-16-le")),
        ("three-nuls", TEXT.encode("utf-8").replace(b"Police", b"Pol\x00ice\x00\x00")),
    ],
)
def test_utf16_or_stray_nul_text_is_indexed(tmp_path: Path, name: str, data: bytes) -> None:
    """Each of these used to be skipped as "binary file"; now it loads with its metadata."""
    path = tmp_path / f"{name}.txt"
    path.write_bytes(data)
    item = load(path)
    assert isinstance(item, Article), item
    assert item.title == "Río Apurímac" and item.source == "Andes Daily"
    assert item.date == "2014-03-03"
    assert "Police in the valley seized 1,200 kilograms" in item.text
    assert "three days — the largest" in item.text
    assert "\x00" not in item.text


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        gzip.compress(TEXT.encode() * 20),
        random.Random(7).randbytes(5000),
        b"\x7fELF\x02\x01\x01" + bytes(2000),
        codecs.BOM_UTF16_LE + random.Random(3).randbytes(3001),
    ],
    ids=["png", "gzip", "random", "elf", "bom-then-noise"],
)
def test_real_binaries_are_skipped_with_what_to_do(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(data)
    item = load(path)
    assert isinstance(item, Skipped)
    assert item.reason == BINARY_REASON
    assert "UTF-8" in item.reason and "index it again" in item.reason


def test_utf16_detection_needs_the_nul_pattern() -> None:
    assert utf16_without_bom("plain words".encode("utf-16-le")) == "utf-16-le"
    assert utf16_without_bom("plain words".encode("utf-16-be")) == "utf-16-be"
    assert utf16_without_bom(b"plain words with one \x00 nul") is None
    assert utf16_without_bom(bytes(100)) is None  # all NULs: neither byte order
    assert decode_bytes(RUSSIAN.encode("utf-16-le")) == RUSSIAN  # few NULs: only the spaces


def test_plain_utf8_and_cp1252_still_decode() -> None:
    assert decode_bytes("Apurímac — 36 workers".encode()) == "Apurímac — 36 workers"
    assert decode_bytes("Apurímac café".encode("cp1252")) == "Apurímac café"
