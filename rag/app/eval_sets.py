"""Question sets of the Evaluate tab: the bundled ones and uploads, named by keys, never paths.

`bundled:<file>` is a file in `settings.eval_dir` (data/eval), `uploaded:<file>` one saved from
an upload; every key is checked to be a plain file name inside its directory.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

from rag.answering.engine import Engine
from rag.app import eval_html
from rag.app.render import notice_html
from rag.errors import EvalFormatError
from rag.questions import load_questions

EVAL_SUFFIXES = (".jsonl", ".csv")
DEFAULT_SET = "bundled:seed.jsonl"
UPLOADED = "eval_sets"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def uploads_dir(engine: Engine) -> Path:
    """Where uploaded question sets are kept."""
    return engine.settings.state_dir / UPLOADED


def _plain_files(folder: Path) -> list[Path]:
    """The question files directly in a folder, by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in EVAL_SUFFIXES)


def default_set(engine: Engine) -> str | None:
    """The set the menu starts on: seed.jsonl (the README's numbers), else the first one."""
    keys = [key for _, key in question_sets(engine)]
    return DEFAULT_SET if DEFAULT_SET in keys else (keys[0] if keys else None)


def question_sets(engine: Engine) -> list[tuple[str, str]]:
    """(label, key) of the bundled sets, then the uploaded ones."""
    choices = [
        (f"{p.name} (bundled)", f"bundled:{p.name}") for p in _plain_files(engine.settings.eval_dir)
    ]
    choices += [
        (f"{p.name} (uploaded)", f"uploaded:{p.name}") for p in _plain_files(uploads_dir(engine))
    ]
    return choices


def resolve_set(engine: Engine, key: str | None) -> Path | None:
    """The file of a question-set key, or None when the key is not one of `question_sets`."""
    kind, _, name = (key or "").partition(":")
    folder = {"bundled": engine.settings.eval_dir, "uploaded": uploads_dir(engine)}.get(kind)
    if folder is None or not name or name != Path(name).name or name.startswith("."):
        return None
    path = folder / name
    return path if path.suffix.lower() in EVAL_SUFFIXES and path.is_file() else None


def describe_set(engine: Engine, key: str | None) -> str:
    """A question set's size by type and its malformed lines, as HTML."""
    path = resolve_set(engine, key)
    if path is None:
        return '<div class="rag-empty">Pick a question set or upload one (.jsonl or .csv).</div>'
    try:
        questions, errors = load_questions(path)
    except EvalFormatError as err:
        return notice_html(str(err))
    return eval_html.eval_set_html(path.name, dict(Counter(q.type for q in questions)), errors)


def safe_set_name(name: str) -> str:
    """A plain file name for an uploaded set: letters, digits and `._-`, bounded length."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = _SAFE_NAME.sub("_", stem).strip("._-")[:60] or "questions"
    return f"{stem}{suffix}"


def save_upload(engine: Engine, file: str | None) -> tuple[str | None, str]:
    """Keep an uploaded .jsonl/.csv question set; (its key or None when refused, message HTML).

    Refused: other types, files over the upload limit, text that is not UTF-8 or has no valid
    row. Malformed rows are listed and the rest of the set is kept.
    """
    if not file:
        return None, describe_set(engine, None)
    src = Path(file)
    name = safe_set_name(src.name)
    max_mb = engine.settings.max_upload_mb
    if not name.lower().endswith(EVAL_SUFFIXES):
        return None, notice_html(f"{name}: question sets must be .jsonl or .csv.")
    try:
        size = src.stat().st_size
    except OSError:
        return None, notice_html(f"{name}: the upload could not be read.")
    if size > max_mb * 1024 * 1024:
        return None, notice_html(f"{name}: larger than the {max_mb:g} MB upload limit.")
    try:
        questions, errors = load_questions(src)
    except EvalFormatError as err:
        return None, notice_html(f"{name}: {err}".replace(str(src), name))
    if not questions:
        reasons = eval_html.eval_set_html(name, {}, errors)
        return None, notice_html(f"{name}: no valid question; nothing saved.") + reasons
    dest = uploads_dir(engine)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest / name)
    key = f"uploaded:{name}"
    return key, describe_set(engine, key)
