"""Index size, build time, memory and search latency as the collection grows.

    .venv/bin/python benchmarks/scale.py [--sizes 1000,3000,10000]

Each size runs in a fresh child process (`scale.py --one N --json`) so peak RSS is per size.
Vectors come from a deterministic 384-dim hashing embedder (benchmarks/common.py HashEmbedder,
same dimension as MiniLM): embedding 10,000 articles with MiniLM on 2 cores takes hours. All
else is the real path: loading, cleaning, chunking, Chroma HNSW, SQLite FTS5, and the search
a question takes in production (`find_passages`: article-aware hybrid retrieval at the
settings' depth, then evidence sentences within the prompt budget), timed on question-like
queries (the headlines of random articles, as a reader would type a topic). Real MiniLM query
embedding adds about its own latency (see latency.py). The table is stamped with the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    OUT,
    ROOT,
    HashEmbedder,
    bench_settings,
    corpus_slice,
    dir_mb,
    ms_stats,
    peak_rss_mb,
    table,
    time_reindex,
)

GOALS = {"hybrid_p50": 50.0, "hybrid_p95": 150.0, "rss_mb": 4096.0}


def headline_queries(store, n: int, seed: int = 0) -> list[str]:  # noqa: ANN001
    """The titles of n random stored articles (seeded): short queries in a reader's words."""
    import random

    arts = [a for a in store.articles() if a.title]
    return [a.title for a in random.Random(seed).sample(arts, min(n, len(arts)))]


def commit() -> str:
    """The commit measured (with '+' when the tree has changes)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    dirty = "+" if git("status", "--porcelain").strip() else ""
    return git("rev-parse", "--short", "HEAD").strip() + dirty


def one(n: int, queries: int, profile: Path | None) -> dict:
    """Build, query and re-index one size in this process; return the measurements."""
    from rag.answering.engine import Engine
    from rag.answering.search import find_passages
    from rag.indexer import index_paths, stamp_for
    from rag.retriever import retrieve
    from rag.store import Store

    tmp = Path(tempfile.mkdtemp(prefix=f"rag-scale-{n}-"))
    try:
        source = corpus_slice(n, tmp / "src")
        settings = bench_settings(tmp / "index")
        embedder = HashEmbedder()
        store = Store(settings, stamp_for(settings, embedder))
        t = time.perf_counter()
        report = index_paths([source], store, embedder, settings)
        build_s = time.perf_counter() - t
        rss_build = peak_rss_mb()

        qs = headline_queries(store, queries, seed=1)
        k, cand = settings.top_k, settings.candidates
        engine = Engine(settings, store, embedder, None)
        for q in qs[:5]:
            find_passages(q, engine)
        dense, bm25, hybrid, search = [], [], [], []
        for q in qs:
            t0 = time.perf_counter()
            store.dense_search(embedder.embed_query(q), cand)
            t1 = time.perf_counter()
            store.keyword_search(q, cand)
            t2 = time.perf_counter()
            retrieve(q, store, embedder, k=k, candidates=cand)
            t3 = time.perf_counter()
            find_passages(q, engine)
            dense.append(t1 - t0), bm25.append(t2 - t1), hybrid.append(t3 - t2)
            search.append(time.perf_counter() - t3)
        if profile is not None:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
            for q in qs:
                retrieve(q, store, embedder, k=k, candidates=cand)
            prof.disable()
            prof.dump_stats(profile)

        store.close()
        again, reindex_s = time_reindex(settings, embedder, source)
        size = dir_mb(settings.index_dir)
        return {
            "articles": len(report.added),
            "chunks": report.chunks,
            "skipped": len(report.skipped),
            "disk_mb": size,
            "build_s": build_s,
            "reindex_s": reindex_s,
            "unchanged": again.unchanged,
            "rss_build_mb": rss_build,
            "rss_mb": peak_rss_mb(),
            "dense": ms_stats(dense),
            "bm25": ms_stats(bm25),
            "hybrid": ms_stats(hybrid),
            "search": ms_stats(search),
            "queries": len(qs),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["articles"] for r in results]
    fig, (lat, mem) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = (("dense", "tab:blue"), ("bm25", "tab:orange"), ("hybrid", "tab:green"),
              ("search", "tab:red"))  # fmt: skip
    for key, color in series:
        lat.plot(sizes, [r[key][0] for r in results], "o-", color=color, label=f"{key} p50")
        lat.plot(sizes, [r[key][1] for r in results], "s--", color=color, label=f"{key} p95")
    lat.axhline(GOALS["hybrid_p50"], color="grey", lw=0.8, ls=":")
    lat.axhline(GOALS["hybrid_p95"], color="grey", lw=0.8, ls="-.")
    lat.set(xlabel="articles", ylabel="ms", title="Retrieval latency (hash-384 vectors)")
    lat.legend(fontsize=8)
    mem.plot(sizes, [r["rss_mb"] for r in results], "o-", label="peak RSS")
    mem.plot(sizes, [r["disk_mb"] for r in results], "s--", label="index on disk")
    mem.axhline(GOALS["rss_mb"], color="grey", lw=0.8, ls=":", label="RSS goal (4 GiB)")
    mem.set(xlabel="articles", ylabel="MB", title="Memory and disk")
    mem.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--one", type=int, help="(child) run one size")
    parser.add_argument("--json", action="store_true", help="(child) print one JSON line")
    parser.add_argument("--profile", type=Path, help="(child) cProfile retrieve() to this file")
    args = parser.parse_args()
    if args.one:
        result = one(args.one, args.queries, args.profile)
        print(json.dumps(result) if args.json else result)
        return

    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        t = time.perf_counter()
        cmd = [sys.executable, __file__, "--one", str(n), "--json", "--queries", str(args.queries)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"size {n} failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(
            f"size {n}: done in {time.perf_counter() - t:.0f} s (load avg "
            f"{os.getloadavg()[0]:.1f})",
            file=sys.stderr,
        )

    def lat(r: dict, key: str) -> str:
        return f"{r[key][0]:.1f} / {r[key][1]:.1f}"

    print(
        f"## Scale sweep at {commit()}: fake 384-dim hashing embedder for vectors (NOT "
        "MiniLM); Chroma HNSW + SQLite FTS5 real\n"
    )
    print(
        f"Latency in ms, p50 / p95 over {args.queries} queries (headlines of random articles); "
        "'search' is find_passages, what a question takes before the model; each size in a "
        "fresh process.\n"
    )
    print(
        table(
            [
                "articles",
                "chunks",
                "index on disk MB",
                "build s",
                "peak RSS MiB",
                "dense",
                "BM25",
                "hybrid",
                "search (find_passages)",
                "re-index unchanged s",
            ],
            [
                [
                    r["articles"],
                    r["chunks"],
                    r["disk_mb"],
                    r["build_s"],
                    r["rss_mb"],
                    lat(r, "dense"),
                    lat(r, "bm25"),
                    lat(r, "hybrid"),
                    lat(r, "search"),
                    r["reindex_s"],
                ]
                for r in results
            ],
        )
    )
    top = results[-1]
    checks = [
        ("hybrid p50 ≤ 50 ms", top["hybrid"][0] <= GOALS["hybrid_p50"]),
        ("hybrid p95 ≤ 150 ms", top["hybrid"][1] <= GOALS["hybrid_p95"]),
        ("peak RSS ≤ 4 GiB", top["rss_mb"] <= GOALS["rss_mb"]),
    ]
    print(
        f"\nGoals at {top['articles']:,} articles: "
        + ", ".join(f"{name} {'✓' if ok else '✗'}" for name, ok in checks)
    )
    plot(results, OUT / "scale.png")
    print(f"\nPlot: {(OUT / 'scale.png').relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
