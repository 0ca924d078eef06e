"""The Library tab's handlers, called directly: no server, no browser."""

from __future__ import annotations

from html import unescape
from pathlib import Path

from rag.answering.engine import Engine
from rag.app import library
from rag.articles import Article, load_file


def test_sanitize_filename() -> None:
    assert library.sanitize_filename("../../etc/passwd") == "passwd"
    assert library.sanitize_filename("C:\\x\\Évil name<script>.TXT") == "Évil_name_script_.txt"
    # names in other scripts keep their letters (they once became just "txt" and were refused)
    assert library.sanitize_filename("новости.txt") == "новости.txt"
    assert library.sanitize_filename("ニュース記事.md") == "ニュース記事.md"
    assert library.sanitize_filename("...hidden.md") == "hidden.md"
    assert library.sanitize_filename("") == "upload"
    assert len(library.sanitize_filename("a" * 300 + ".html")) <= library.MAX_NAME_CHARS


def test_upload_index_and_remove(engine: Engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = inbox / "Llama Farm!.txt"
    good.write_text(
        "Title: Llamas of Puno\nSource: Test Wire\nDate: 2024-05-01\n\n"
        "The alpaca herders of Puno counted 4,000 llamas this spring. "
        "The regional office said the herd grew by a tenth.\n"
    )
    bad = inbox / "tool.exe"
    bad.write_bytes(b"MZ")
    big = inbox / "big.txt"
    big.write_text("x " * 10_000)
    calls: list[tuple[float, str]] = []
    report, rows = library.index_uploads(
        engine, [str(good), str(bad), str(big)], lambda f, desc="": calls.append((f, desc))
    )
    assert "Added 1 article" in report
    assert "tool.exe" in report and "not a supported type" in report
    assert "big.txt" in report and "upload limit" in report
    saved = engine.settings.state_dir / "uploads" / "Llama_Farm_.txt"
    assert saved.exists()
    assert any(r[0] == "Llamas of Puno" and r[1] == "Test Wire" for r in rows)
    assert calls and calls[-1][0] == 1.0
    # the same text again is a duplicate or unchanged, never a second article
    copy = inbox / "copy.txt"
    copy.write_text(good.read_text())
    report2, rows2 = library.index_uploads(engine, [str(copy)])
    assert "same text as the indexed article" in report2 and len(rows2) == len(rows)
    # remove it
    article_id = next(r[4] for r in rows if r[0] == "Llamas of Puno")
    message, rows3 = library.remove_article(engine, article_id)
    assert "Removed Llamas of Puno" in message and len(rows3) == len(rows) - 1
    assert "not in the library" in library.remove_article(engine, article_id)[0]
    assert "Choose" in library.remove_article(engine, None)[0]
    assert "Choose one or more files" in library.index_uploads(engine, None)[0]


def test_library_rows(engine: Engine) -> None:
    rows = library.library_rows(engine)
    assert len(rows) >= 5 and all(len(r) == len(library.LIBRARY_HEADERS) for r in rows)
    assert {r[4] for r in rows} == {a.id for a in engine.store.articles()}
    assert len(library.article_choices(engine)) == len(rows)


def test_upload_with_source_and_date_names_titles(engine: Engine, tmp_path: Path) -> None:
    page = tmp_path / "andes_llama_festival.html"
    page.write_text(
        "<html><head><title>Andes_llama festival</title>"
        '<meta property="og:site_name" content="Puno Times">'
        '<meta name="date" content="2023-07-09"></head><body><article><h1>Andes_llama festival'
        "</h1><p>The llama festival of the high Andes drew 3,000 herders to Puno this July, "
        "the organisers said on Sunday.</p><p>Prizes went to the best-groomed llamas of the "
        "region, and a parade crossed the main square.</p></article></body></html>"
    )
    source, date = library.upload_defaults([str(page)], 1.0)
    assert date == "2023-07-09"
    assert "is not a date like" in library.index_uploads(engine, [str(page)], None, "", "31 Foo")[0]
    report, rows = library.index_uploads(engine, [str(page)], None, "Andes Wire", "2024-02-03")
    assert "Andes&#95;llama festival</li>" in report  # the title, escaped once
    assert "&amp;#95;" not in report and "andes_llama_festival" not in report.lower()
    row = next(r for r in rows if r[0] == "Andes_llama festival")
    assert row[1:3] == ["Andes Wire", "2024-02-03"]
    library.remove_article(engine, row[4])


def test_a_plain_text_is_dated_from_its_first_lines(engine: Engine, tmp_path: Path) -> None:
    """No header, front matter or upload box date: the date under the title is used, and the
    report says so; a date further down, or any given date, is not taken from the text."""
    body = (
        "The condor count of Colca\n\n"
        "14 March 2025\n\n"
        "Rangers in the Colca canyon counted 62 Andean condors this spring, the park said.\n\n"
        "The count has been held every year since the drought of 2 June 2019.\n"
    )
    upload = tmp_path / "colca_condors.txt"
    upload.write_text(body)
    assert library.upload_defaults([str(upload)], 1.0) == ("", "")  # not for every file
    report, rows = library.index_uploads(engine, [str(upload)], None, "", "")
    assert "Date from the text: The condor count of Colca (2025-03-14)" in unescape(report)
    row = next(r for r in rows if r[0] == "The condor count of Colca")
    assert row[2] == "2025-03-14"
    library.remove_article(engine, row[4])

    report, rows = library.index_uploads(engine, [str(upload)], None, "", "2025-04-01")
    assert "Date from the text" not in report  # the upload box's date wins
    row = next(r for r in rows if r[0] == "The condor count of Colca")
    assert row[2] == "2025-04-01"
    library.remove_article(engine, row[4])

    deep = tmp_path / "colca_deep.txt"
    deep.write_text("".join(f"Line {i} of the condor story.\n\n" for i in range(6)) + body)
    header = tmp_path / "colca_header.txt"
    header.write_text("Title: Colca condors\nDate: 2024-01-05\n\n" + body)
    for path, day in ((deep, ""), (header, "2024-01-05")):
        (article,) = load_file(path, 1 << 20)
        assert isinstance(article, Article) and article.date == day and not article.date_from
