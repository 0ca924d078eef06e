"""MiniLM in ONNX Runtime (int8), made from the packaged weights: close to PyTorch, cached by
hash, remade when damaged, and run without loading PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.embeddings import LocalEmbedder, packaged_minilm_path
from rag.onnx_embed import OnnxEmbedder, onnx_model

pytestmark = pytest.mark.slow  # exports the real model (about 10 s)

TEXTS = [
    "Peru's army prepared an offensive against the Shining Path in the coca valley.",
    "Thirty-six natural gas workers were kidnapped in La Convención in April 2012.",
    "The anchovy fleet of Chimbote reported a record catch this season.",
    "How many workers were kidnapped?",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    onnx_model(packaged_minilm_path(), folder)
    return folder


def test_vectors_stay_close_to_pytorchs(cache: Path) -> None:
    onnx = OnnxEmbedder(packaged_minilm_path(), cache, threads=1, batch_size=2)
    torch = LocalEmbedder(packaged_minilm_path(), threads=1)
    for a, b in zip(onnx.embed_documents(TEXTS), torch.embed_documents(TEXTS), strict=True):
        assert len(a) == onnx.dim == 384
        assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.97
    query = onnx.embed_query(TEXTS[3])
    docs = onnx.embed_documents(TEXTS[:3])
    scores = [sum(x * y for x, y in zip(query, d, strict=True)) for d in docs]
    assert scores.index(max(scores)) == 1  # the kidnapping sentence answers it


def test_the_file_is_made_once_and_remade_when_damaged(cache: Path) -> None:
    path = onnx_model(packaged_minilm_path(), cache)
    made = path.stat().st_mtime_ns
    assert onnx_model(packaged_minilm_path(), cache) == path and path.stat().st_mtime_ns == made
    recorded = json.loads(path.with_suffix(".json").read_text())["sha256"]
    with open(path, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\0" * 64)
    again = onnx_model(packaged_minilm_path(), cache)
    assert json.loads(again.with_suffix(".json").read_text())["sha256"] == recorded


def test_queries_run_without_loading_pytorch(cache: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from rag.embeddings import packaged_minilm_path\n"
        "from rag.onnx_embed import OnnxEmbedder\n"
        f"e = OnnxEmbedder(packaged_minilm_path(), Path({str(cache)!r}), 1)\n"
        "assert len(e.embed_query('coca valley')) == 384\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
