"""all-MiniLM-L6-v2 through ONNX Runtime, int8: the same model, made on this machine.

The packaged PyTorch weights are exported once (mean pooling and normalisation inside the
graph) and quantised to int8 into the model cache, named by the weights' sha256 and checked
by the file's own sha256 on every load; nothing is downloaded. Queries and indexing then run
without PyTorch: `tokenizers` and `onnxruntime` only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length, as sentence-transformers reads it
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _quiet() -> Iterator[None]:
    """Hide the tracer's warnings and the quantiser's advice (logged on the root logger)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def _export(model_path: Path, target: Path) -> None:
    """PyTorch weights -> ONNX (fp32, pooled and normalised) -> int8 weights at `target`."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    model = AutoModel.from_pretrained(str(model_path))
    model.eval()
    ids = torch.ones(2, 8, dtype=torch.long)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, _quiet():
        fp32 = Path(tmp) / "fp32.onnx"
        torch.onnx.export(
            Pooled(model),
            (ids, ids, torch.zeros_like(ids)),
            str(fp32),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes={
                **{k: {0: "batch", 1: "tokens"} for k in INPUTS},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        part = Path(tmp) / "int8.onnx"
        quantize_dynamic(  # MatMul weights per channel: cosine to PyTorch 0.993 (all ops: 0.947)
            str(fp32),
            str(part),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
        os.replace(part, target)


def _intact(target: Path, record: Path) -> bool:
    """Is the ONNX file there, with the sha256 recorded when it was made (no half write)?"""
    if not (target.exists() and record.exists()):
        return False
    return json.loads(record.read_text()).get("sha256") == _sha256(target)


def onnx_model(model_path: Path, cache_dir: Path) -> Path:
    """The int8 ONNX file for the weights in `model_path`, made once into `cache_dir`."""
    weights = model_path / "model.safetensors"
    if not weights.exists():
        raise ConfigError(f"No model.safetensors in {model_path}: the ONNX backend needs one.")
    key = _sha256(weights)[:16]
    target = cache_dir / f"minilm-{key}-int8.onnx"
    record = target.with_suffix(".json")
    if _intact(target, record):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    _export(model_path, target)
    record.write_text(json.dumps({"sha256": _sha256(target), "source": str(weights)}))
    return target


class OnnxEmbedder:
    """The `Embedder` protocol over an int8 ONNX MiniLM; loads (or makes) it on first use."""

    model_id = "all-MiniLM-L6-v2:onnx-int8"
    dim = 384

    def __init__(self, model_path: Path, cache_dir: Path, threads: int, batch_size: int = 32):
        self._path, self._cache = model_path, cache_dir
        self._threads, self._batch_size = threads, batch_size
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> tuple[onnxruntime.InferenceSession, Tokenizer]:
        with self._lock:
            if self._session is None or self._tokenizer is None:
                import onnxruntime
                from tokenizers import Tokenizer

                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = max(1, self._threads)
                options.inter_op_num_threads = 1
                # threads that spin between batches take the CPU Chroma's writes need (2 cores)
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                path = onnx_model(self._path, self._cache)
                self._session = onnxruntime.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
                tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        session, tokenizer = self._loaded()
        encoded = tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        return session.run(["embedding"], feed)[0].tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed in batches of similar length (less padding), returned in the input order."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self._batch_size):
            chunk = order[start : start + self._batch_size]
            for i, vector in zip(chunk, self._embed([texts[i] for i in chunk]), strict=True):
                vectors[i] = vector
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]
