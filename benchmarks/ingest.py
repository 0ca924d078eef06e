"""Indexing throughput per embedding backend vs. each model's raw throughput, in one run.

    .venv/bin/python benchmarks/ingest.py --n 500 [--backends local,onnx]

For each backend, in a child process of its own (so peak RSS is its own), one after the other
on the same first N articles of the shared corpus: index them into a temp index (index_paths),
embed the very same chunk texts in the very same batches straight through the embedder (the
raw model call), and re-index the unchanged set. Prints one table: chunks/s, CPU seconds, peak
RSS, and the ratios the targets name. The PyTorch vectors are saved to benchmarks/out/
(git-ignored) so latency.py can reuse them for its 1,000-article index.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    bench_settings,
    corpus_slice,
    load_vector_cache,
    peak_rss_mb,
    save_vector_cache,
    table,
    text_key,
    time_reindex,
)


def cpu_s() -> float:
    """User + system CPU seconds of this process (all threads): less noisy than wall time."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Recorder:
    """Passes through to the real embedder, remembering each batch and the time spent in it."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner, self.model_id, self.dim = inner, inner.model_id, inner.dim
        self.batches: list[list[str]] = []
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        t = time.perf_counter()
        out = self.inner.embed_documents(texts)
        self.seconds += time.perf_counter() - t
        self.batches.append(list(texts))
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def measure(n: int, backend: str, keep: bool) -> dict[str, float | int | str]:
    """Index n articles with one backend, then time the raw model on the same batches."""
    from rag.indexer import index_paths, open_index

    tmp = Path(tempfile.mkdtemp(prefix="rag-ingest-"))
    try:
        source = corpus_slice(n, tmp / "articles")
        settings = bench_settings(tmp / "index", embed_backend=backend)
        store, embedder = open_index(settings)

        t = time.perf_counter()
        embedder.embed_documents(["warm-up: load the model before timing"])
        load_s = time.perf_counter() - t

        load_before = os.getloadavg()[0]
        rec = Recorder(embedder)
        t, c = time.perf_counter(), cpu_s()
        report = index_paths([source], store, rec, settings)
        wall, pipe_cpu = time.perf_counter() - t, cpu_s() - c
        assert store.count_chunks() == report.chunks, "chunk count mismatch"

        t, c = time.perf_counter(), cpu_s()
        raw_vectors = [embedder.embed_documents(batch) for batch in rec.batches]
        raw, raw_cpu = time.perf_counter() - t, cpu_s() - c
        load_after = os.getloadavg()[0]
        if backend == "local":
            cache = load_vector_cache()
            for batch, vectors in zip(rec.batches, raw_vectors, strict=True):
                cache.update((text_key(t), v) for t, v in zip(batch, vectors, strict=True))
            save_vector_cache(cache)
        store.close()
        again, reindex = time_reindex(settings, embedder, source)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "backend": backend,
        "model": embedder.model_id,
        "articles": len(report.added),
        "chunks": report.chunks,
        "batches": len(rec.batches),
        "load_s": load_s,
        "wall": wall,
        "embed_s": rec.seconds,
        "raw": raw,
        "pipe_cpu": pipe_cpu,
        "raw_cpu": raw_cpu,
        "rss": peak_rss_mb(),
        "torch": "torch" in sys.modules,
        "load": f"{load_before:.1f} / {load_after:.1f}",
        "reindex": reindex,
        "reindex_embedded": again.chunks,
        "threads": settings.embed_threads,
        "batch": settings.embed_batch_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="articles to index")
    parser.add_argument("--backends", default="local,onnx", help="embed backends, in order")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one backend, JSON to stdout
    parser.add_argument("--keep", action="store_true", help="keep the temp indexes")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.n, args.child, args.keep)))
        return
    runs = []
    for backend in args.backends.split(","):
        cmd = [sys.executable, __file__, "--n", str(args.n), "--child", backend]
        done = subprocess.run(cmd + (["--keep"] if args.keep else []), capture_output=True,
                              text=True, check=True)  # fmt: skip
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first = runs[0]
    print(
        f"## Ingest: {first['articles']:,} articles, {first['chunks']:,} chunks "
        f"({first['threads']} threads, embed batch {first['batch']}, "
        f"{first['batches']} write batches; {os.cpu_count()} cores)\n"
    )
    cps = {r["backend"]: r["chunks"] / r["wall"] for r in runs}
    rows = [
        ["model", *(r["model"] for r in runs)],
        ["model load (excluded)", *(f"{r['load_s']:.1f} s" for r in runs)],
        ["pipeline wall time", *(f"{r['wall']:.1f} s" for r in runs)],
        ["  of which embedding", *(f"{r['embed_s']:.1f} s" for r in runs)],
        ["pipeline chunks/s", *(f"{cps[r['backend']]:.1f}" for r in runs)],
        ["  × the first backend", *(f"{cps[r['backend']] / cps[first['backend']]:.2f}"
                                    for r in runs)],
        ["raw model chunks/s (same texts, same batches)",
         *(f"{r['chunks'] / r['raw']:.1f}" for r in runs)],
        ["pipeline ÷ raw (goal ≥ 0.9)", *(f"{r['raw'] / r['wall']:.2f}" for r in runs)],
        ["CPU seconds: pipeline / raw",
         *(f"{r['pipe_cpu']:.0f} / {r['raw_cpu']:.0f}" for r in runs)],
        ["peak RSS", *(f"{r['rss']:,.0f} MiB" for r in runs)],
        ["PyTorch loaded", *("yes" if r["torch"] else "no" for r in runs)],
        ["re-index unchanged", *(f"{r['reindex']:.1f} s, {r['reindex_embedded']} embedded"
                                 for r in runs)],
        ["load avg (1 min) before / after", *(r["load"] for r in runs)],
    ]  # fmt: skip
    print(table(["measure", *(r["backend"] for r in runs)], rows))


if __name__ == "__main__":
    main()
