"""Evidence selection: scores, the token budget, numbering."""

from __future__ import annotations

from test_candidates import TEXT, article, hit

from rag.answering.candidates import candidates, idf
from rag.answering.evidence import pick, score, scored, select, select_parts, spare
from rag.chunking import estimate_tokens
from rag.records import StoredArticle


def header(a: StoredArticle) -> int:
    return 10


def test_rare_question_words_score_highest() -> None:
    a = article()
    cands = candidates([hit("a", 0, len(TEXT))], {"a": a})
    weights = idf({"worker": 50, "kidnap": 2, "releas": 10}, 1000)
    scores = score(cands, "When were the kidnapped workers released?", weights)
    best = cands[max(range(len(cands)), key=scores.__getitem__)]
    assert "released six days" in best.text or "kidnapped" in best.text


def test_budget_is_kept_and_a_pronoun_brings_its_subject() -> None:
    a = article()
    cands = candidates([hit("a", 0, len(TEXT))], {"a": a})
    for c in cands:
        c.score = 1.0 if c.text.startswith("They kidnapped") else 0.1
    chosen = pick(cands, budget=40, header_tokens=header)
    texts = [c.text for c in chosen]
    assert "They kidnapped 36 natural gas workers." in texts
    assert "Rebels attacked a base in Cusco on Monday." in texts  # "They" needs its subject
    assert sum(estimate_tokens(t) + 3 for t in texts) + 10 <= 40


def test_numbering_groups_articles_in_reading_order() -> None:
    other = "Police in Lima arrested two suspects on Tuesday night."
    arts = {"a": article(), "b": article("b", other, "Arrests")}
    hits = [hit("b", 0, len(other), other), hit("a", 0, len(TEXT))]
    passages = select(
        hits, arts, "How many gas workers were kidnapped in Cusco?", {"": 0.0}, 200, header
    )
    assert [p.n for p in passages] == list(range(1, len(passages) + 1))
    assert passages[0].article_id == "a"  # the article with the best sentence comes first
    starts = [p.start for p in passages if p.article_id == "a"]
    assert starts == sorted(starts)
    assert all(TEXT[p.start : p.end] == p.text for p in passages if p.article_id == "a")


def test_best_sentences_first_and_spread_takes_each_articles_best_in_turn() -> None:
    one, two = article("a"), article("b", "Army bases in the valley fell from 78 to 46 this year.")
    cands = candidates([hit("a", 0, len(TEXT)), hit("b", 0, 20, two.text)], {"a": one, "b": two})
    for c in cands:
        c.score = {"b": 0.7}.get(c.article.id, 1.0 if "1,500" in c.text else 0.9)
    second = next(c for c in cands if c.article.id == "a" and "1,500" not in c.text)
    budget = sum(
        estimate_tokens(t) + 3 for t in ("The army sent 1,500 troops to the valley.", second.text)
    )
    budget += header(one)
    assert {c.article.id for c in pick(cands, budget, header)} == {"a"}  # 0.9 beats 0.7
    budget += header(two) + estimate_tokens(two.text) - estimate_tokens(second.text)
    assert {c.article.id for c in pick(cands, budget, header, spread=True)} == {"a", "b"}


def test_spare_sentences_are_the_best_left_over_numbered_after_the_shown() -> None:
    arts = {"a": article()}
    hits = [hit("a", 0, len(TEXT))]
    question = "How many gas workers were kidnapped?"
    shown = select(hits, arts, question, {"": 0.0}, 40, header)
    rest = spare(scored(hits, arts, question, {"": 0.0}), shown, limit=2)
    assert len(rest) == 2 and [p.n for p in rest] == [len(shown) + 1, len(shown) + 2]
    assert not {p.start for p in rest} & {p.start for p in shown}
    assert all(TEXT[p.start : p.end] == p.text for p in rest)


def test_each_part_gets_the_whole_budget_and_a_shared_sentence_one_number() -> None:
    arts = {"a": article()}
    hits = [hit("a", 0, len(TEXT))]
    kidnapped = scored(hits, arts, "How many gas workers were kidnapped?", {"": 0.0})
    troops = scored(hits, arts, "How many troops did the army send?", {"": 0.0})
    one = estimate_tokens("The army sent 1,500 troops to the valley.") + 3 + header(arts["a"])
    first, second = select_parts([kidnapped, troops], one, header)
    assert [p.text for p in second] == ["The army sent 1,500 troops to the valley."]
    assert first and "troops" not in first[0].text  # half the budget would fit neither
    again = select_parts([troops, troops], one, header)
    assert again[0] == again[1] and again[0][0].n == 1
