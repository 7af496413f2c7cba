"""Issue 5: search latency on the whole SciFact corpus (5,183 abstracts, 6,891 chunks).

    python -m bench.latency --queries 40

Indexes the corpus with its cached glosses (bench/cache/), then runs `Index.search` with the
default settings for test queries whose candidates all have a cached gloss, in order, each
query once (judgments cold). Runs twice on copies of the same index: with the KV states of
judged glosses kept across queries (default `kv_cache_mb`) and with that cache off. Prints
p50/p90 seconds, LLM tokens per query and nDCG@10 of the returned top 10; writes
bench/results/latency.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from glossdb import Index

from . import scifact
from .scifact_eval import RESULTS, GlossdbRuns


def run(path: Path, queries: dict[str, str], qrels: dict, **overrides) -> dict:
    ix = Index(path, **overrides)
    seconds, tokens, ndcg = [], [], []
    for qid, text in queries.items():
        before = ix.model("judge").tokens_evaluated
        t = time.perf_counter()
        hits = ix.search(text, k=10)
        seconds.append(time.perf_counter() - t)
        tokens.append(ix.model("judge").tokens_evaluated - before)
        docs = list(dict.fromkeys(h.uri.rsplit("#", 1)[1] for h in hits))  # a doc counts once
        ndcg.append(scifact.ndcg_at(docs, qrels[qid]))
    model = ix.model("judge")
    states = model.kv_states.stats() if hasattr(model, "kv_states") else {}
    ix.close()
    return {"p50_search_s": round(statistics.median(seconds), 2),
            "p90_search_s": round(statistics.quantiles(seconds, n=10)[-1], 2),
            "mean_search_s": round(statistics.fmean(seconds), 2),
            "tokens_per_query": round(statistics.fmean(tokens)),
            "ndcg@10": round(statistics.fmean(ndcg), 4), "kv_states": states}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=40)
    args = ap.parse_args()
    qrels, texts = scifact.qrels("test"), scifact.queries()
    g = GlossdbRuns(scifact.corpus())
    candidates = g.ix.config.candidates
    cands = g.prefilter({q: texts[q] for q in qrels})
    covered = g.covered(cands, candidates)
    queries = {q: texts[q] for q in qrels if q in covered}
    queries = dict(list(queries.items())[: args.queries])
    chunks = g.ix.store.counts()["chunks"]
    source = Path(g.ix.store.path)
    g.ix.close()
    rows = []
    for label, overrides in (("kv states kept (256 MB)", {"kv_cache_mb": 256}),
                             ("kv states off (default)", {"kv_cache_mb": 0})):
        copy = source.with_name(f"latency-{len(rows)}.glossdb")
        shutil.copy(source, copy)
        row = {"setting": label, "chunks": chunks, "queries": len(queries),
               "candidates": candidates, **run(copy, queries, qrels, **overrides)}
        rows.append(row)
        print(row, flush=True)
    out = {"rows": rows, "machine": scifact.machine(), "date": scifact.today(),
           "model": "gemma3-270m", "representation": g.rep.name}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latency.json").write_text(json.dumps(out, indent=2) + "\n")
    print(scifact.markdown_table(rows, ["setting", "chunks", "queries", "candidates",
                                        "p50_search_s", "p90_search_s", "tokens_per_query",
                                        "ndcg@10"]))


if __name__ == "__main__":
    main()
