"""Which files a run reads, and how their names are spelled in the index.

A file name need not be valid UTF-8 (old archives carry Latin-1 bytes): its origin is stored
with each such byte written `\\xNN`, readable and valid for SQLite, and `fs_path` finds the
file again from it. A folder that cannot be listed becomes a `Skipped` with its reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Files in a folder that describe the folder rather than being articles.
IGNORED_NAMES: frozenset[str] = frozenset({"readme", "readme.md", "readme.txt", "readme.markdown"})
_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


@dataclass(frozen=True)
class Skipped:
    """A file, folder or JSONL line that was not loaded, with the reason shown to the user."""

    origin: str
    reason: str


def readable_path(path: str | Path) -> str:
    """The absolute path as valid UTF-8; a byte that is not UTF-8 is written `\\xNN`.

    >>> readable_path("/a/caf\\udce9.txt")
    '/a/caf\\\\xe9.txt'
    """
    raw = os.path.abspath(path).encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "backslashreplace")


def fs_path(origin: str) -> str:
    """The file an origin (`readable_path`, maybe with `#line`) names on this file system.

    >>> fs_path("/a/caf\\\\xe9.txt#3") == "/a/caf\\udce9.txt"
    True
    """
    file = origin.split("#", 1)[0]
    if "\\x" not in file or os.path.exists(file):
        return file
    return _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m[1], 16)), file)


def suffix_of(path: Path) -> str:
    """Return the lowercased suffix, treating ".jsonl.gz" as one suffix."""
    name = path.name.lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else path.suffix.lower()


def os_reason(error: OSError) -> str:
    """A short reason for a file or folder the OS would not let us read."""
    if isinstance(error, PermissionError):
        return "unreadable: permission denied"
    if isinstance(error, FileNotFoundError):
        return "unreadable: file not found"
    if isinstance(error, IsADirectoryError):
        return "unreadable: is a directory"
    return f"unreadable: {(error.strerror or str(error)).lower()}"


def find_files(paths: Iterable[Path], unreadable: list[Skipped] | None = None) -> list[Path]:
    """Expand folders recursively in a stable order, skipping hidden entries and READMEs.

    A folder that cannot be listed is added to `unreadable` with its reason, not passed over.
    """
    found: list[Path] = []

    def report(error: OSError) -> None:
        if unreadable is not None:
            where = readable_path(error.filename or "?")
            unreadable.append(Skipped(where, f"folder {os_reason(error)}"))

    for root in map(Path, paths):
        if not root.is_dir():
            found.append(root)  # missing or odd paths get reported by load_file
            continue
        below: list[Path] = []
        for folder, dirs, files in os.walk(root, onerror=report):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            below += [
                Path(folder, f)
                for f in files
                if not f.startswith(".") and f.lower() not in IGNORED_NAMES
            ]
        found += sorted(below, key=lambda p: p.relative_to(root).parts)
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.abspath(path), path)
    return list(unique.values())
