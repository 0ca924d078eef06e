"""What a non-editable install ships: every module and the fitted weights beside them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_the_fitted_weights(tmp_path: Path) -> None:
    """decision.json was once left out of the wheel: the decision then silently did nothing."""
    source = tmp_path / "source"  # a copy: the build leaves its build/ folder beside the sources
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "rag", source / "rag", ignore=skip)
    for name in ("pyproject.toml", "README.md", "ui.py"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = tmp_path.glob("rag-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "rag").rglob("*")
        if p.suffix in (".py", ".json") and "__pycache__" not in p.parts
    }
    assert wanted - shipped == set()
    assert {"rag/answering/decision.json", "rag/answering/ranker.json"} <= shipped
