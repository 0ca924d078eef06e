"""Small helpers shared by the benchmark scripts (corpus slices, RSS, percentiles, tables)."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import random
import re
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = Path(os.environ.get("RAG_BENCH_CORPUS", ROOT.parent / "shared/corpora/news-10k.jsonl.gz"))
OUT = ROOT / "benchmarks" / "out"  # git-ignored
VECTOR_CACHE = OUT / "minilm-vectors.npz"


def corpus_slice(n: int, folder: Path | None = None) -> Path:
    """Write the first n rows of the shared corpus to <folder>/news-<n>.jsonl (a temp dir)."""
    folder = Path(folder or tempfile.mkdtemp(prefix="rag-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"news-{n}.jsonl"
    with gzip.open(CORPUS, "rb") as src, path.open("wb") as dst:
        for i, line in enumerate(src):
            if i >= n:
                break
            dst.write(line)
    return path


def bench_settings(index_dir: Path, **overrides: object):  # noqa: ANN201
    """Settings for a throwaway index (the LLM off unless asked for)."""
    from rag.settings import Settings, go_offline

    go_offline()
    return Settings(index_dir=Path(index_dir), **{"llm_backend": "none", **overrides})


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_mb(path: Path) -> float:
    """Bytes on disk under a directory, in MB (allocated blocks, like du)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            st = os.stat(os.path.join(folder, name))
            total += st.st_blocks * 512
    return total / 1e6


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100)."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def ms_stats(seconds: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    return percentile(seconds, 50) * 1000, percentile(seconds, 95) * 1000


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats get sensible precision."""

    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def article_queries(store, n: int, seed: int = 0, words: int = 10) -> list[str]:  # noqa: ANN001
    """First `words` words of the first sentence of n random stored articles (seeded)."""
    from rag.chunking import sentence_spans

    arts = store.articles()
    picked = random.Random(seed).sample(arts, min(n, len(arts)))
    queries = []
    for a in picked:
        text = store.article(a.id).text
        spans = sentence_spans(text)
        s, e = spans[0] if spans else (0, len(text))
        queries.append(" ".join(text[s:e].split()[:words]))
    return queries


class HashEmbedder:
    """Deterministic 384-dim hashing embedder (same dim as MiniLM): fast stand-in for sweeps.

    Like tests/fakes.py's FakeEmbedder: words hash to signed buckets, so texts sharing words
    are similar. It costs microseconds, not the ~50 ms per chunk of the real model.
    """

    model_id = "bench-hash-384"
    dim = 384
    _word = re.compile(r"\w+")

    def __init__(self) -> None:
        self._memo: dict[str, tuple[int, float]] = {}

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        memo = self._memo
        for word in self._word.findall(text.lower()):
            hit = memo.get(word)
            if hit is None:
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
                hit = memo[word] = (h % self.dim, 1.0 if (h >> 16) & 1 else -1.0)
            vec[hit[0]] += hit[1]
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def load_vector_cache(path: Path = VECTOR_CACHE) -> dict[str, list[float]]:
    """MiniLM vectors saved by earlier runs, keyed by sha1 of the chunk text."""
    import numpy as np

    if not path.exists():
        return {}
    data = np.load(path)
    return {str(k): v.tolist() for k, v in zip(data["keys"], data["vecs"], strict=True)}


def save_vector_cache(cache: dict[str, list[float]], path: Path = VECTOR_CACHE) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(cache)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, keys=np.array(keys), vecs=np.array([cache[k] for k in keys], dtype=np.float32))
    os.replace(tmp, path)


class CachingEmbedder:
    """Wraps the real embedder; chunk texts already embedded by an earlier run come from disk."""

    def __init__(self, inner, cache: dict[str, list[float]]) -> None:  # noqa: ANN001
        self.inner, self.cache = inner, cache
        self.model_id, self.dim = inner.model_id, inner.dim
        self.hits = self.misses = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [text_key(t) for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in self.cache]
        if todo:
            fresh = self.inner.embed_documents([texts[i] for i in todo])
            for i, vec in zip(todo, fresh, strict=True):
                self.cache[keys[i]] = vec
        self.misses += len(todo)
        self.hits += len(texts) - len(todo)
        return [self.cache[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def time_reindex(settings, embedder, source):  # noqa: ANN001, ANN201
    """Reopen the index and re-run index_paths on the same source: (report, seconds)."""
    from rag.indexer import index_paths, stamp_for
    from rag.store import Store

    t = time.perf_counter()
    store = Store(settings, stamp_for(settings, embedder))
    again = index_paths([source], store, embedder, settings)
    seconds = time.perf_counter() - t
    store.close()
    return again, seconds


def model_identity(settings) -> dict[str, object]:  # noqa: ANN001
    """What decides the embedded model's reply besides the request: the GGUF's sha256 and the
    server settings (a user's own file is hashed once per run)."""
    import xllamacpp

    from rag.embedded import EMBEDDED_SLOTS
    from rag.packaged_model import PACKAGED_MODEL_SHA256, _sha256_file

    path = settings.llm_model_path
    return {
        "model_sha256": _sha256_file(path) if path else PACKAGED_MODEL_SHA256,
        "context": settings.llm_context,
        "slots": EMBEDDED_SLOTS,
        "server": getattr(xllamacpp, "__version__", "?"),
    }


def recorded_llm_class():  # noqa: ANN201 - imported late: the rag stack is heavy
    """RecordedLLM: the embedded model with its replies kept in a shelf keyed by the model's
    identity, the server settings and the whole request, so a change acting after the model
    replied is scored on the very same replies and an unrecorded request goes to the model.
    `replayed` counts the replies that came from the shelf."""
    import shelve

    from rag.embedded import EmbeddedLLM

    class RecordedLLM(EmbeddedLLM):
        def __init__(self, settings, path: Path) -> None:  # noqa: ANN001
            super().__init__(settings)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.shelf = shelve.open(str(path))  # noqa: SIM115 - closed in close()
            self.identity = model_identity(settings)
            self.replayed = self.recorded = 0

        def stream(self, messages, *, max_tokens, temperature=0.0, extra_body=None, deadline=None):  # noqa: ANN001, ANN202, E501
            request = [self.identity, messages, max_tokens, temperature, extra_body]
            key = hashlib.sha1(json.dumps(request, sort_keys=True).encode()).hexdigest()
            if key in self.shelf:
                self.replayed += 1
                yield from self.shelf[key]
                return
            pieces = []
            for piece in super().stream(
                messages, max_tokens=max_tokens, temperature=temperature,
                extra_body=extra_body, deadline=deadline,
            ):  # fmt: skip
                pieces.append(piece)
                yield piece
            self.shelf[key] = pieces
            self.shelf.sync()
            self.recorded += 1

        def close(self) -> None:
            super().close()
            self.shelf.close()

    return RecordedLLM


def recorded(engine, path: Path):  # noqa: ANN001, ANN201
    """The engine with its embedded model's replies recorded in `path` (another LLM is left as
    it is); the engine's own model object, never started, is dropped."""
    import dataclasses

    from rag.embedded import EmbeddedLLM

    if not isinstance(engine.llm, EmbeddedLLM):
        return engine
    return dataclasses.replace(engine, llm=recorded_llm_class()(engine.settings, path))


def fit_logistic(x, y, features, l2: float = 1.0):  # noqa: ANN001, ANN201 - numpy arrays
    """An L2-regularised logistic regression (rag.logistic.Logistic) fitted by Newton's method
    on standardised features; the intercept is not penalised."""
    import numpy as np

    from rag.logistic import Logistic

    mean, scale = x.mean(0), x.std(0)
    scale[scale == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = np.zeros(z.shape[1])
    ridge = np.eye(z.shape[1]) * l2
    ridge[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) + ridge @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + ridge
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return Logistic(tuple(features), tuple(mean), tuple(scale), tuple(w[1:]), float(w[0]))
