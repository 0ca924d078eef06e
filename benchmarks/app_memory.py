"""The app's resident memory per embedding backend: after start, and after 16 questions.

    python benchmarks/app_memory.py [--backends local,onnx] [--llm none|embedded]

Each backend runs in a child process of its own: a fresh index of the bundled articles (the
app's first start indexes them), the Gradio app served on a free port as `python ui.py` does,
then the 16 first questions of data/eval/seed.jsonl answered by the app's engine. RSS is read
from /proc (VmRSS now, VmHWM peak).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, table


def rss() -> tuple[float, float]:
    """(current, peak) resident set size of this process, MiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def child(backend: str, llm: str) -> dict[str, object]:
    import ui
    from rag.api import ask, open_engine
    from rag.questions import load_questions
    from rag.settings import load_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings(
        index_dir=Path(tempfile.mkdtemp(prefix="rag-mem-")),
        embed_backend=backend,
        llm_backend=llm,
        articles_dir=ROOT / "data" / "articles",
    )
    engine = open_engine(settings)
    ui.serve(settings, port=port, block=False, engine=engine)
    started = rss()
    questions, _ = load_questions(ROOT / "data" / "eval" / "seed.jsonl")
    for q in questions[:16]:
        ask(q.question, engine)
    after = rss()
    return {
        "backend": backend,
        "model": engine.embedder.model_id,
        "start": started[0],
        "after": after[0],
        "peak": after[1],
        "torch": "torch" in sys.modules,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="local,onnx")
    parser.add_argument("--llm", default="none", choices=["none", "embedded"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.llm)))
        return
    runs = []
    for backend in args.backends.split(","):
        cmd = [sys.executable, __file__, "--child", backend, "--llm", args.llm]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = runs[0]["after"]
    rows = [
        [r["backend"], r["model"], f"{r['start']:.0f}", f"{r['after']:.0f}", f"{r['peak']:.0f}",
         f"{100 * (r['after'] - base) / base:+.0f}%", "yes" if r["torch"] else "no"]
        for r in runs
    ]  # fmt: skip
    print(f"App RSS, MiB (LLM: {args.llm}; 16 seed questions)\n")
    head = ["backend", "model", "after start", "after 16 questions", "peak", "vs first", "PyTorch"]
    print(table(head, rows))


if __name__ == "__main__":
    main()
