"""Indexing throughput with the real embedder vs. the model's raw embedding throughput.

    .venv/bin/python benchmarks/ingest.py --n 500

Indexes the first N articles of the shared corpus into a temp index (index_paths, real
all-MiniLM-L6-v2), then embeds the very same chunk texts in the very same batches straight
through the embedder, and finally re-indexes the unchanged set. The vectors are saved to
benchmarks/out/ (git-ignored) so latency.py can reuse them for its 1,000-article index.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="articles to index")
    parser.add_argument("--keep", action="store_true", help="keep the temp index")
    args = parser.parse_args()

    from rag.indexer import index_paths, open_index

    tmp = Path(tempfile.mkdtemp(prefix="rag-ingest-"))
    try:
        source = corpus_slice(args.n, tmp / "articles")
        settings = bench_settings(tmp / "index")
        store, embedder = open_index(settings)

        t = time.perf_counter()
        embedder.embed_documents(["warm-up: load the model before timing"])
        load_s = time.perf_counter() - t

        load_before = os.getloadavg()[0]
        rec = Recorder(embedder)
        t, c = time.perf_counter(), cpu_s()
        report = index_paths([source], store, rec, settings)
        wall, pipe_cpu = time.perf_counter() - t, cpu_s() - c
        n_art, n_chunks = len(report.added), report.chunks
        assert store.count_chunks() == n_chunks, "chunk count mismatch"

        cache = load_vector_cache()
        t, c = time.perf_counter(), cpu_s()
        raw_vectors = [embedder.embed_documents(batch) for batch in rec.batches]
        raw, raw_cpu = time.perf_counter() - t, cpu_s() - c
        load_after = os.getloadavg()[0]
        for batch, vectors in zip(rec.batches, raw_vectors, strict=True):
            cache.update((text_key(text), vec) for text, vec in zip(batch, vectors, strict=True))
        save_vector_cache(cache)

        store.close()
        again, reindex = time_reindex(settings, embedder, source)
        rss = peak_rss_mb()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    pipe_cps, raw_cps = n_chunks / wall, n_chunks / raw
    batch_size = settings.embed_batch_size
    print(
        f"## Ingest: {n_art:,} articles from {source.name} (real all-MiniLM-L6-v2, "
        f"{settings.embed_threads} torch threads, embed batch {batch_size}, "
        f"{len(rec.batches)} write batches)\n"
    )
    print(
        table(
            ["measure", "value"],
            [
                ["articles indexed", n_art],
                ["chunks", n_chunks],
                ["model load (excluded)", f"{load_s:.1f} s"],
                ["pipeline wall time", f"{wall:.1f} s"],
                ["  of which embedding", f"{rec.seconds:.1f} s ({100 * rec.seconds / wall:.0f}%)"],
                ["  of which load/clean/chunk/store", f"{wall - rec.seconds:.1f} s"],
                ["pipeline articles/s", f"{n_art / wall:.2f}"],
                ["pipeline chunks/s", f"{pipe_cps:.1f}"],
                ["raw embed time (same texts, same batches)", f"{raw:.1f} s"],
                ["raw embed chunks/s", f"{raw_cps:.1f}"],
                [
                    "ratio pipeline ÷ raw (goal ≥ 0.9)",
                    f"{pipe_cps / raw_cps:.2f} {'✓' if pipe_cps / raw_cps >= 0.9 else '✗'}",
                ],
                ["CPU seconds: pipeline / raw", f"{pipe_cpu:.0f} s / {raw_cpu:.0f} s"],
                ["ratio by CPU time (raw CPU ÷ pipeline CPU)", f"{raw_cpu / pipe_cpu:.2f}"],
                [
                    "machine load avg (1 min) before / after",
                    f"{load_before:.1f} / {load_after:.1f}",
                ],
                ["peak RSS", f"{rss:,.0f} MiB"],
                [
                    "re-index unchanged (reopen + index_paths)",
                    f"{reindex:.1f} s ({again.unchanged:,} unchanged,"
                    f" {again.chunks} chunks embedded)",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
