"""Retrieval metrics: did the ranked chunks bring the gold articles and passages, and how high?

They read the retriever's ranking alone, so a retrieval change is measured apart from the answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.citations import Passage
from rag.text import contains, normalize

__all__ = [
    "article_ranking",
    "hit_at",
    "mrr",
    "passage_hit_at",
    "passage_mrr",
    "recall_at",
]


def article_ranking(chunks: Sequence[Passage]) -> list[str]:
    """Distinct article ids in the order their first chunk was ranked."""
    return list(dict.fromkeys(c.article_id for c in chunks))


def hit_at(k: int, ranked_article_ids: Sequence[str], gold_ids: Sequence[str]) -> float:
    """Hit@k: 1 if any of the top-k retrieved article ids is a gold article, else 0."""
    return 1.0 if set(ranked_article_ids[:k]) & set(gold_ids) else 0.0


def recall_at(k: int, ranked_article_ids: Sequence[str], gold_ids: Sequence[str]) -> float:
    """Recall@k: share of distinct gold articles found among the top-k retrieved (0 if no gold)."""
    gold = set(gold_ids)
    return len(gold & set(ranked_article_ids[:k])) / len(gold) if gold else 0.0


def mrr(ranked: Sequence[str], gold: Sequence[str], k: int = 10) -> float:
    """MRR@k: 1/rank of the first gold article within the top k retrieved, 0 if none."""
    wanted = set(gold)
    for rank, article_id in enumerate(ranked[:k], 1):
        if article_id in wanted:
            return 1.0 / rank
    return 0.0


def _passage_ranks(ranked_texts: Sequence[str], snippets: Sequence[str], k: int) -> list[int]:
    """1-based ranks (within k) of passages whose text contains some normalised snippet."""
    ranks = []
    for rank, text in enumerate(ranked_texts[:k], 1):
        norm = normalize(text)
        if any(contains(norm, s) for s in snippets):
            ranks.append(rank)
    return ranks


def passage_hit_at(k: int, ranked_texts: Sequence[str], snippets: Sequence[str]) -> float:
    """Passage hit@k: 1 if one of the top-k passage texts contains a gold snippet (normalised)."""
    return 1.0 if _passage_ranks(ranked_texts, snippets, k) else 0.0


def passage_mrr(ranked_texts: Sequence[str], snippets: Sequence[str], k: int = 10) -> float:
    """Passage MRR@k: 1/rank of the first passage containing a gold snippet, 0 if none."""
    ranks = _passage_ranks(ranked_texts, snippets, k)
    return 1.0 / ranks[0] if ranks else 0.0
