"""Issue 10: the hybrid prefilter and the glossdb default against non-LLM retrieval, on
SciFact and Cranfield, every system in the same run.

    python -m bench.hybrid --sets scifact:test,cranfield:test
    python -m bench.hybrid --sets scifact:train --study      # tuning grid (train only)

Systems: BM25 (bm25s, English stopwords), dense all-MiniLM-L6-v2 (the int8 ONNX model
glossdb embeds with, exact search over chunks), RRF of those two (k=60, no LLM), glossdb's
prefilter alone (FTS5 fused with its vectors), and the glossdb default (judge over glosses
of the prefilter's top candidates, fused with the prefilter's prior). Every query is judged on
a copy of the index without stored judgments, so s/query is a first search's; a candidate
without a cached gloss (bench/cache/) is read as its text's lead, as search does, and the row
gives the share glossed.

Writes bench/results/hybrid.json: {set, system, llm, queries, ndcg@10, recall@depth,
s_per_query, default, ...}.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
import json
import statistics
import time
from pathlib import Path

from tqdm import tqdm

from glossdb.index import Index
from glossdb.prefilter import rrf

from . import beir, corpus_index, gloss_cache, scifact

RESULTS = Path(__file__).resolve().parent / "results"


def doc_of(uri: str) -> str:
    return uri.rsplit("#", 1)[1]


def evaluate(runs: dict[str, list[str]], qrels: dict, depth: int) -> dict[str, float]:
    nd, rec = [], []
    for qid, ranked in runs.items():
        ranked = list(dict.fromkeys(ranked))
        nd.append(scifact.ndcg_at(ranked, qrels[qid]))
        rec.append(scifact.recall_at(ranked, qrels[qid], depth))
    return {"ndcg@10": round(statistics.fmean(nd), 4), "recall@depth": round(statistics.fmean(rec), 4)}


class Collection:
    """One collection's index, chunk -> document map, and the non-LLM runs."""

    def __init__(self, name: str, split: str, searchable: bool = False, cold: bool = False,
                 **settings):
        """``cold``: on a copy without stored judgments, so every search judges as a first
        one does; ``searchable``: (on such a copy) the cached glosses also in the full-text
        index, as `glossdb add` leaves a user's index; ``settings`` go to the Index."""
        self.name, self.split, self.searchable = name, split, searchable
        ds = beir.dataset(name)
        self.qrels = ds.qrels(split)
        texts = ds.queries()
        self.queries = {q: texts[q] for q in self.qrels}
        self.docs = ds.corpus()
        if searchable or cold:
            copy = corpus_index.RAW / f"{name}-{'fts' if searchable else 'cold'}.glossdb"
            self.ix = Index(corpus_index.cold_copy(name, copy), **settings)
            self.timing = corpus_index.timings(name)
            if searchable:
                gloss_cache.import_glosses(self.ix, searchable=True)
        else:
            self.ix, self.timing = corpus_index.open_index(name, **settings)
        chunks = self.ix.store.get_chunks(self.ix.store.chunk_ids())
        self.doc = {cid: doc_of(c.uri) for cid, c in chunks.items()}

    def docs_of(self, chunk_ids) -> list[str]:
        return list(dict.fromkeys(self.doc[c] for c in chunk_ids))

    def bm25(self) -> tuple[dict[str, list[str]], float]:
        import bm25s

        ids = list(self.docs)
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize([f"{d['title']} {d['text']}" for d in self.docs.values()],
                                       stopwords="en", show_progress=False), show_progress=False)
        t = time.perf_counter()
        tokens = bm25s.tokenize(list(self.queries.values()), stopwords="en", show_progress=False)
        res, _ = retriever.retrieve(tokens, k=100, show_progress=False)
        runs = {q: [ids[int(i)] for i in row] for q, row in zip(self.queries, res)}
        return runs, (time.perf_counter() - t) / len(self.queries)

    def dense(self) -> tuple[dict[str, list[str]], float]:
        pre = self.ix.prefilter
        t = time.perf_counter()
        qv = pre.embedder.embed(list(self.queries.values()))
        runs = {q: self.docs_of([cid for cid, _ in pre.vectors.search(pre.version, v, 300)])
                for q, v in zip(self.queries, qv)}
        return runs, (time.perf_counter() - t) / len(self.queries)

    def prefilter(self, depth: int) -> tuple[dict[str, list], float]:
        pre = self.ix.prefilter
        t = time.perf_counter()
        cands = {q: pre.candidates(text, depth) for q, text in self.queries.items()}
        return cands, (time.perf_counter() - t) / len(self.queries)


def set_spec(text: str) -> tuple[str, str]:
    """``collection:split`` (an argparse type): ``scifact:train``, ``cranfield:test``."""
    name, _, split = text.partition(":")
    if split not in beir.SPLITS.get(name, ()):
        known = ", ".join(f"{n}:{s}" for n, splits in beir.SPLITS.items() for s in splits)
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {known}")
    return name, split


def study_arguments(default_set: str, queries: int) -> argparse.ArgumentParser:
    """The options every judge study shares: the set, its sample, depth, gloss version."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default=default_set, type=set_spec, help="collection:split")
    ap.add_argument("--queries", type=int, default=queries,
                    help="every n-th query, to this many (0: all)")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--representation", default="", help="the gloss version judged")
    return ap


def open_study(args: argparse.Namespace) -> tuple[Collection, list[str]]:
    """The collection (on ``--representation``'s glosses) and its fixed query sample."""
    c = Collection(*args.set, representation=args.representation or None)
    qids = list(c.queries)
    if args.queries:
        qids = qids[:: max(1, len(qids) // args.queries)][: args.queries]
    return c, qids


def rrf_docs(a: list[str], b: list[str], k0: float = 60) -> list[str]:
    return [d for d, _, _ in rrf([a[:100], b[:100]], k0)]


def judge_runs(c: Collection, cands: dict[str, list], weight: float):
    """The default pipeline: judge the candidates (the gloss where the cache has one, else
    the lead of the text, as search does on a partly glossed index) and fuse with the prior.
    Returns runs, seconds and LLM tokens per query, and the share of candidates glossed."""
    ix = c.ix
    if weight != ix.config.fusion_weight:
        ix.config = replace(ix.config, fusion_weight=weight)
    pipeline = ix.pipeline()  # what `search` runs, on the prefilter's given candidates
    model = ix.model("judge")
    runs, secs, tokens, glossed, total = {}, [], [], 0, 0
    for qid, found in tqdm(cands.items(), desc=f"judge {c.name}", leave=False):
        before, t = model.tokens_evaluated, time.perf_counter()
        ranked = pipeline.rank(c.queries[qid], len(found), candidates=found)
        secs.append(time.perf_counter() - t)
        tokens.append(model.tokens_evaluated - before)
        glossed += len(ix.store.glosses(pipeline.representation.id, ranked.chunks))
        total += len(ranked.chunks)
        runs[qid] = c.docs_of(ranked.order)
    return runs, secs, tokens, round(glossed / max(1, total), 3)


def study(c: Collection) -> list[dict]:
    """Prefilter variants on one split (train only): RRF constant, each list's pool, the
    lexical list's weight; nDCG@10 of the fused order and recall of the top 10/20/30."""
    from glossdb.prefilter import search_terms

    pre = c.ix.prefilter
    qv = pre.embedder.embed(list(c.queries.values()))
    lists = {}
    for (qid, text), v in zip(c.queries.items(), qv):
        lex = [cid for cid, _ in c.ix.store.fts_search(search_terms(text), 100)]
        vec = [cid for cid, _ in pre.vectors.search(pre.version, v, 100)]
        lists[qid] = (lex, vec)
    rows = []
    for k0 in (10, 30, 60):
        for pool in (10, 30, 100):
            for wlex in (1.0, 1.5, 2.0):
                runs = {q: c.docs_of([i for i, _, _ in rrf([lx[:pool], vc[:pool]], k0,
                                                            [wlex, 1.0])])
                        for q, (lx, vc) in lists.items()}
                r = {"k0": k0, "pool": pool, "w_lexical": wlex}
                for depth in (10, 20, 30):
                    m = evaluate(runs, c.qrels, depth)
                    r["ndcg@10"], r[f"recall@{depth}"] = m["ndcg@10"], m["recall@depth"]
                rows.append(r)
    for name, idx in (("lexical", 0), ("vector", 1)):
        runs = {q: c.docs_of(ls[idx]) for q, ls in lists.items()}
        r = {"k0": name, "pool": 100, "w_lexical": "-"}
        for depth in (10, 20, 30):
            m = evaluate(runs, c.qrels, depth)
            r["ndcg@10"], r[f"recall@{depth}"] = m["ndcg@10"], m["recall@depth"]
        rows.append(r)
    return rows


def compare(c: Collection, depth: int, weight: float, judge: bool) -> list[dict]:
    """Every system on one collection and split, in one run."""
    rows = []

    def row(system, runs, llm, secs, **extra):
        rows.append({"set": f"{c.name}:{c.split}", "system": system, "llm": llm,
                     "queries": len(runs), **evaluate(runs, c.qrels, depth),
                     "s_per_query": round(secs, 4), "default": False, **extra})

    bm25, s_bm25 = c.bm25()
    row("BM25 (bm25s)", bm25, False, s_bm25)
    dense, s_dense = c.dense()
    row("dense MiniLM-L6 (int8 ONNX)", dense, False, s_dense)
    for k0 in (60, 10):
        row(f"BM25 + MiniLM RRF (k={k0})",
            {q: rrf_docs(bm25[q], dense[q], k0) for q in c.queries}, False, s_bm25 + s_dense)
    cands, s_pre = c.prefilter(depth)
    deep, _ = c.prefilter(100)
    fts = "FTS5 over text and glosses" if c.searchable else "FTS5"
    row(f"glossdb prefilter ({fts} + vectors, RRF)",
        {q: c.docs_of([f.chunk_id for f in deep[q]]) for q in c.queries}, False, s_pre)
    if judge:
        runs, secs, tokens, share = judge_runs(c, cands, weight)
        rest = {q: c.docs_of([f.chunk_id for f in deep[q][depth:]]) for q in runs}
        runs = {q: r + rest[q] for q, r in runs.items()}  # below the judged top, prefilter order
        row(f"glossdb default: judge top {depth} + BM25 + cosine", runs, True,
            statistics.fmean(secs) + s_pre, default=True,
            tokens_per_query=round(statistics.fmean(tokens)), glossed_share=share,
            representation=c.ix.representation().name)
    per_chunk = (c.timing["load_s"] + c.timing["embed_s"]) / c.timing["chunks"]
    for r in rows:
        r["ingest_s_per_chunk_no_gloss"] = round(per_chunk, 4)
        r["embed_chunks_per_s"] = round(c.timing["chunks"] / c.timing["embed_s"], 1)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="scifact:test,cranfield:test",
                    type=lambda text: [set_spec(t) for t in text.split(",")],
                    help="collection:split, comma-separated")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--fusion-weight", type=float, default=None)
    ap.add_argument("--study", action="store_true", help="prefilter tuning grid (train only)")
    ap.add_argument("--no-judge", action="store_true")
    ap.add_argument("--searchable-glosses", action="store_true",
                    help="the cached glosses also in the full-text index, as `glossdb add` puts"
                         " them (default: text only, so candidates do not move as the cache grows)")
    ap.add_argument("--out", default="hybrid.json", help="file under bench/results/")
    args = ap.parse_args()
    all_rows = []
    for name, split in args.sets:
        c = Collection(name, split, args.searchable_glosses, cold=not args.study)
        if args.study:
            if split != "train":
                raise SystemExit("tune on train splits only")
            rows = study(c)
            print(scifact.markdown_table(rows, list(rows[0])))
            continue
        weight = c.ix.config.fusion_weight if args.fusion_weight is None else args.fusion_weight
        rows = compare(c, args.depth, weight, not args.no_judge)
        print(scifact.markdown_table(rows, ["set", "system", "llm", "queries", "ndcg@10",
                                            "recall@depth", "s_per_query", "default"]))
        all_rows += rows
    if all_rows:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / args.out).write_text(json.dumps(all_rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
