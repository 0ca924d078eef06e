"""The HTML rendering of answers, sources, the article viewer and refs (rag/app/render.py)."""

from __future__ import annotations

from helpers import TagCollector

from rag.answering.compose import Answer, abstention
from rag.app import library, panels, render
from rag.citations import Citation, Passage, Sentence

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> ![i](http://evil.test/x.png)'
ALLOWED_TAGS = {"div", "p", "a", "span", "q", "mark", "strong", "ul", "li", "details", "summary"}
ALLOWED_TAGS |= {"h4", "b"}


def assert_inert(markup: str) -> None:
    """Only our own tags and attributes: no script, no image, no event handler, no src."""
    parser = TagCollector()
    parser.feed(markup)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "src", (tag, name)
            if name == "href":
                assert value and (value.startswith("#rag-") or value.startswith("http")), value


def sample_answer() -> Answer:
    """An answer with one supported cited sentence, one unsupported one and an uncited passage."""
    text = "Intro sentence. The workers were freed after six days. Other text."
    start = 100
    passages = [
        Passage(1, "a1#0", "a1", "Title <b>", "Src", "2012-04-23", "https://ex.test/a?x=1#old",
                text, start, start + len(text)),
        Passage(2, "a2#0", "a2", "Other", "Src2", "", "javascript:alert(1)", "Uncited text.",
                0, 13),
    ]  # fmt: skip
    citation = Citation(**vars(passages[0]), support=(start + 16, start + 54))
    sentences = [
        Sentence("The workers were freed.", [1]),
        Sentence("They were paid a ransom.", [], supported=False, reason="No passage says so."),
    ]
    return Answer(
        "Were they freed?", "Were the gas workers freed?", "The workers were freed [1]. …",
        False, "generated", [citation], sentences, passages,
    )  # fmt: skip


def test_answer_html_markers_unsupported_and_query() -> None:
    html = render.answer_html(sample_answer(), 3)
    assert '<a class="rag-cite" href="#rag-3-c-1"' in html
    assert "The workers were freed <a" in html and "[1]</a>." in html
    assert 'class="rag-unsupported" title="No passage says so."' in html
    assert render.FLAG_TEXT in html and "(No passage says so.)" in html  # in words, no hover
    assert "rag-legend" in html
    assert "Searched for: <q>Were the gas workers freed?</q>" in html
    assert_inert(html)


def test_everything_is_escaped() -> None:
    answer = sample_answer()
    answer.question = answer.query = XSS
    answer.sentences = [Sentence(XSS + " [1]", [1])]
    answer.citations[0].title = XSS
    answer.citations[0].text = XSS
    answer.notice = XSS
    for markup in (
        render.answer_html(answer, 0),
        panels.sources_html(answer, 0),
        render.streaming_html(XSS, XSS),
        render.error_html(XSS),
        panels.article_html(XSS, XSS, XSS, XSS, XSS, (2, 20), (5, 9)),
        library.report_html(None, None, [(XSS, XSS)]),  # type: ignore[arg-type]
    ):
        assert_inert(markup)
        assert "<script" not in markup and "<img" not in markup and "](" not in markup


def test_abstention_offers_closest_passages() -> None:
    answer = sample_answer()
    answer.abstained, answer.citations, answer.sentences = True, [], []
    answer.text = "The articles do not say."
    html = render.answer_html(answer, 0)
    assert "No answer found in the articles" in html and "rag-abstain" in html
    assert 'href="#rag-0-p-1"' in html and 'href="#rag-0-p-2"' in html
    panel = panels.sources_html(answer, 0)
    assert "<details" in panel and " open>" in panel and "Closest passages (2)" in panel


def test_sources_panel() -> None:
    panel = panels.sources_html(sample_answer(), 0, active="rag-0-c-1")
    assert 'class="rag-src rag-active" data-rag-ref="rag-0-c-1"' in panel
    assert '<mark class="rag-support">The workers were freed after six days.</mark>' in panel
    assert (
        'href="https://ex.test/a?x=1#:~:text=The%20workers%20were%20freed%20after%20six%20days"'
        in panel
    )
    assert "Title &lt;b&gt;" in panel and "Src · 2012-04-23" in panel
    assert "Retrieved but not cited (1)" in panel and 'data-rag-ref="rag-0-p-2"' in panel
    assert "javascript:" not in panel  # unsafe URL: no link at all
    assert_inert(panel)
    assert "Ask a question" in panels.sources_html(None, 0)


def test_article_viewer_highlights_passage_and_support() -> None:
    text = "Before. Passage one. Support here. After."
    html = panels.article_html("T", "S", "2020-01-01", "http://x.test/p", text, (8, 34), (21, 34))
    assert (
        'Before. <mark class="rag-focus">Passage one. '
        '<mark class="rag-support">Support here.</mark></mark> After.'
    ) in html
    assert "http://x.test/p#:~:text=Support%20here" in html
    assert "rag-focus" not in panels.article_html("T", "", "", "", text)


def test_text_fragment_and_refs() -> None:
    assert render.text_fragment("Well-known, fact & more: one two three four five") == (
        "#:~:text=Well%2Dknown%2C%20fact%20%26%20more%3A%20one%20two%20three%20four"
    )
    assert render.parse_ref("rag-2-c-11") == (2, "c", 11)
    assert render.parse_ref("#rag-0-p-1") == (0, "p", 1)
    assert render.parse_ref("rag-x-c-1") is None and render.parse_ref("") is None
    assert render.safe_url("file:///etc/passwd") is None
    assert render.safe_url("https://a.test/x") == "https://a.test/x"


def test_answer_dict_round_trip() -> None:
    answer = sample_answer()
    again = render.answer_from_dict(render.answer_to_dict(answer))
    assert again == answer
    assert render.answer_from_dict({"question": "q", "extra": 1}).query == "q"


def test_esc_never_double_escapes() -> None:
    assert render.esc("group's [x] #1 & <b>") == ("group&#x27;s &#91;x&#93; &#35;1 &amp; &lt;b&gt;")


def test_left_out_disagreement_and_copy_are_in_words() -> None:
    answer = sample_answer()
    answer.sentences = answer.sentences[:1]
    answer.left_out = [Sentence("500 soldiers", [1], False, "“500 soldiers” is not in [1]")]
    answer.disagreement = True
    html = render.answer_html(answer, 0, copy="The workers were freed [1].\n\nSources: …")
    assert render.badge("left", render.LEFT_OUT_TEXT) in html and "500 soldiers" in html
    assert "(“500 soldiers” is not in &#91;1&#93;)" in html
    assert render.CONFLICT_TEXT in html and "Labels: " in html
    assert render.FLAG_TEXT not in html  # the legend names only the labels shown
    assert 'href="#rag-copy"' in html and 'class="rag-copytext"' in html
    assert_inert(html)
    assert "rag-legend" not in render.answer_html(sample_answer().__class__(
        "q", "q", "t", False, "generated"), 0)  # fmt: skip


def test_pending_sources_and_viewer_way_back() -> None:
    answer = sample_answer()
    panel = panels.pending_sources_html(answer.passages, "Were they <freed>?", 2)
    assert "rag-pending" in panel and 'data-rag-ref="rag-2-p-1"' in panel
    assert "Were they &lt;freed&gt;?" in panel
    assert_inert(panel)
    viewer = panels.article_html("T", "S", "", "", "Some text here.", (0, 4))
    assert "rag-viewer-open" in viewer and 'data-rag-ref="back"' in viewer
    assert "rag-viewer-open" not in panels.viewer_empty()


def test_points_show_as_a_list_and_quotes_under_their_label() -> None:
    answer = sample_answer()
    answer.sentences = [Sentence("The workers were freed.", [1]), Sentence("Six days.", [1])]
    answer.kind = "summary"
    html = render.answer_html(answer, 2)
    assert '<ul class="rag-points"><li>The workers were freed <a' in html
    assert html.count("<li>") == 2
    answer.kind = "factoid"  # a factoid's claims stay one paragraph
    assert "rag-points" not in render.answer_html(answer, 2)
    answer.kind, answer.mode = "definition", "extractive"
    answer.text = "The articles say: “The workers were freed.” [1]."
    answer.sentences = [Sentence("“The workers were freed.”", [1])]
    html = render.answer_html(answer, 2)
    assert "<p>The articles say: “The workers were freed.” <a" in html and "rag-points" not in html
    assert "- a<br>- b" in render.streaming_html("- a\n- b")
    assert_inert(html)


def test_refusal_quote_opens_a_passage_listed_under_it() -> None:
    answer = sample_answer()
    answer.citations, answer.sentences = [], []
    answer.passages += [
        Passage(n, f"b{n}#0", f"b{n}", f"T{n}", "S", "", "", f"Text {n}.", 0, 7, score=score)
        for n, score in ((3, 0.2), (4, 0.9), (5, 0.1))
    ]
    answer.abstained = True
    answer.text = abstention("q", "q", answer.passages, []).text
    assert answer.text.endswith("“Text 4.” [4]")  # the best-scored passage
    html = render.answer_html(answer, 2)
    quote, listed = html.split("Closest passages:")
    assert '<a class="rag-cite" href="#rag-2-p-4"' in quote  # the quote's [4] is a link
    assert 'href="#rag-2-p-4"' in listed  # ... to a passage listed below it


def test_left_out_items_are_behind_a_toggle_with_their_own_reason() -> None:
    answer = sample_answer()
    answer.sentences = answer.sentences[:1]
    copied = "The workers were freed after six days."
    answer.left_out = [
        Sentence(copied, [1], False, "its sentences are not about what the question asks")
    ]
    html = render.answer_html(answer, 0)
    toggle = html[html.index('<details class="rag-why">') : html.index("</details>")]
    assert "<summary>" in toggle and "Why not shown (1)" in toggle and copied in toggle
    assert "not about what the question asks" in toggle
    assert "no article supports it" not in html  # the sentence is an article's own words


def test_a_decided_answer_says_how_sure_it_is_and_survives_the_history() -> None:
    answer = Answer("q", "q", "36 [1].", False, "generated", confidence=0.91,
                    signals={"articles": 2.0})  # fmt: skip
    html = render.answer_html(answer, 0)
    assert 'class="rag-confidence">Likely right: stated in 2 articles.</div>' in html
    again = render.answer_from_dict(render.answer_to_dict(answer))
    assert again.confidence == 0.91 and again.signals == {"articles": 2.0}
    undecided = Answer("q", "q", "36.", False, "generated")
    assert "rag-confidence" not in render.answer_html(undecided, 0)
