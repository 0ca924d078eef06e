"""Hostile files and damaged indexes through the real `rag` command: what each one does.

One folder holds the five bundled articles and the files of issue 26: names in Latin-1 bytes,
in Cyrillic and Japanese, a YAML alias bomb, a compressed JSONL of ten million repeated lines,
200,000 nested <div>s. `rag index` runs on it once in a child process (peak RSS measured);
then the index is damaged twice (a garbage manifest page; chroma/ deleted) and `rag ask`,
`rag doctor`, `rag repair` run on it. Prints one table; articles lost must be 0.

    python benchmarks/hostile.py
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAG = [sys.executable, "-m", "rag.cli"]
ENV = {**os.environ, "RAG_LLM_BACKEND": "none", "COLUMNS": "200"}


def hostile_folder(root: Path) -> list[str]:
    """Write the folder; returns the titles that must end up indexed."""
    root.mkdir(parents=True)
    for src in sorted((ROOT / "data" / "articles").glob("*.txt")):
        shutil.copy(src, root / src.name)
    body = "The cafe opened in 2020 in Lima and serves coffee grown in the VRAEM valley.\n"
    (root / os.fsdecode(b"caf\xe9.txt")).write_text("Title: Cafe in Lima\n\n" + body)
    (root / os.fsdecode(b"na\xefve.txt")).write_text("A naive reader wrote: " + body)
    (root / "новости.txt").write_text("Title: Новости\n\nКафе открылось в Лиме в 2020 году.\n")
    (root / "記事.md").write_text("# 記事\n\nリマでカフェが2020年に開店した。\n")
    bomb = "---\na: &a [" + ",".join(['"lol"'] * 9) + "]\n"
    bomb += "".join(
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    (root / "bomb.md").write_text(bomb + "title: [*i]\n---\nA short body about the bomb.\n")
    row = json.dumps({"title": "Same", "text": "The same line about Lima, again and again."})
    with gzip.open(root / "lines.jsonl.gz", "wb", compresslevel=9) as fh:
        block = ((row + "\n") * 100_000).encode()
        for _ in range(100):
            fh.write(block)
    deep = 200_000
    (root / "deep.html").write_text(
        "<html><head><title>Deep page</title></head><body><p>Outer text about Lima.</p>"
        + "<div>" * deep
        + "<p>Innermost text: the bridge is 145 metres long.</p>"
        + "</div>" * deep
        + "</body></html>"
    )
    return ["Cafe in Lima", "Новости", "記事", "Deep page"]


def run(
    args: list[str], index_dir: Path, stdout_only: bool = False
) -> tuple[int, str, float, float]:
    """(exit code, output, seconds, peak RSS of the children so far in MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [*RAG, *args, "--index-dir", str(index_dir)], capture_output=True, text=True, env=ENV
    )
    seconds = time.perf_counter() - started
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return done.returncode, done.stdout + ("" if stdout_only else done.stderr), seconds, peak


def garble(index_dir: Path) -> None:
    path = index_dir / "manifest.sqlite3"
    pages = path.stat().st_size // 4096
    with open(path, "r+b") as fh:
        fh.seek(pages // 2 * 4096)
        fh.write(os.urandom(4096))


def first_line(text: str, *starts: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    hits = [line for line in lines if line.startswith(starts)]
    return (hits[0] if hits else lines[-1] if lines else "")[:150]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="rag-hostile-"))
    folder, index_dir = work / "articles", work / "index"
    must = hostile_folder(folder)
    code, out, seconds, peak = run(["index", str(folder)], index_dir)
    listed = json.loads(run(["articles", "--json"], index_dir, stdout_only=True)[1])
    titles, ids = {a["title"] for a in listed}, {a["id"] for a in listed}
    bundled = [p.stem for p in (ROOT / "data" / "articles").glob("*.txt")]
    lost = len([t for t in must if t not in titles]) + len([i for i in bundled if i not in ids])
    rows = [
        (
            "rag index on the hostile folder",
            f"exit {code}; {first_line(out, 'added')}",
            f"{seconds:.0f} s, peak RSS {peak:.0f} MB, {len(out.splitlines())} output lines",
        ),
        (
            "articles indexed",
            f"{len(listed)} ({', '.join(sorted(titles & set(must)))})",
            f"articles lost: {lost}",
        ),
    ]
    damaged = work / "damaged"
    shutil.copytree(index_dir, damaged)
    garble(damaged)
    for cmd in (["ask", "Where did the cafe open?"], ["doctor"], ["index", str(folder)]):
        code, out, seconds, _ = run(cmd, damaged)
        rows.append(
            (
                f"garbage manifest page: rag {cmd[0]}",
                f"exit {code}",
                first_line(out, "error", "FAIL"),
            )
        )
    shutil.rmtree(index_dir / "chroma")
    code, out, _, _ = run(["ask", "Where did the cafe open?"], index_dir)
    rows.append(("chroma/ deleted: rag ask", f"exit {code}", first_line(out, "The index's")))
    code, out, seconds, _ = run(["repair"], index_dir)
    rows.append(("then rag repair", f"exit {code} in {seconds:.0f} s", first_line(out, "")))
    code, out, _, _ = run(["doctor"], index_dir)
    rows.append(("then rag doctor", f"exit {code}", first_line(out, "ok consistency", "FAIL")))
    print("| case | result | detail |\n| --- | --- | --- |")
    for case, result, detail in rows:
        print(f"| {case} | {result} | {detail} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
