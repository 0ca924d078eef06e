"""`rag.cli.main` in-process, configured through `RAG_*` variables like a user would.

The CLI always uses the real embedder (packaged MiniLM). Commands that embed nothing construct
it without loading weights and run fast; everything that needs an index built by the CLI shares
one module-scoped index and is marked slow (loading the model takes about 12 s).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_llm import ScriptedLLM, free_port
from helpers import gas_passage

from rag.cli import main

ARTICLES_DIR = Path(__file__).resolve().parent.parent / "data" / "articles"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """Both streams with whitespace collapsed (rich wraps long lines)."""
        return " ".join((self.out + " " + self.err).split())


def run(args: Sequence[str]) -> Result:
    """Run the CLI in-process and capture what it prints."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


def isolate(mp: pytest.MonkeyPatch, workdir: Path, index_dir: Path) -> None:
    """Only our RAG_* variables, no rag.toml (cwd is a fresh folder), a wide terminal."""
    for key in list(os.environ):
        if key.startswith("RAG_"):
            mp.delenv(key)
    mp.setenv("RAG_INDEX_DIR", str(index_dir))
    mp.setenv("RAG_LLM_BACKEND", "none")
    mp.setenv("RAG_EMBED_BACKEND", "onnx")  # the default
    mp.setenv("COLUMNS", "200")
    mp.chdir(workdir)


@pytest.fixture
def empty_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    index_dir = tmp_path / "idx"
    isolate(monkeypatch, tmp_path, index_dir)
    return index_dir


def test_index_of_a_missing_path_exits_2(empty_env: Path) -> None:
    result = run(["index", "missing/dir", "--index-dir", str(empty_env)])
    assert result.code == 2
    assert "No such file or folder: missing/dir" in result.text


def test_remove_of_an_unknown_id_exits_2(empty_env: Path) -> None:
    result = run(["remove", "nope"])
    assert result.code == 2
    assert "No article with id nope" in result.text


def test_articles_on_an_empty_index(empty_env: Path) -> None:
    result = run(["articles", "--json"])
    assert result.code == 0
    assert json.loads(result.out) == []


def test_doctor_on_an_empty_index_fails_with_a_hint(empty_env: Path) -> None:
    result = run(["doctor"])
    assert result.code == 1
    assert "rag index DIR" in result.text


# -- one real index, built once with the real embedder -----------------------------------------


@dataclass
class Built:
    index_dir: Path
    first: Result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    assert ARTICLES_DIR.is_dir(), f"the bundled corpus {ARTICLES_DIR} is missing"
    root = tmp_path_factory.mktemp("cli")
    index_dir = root / "idx"
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, root, root / "unused")  # --index-dir must win over RAG_INDEX_DIR
        first = run(["index", str(ARTICLES_DIR), "--index-dir", str(index_dir)])
        mp.setenv("RAG_INDEX_DIR", str(index_dir))
        yield Built(index_dir, first)


def articles_json() -> list[dict[str, object]]:
    result = run(["articles", "--json"])
    assert result.code == 0, result.text
    return json.loads(result.out)


@pytest.mark.slow
def test_index_prints_the_summary(built: Built) -> None:
    assert built.first.code == 0, built.first.text
    assert "added 5, updated 0, unchanged 0, skipped 0, duplicates 0, removed 0" in built.first.text
    assert "chunks embedded" in built.first.text
    assert not (built.index_dir.parent / "unused").exists()


@pytest.mark.slow
def test_articles_lists_the_bundled_corpus(built: Built) -> None:
    rows = articles_json()
    assert len(rows) == 5
    assert sorted(r["id"] for r in rows) == sorted(p.stem for p in ARTICLES_DIR.glob("*.txt"))
    for row in rows:
        assert row["title"] and row["source"] and row["date"], row
        assert isinstance(row["n_chunks"], int) and row["n_chunks"] > 0
        assert Path(str(row["origin"])).parent == ARTICLES_DIR
    table = run(["articles"])
    assert table.code == 0
    total = sum(int(r["n_chunks"]) for r in rows)  # type: ignore[call-overload]
    assert f"5 articles, {total} chunks" in table.text


@pytest.mark.slow
def test_doctor_is_happy(built: Built) -> None:
    result = run(["doctor", "--json"])
    assert result.code == 0, result.text
    checks = {c["name"]: c for c in json.loads(result.out)}
    assert all(c["ok"] for c in checks.values()), checks
    assert "agree" in checks["consistency"]["detail"]
    assert run(["doctor"]).code == 0


@pytest.mark.slow
def test_reindex_of_unchanged_articles_embeds_nothing(built: Built) -> None:
    result = run(["index", str(ARTICLES_DIR), "--json"])
    assert result.code == 0, result.text
    report = json.loads(result.out)
    assert report["unchanged"] == 5 and report["added"] == [] and report["chunks"] == 0


@pytest.mark.slow
def test_rebuild_with_a_missing_path_keeps_the_index(built: Built) -> None:
    result = run(["index", "--rebuild", "no/such/folder"])
    assert result.code == 2
    assert "No such file or folder" in result.text
    assert len(articles_json()) == 5


@pytest.mark.slow
def test_remove_then_rebuild(built: Built) -> None:
    """Leaves the shared index as it found it: five articles."""
    victim = str(articles_json()[0]["id"])
    result = run(["remove", victim])
    assert result.code == 0 and "removed 1 article(s)" in result.text
    rows = articles_json()
    assert len(rows) == 4 and victim not in {r["id"] for r in rows}
    assert "4 articles" in run(["articles"]).text
    assert run(["doctor"]).code == 0  # still consistent

    missing = run(["remove", "nope"])
    assert missing.code == 2 and "No article with id nope" in missing.text

    rebuilt = run(["index", "--rebuild", str(ARTICLES_DIR)])
    assert rebuilt.code == 0, rebuilt.text
    assert "added 5, updated 0, unchanged 0" in rebuilt.text
    assert len(articles_json()) == 5
    doctor = run(["doctor", "--json"])
    assert doctor.code == 0, doctor.text


@pytest.mark.slow
def test_ask_json_has_the_documented_shape(
    built: Built, llm_server: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", llm_server.base_url)
    monkeypatch.setenv("RAG_LLM_API_KEY", "sk-cli-secret")
    llm_server.responder = lambda r: json.dumps(
        {
            "answers": [{"answer": "36", "evidence": [gas_passage(r)]}],
            "sentence": "Agents of Zorro took 36.",
        }
    )
    result = run(["ask", "How many natural gas workers were kidnapped?", "--json"])
    assert result.code == 0, result.text
    body = json.loads(result.out)
    assert {"answer", "abstained", "mode", "query", "citations", "timings"} <= set(body)
    assert {"left_out", "disagreement", "sentences"} <= set(body)
    assert body["left_out"][0]["text"] == "Agents of Zorro took 36."  # Zorro: in no sentence
    assert body["mode"] == "generated" and not body["abstained"] and "36" in body["answer"]
    [citation] = body["citations"]
    keys = {"n", "article_id", "title", "source", "date", "url", "text", "start", "end"}
    assert keys | {"support"} <= set(citation)
    assert citation["article_id"].startswith("000_") and citation["support"]
    assert "sk-cli-secret" not in result.text


@pytest.mark.slow
def test_ask_uses_the_model_a_running_app_loaded_and_says_so(
    built: Built, llm_server: ScriptedLLM, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The embedded backend finds the app's card: no model is loaded (the file here is not a
    GGUF), the answer comes from the app's server, and stderr names the app's process."""
    from rag.embedded import Card, publish

    model = tmp_path / "model.gguf"
    model.write_bytes(b"not a gguf" * 100)
    monkeypatch.setenv("RAG_LLM_BACKEND", "embedded")
    monkeypatch.setenv("RAG_LLM_MODEL_PATH", str(model))
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    card = Card(os.getpid(), llm_server.base_url, "sk-app", str(model.resolve()), 4096)
    publish(tmp_path / "cache" / "servers", card)
    llm_server.responder = lambda r: json.dumps(
        {"answers": [{"answer": "36", "evidence": [gas_passage(r)]}], "sentence": ""}
    )
    result = run(["ask", "How many natural gas workers were kidnapped?"])
    assert result.code == 0, result.text
    assert f"already loaded by the app (process {os.getpid()})" in result.err
    assert "36 natural gas workers" in result.out


@pytest.mark.slow
def test_ask_streams_then_lists_sources_and_survives_a_dead_llm(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    result = run(["ask", "How many natural gas workers were kidnapped?"])
    assert result.code == 0, result.text
    assert "not reachable" in result.text and re.search(r"\[\d+\]", result.text)
    assert "36 natural gas workers" in result.text


@pytest.mark.slow
def test_eval_retrieval_only_writes_a_report(built: Built, tmp_path: Path) -> None:
    questions = Path(__file__).resolve().parent.parent / "data" / "eval" / "seed.jsonl"
    out = tmp_path / "runs"
    result = run(["eval", str(questions), "--retrieval-only", "--out", str(out), "--name", "r"])
    assert result.code == 0, result.text
    [run_dir] = list(out.iterdir())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["metrics"]["hit@5"] > 0.8
    assert (run_dir / "report.html").exists() and "hit@5" in result.text


@pytest.mark.slow
def test_retrieval_depth_does_not_follow_top_k(built: Built, tmp_path: Path) -> None:
    """With --top-k 2, hit@5 still looks five chunks deep: gold lower in the ranking counts."""
    articles = [a["id"] for a in articles_json()]
    asked = [
        "How many natural gas workers were kidnapped?",
        "How many military bases are there in the VRAEM?",
        "Who is the Shining Path leader alias Gabriel?",
    ]
    rows = [
        {"id": f"d{i}-{j}", "question": q, "answer": "x", "evidence": [{"article": a}]}
        for i, q in enumerate(asked)
        for j, a in enumerate(articles)
    ]
    questions = tmp_path / "deep.jsonl"
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "runs"
    args = ["eval", str(questions), "--retrieval-only", "--top-k", "2", "--out", str(out)]
    result = run(args)
    assert result.code == 0, result.text
    [run_dir] = list(out.iterdir())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["rank_depth"] == 10
    assert summary["metrics"]["hit@5"] > summary["metrics"]["hit@3"]


def test_a_date_that_is_no_date_is_refused(empty_env: Path) -> None:
    """`--since banana` was silently ignored: every article passed the filter."""
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as caught:
        main(["ask", "What happened?", "--since", "banana"])
    assert caught.value.code == 2 and "'banana' is not a date" in err.getvalue()


def test_a_bad_setting_is_one_line_not_a_traceback(
    empty_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_TOP_K", "abc")
    result = run(["articles"])
    assert result.code == 2 and "Traceback" not in result.text
    assert "Bad setting: top_k (RAG_TOP_K or rag.toml) is 'abc'" in result.text


def test_a_rebuild_is_refused_while_an_app_serves_the_index(empty_env: Path) -> None:
    """A rebuild under a running app broke its every ask until a restart."""
    import subprocess
    import sys

    empty_env.mkdir()
    code = (
        "import sys, time; from pathlib import Path; from rag.index_lock import serve_index\n"
        "serve_index(Path(sys.argv[1])); print('serving', flush=True); time.sleep(60)"
    )
    app = subprocess.Popen(
        [sys.executable, "-c", code, str(empty_env)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "serving"
        result = run(["index", str(ARTICLES_DIR), "--rebuild"])
        assert result.code == 2
        assert f"pid {app.pid}, the app" in result.text and "Stop the app" in result.text
    finally:
        app.kill()
        app.wait()


def test_ctrl_c_stops_after_the_current_batch_and_a_rerun_finishes(tmp_path: Path) -> None:
    """The first Ctrl-C lets the batch being embedded land, then exits 0 saying what to do."""
    import contextlib
    import signal
    import sqlite3
    import time

    from rag_procs import N_ARTICLES, cli_env, corpus, rag_index

    root = corpus(tmp_path / "corpus")
    with ScriptedLLM() as server:
        server.embed_delay = 2.0  # a Ctrl-C sent after the first batch lands inside the second
        env = cli_env(server)
        env.update(RAG_CHUNK_TOKENS="16", RAG_CHUNK_OVERLAP="4")  # five write batches or so
        run = rag_index(tmp_path / "idx", root, env, tmp_path)
        manifest = tmp_path / "idx" / "manifest.sqlite3"
        ready = 0
        while ready == 0 and run.poll() is None:
            time.sleep(0.2)
            if manifest.exists():
                with sqlite3.connect(manifest, timeout=30) as db:
                    query = "SELECT count(*) FROM articles WHERE state = 'ready'"
                    with contextlib.suppress(sqlite3.OperationalError):  # tables not made yet
                        ready = db.execute(query).fetchone()[0]
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert "stopped: what was embedded is indexed" in " ".join(out.split())
        added = int(re.search(r"added (\d+)", out).group(1))
        assert 0 < added < N_ARTICLES
        server.embed_delay = 0.0
        again = rag_index(tmp_path / "idx", root, env, tmp_path)
        out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        assert f"added {N_ARTICLES - added}," in out and f"unchanged {added}," in out


def test_words_streamed_before_a_deadline_are_marked_as_replaced(
    empty_env: Path, llm_server: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply trickles past RAG_LLM_DEADLINE: the half-streamed words stay printed, so a
    line says the quotes below replace them. Embeddings come from the scripted server."""
    monkeypatch.setenv("RAG_EMBED_BACKEND", "openai")
    monkeypatch.setenv("RAG_EMBED_BASE_URL", llm_server.base_url)
    assert run(["index", str(ARTICLES_DIR)]).code == 0
    monkeypatch.setenv("RAG_LLM_BACKEND", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", llm_server.base_url)
    monkeypatch.setenv("RAG_LLM_DEADLINE", "2")
    monkeypatch.setenv("RAG_ABSTAIN_THRESHOLD", "-1")  # hash vectors are barely similar
    words = " ".join(["Shining Path rebels kidnapped 36 natural gas workers"] * 6)
    llm_server.responder = lambda r: json.dumps(
        {"answers": [{"answer": words, "evidence": [gas_passage(r)]}], "sentence": words}
    )
    llm_server.mode, llm_server.delay = "trickle", 0.25
    result = run(["ask", "How many natural gas workers were kidnapped?"])
    assert result.code == 0, result.text
    draft, marked, final = result.out.partition("(the words above were not verified and are")
    assert marked and "Shining Path" in draft, result.out + result.err  # streamed, then marked
    assert "replaced by:)" in final and "Showing quotes" in result.text
    assert "36 natural gas workers" in final and re.search(r"\[\d+\]", final)


def test_a_cold_embedded_model_says_it_loads_once_per_process(tmp_path: Path) -> None:
    """The first answer of an embedded backend waits for the model: the status says it is a
    one-time wait (the stream is closed there, so nothing is loaded)."""
    from fakes import FakeEmbedder

    from rag.answering.answer import answer_stream
    from rag.answering.engine import Engine, Status
    from rag.embedded import EmbeddedLLM
    from rag.indexer import index_paths, stamp_for
    from rag.settings import Settings
    from rag.store import Store

    settings = Settings(index_dir=tmp_path / "idx", llm_backend="embedded", abstain_threshold=-1.0)
    embedder = FakeEmbedder()
    store = Store(settings, stamp_for(settings, embedder))
    index_paths([ARTICLES_DIR], store, embedder, settings)
    llm = EmbeddedLLM(settings)
    events = answer_stream("How many natural gas workers were kidnapped?",
                           Engine(settings, store, embedder, llm))  # fmt: skip
    statuses = []
    for event in events:
        if isinstance(event, Status):
            statuses.append(event.message)
            if event.message.startswith("Loading"):
                break
    events.close()
    assert statuses[-1] == "Loading the model (once per process)…"
    assert llm.status.state == "off"
