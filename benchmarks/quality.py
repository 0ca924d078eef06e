"""Answer and retrieval quality on the news dev set, against two baselines, in one run.

    python benchmarks/quality.py [--distractors 2000] [--baseline-answers 30] [--limit N]

Builds (once; cached in benchmarks/out/quality/) an index of every article the dev set names
plus `--distractors` other news-10k articles, then scores on the same articles and machine:
(a) plain BM25: SQLite FTS5 over whole articles (title and text); (b) the stock llama-index
starter: VectorStoreIndex over Chroma, default chunking, top-2, same MiniLM embeddings;
(c) ours. Retrieval metrics rank distinct articles (10 deep). Answer metrics for ours on every
question, and for the starter with the same embedded LLM on the first `--baseline-answers`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from common import (
    CORPUS,
    OUT,
    ROOT,
    CachingEmbedder,
    bench_settings,
    load_vector_cache,
    percentile,
    save_vector_cache,
    table,
)

from rag.metrics import hit_at, mrr, question_correct, score_answer
from rag.questions import Question, load_questions
from rag.store import strip_stopwords

DEV_SET = ROOT / "data" / "eval" / "news-dev.jsonl"
WORK = OUT / "quality"
REFUSAL = re.compile(r"not (?:say|mention|provide|contain)|no information|don't know|not know")


def dev_articles(questions: Sequence[Question], raw: list[dict]) -> set[str]:
    """Every article a question names as evidence or as its near-miss topic."""
    wanted = {a for q in questions for a in q.gold_articles}
    near = {a for r in raw for a in r.get("near", [])}
    return wanted | near


def corpus_subset(ids: set[str], distractors: int, seed: int = 0) -> Path:
    """benchmarks/out/quality/articles-<n>.jsonl: the dev articles plus seeded distractors."""
    path = WORK / f"articles-{len(ids)}-{distractors}.jsonl"
    if path.exists():
        return path
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    others = [r for r in rows if r["doc_id"] not in ids]
    chosen = [r for r in rows if r["doc_id"] in ids] + random.Random(seed).sample(
        others, distractors
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in chosen:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def bm25_ranker(articles: list) -> Callable[[str], list[str]]:  # noqa: ANN001
    """Plain BM25 over whole articles (title + text) in an in-memory FTS5 table."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE a USING fts5(id UNINDEXED, body, tokenize='porter unicode61')")
    db.executemany(
        "INSERT INTO a VALUES (?, ?)", [(x.id, f"{x.title}\n{x.text}") for x in articles]
    )

    def rank(question: str) -> list[str]:
        words = strip_stopwords(question).split()
        if not words:
            return []
        query = " OR ".join(f'"{w}"' for w in words)
        sql = "SELECT id FROM a WHERE a MATCH ? ORDER BY bm25(a) LIMIT 10"
        return [row[0] for row in db.execute(sql, (query,))]

    return rank


def starter_index(articles: list, embed_path: Path):  # noqa: ANN001, ANN201
    """The llama-index starter: VectorStoreIndex over a persistent Chroma, default settings."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core import Settings as LlamaSettings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    LlamaSettings.embed_model = HuggingFaceEmbedding(model_name=str(embed_path), device="cpu")
    client = chromadb.PersistentClient(
        str(WORK / "starter-chroma"), chromadb.Settings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection("starter", embedding_function=None)
    store = ChromaVectorStore(chroma_collection=collection)
    if collection.count():
        return VectorStoreIndex.from_vector_store(store)
    docs = [
        Document(text=a.text, id_=a.id, metadata={"title": a.title, "source": a.source})
        for a in articles
    ]
    context = StorageContext.from_defaults(vector_store=store)
    return VectorStoreIndex.from_documents(docs, storage_context=context, show_progress=True)


def retrieval_row(name: str, rankings: dict[str, list[str]], questions: list[Question]) -> list:
    """hit@1, hit@5, MRR@10 over the answerable questions that name gold articles."""
    scored = [q for q in questions if q.gold_articles and not q.unanswerable]
    hits1 = [hit_at(1, rankings[q.id], q.gold_articles) for q in scored]
    hits5 = [hit_at(5, rankings[q.id], q.gold_articles) for q in scored]
    mrrs = [mrr(rankings[q.id], q.gold_articles, 10) for q in scored]
    n = len(scored)
    return [name, n, f"{sum(hits1) / n:.3f}", f"{sum(hits5) / n:.3f}", f"{sum(mrrs) / n:.3f}"]


def mean(values: Sequence[float | bool | None]) -> str:
    got = [float(v) for v in values if v is not None]
    return f"{sum(got) / len(got):.3f}" if got else "–"


def answer_row(name: str, rows: list[dict]) -> list:
    """The answer metrics of one system over its answered questions."""

    def col(key: str) -> str:
        return mean([r["metrics"].get(key) for r in rows])

    ttft = [r["first"] for r in rows if r.get("first") is not None]
    total = [r["total"] for r in rows]
    prompts = [r["prompt_tokens"] for r in rows if r.get("prompt_tokens")]
    return [
        name,
        len(rows),
        col("accuracy"),
        col("correct_refusal_rate"),
        col("false_refusal_rate"),
        col("conflict_surfaced"),
        col("evidence_recall"),
        col("citation_precision_gold"),
        f"{percentile(ttft, 50):.1f}" if ttft else "–",
        f"{percentile(total, 50):.1f}" if total else "–",
        f"{percentile(prompts, 50):.0f}" if prompts else "–",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=DEV_SET)
    parser.add_argument("--distractors", type=int, default=2000)
    parser.add_argument("--baseline-answers", type=int, default=30)
    parser.add_argument(
        "--limit", type=int, help="answer only N questions, evenly spaced (every type)"
    )
    parser.add_argument("--retrieval-only", action="store_true")
    args = parser.parse_args()

    from rag.answer import Done, Token, answer_stream, open_engine
    from rag.articles import Article, load_file
    from rag.chat import condense
    from rag.embeddings import packaged_minilm_path
    from rag.indexer import index_paths, open_index

    questions, errors = load_questions(args.questions)
    raw = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    subset = corpus_subset(dev_articles(questions, raw), args.distractors)
    articles = [a for a in load_file(subset, 10**9) if isinstance(a, Article)]
    settings = bench_settings(WORK / "index-ours", llm_backend="embedded")

    t0 = time.perf_counter()
    store, embedder = open_index(settings)
    cached = CachingEmbedder(embedder, load_vector_cache())  # rebuilds embed only new texts
    report = index_paths([subset], store, cached, settings)
    save_vector_cache(cached.cache)
    store.close()
    print(f"ours: {len(report.added)} added, {report.unchanged} unchanged "
          f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)  # fmt: skip
    t0 = time.perf_counter()
    starter = starter_index(articles, packaged_minilm_path())
    print(f"starter index ready in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    bm25 = bm25_ranker(articles)
    starter_retriever = starter.as_retriever(similarity_top_k=30)
    engine = open_engine(settings)
    rankings: dict[str, dict[str, list[str]]] = {"bm25": {}, "starter": {}, "ours": {}}
    answers: dict[str, list[dict]] = {"starter": [], "ours": []}
    step = max(1, len(questions) // args.limit) if args.limit else 1
    todo = questions[::step][: args.limit] if args.limit else questions
    for i, q in enumerate(questions):
        searched = condense(q.question, q.history)  # a follow-up: with the last question
        rankings["bm25"][q.id] = bm25(searched)
        nodes = starter_retriever.retrieve(searched)
        rankings["starter"][q.id] = list(dict.fromkeys(n.node.ref_doc_id for n in nodes))[:10]
        started, first, answer = time.perf_counter(), None, None
        if args.retrieval_only or q not in todo:
            from rag.search import find_passages

            found = find_passages(searched, engine, today=q.question_date or "")
            rankings["ours"][q.id] = list(dict.fromkeys(p.article_id for p in found.retrieved))
            continue
        events = answer_stream(q.question, engine, history=q.history, question_date=q.question_date)
        for event in events:
            if isinstance(event, Token) and first is None:
                first = time.perf_counter() - started
            elif isinstance(event, Done):
                answer = event.answer
        assert answer is not None
        rankings["ours"][q.id] = list(dict.fromkeys(p.article_id for p in answer.retrieved))
        answers["ours"].append(
            {
                "id": q.id,
                "metrics": score_answer(q, answer),
                "first": first,
                "total": time.perf_counter() - started,
                "prompt_tokens": answer.usage.get("prompt_tokens"),
                "text": answer.text,
            }
        )
        print(f"[{i + 1}/{len(questions)}] {q.id} {answer.text[:90]!r}", file=sys.stderr)

    if not args.retrieval_only and args.baseline_answers:
        answers["starter"] = starter_answers(starter, engine, todo[: args.baseline_answers])
    engine.close()

    print(f"\nnews dev set: {len(questions)} questions, index of {len(articles)} articles")
    print(
        table(
            ["retrieval (distinct articles)", "n", "hit@1", "hit@5", "MRR@10"],
            [
                retrieval_row(name, rankings[name], questions)
                for name in ("bm25", "starter", "ours")
            ],
        )
    )
    if not args.retrieval_only:
        head = ["answers", "n", "accuracy", "correct refusals", "false refusals",
                "conflicts surfaced", "evidence recall", "citation precision (gold)",
                "first token p50 s", "total p50 s", "prompt tokens p50"]  # fmt: skip
        rows = [answer_row("ours", answers["ours"])]
        if answers["starter"]:
            same = {r["id"] for r in answers["starter"]}
            rows.append(answer_row("starter", answers["starter"]))
            ours_same = [r for r in answers["ours"] if r["id"] in same]
            rows.append(answer_row("ours, same questions", ours_same))
        print(table(head, rows))
    (WORK / "last-run.json").write_text(json.dumps({"rankings": rankings, "answers": answers}))
    return 0


def starter_answers(index, engine, questions: list[Question]) -> list[dict]:  # noqa: ANN001
    """The starter's query engine (top-2, default prompt) on the same embedded LLM."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.llms.openai_like import OpenAILike

    base_url, key = engine.llm.endpoint()
    LlamaSettings.llm = OpenAILike(
        model="local", api_base=base_url, api_key=key, is_chat_model=True,
        max_tokens=engine.settings.llm_max_tokens, timeout=600, context_window=4096,
    )  # fmt: skip
    query_engine = index.as_query_engine(similarity_top_k=2, streaming=True)
    rows = []
    for q in questions:
        started, first, pieces = time.perf_counter(), None, []
        response = query_engine.query(q.question)
        for piece in response.response_gen:
            if first is None:
                first = time.perf_counter() - started
            pieces.append(piece)
        text = "".join(pieces)
        abstained = bool(REFUSAL.search(text))
        rows.append(
            {
                "id": q.id,
                "metrics": {
                    "accuracy": question_correct(q, text, abstained),
                    "correct_refusal_rate": abstained if q.unanswerable else None,
                    "false_refusal_rate": None if q.unanswerable else abstained,
                    "conflict_surfaced": None,
                    "evidence_recall": None,
                    "citation_precision_gold": None,
                },
                "first": first,
                "total": time.perf_counter() - started,
                "prompt_tokens": None,
                "text": text,
            }
        )
        print(f"starter {q.id} {text[:90]!r}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    sys.exit(main())
