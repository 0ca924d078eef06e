"""Retrieval latency (dense, BM25, hybrid) and LLM answer latency: our pipeline vs. the bare server.

    .venv/bin/python benchmarks/latency.py [--skip-llm] [--skip-1000]

Retrieval: the bundled corpus (questions of data/eval/seed.jsonl) and the first 1,000 corpus
articles (first 10 words of the first sentence of 50 seeded-random articles). The query
embedder is the real MiniLM with 1 torch thread, warmed up. The 1,000-article index is built
with real MiniLM vectors, cached in benchmarks/out/minilm-vectors.npz (ingest.py fills it too)
so a re-run only embeds what is missing.

LLM: each mode runs on a freshly started embedded server (prompt cache empty), warmed up with
one unrelated question (so the shared system prompt is cached, as in steady use); both orders
(ours→direct, direct→ours) are run and averaged, so neither side profits from the other's cache.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import tempfile
import time
from pathlib import Path

from common import (
    ROOT,
    CachingEmbedder,
    article_queries,
    bench_settings,
    corpus_slice,
    load_vector_cache,
    ms_stats,
    save_vector_cache,
    table,
)


def build(paths: list[Path], settings, embedder):  # noqa: ANN001, ANN201
    from rag.indexer import index_paths, stamp_for
    from rag.store import Store

    store = Store(settings, stamp_for(settings, embedder))
    t = time.perf_counter()
    report = index_paths(paths, store, embedder, settings)
    return store, len(report.added), report.chunks, time.perf_counter() - t


def retrieval_row(name: str, store, qe, settings, queries: list[str]) -> list:  # noqa: ANN001
    """Interleave dense / BM25 / hybrid per query (fair under varying machine load)."""
    from rag.retriever import retrieve

    k, cand = settings.top_k, settings.candidates
    for q in queries[:5]:  # warm-up: first Chroma query loads the HNSW segment
        retrieve(q, store, qe, k=k, candidates=cand)
    emb, dense, bm25, hybrid = [], [], [], []
    for q in queries:
        t0 = time.perf_counter()
        vec = qe.embed_query(q)
        t1 = time.perf_counter()
        store.dense_search(vec, cand)
        t2 = time.perf_counter()
        store.keyword_search(q, cand)
        t3 = time.perf_counter()
        retrieve(q, store, qe, k=k, candidates=cand, hybrid=True)
        t4 = time.perf_counter()
        emb.append(t1 - t0), dense.append(t2 - t0), bm25.append(t3 - t2), hybrid.append(t4 - t3)
    n_art = len(store.articles())
    return [
        name,
        n_art,
        store.count_chunks(),
        len(queries),
        *(f"{a:.1f} / {b:.1f}" for a, b in map(ms_stats, (emb, dense, bm25, hybrid))),
    ]


def ours(question: str, engine) -> dict:  # noqa: ANN001
    from rag.answering.answer import answer_stream
    from rag.answering.engine import Done, Token

    t0 = time.perf_counter()
    ttft = None
    for event in answer_stream(question, engine):
        if isinstance(event, Token) and ttft is None:
            ttft = time.perf_counter() - t0
        if isinstance(event, Done):
            answer = event.answer
    total = time.perf_counter() - t0
    return {
        "ttft": ttft,
        "total": total,
        "est_prompt": answer.usage.get("prompt_tokens"),
        "pieces": answer.usage.get("completion_tokens"),
        "abstained": answer.abstained,
    }


def direct(request: tuple[list[dict], dict], llm, settings) -> dict:  # noqa: ANN001
    """The same messages and JSON schema sent straight to the server (no retrieval, no checks)."""
    import openai

    messages, body = request

    client = openai.OpenAI(base_url=llm._client.base_url, api_key=llm._client._secret)
    t0 = time.perf_counter()
    ttft, pieces, usage, timings = None, 0, None, {}
    stream = client.chat.completions.create(
        model=settings.llm_model,
        messages=messages,
        max_tokens=settings.llm_max_tokens,
        temperature=0.0,
        stream=True,
        stream_options={"include_usage": True},
        extra_body=body,
    )
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                pieces += 1
                ttft = ttft if ttft is not None else time.perf_counter() - t0
        usage = chunk.usage or usage
        timings = (chunk.model_extra or {}).get("timings") or timings
    total = time.perf_counter() - t0
    return {
        "ttft": ttft,
        "total": total,
        "prompt": usage.prompt_tokens if usage else None,
        "pieces": pieces,
        "cache_n": timings.get("cache_n"),
    }


def llm_section(store, qe, index_dir: Path, n_questions: int) -> None:  # noqa: ANN001
    from datetime import date

    from rag.answering import prompt
    from rag.answering.engine import Engine
    from rag.answering.search import find_passages
    from rag.embedded import EmbeddedLLM

    settings = bench_settings(index_dir, llm_backend="embedded")
    engine = Engine(settings, store, qe, None)
    rows = [json.loads(line) for line in (ROOT / "data/eval/seed.jsonl").open()]
    usable = []
    for r in rows:  # answerable questions that will not abstain (so the LLM is called)
        found = find_passages(r["question"], engine)
        best = max((p.similarity for p in found.retrieved), default=0.0)
        if r["type"] != "unanswerable" and best >= settings.abstain_threshold and found.passages:
            today = date.today().isoformat()
            messages = prompt.messages(r["question"], found.passages, today)
            body = prompt.request_body([p.n for p in found.passages], embedded=True)
            usable.append((r["id"], r["question"], (messages, body)))
    warm, picked = usable[n_questions], usable[:n_questions]
    results: dict[str, dict[str, list[dict]]] = {q: {"ours": [], "direct": []} for q, *_ in picked}
    loads = []
    for order in (("ours", "direct"), ("direct", "ours")):
        for mode in order:
            llm = EmbeddedLLM(settings)
            t = time.perf_counter()
            llm.start()
            loads.append(time.perf_counter() - t)
            direct(warm[2], llm, settings)  # caches the shared system-prompt prefix
            engine.llm = llm
            for qid, question, request in picked:
                got = ours(question, engine) if mode == "ours" else direct(request, llm, settings)
                results[qid][mode].append(got)
            engine.llm = None
            llm.close()
            del llm
            gc.collect()

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    out, ratios_ttft, ratios_total = [], [], []
    for qid, by in results.items():
        o_ttft, d_ttft = (mean([r["ttft"] for r in by[m]]) for m in ("ours", "direct"))
        o_tot, d_tot = (mean([r["total"] for r in by[m]]) for m in ("ours", "direct"))
        ratios_ttft.append(o_ttft / d_ttft), ratios_total.append(o_tot / d_tot)
        d = by["direct"][0]
        out.append(
            [
                qid,
                f"{by['ours'][0]['est_prompt']} / {d['prompt']}",
                d["pieces"],
                f"{o_ttft:.2f}",
                f"{d_ttft:.2f}",
                f"{o_ttft / d_ttft:.2f}",
                f"{o_tot:.2f}",
                f"{d_tot:.2f}",
                f"{o_tot / d_tot:.2f}",
            ]
        )
    out.append(
        [
            "**mean**",
            "",
            "",
            "",
            "",
            f"**{mean(ratios_ttft):.2f}**",
            "",
            "",
            f"**{mean(ratios_total):.2f}**",
        ]
    )
    print(f"\n## Answer latency: embedded LLM ({EmbeddedLLM(settings).name}), bundled corpus\n")
    print(
        f"Server load time (excluded below): first start {loads[0]:.1f} s, restarts "
        + ", ".join(f"{x:.1f}" for x in loads[1:])
        + " s. Each mode ran on a fresh server warmed"
        " with one other question; both orders run, times are the mean of the two.\n"
    )
    print(
        table(
            [
                "question",
                "prompt tokens (est / server)",
                "answer tokens",
                "ours TTFT s",
                "direct TTFT s",
                "TTFT ratio (goal ≤ 1.1)",
                "ours total s",
                "direct total s",
                "total ratio (goal ≤ 1.1)",
            ],
            out,
        )
    )
    cache = [r["cache_n"] for by in results.values() for r in by["direct"]]
    print(f"\nServer-reported cached prompt tokens per direct request: {cache}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument("--skip-1000", action="store_true")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()

    from rag.embeddings import make_embedder

    tmp = Path(tempfile.mkdtemp(prefix="rag-latency-"))
    try:
        settings = bench_settings(tmp / "bundled")
        bulk = make_embedder(settings)
        store, *_ = build([ROOT / "data/articles"], settings, bulk)
        seed = [json.loads(line)["question"] for line in (ROOT / "data/eval/seed.jsonl").open()]
        big = None
        if not args.skip_1000:
            s1000 = bench_settings(tmp / "news-1000")
            cached = CachingEmbedder(bulk, load_vector_cache())
            big, n_art, n_chunks, secs = build([corpus_slice(1000, tmp / "src")], s1000, cached)
            if cached.misses:
                save_vector_cache(cached.cache)
            build_note = (
                f"1,000-article index: {n_art:,} articles, {n_chunks:,} chunks, built in "
                f"{secs:.0f} s with real MiniLM vectors ({cached.hits:,} from the cache "
                f"in benchmarks/out/, {cached.misses:,} embedded now)."
            )
        import torch

        qe = make_embedder(settings, for_queries=True)
        qe.embed_query("warm up the query embedder")
        torch.set_num_threads(1)  # as the query embedder sets it; bulk loading may have reset it
        rows = [retrieval_row("bundled (data/articles)", store, qe, settings, seed)]
        if big is not None:
            rows.append(
                retrieval_row(
                    "news 1,000", big, qe, settings, article_queries(big, args.queries, seed=0)
                )
            )
        print("## Retrieval latency, ms (p50 / p95); real MiniLM query embedding, 1 torch thread\n")
        print(
            table(
                [
                    "index",
                    "articles",
                    "chunks",
                    "queries",
                    "query embed",
                    "dense (embed+Chroma)",
                    "BM25 (FTS5)",
                    "hybrid (retrieve)",
                ],
                rows,
            )
        )
        if big is not None:
            print(f"\n{build_note}")
        if not args.skip_llm:
            llm_section(store, qe, tmp / "bundled", args.questions)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
