"""File discovery and names: bytes that are not UTF-8, folders that cannot be read."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from rag.files import Skipped, find_files, fs_path, readable_path

LATIN1_NAME = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 byte, as old archives name files


def test_a_name_that_is_not_utf8_is_stored_readably_and_found_again(tmp_path: Path) -> None:
    path = tmp_path / LATIN1_NAME
    path.write_text("Title: Cafe\n\nA cafe opened in Lima in 2020.\n")
    origin = readable_path(path)
    origin.encode("utf-8")  # valid UTF-8: SQLite and the tokenizer take it
    assert origin.endswith("caf\\xe9.txt")
    assert os.path.exists(fs_path(origin)) and fs_path(origin + "#2") == str(path)


def test_a_name_that_really_holds_backslash_x_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes\\xe9.txt"
    path.write_text("text")
    assert fs_path(readable_path(path)) == str(path)


def test_an_unreadable_folder_is_reported_not_passed_over() -> None:
    """As root (CI) the listing runs as an unprivileged user, for whom the folder is shut."""
    root = Path(tempfile.mkdtemp())
    shut = root / "shut"
    try:
        root.chmod(0o755)
        (root / "open").mkdir()
        (root / "open" / "a.txt").write_text("text")
        shut.mkdir()
        (shut / "b.txt").write_text("text")
        shut.chmod(0o000)
        bad: list[Skipped] = []
        as_root = os.geteuid() == 0
        if as_root:
            os.seteuid(65534)
        try:
            found = find_files([root], bad)
        finally:
            if as_root:
                os.seteuid(0)
        assert [p.name for p in found] == ["a.txt"]
        assert bad == [Skipped(str(shut), "folder unreadable: permission denied")]
    finally:
        shut.chmod(0o755)
        shutil.rmtree(root)


def test_find_files_keeps_working_without_a_list_for_unreadable_folders(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    assert find_files([tmp_path]) == [tmp_path / "a.txt"]


@pytest.mark.parametrize("name", ["новости.txt", "ニュース.md"])
def test_names_in_other_scripts_pass_unchanged(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("x")
    assert readable_path(path) == str(path)
