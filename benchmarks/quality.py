"""Answer and retrieval quality against two baselines, on one index, in one run.

    python benchmarks/quality.py --set rtqa [--part dev|test|all] [--limit N] [--retrieval-only]
    python benchmarks/quality.py --set news | short | open

Sets: `rtqa` is ../shared/rtqa-dev (quiz questions written by news editors; its corpus indexed
on its own), split by quiz week with `rag.questions.split_part`: tune on dev, run test once at
the end of a round. `news` is data/eval/news-dev.jsonl over its articles plus 2,000 news-10k
distractors; `short` and `open` are data/eval/{short,open}.jsonl over their articles, 300
distractors and the bundled articles (split by article the same way).

Systems, on the same index content (asserted), the same questions, temperature 0, one refusal
classifier (`rag.metrics.is_refusal`): (a) plain BM25 over whole articles (retrieval only);
(b) the stock llama-index starter: VectorStoreIndex over Chroma, default chunking, top-2,
same MiniLM embeddings and embedded LLM, `as_chat_engine(chat_mode="condense_question")` for
follow-ups; (c) ours. `--limit N` takes one evenly spaced subset for every system. Paired 95%
bootstrap intervals for ours against each baseline (and against `--compare` an earlier run).
Replies of the embedded model are recorded (`--replies`) so a re-run replays them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from common import CORPUS, OUT, ROOT, bench_settings, percentile, recorded, table

from rag.metrics import score_answer, score_text
from rag.questions import Question, load_questions, split_key, split_part
from rag.retrieval_metrics import hit_at, mrr
from rag.stats import paired
from rag.text import strip_stopwords

WORK = OUT / "quality"
RTQA = ROOT.parent / "shared" / "rtqa-dev"
BUNDLED = ROOT / "data" / "articles"


@dataclass
class EvalSet:
    """A question file, what to index for it and where."""

    name: str
    questions: Path
    split: bool
    distractors: int  # news-10k articles added beside the ones the questions name


SETS = {
    "rtqa": EvalSet("rtqa", RTQA / "questions.jsonl", True, 0),
    "news": EvalSet("news", ROOT / "data/eval/news-dev.jsonl", False, 2000),
    "short": EvalSet("short", ROOT / "data/eval/short.jsonl", True, 300),
    "open": EvalSet("open", ROOT / "data/eval/open.jsonl", True, 300),
}


def named_articles(paths: Sequence[Path]) -> set[str]:
    """Every article a question file names as evidence or as its near-miss topic."""
    ids: set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                ids |= {e["article"] for e in row.get("evidence", []) if isinstance(e, dict)}
                ids |= set(row.get("near", []))
    return ids


def corpus_subset(ids: set[str], distractors: int, name: str, seed: int = 0) -> Path:
    """benchmarks/out/quality/<name>-articles.jsonl: the named news-10k articles plus seeded
    distractors (written once)."""
    path = WORK / f"{name}-articles-{len(ids)}-{distractors}.jsonl"
    if path.exists():
        return path
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    others = [r for r in rows if r["doc_id"] not in ids]
    chosen = [r for r in rows if r["doc_id"] in ids]
    chosen += random.Random(seed).sample(others, distractors)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in chosen:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def sources(spec: EvalSet) -> tuple[list[Path], str]:
    """What to index for a set, and the index's name (short and open share one)."""
    if spec.name == "rtqa":
        return [RTQA / "corpus"], "rtqa"
    if spec.name == "news":
        return [corpus_subset(named_articles([spec.questions]), 2000, "news")], "ours"
    both = [SETS["short"].questions, SETS["open"].questions]
    subset = corpus_subset(named_articles([p for p in both if p.exists()]), 300, "mini")
    return [subset, BUNDLED], "mini"


def load_articles(paths: Sequence[Path]) -> list:
    """Every article in the paths, read as the indexer reads them."""
    from rag.articles import Article, load_file
    from rag.files import find_files

    return [a for f in find_files(paths) for a in load_file(f, 10**9) if isinstance(a, Article)]


def bm25_ranker(articles: list) -> Callable[[str], list[str]]:  # noqa: ANN001
    """Plain BM25 over whole articles (title + text) in an in-memory FTS5 table."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE a USING fts5(id UNINDEXED, body, tokenize='porter unicode61')")
    db.executemany(
        "INSERT INTO a VALUES (?, ?)", [(x.id, f"{x.title}\n{x.text}") for x in articles]
    )

    def rank(question: str) -> list[str]:
        words = strip_stopwords(question).split()
        if not words:
            return []
        query = " OR ".join(f'"{w}"' for w in words)
        sql = "SELECT id FROM a WHERE a MATCH ? ORDER BY bm25(a) LIMIT 10"
        return [row[0] for row in db.execute(sql, (query,))]

    return rank


def starter_index(articles: list, embed_path: Path, name: str):  # noqa: ANN001, ANN201
    """The llama-index starter: VectorStoreIndex over a persistent Chroma, default settings."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core import Settings as LlamaSettings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    LlamaSettings.embed_model = HuggingFaceEmbedding(model_name=str(embed_path), device="cpu")
    client = chromadb.PersistentClient(
        str(WORK / f"starter-{name}"), chromadb.Settings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection("starter", embedding_function=None)
    store = ChromaVectorStore(chroma_collection=collection)
    if collection.count():
        return VectorStoreIndex.from_vector_store(store), collection
    docs = [
        Document(text=a.text, id_=a.id, metadata={"title": a.title, "source": a.source})
        for a in articles
    ]
    context = StorageContext.from_defaults(vector_store=store)
    index = VectorStoreIndex.from_documents(docs, storage_context=context, show_progress=True)
    return index, collection


def starter_ids(collection) -> set[str]:  # noqa: ANN001
    """Article ids the starter's Chroma collection holds (its nodes' ref_doc_id)."""
    got = collection.get(include=["metadatas"])
    return {m.get("ref_doc_id") or m.get("doc_id") for m in got["metadatas"]}


def pick(questions: list[Question], limit: int | None) -> list[Question]:
    """All questions, or `limit` of them evenly spaced (the same subset for every system)."""
    if not limit or limit >= len(questions):
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def ours(engine, q: Question) -> dict:  # noqa: ANN001
    """Our answer to one question, scored."""
    from rag.answering.answer import answer_stream
    from rag.answering.engine import Done, Token

    started, first, answer = time.perf_counter(), None, None
    before = getattr(engine.llm, "replayed", 0)
    for event in answer_stream(
        q.question, engine, history=q.history, question_date=q.question_date
    ):
        if isinstance(event, Token) and first is None:
            first = time.perf_counter() - started
        elif isinstance(event, Done):
            answer = event.answer
    assert answer is not None
    return {
        "id": q.id,
        "metrics": score_answer(q, answer),
        "first": first,
        "total": time.perf_counter() - started,
        "prompt_tokens": answer.usage.get("prompt_tokens"),
        "text": answer.text,
        "ranked": list(dict.fromkeys(p.article_id for p in answer.retrieved)),
        "replayed": getattr(engine.llm, "replayed", 0) > before,
        "signals": answer.signals,
        "confidence": answer.confidence,
    }


def starter_engines(index, engine):  # noqa: ANN001, ANN201
    """The starter's query engine and condense-question chat engine on the same LLM, at
    temperature 0 like ours."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.llms.openai_like import OpenAILike

    base_url, key = engine.llm.endpoint()
    LlamaSettings.llm = OpenAILike(
        model="local", api_base=base_url, api_key=key, is_chat_model=True, temperature=0.0,
        max_tokens=engine.settings.llm_max_tokens, timeout=600, context_window=4096,
    )  # fmt: skip
    return index.as_query_engine(similarity_top_k=2, streaming=True), index


def starter(engines, q: Question) -> dict:  # noqa: ANN001
    """The starter's answer: its query engine, or for a follow-up its condense-question chat
    engine given the same history ours gets."""
    from llama_index.core.llms import ChatMessage

    query_engine, index = engines
    started, first, pieces = time.perf_counter(), None, []
    if q.history:
        chat = index.as_chat_engine(chat_mode="condense_question", similarity_top_k=2)
        history = [ChatMessage(role=t["role"], content=t["content"]) for t in q.history]
        response = chat.stream_chat(q.question, chat_history=history)
        stream = response.response_gen
    else:
        stream = query_engine.query(q.question).response_gen
    for piece in stream:
        if first is None:
            first = time.perf_counter() - started
        pieces.append(piece)
    text = "".join(pieces)
    total = time.perf_counter() - started
    return {"id": q.id, "metrics": score_text(q, text), "first": first, "total": total,
            "prompt_tokens": None, "text": text}  # fmt: skip


def mean(values: Sequence[float | bool | None]) -> str:
    got = [float(v) for v in values if v is not None]
    return f"{sum(got) / len(got):.3f}" if got else "–"


ANSWER_COLS = (
    ("accuracy", "accuracy"),
    ("strict_accuracy", "strict"),
    ("f1", "F1"),
    ("wrong_shown", "wrong shown"),
    ("correct_refusal_rate", "correct refusals"),
    ("false_refusal_rate", "false refusals"),
    ("conflict_surfaced", "conflicts"),
    ("false_disagreement", "false disagreement"),
)
OPEN_COLS = (
    ("useful", "useful"),
    ("nugget_recall", "nugget recall"),
    ("bare_refusal", "bare refusals"),
    ("point_support", "point support"),
)


def answer_row(name: str, rows: list[dict], cols: Sequence[tuple[str, str]]) -> list:
    """One system's answer metrics, counts and latencies (of the answers the model gave in this
    run: a replayed reply takes no time)."""
    live = [r for r in rows if not r.get("replayed")]
    ttft = [r["first"] for r in live if r.get("first") is not None]
    total = [r["total"] for r in live]
    count = lambda key: sum(bool(r["metrics"].get(key)) for r in rows)  # noqa: E731
    return [
        name,
        len(rows),
        *(mean([r["metrics"].get(key) for r in rows]) for key, _ in cols),
        count("extractive"),
        count("second_look"),
        f"{percentile(ttft, 50):.1f}" if ttft else "–",
        f"{percentile(total, 50):.1f}" if total else "–",
    ]


def retrieval_row(name: str, rankings: dict[str, list[str]], qs: list[Question]) -> list:
    """hit@1, hit@5, MRR@10 over the answerable questions that name gold articles."""
    scored = [q for q in qs if q.gold_articles and not q.unanswerable]
    n = len(scored) or 1
    cells = [
        sum(hit_at(1, rankings[q.id], q.gold_articles) for q in scored) / n,
        sum(hit_at(5, rankings[q.id], q.gold_articles) for q in scored) / n,
        sum(mrr(rankings[q.id], q.gold_articles, 10) for q in scored) / n,
    ]
    return [name, len(scored), *(f"{c:.3f}" for c in cells)]


def paired_rows(
    base: str, a: dict[str, dict], b: dict[str, dict], keys: Sequence[str], label: str
) -> list[list]:
    """'ours − base' per metric over the questions both answered, with the 95% interval."""
    rows = []
    for key in keys:
        ids = [i for i in a if i in b and a[i].get(key) is not None and b[i].get(key) is not None]
        if ids:
            diff = paired([float(a[i][key]) for i in ids], [float(b[i][key]) for i in ids])
            rows.append([f"{label} − {base}", key, len(ids), str(diff)])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=sorted(SETS), default="rtqa")
    parser.add_argument("--part", choices=["dev", "test", "all"], default="dev")
    parser.add_argument("--limit", type=int, help="N questions, evenly spaced, for every system")
    parser.add_argument("--systems", default="bm25,starter,ours")
    parser.add_argument("--retrieval-only", action="store_true")
    parser.add_argument("--compare", type=Path, help="an earlier run's JSON: ours then vs now")
    parser.add_argument("--replies", type=Path, default=OUT / "replies-quality")
    parser.add_argument("--name", default="", help="name of this run's JSON in out/quality/")
    args = parser.parse_args()
    spec = SETS[args.set]
    systems = set(args.systems.split(","))

    from rag.answering.followup import condense
    from rag.answering.search import find_passages
    from rag.api import open_engine
    from rag.embeddings import packaged_minilm_path
    from rag.indexer import index_paths, open_index

    questions, errors = load_questions(spec.questions)
    if errors:
        print("\n".join(errors), file=sys.stderr)
    if spec.split and args.part != "all":
        questions = [q for q in questions if split_part(split_key(q)) == args.part]
    todo = pick(questions, args.limit)
    paths, index_name = sources(spec)
    articles = load_articles(paths)
    settings = bench_settings(WORK / f"index-{index_name}", llm_backend="embedded")

    t0 = time.perf_counter()
    store, embedder = open_index(settings)
    report = index_paths(paths, store, embedder, settings)
    held = {a.id for a in store.articles()}
    store.close()
    print(f"ours: {len(report.added)} added, {report.unchanged} unchanged "
          f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)  # fmt: skip
    assert held <= {a.id for a in articles}, "ours holds articles the files do not have"
    articles = [a for a in articles if a.id in held]  # the indexer drops repeated texts
    wanted = {a.id for a in articles}
    index, collection = None, None
    if "starter" in systems:
        index, collection = starter_index(articles, packaged_minilm_path(), index_name)
        assert starter_ids(collection) == wanted, "the starter holds other articles"
    bm25 = bm25_ranker(articles)

    engine = recorded(open_engine(settings), args.replies)
    rankings: dict[str, dict[str, list[str]]] = {"bm25": {}, "starter": {}, "ours": {}}
    answers: dict[str, dict[str, dict]] = {"starter": {}, "ours": {}}
    retriever = index.as_retriever(similarity_top_k=30) if index is not None else None
    for i, q in enumerate(todo, 1):
        searched = condense(q.question, q.history)  # a follow-up: with the last question
        rankings["bm25"][q.id] = bm25(searched)
        if retriever is not None:
            nodes = retriever.retrieve(searched)
            rankings["starter"][q.id] = list(dict.fromkeys(n.node.ref_doc_id for n in nodes))[:10]
        if args.retrieval_only or "ours" not in systems:
            found = find_passages(searched, engine, today=q.question_date or "")
            rankings["ours"][q.id] = list(dict.fromkeys(p.article_id for p in found.retrieved))
            continue
        row = ours(engine, q)
        rankings["ours"][q.id] = row.pop("ranked")
        answers["ours"][q.id] = row
        print(f"[{i}/{len(todo)}] {q.id} {row['text'][:90]!r}", file=sys.stderr)
    if not args.retrieval_only and "starter" in systems:
        engines = starter_engines(index, engine)
        for q in todo:
            answers["starter"][q.id] = starter(engines, q)
            print(f"starter {q.id} {answers['starter'][q.id]['text'][:90]!r}", file=sys.stderr)
    replayed = getattr(engine.llm, "replayed", 0)
    engine.close()

    part = f", {args.part} part" if spec.split else ""
    print(f"\n{args.set}{part}: {len(todo)} of {len(questions)} questions, "
          f"index of {len(wanted)} articles; {replayed} model replies replayed")  # fmt: skip
    names = [s for s in ("bm25", "starter", "ours") if s in systems]
    head = ["retrieval (distinct articles)", "n", "hit@1", "hit@5", "MRR@10"]
    print(table(head, [retrieval_row(s, rankings[s], todo) for s in names]))
    cols = ANSWER_COLS + (OPEN_COLS if any(q.nuggets for q in todo) else ())
    shown = [s for s in ("starter", "ours") if answers[s]]
    if shown:
        head = ["answers", "n", *(c for _, c in cols), "quoted", "second look",
                "first token p50 s", "total p50 s"]  # fmt: skip
        print(table(head, [answer_row(s, list(answers[s].values()), cols) for s in shown]))
    per_q = {s: {i: r["metrics"] for i, r in answers[s].items()} for s in shown}
    for s in ("bm25", "starter"):
        if s in names and "ours" in names:
            ranked = {s: {}, "ours": {}}
            for q in todo:
                if q.gold_articles and not q.unanswerable:
                    for name in (s, "ours"):
                        ranked[name][q.id] = {
                            "hit@1": hit_at(1, rankings[name][q.id], q.gold_articles),
                            "mrr@10": mrr(rankings[name][q.id], q.gold_articles, 10),
                        }
            per_q.setdefault(f"{s} retrieval", ranked[s])
            per_q.setdefault("ours retrieval", ranked["ours"])
    keys = ("strict_accuracy", "wrong_shown", "false_refusal_rate", "useful", "nugget_recall")
    rows = []
    if "starter" in per_q and "ours" in per_q:
        rows += paired_rows("starter", per_q["starter"], per_q["ours"], keys, "ours")
    for s in ("bm25", "starter"):
        if f"{s} retrieval" in per_q:
            base = per_q[f"{s} retrieval"]
            rows += paired_rows(s, base, per_q["ours retrieval"], ("hit@1", "mrr@10"), "ours")
    if args.compare and "ours" in per_q:
        before = json.loads(args.compare.read_text())["metrics"].get("ours", {})
        keys += ("accuracy", "correct_refusal_rate", "point_support")
        rows += paired_rows(args.compare.stem, before, per_q["ours"], keys, "ours now")
    if rows:
        print(table(["paired (95% bootstrap)", "metric", "n", "difference [interval] (W/L)"], rows))
    name = args.name or time.strftime("%Y%m%d-%H%M%S")
    out = WORK / f"run-{args.set}-{args.part}-{name}.json"
    out.write_text(json.dumps({"rankings": rankings, "answers": answers, "metrics": per_q}))
    print(f"per-question results: {out.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
