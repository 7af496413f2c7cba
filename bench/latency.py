"""Issue 5: search latency on the whole SciFact corpus (5,183 abstracts, 6,891 chunks).

    python -m bench.latency --queries 40

Opens the collection's index (chunks, internal vectors, cached glosses; bench/corpus_index),
then runs `Index.search` with the default settings (hybrid prefilter, candidates pinned at
the default depth so the log's adaptation does not move them mid-run) for the first test
queries, each once (judgments cold), on a copy of the index. Candidates without a cached
gloss are judged on their lead, as in any partly glossed index; the row says what share of
judged candidates had a gloss. `--kv` adds a run with KV states of judged glosses kept;
`--adapter FILE` one with that trained judge version (issue 23; its merged model where
`glossdb train` made one, bench.studies.merged_judge) at `--trained-candidates` and
`--trained-weight`.
Prints p50/p90 seconds, LLM tokens per query and nDCG@10 of the returned top 10; writes
bench/results/latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from glossdb import Index

from . import corpus_index, scifact
from .scifact_eval import RESULTS


def run(path: Path, queries: dict[str, str], qrels: dict, **overrides) -> dict:
    ix = Index(path, **overrides)
    seconds, tokens, ndcg, glossed, judged = [], [], [], 0, 0
    rep = ix.representation()
    for qid, text in queries.items():
        found = ix.prefilter.candidates(text, ix.cutoff().depth)
        judged += len(found)
        glossed += len(ix.store.glosses(rep.id, [c.chunk_id for c in found]))
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
            "ndcg@10": round(statistics.fmean(ndcg), 4), "kv_states": states,
            "glossed_share": round(glossed / max(1, judged), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--kv", action="store_true", help="also run with KV states kept")
    ap.add_argument("--adapter", default="", help="also run with this trained judge")
    ap.add_argument("--trained-candidates", type=int, default=15)
    ap.add_argument("--trained-weight", type=float, default=1.0)
    args = ap.parse_args()
    qrels, texts = scifact.qrels("test"), scifact.queries()
    ix, _ = corpus_index.open_index("scifact")
    candidates = ix.config.candidates
    queries = dict(list({q: texts[q] for q in qrels}.items())[: args.queries])
    chunks = ix.store.counts()["chunks"]
    rep_name = ix.representation().name
    ix.close()
    rows = []
    settings = [("kv states off (default)", {"kv_cache_mb": 0, "candidates": candidates})]
    if args.kv:
        settings.append(("kv states kept (256 MB)", {"kv_cache_mb": 256,
                                                      "candidates": candidates}))
    if args.adapter:
        settings.append((f"trained judge {Path(args.adapter).stem}, fusion weight "
                         f"{args.trained_weight:g}", {
                             "candidates": args.trained_candidates, "judge_method": "relevance",
                             "judge_adapter": str(Path(args.adapter).resolve()),
                             "fusion_weight": args.trained_weight}))
    for label, overrides in settings:
        copy = corpus_index.cold_copy("scifact", corpus_index.RAW / f"latency-{len(rows)}.glossdb")
        row = {"setting": label, "chunks": chunks, "queries": len(queries),
               "candidates": overrides["candidates"], **run(copy, queries, qrels, **overrides)}
        rows.append(row)
        print(row, flush=True)
    out = {"rows": rows, "machine": scifact.machine(), "date": scifact.today(),
           "model": "gemma3-270m", "representation": rep_name}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latency.json").write_text(json.dumps(out, indent=2) + "\n")
    print(scifact.markdown_table(rows, ["setting", "chunks", "queries", "candidates",
                                        "p50_search_s", "p90_search_s", "tokens_per_query",
                                        "ndcg@10", "glossed_share"]))


if __name__ == "__main__":
    main()
