"""Tests for rag.articles: formats, metadata, cleaning of the bundled corpus, bad input."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from rag.articles import (
    SUPPORTED_SUFFIXES,
    Article,
    Skipped,
    clean_text,
    find_files,
    load_file,
    parse_date,
)

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "articles"
MB = 1_048_576
BODY = (
    "The ministry said on Monday that the new bridge over the river will open in May.\n\n"
    "Engineers from Apurímac worked for two years on the project, officials added.\n"
)


def load_one(path: Path, max_bytes: int = 20 * MB) -> Article | Skipped:
    """Load a file that must yield exactly one item."""
    items = list(load_file(path, max_bytes))
    assert len(items) == 1, items
    return items[0]


def article(path: Path) -> Article:
    item = load_one(path)
    assert isinstance(item, Article), item
    return item


def skipped(path: Path, max_bytes: int = 20 * MB) -> Skipped:
    item = load_one(path, max_bytes)
    assert isinstance(item, Skipped), item
    return item


def make_pdf(lines: list[str], title: str = "") -> bytes:
    """Build a minimal valid one-page PDF with a Helvetica text stream, by hand."""
    shown = " ".join(f"({line}) Tj T*" for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if title:
        objects.append(f"<< /Title ({title}) /Author (Ana Ruiz) >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    info = f" /Info {len(objects)} 0 R" if title else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n".encode()
    return out + f"startxref\n{xref}\n%%EOF\n".encode()


# --- the bundled corpus: boilerplate out, every news sentence in -------------------------

BOILERPLATE = [
    "Sharing is caring",
    "Leave a Reply",
    "Your email address will not be published",
    "DONATE",
    "Was this content helpful?",
    "We want to sustain",
    "What are your thoughts?",
    "We encourage readers to copy",
    "share icon",
    "Quantcast",
    "Viewing all articles",
    "Browse latest",
    "Channel:",
    "Related Content",
    "Related Articles",
    "Trending Articles",
    "About InSight Crime",
    "Back to top",
    "SEE ALSO",
    "HomeNewsBrief",
    "• Peru",
    "Clan Farruku",
    "Social Media and Engagement Strategist",
]

KEY_SENTENCES = {
    "000_9d6e732136a79e44": [
        "President Ollanta Humala’s government is preparing a large-scale offensive against "
        "remnants of the Shining Path insurgency",
        "The initiative follows the kidnapping of 36 natural gas workers earlier this month",
        "An unnamed source in Peru’s military said that the government’s upcoming offensive "
        "is “all or nothing.”",
        "The VRAE is Peru’s biggest coca-growing region, and Peru is one of the world’s top "
        "cocaine producers, along with Colombia.",
    ],
    "001_c2eb3900d027123b": [
        "The Shining Path guerrillas in Peru have broken months of calm with a series of "
        "attacks against military targets",
        "On February 17, a group of around 30 members of the Shining Path faction active in "
        "the Apurimac, Ene and Mantaro River Valleys (VRAEM) launched an assault against "
        "Kepashiato military base in the province of Cusco.",
        "The Shining Path regulate the coca base market, protect drug shipments and help "
        "secure illegal airstrips.",
        "remains to be seen.",
    ],
    "002_7aa918d89e1f6618": [
        "Yet again, Peruvian security forces are seeking to force Shining Path guerrillas out",
        "The military attack also led to the seizure of weapons, explosives and 79 kilograms "
        "of cocaine.",
        "Some 450 members of the Shining Path continue to control several strategic drug "
        "trafficking territories in the region",
        "In 1992, authorities captured Abimael Guzmán, the group's founder and principal leader.",
        "in an effort to gain the support of rural farming communities within the VRAEM that "
        "were victimized by the Shining Path.",
    ],
    "003_a959b2a1bffac71d": [
        "The government of Peru is launching a sustained offensive against the drug trade",
        "Intelligence sources have identified 72 illegal air strips, not all in the VRAEM, "
        "which are being used to move up to 20 tons of drugs a month.",
        "The new target of the security forces is the VRAEM rebel boss Victor Quispe Palomino, "
        'alias "Camarada Jose."',
        "the aim of destroying 75 percent of the coca in the areas they operate is extremely "
        "ambitious.",
    ],
    "004_43e5aaeaca6589b4": [
        "Valle de los Ríos Apurímac, Ene and Mantaro, Peru, Jul 4 (EFE).- A massacre",
        "Sixteen people were murdered during the San Miguel del Ene attack in May 2021",
        "The death of Jorge Quispe Palomino, confirmed in March 2021, left his brother "
        "Víctor — alias José — in charge.",
        "“Now that prices are on the floor, the state needs to act.”",
        "“The economy is fed by illegal drug trafficking.”",
    ],
}

EXPECTED_META = {
    "000_9d6e732136a79e44": (
        "Peru Prepares Major Offensive Against Shining Path In VRAE – Report",
        "Peruvian Times",
        "2012-04-23",
    ),
    "001_c2eb3900d027123b": (
        "Wave of Shining Path Attacks Sparks Fears of New Offensive in Peru",
        "InSight Crime",
        "2014-03-03",
    ),
    "002_7aa918d89e1f6618": (
        "Peru in Familiar Stalemate With Shining Path Rebels",
        "InSight Crime",
        "2020-09-04",
    ),
    "003_a959b2a1bffac71d": (
        "Peru to Undermine Shining Path Finances by Attacking Drug Trade",
        "InSight Crime",
        "2014-01",  # only the month is known; parse_date does not invent a day
    ),
    "004_43e5aaeaca6589b4": (
        "The ghost of Shining Path and its ties to Peruvian drug-trafficking",
        "EFE",
        "2022-07-04",
    ),
}


@pytest.fixture(scope="module")
def bundled() -> dict[str, Article]:
    """The five bundled articles, loaded through load_file."""
    files = find_files([BUNDLED])
    assert [f.name for f in files] == sorted(f"{k}.txt" for k in KEY_SENTENCES)
    items = [item for f in files for item in load_file(f, 20 * MB)]
    assert all(isinstance(i, Article) for i in items), items
    return {i.id: i for i in items if isinstance(i, Article)}


def test_bundled_metadata_comes_from_the_header(bundled: dict[str, Article]) -> None:
    assert {k: (a.title, a.source, a.date) for k, a in bundled.items()} == EXPECTED_META
    assert bundled["001_c2eb3900d027123b"].author == "James Bargent"
    assert bundled["004_43e5aaeaca6589b4"].author == "Carla Samon Ros"
    for a in bundled.values():
        assert a.origin == str(BUNDLED / f"{a.id}.txt")


@pytest.mark.parametrize("phrase", BOILERPLATE)
def test_bundled_boilerplate_is_removed(bundled: dict[str, Article], phrase: str) -> None:
    for a in bundled.values():
        assert phrase not in a.text, (a.id, phrase)


@pytest.mark.parametrize(
    ("article_id", "sentence"), [(k, s) for k, v in KEY_SENTENCES.items() for s in v]
)
def test_bundled_news_sentences_survive(
    bundled: dict[str, Article], article_id: str, sentence: str
) -> None:
    assert sentence in bundled[article_id].text


def test_bundled_every_body_paragraph_survives(bundled: dict[str, Article]) -> None:
    """Every long raw line before the related-content tail, unless boilerplate, is kept."""
    for a in bundled.values():
        raw = (BUNDLED / f"{a.id}.txt").read_text(encoding="utf-8").split("\n\n", 1)[1]
        for marker in ("Related Content", "Related Articles", "Trending Articles"):
            raw = raw.split(marker)[0]
        squeezed = " ".join(a.text.split())
        paragraphs = [
            line
            for line in raw.splitlines()
            if len(line) > 60
            and not any(junk in line for junk in [*BOILERPLATE, "Channel", a.title])
        ]
        assert len(paragraphs) >= 8
        for line in paragraphs:
            kept = " ".join(line.removesuffix("EFE").split())  # glued EFE sign-off is dropped
            assert kept in squeezed, (a.id, line[:60])


def test_bundled_structure_kept(bundled: dict[str, Article]) -> None:
    for key in ("001_c2eb3900d027123b", "002_7aa918d89e1f6618", "003_a959b2a1bffac71d"):
        assert "InSight Crime Analysis" in bundled[key].text  # subheads may stay
    for a in bundled.values():
        assert not a.text.startswith(a.title), a.id  # duplicated headline dropped
        assert a.title not in a.text, a.id
        assert "\n\n\n" not in a.text
        assert a.text == a.text.strip()
    assert "\n\n" in bundled["000_9d6e732136a79e44"].text  # paragraph breaks kept
    efe = bundled["004_43e5aaeaca6589b4"].text
    assert efe.endswith("“The economy is fed by illegal drug trafficking.”")
    assert "By Carla Samon Ros" not in efe and "Crime & Justice" not in efe
    assert "BY JAMES BARGENT" not in bundled["001_c2eb3900d027123b"].text
    assert "BRIEF" not in bundled["001_c2eb3900d027123b"].text.split()


def test_bundled_readme_lists_every_file() -> None:
    readme = (BUNDLED / "README.md").read_text(encoding="utf-8")
    for key in KEY_SENTENCES:
        assert f"{key}.txt" in readme


# --- text formats and metadata ----------------------------------------------------------


def test_header_block(tmp_path: Path) -> None:
    path = tmp_path / "My Story (2021).txt"
    path.write_text(
        "TITLE: Bridge opens\nsource: Daily Planet\nDate: 3 MAR 2014\n"
        "Url: https://example.com/a?b=1\nAuthor: Lois Lane\n\n" + BODY,
        encoding="utf-8",
    )
    a = article(path)
    assert (a.title, a.source, a.date, a.url, a.author) == (
        "Bridge opens",
        "Daily Planet",
        "2014-03-03",
        "https://example.com/a?b=1",
        "Lois Lane",
    )
    assert a.id == "my-story-2021"
    assert a.text == BODY.strip()
    assert "Daily Planet" not in a.text


def test_colon_line_that_is_not_a_header_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("Update: the ministry has revised its figures.\n\n" + BODY, encoding="utf-8")
    a = article(path)
    assert "Update: the ministry has revised its figures." in a.text
    assert a.title == "note"  # first line is a sentence, not a headline


def test_yaml_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "story.md"
    path.write_text(
        "---\ntitle: River Report\nsource: The Courier\ndate: 2019-09-05T10:00:00Z\n"
        "authors: [Ana Ruiz, Bo Chen]\nurl: https://example.org/r\n---\n" + BODY,
        encoding="utf-8",
    )
    a = article(path)
    assert (a.title, a.source, a.date, a.author) == (
        "River Report",
        "The Courier",
        "2019-09-05",
        "Ana Ruiz, Bo Chen",
    )
    assert a.text == BODY.strip()


def test_yaml_date_object_and_broken_front_matter(tmp_path: Path) -> None:
    ok = tmp_path / "ok.md"
    ok.write_text("---\ntitle: T\ndate: 2022-07-04\n---\n" + BODY, encoding="utf-8")
    assert article(ok).date == "2022-07-04"
    broken = tmp_path / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\n" + BODY, encoding="utf-8")
    assert "The ministry said" in article(broken).text


def test_title_from_first_short_line(tmp_path: Path) -> None:
    path = tmp_path / "plain.md"
    path.write_text("# Bridge Opens Over River\n\n" + BODY, encoding="utf-8")
    a = article(path)
    assert a.title == "Bridge Opens Over River"
    assert a.text == BODY.strip()


def test_html_extraction_offline(tmp_path: Path) -> None:
    paragraph = (
        "The regional government announced a new programme to replace coca crops with "
        "coffee and cacao, offering farmers credit, seeds and technical help for five years. "
    )
    html = f"""<html><head><title>Farmers Swap Coca for Coffee</title>
<meta property="og:site_name" content="Andes Daily">
<meta name="author" content="Rosa Quispe">
<meta property="article:published_time" content="2019-09-05T10:00:00Z">
<link rel="canonical" href="https://andes.example/coffee"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Farmers Swap Coca for Coffee</h1>
<p>{paragraph * 2}</p><p>Officials in Apurímac said {paragraph}</p>
<p>Sharing is caring!</p></article>
<footer>Copyright 2019 Andes Daily. All rights reserved.</footer></body></html>"""
    path = tmp_path / "coffee.html"
    path.write_text(html, encoding="utf-8")
    a = article(path)
    assert a.title == "Farmers Swap Coca for Coffee"
    assert (a.source, a.date, a.author, a.url) == (
        "Andes Daily",
        "2019-09-05",
        "Rosa Quispe",
        "https://andes.example/coffee",
    )
    assert "Officials in Apurímac said" in a.text
    assert "Sharing is caring" not in a.text and "All rights reserved" not in a.text
    assert not a.text.startswith("Farmers Swap")


def test_pdf_text_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(
        make_pdf(["Troops seized 79 kilograms of cocaine.", "Two soldiers died."], "Seizure Report")
    )
    a = article(path)
    assert a.title == "Seizure Report" and a.author == "Ana Ruiz"
    assert "79 kilograms of cocaine" in a.text and "Two soldiers died." in a.text


def test_pdf_without_title_uses_first_line(tmp_path: Path) -> None:
    path = tmp_path / "untitled.pdf"
    path.write_bytes(make_pdf(["Army Report", "Troops seized 79 kilograms of cocaine."]))
    a = article(path)
    assert a.title == "Army Report"
    assert a.text == "Troops seized 79 kilograms of cocaine."


def test_broken_pdf_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not really a pdf at all\n")
    assert skipped(path).reason == "unreadable PDF"


# --- JSONL -------------------------------------------------------------------------------


def rows() -> list[str]:
    return [
        json.dumps({"doc_id": "Big_ABC 1", "title": "One", "source": "CNN",
                    "date": "Jul 4 2022", "url": "https://x/1", "text": "First story text."}),
        "{not json",
        json.dumps({"id": "two", "title": "Two", "text": "Second story text."}),
        json.dumps({"title": "Three", "text": "   "}),
        "",
        json.dumps(["a", "list"]),
        json.dumps({"title": "Four", "text": "Fourth story text.", "author": "Bo"}),
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["feed.jsonl", "feed.jsonl.gz"])
def test_jsonl_bad_lines_do_not_stop_good_ones(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    data = ("\n".join(rows()) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    items = list(load_file(path, 20 * MB))
    good = [i for i in items if isinstance(i, Article)]
    bad = [i for i in items if isinstance(i, Skipped)]
    assert [a.id for a in good] == ["big_abc-1", "two", "feed-7"]
    assert (good[0].source, good[0].date, good[0].url) == ("CNN", "2022-07-04", "https://x/1")
    assert good[0].text == "First story text." and good[2].author == "Bo"
    assert good[1].origin == f"{path}#3"
    assert [b.reason for b in bad] == [
        "line 2: invalid JSON",
        "line 4: no text",
        "line 6: not a JSON object",
    ]
    assert bad[0].origin == f"{path}#2"


def test_jsonl_oversized_line_is_skipped_and_next_line_loads(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    huge = json.dumps({"title": "Huge", "text": "word " * 2000})
    small = json.dumps({"title": "Small", "text": "Small story text."})
    path.write_text(f"{huge}\n{small}\n", encoding="utf-8")
    items = list(load_file(path, 4000))
    assert isinstance(items[0], Skipped) and items[0].reason.startswith("line 1: longer than")
    assert isinstance(items[1], Article) and items[1].title == "Small"


def test_corrupt_gzip_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(b"this is not gzip data at all")
    assert skipped(path).reason.startswith("unreadable")
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(gzip.compress(("\n".join(rows()) * 50).encode())[:-30])
    items = list(load_file(truncated, 20 * MB))
    assert isinstance(items[-1], Skipped) and items[-1].reason.startswith("unreadable")


def test_real_corpus_shape_streams() -> None:
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "news-10k.jsonl.gz"
    if not corpus.exists():
        pytest.skip("shared corpus not present")
    first = []
    for item in load_file(corpus, 20 * MB):
        first.append(item)
        if len(first) == 3:
            break
    assert all(isinstance(i, Article) and i.id.startswith("big_") and i.date for i in first)


# --- bad input ---------------------------------------------------------------------------


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("  \n\n \n", encoding="utf-8")
    assert skipped(tmp_path / "empty.txt").reason == "empty file"
    assert skipped(tmp_path / "blank.md").reason == "empty file"


def test_only_boilerplate_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_text(
        "Title: Junk\n\nSharing is caring!\n\nLeave a Reply\n\nDONATE\n", encoding="utf-8"
    )
    assert skipped(path).reason == "no text after cleaning"


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert skipped(path).reason.startswith("binary file: not text")


def test_oversize_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(f"Title: Long\n\n{'A long sentence about the river. ' * 20_000}", "utf-8")
    assert skipped(path, max_bytes=MB // 2).reason == "larger than 0.5 MB (RAG_MAX_FILE_MB)"
    assert isinstance(load_one(path, max_bytes=MB), Article)


@pytest.mark.parametrize(
    "body",
    [
        "La región de Apurímac y Ayacucho, según el informe “oficial” de 2014 – bien.",
        "Café in Zürich cost 5€ — a naïve façade.",
        "Apurímac",
    ],
)
def test_cp1252_file_decodes_accents(tmp_path: Path, body: str) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(f"Title: Legacy\n\n{body}\n".encode("cp1252"))
    assert article(path).text == body


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "memo.docx"
    path.write_bytes(b"PK\x03\x04 not really a docx")
    assert skipped(path).reason == "unsupported type .docx"
    assert ".docx" not in SUPPORTED_SUFFIXES and ".jsonl.gz" in SUPPORTED_SUFFIXES


def test_unreadable_directory_named_like_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "looks-like.txt"
    folder.mkdir()
    assert skipped(folder).reason == "unreadable: is a directory"
    assert skipped(tmp_path / "missing.txt").reason == "unreadable: file not found"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files with mode 000")
def test_unreadable_permission(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(BODY, encoding="utf-8")
    path.chmod(0)
    try:
        assert skipped(path).reason == "unreadable: permission denied"
    finally:
        path.chmod(0o644)


# --- find_files, ids, hashes -------------------------------------------------------------


def test_find_files_recursive_sorted_skips_hidden(tmp_path: Path) -> None:
    for rel in ["b.txt", "a/z.md", "a/c.docx", ".hidden.txt", ".git/x.txt", "a/.cache/y.txt",
                "README.md"]:  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(BODY, encoding="utf-8")
    found = find_files([tmp_path, tmp_path / "b.txt", tmp_path / "nope.txt"])
    names = [p.relative_to(tmp_path).as_posix() for p in found]
    assert names == ["a/c.docx", "a/z.md", "b.txt", "nope.txt"]


def test_ids_are_slugs(tmp_path: Path) -> None:
    path = tmp_path / f"Ñandú Report — {'x' * 80}.txt"
    path.write_text("Title: T\n\n" + BODY, encoding="utf-8")
    a = article(path)
    assert a.id.startswith("nandu-report-x") and len(a.id) <= 60
    assert set(a.id) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def test_content_hash_ignores_whitespace_and_names() -> None:
    one = Article(id="a", title="A", text="Same  words\n\nhere.")
    two = Article(id="b", title="B", text="Same words here.", source="X")
    other = Article(id="c", title="A", text="Other words here.")
    assert one.content_hash == two.content_hash != other.content_hash
    assert len(one.content_hash) == 64


# --- dates and generic cleaning rules ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3 MAR 2014", "2014-03-03"),
        ("Jul 4 2022", "2022-07-04"),
        ("July 4, 2022", "2022-07-04"),
        ("2019-09-05T10:00:00Z", "2019-09-05"),
        ("2019/9/5", "2019-09-05"),
        ("Mon, 03 Mar 2014 10:00:00 +0000", "2014-03-03"),
        ("PERU / 3 MAR 2014 BY JAMES BARGENT EN", "2014-03-03"),
        ("September 3rd, 2020", "2020-09-03"),
        ("4 de julio de 2022", "2022-07-04"),
        ("31 FEB 2014", ""),
        ("January 2014", "2014-01"),
        ("2014-01", "2014-01"),
        ("Foo 2014", ""),
        ("yesterday", ""),
        ("", ""),
    ],
)
def test_parse_date(value: str, expected: str) -> None:
    assert parse_date(value) == expected


def test_clean_text_generic_rules() -> None:
    raw = (
        "NEWS\nBig Headline Here\n\nBig Headline Here\nBy Jo Smith\n\n"
        "First real paragraph about the flood, with “curly quotes” and Apurímac.   \n"
        "Subscribe to our newsletter\n\n\n\nAdvertisement\n\n"
        "Second real paragraph: the river rose four metres overnight, officials said.\n\n"
        "SEE ALSO: Something else\n\n"
        "Support independent reporting!\n\nSupport independent reporting!\n\n"
        "Third paragraph ends the story.”EFE\n\n"
        "Related Articles\n\nOther story one\n\nOther story two\n"
    )
    assert clean_text(raw, title="Big Headline Here") == (
        "First real paragraph about the flood, with “curly quotes” and Apurímac.\n\n"
        "Second real paragraph: the river rose four metres overnight, officials said.\n\n"
        "Third paragraph ends the story.”"
    )


def test_clean_text_keeps_lists_questions_and_inline_related() -> None:
    raw = (
        "Juneteenth is this week and marks the end of slavery.\n\n"
        "When did it become a holiday?\n\nIn 2021.\n\nTRUMP:\nWe will win.\nTRUMP:\nAgain.\n\n"
        "Related coverage:\n\nA long paragraph continues the article after the inline links "
        + "and it is clearly article text, " * 10
        + "ending here.\n"
    )
    cleaned = clean_text(raw, title="When did it become a holiday?")
    assert cleaned.startswith("Juneteenth is this week")
    assert "When did it become a holiday?" in cleaned
    assert cleaned.count("TRUMP:") == 2
    assert cleaned.endswith("ending here.")


def test_headline_after_chrome_that_looks_like_a_sentence_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "feed.txt"
    path.write_text("Sharing is caring!\n\nRiver Rises\n\n" + BODY, encoding="utf-8")
    a = article(path)
    assert a.title == "River Rises"
    assert a.text == BODY.strip()


# --- inputs that grow: alias bombs, compression bombs, lone surrogates ------------------

ALIAS_BOMB = (
    "---\na: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "title: [*i]\n---\n"
    + BODY
)


def run_limited(code: str, limit_mb: int = 1024) -> str:
    """Run `code` in a fresh interpreter that may not use more than `limit_mb` of memory."""
    import subprocess
    import sys

    prelude = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit_mb << 20}, {limit_mb << 20}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_yaml_alias_bomb_in_front_matter_stays_small(tmp_path: Path) -> None:
    """411 bytes of `&a`/`*a` aliases once expanded to 9^9 items and gigabytes."""
    path = tmp_path / "bomb.md"
    path.write_text(ALIAS_BOMB)
    assert len(ALIAS_BOMB) - len(BODY) < 500
    out = run_limited(
        "from rag.articles import load_file\n"
        f"item, = load_file({str(path)!r}, 1 << 20)\n"
        "print(len(item.title), 'bridge' in item.text)"
    )
    title_chars, has_body = out.split()
    assert int(title_chars) <= 200 and has_body == "True"


def test_metadata_fields_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "long.md"
    path.write_text("---\nsource: " + "S" * 50_000 + "\n---\n" + BODY)
    assert len(article(path).source) == 1000


def test_a_compression_bomb_stops_with_a_reason_and_keeps_what_came_before(
    tmp_path: Path,
) -> None:
    """Repeated lines inflate hundreds of times; real news JSONL inflates about 3 times."""
    path = tmp_path / "bomb.jsonl.gz"
    row = json.dumps({"title": "Same", "text": BODY}) + "\n"
    with gzip.open(path, "wb") as fh:
        fh.write((row * 200_000).encode())
    out = run_limited(
        "from collections import Counter; from rag.articles import load_file\n"
        f"items = list(load_file({str(path)!r}, 1 << 20))\n"
        "print(len(items) - 1, items[-1].reason)"
    )
    count, reason = out.split(" ", 1)
    assert 0 < int(count) < 200_000
    assert reason.startswith("stopped reading at line") and "compression bomb" in reason


def test_lone_surrogates_from_json_escapes_become_replacement_characters(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"title": "Bad \ud800 title", "text": BODY + " \udc00"}) + "\n")
    item = article(path)
    (item.title + item.text).encode("utf-8")
    assert "\ufffd" in item.title


def test_a_file_whose_name_is_not_utf8_loads_with_a_readable_title(tmp_path: Path) -> None:
    path = tmp_path / os.fsdecode(b"caf\xe9.txt")
    path.write_text(BODY)
    item = article(path)
    assert item.title.startswith("The ministry") or item.title == "caf\\xe9"
    item.origin.encode("utf-8")
