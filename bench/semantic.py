"""Issue 25: the semantic filter's cascade on SciFact train claims.

    python -m bench.semantic --queries 40

Each claim is a condition over its prefilter's top ``--rows`` chunks (SciFact train, the dev
fifth of the queries: glossdb is tuned on the other four fifths). The expensive stage (the
judge: verdict "match" or better) first judges every row, the reference LOTUS's guarantee is
relative to; then ``Index.filter`` runs at ``--recall`` with ``--sample`` rows sampled (the
stored judgments make its judging free, but it counts what it reads). Per claim: recall
against the judge's full pass, the share of rows the judge read, and recall/precision of the
kept rows against the qrels. Writes filter_* keys into bench/results/sql.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from . import corpus_index, scifact
from .hybrid import RESULTS
from .judge_train import split_train, trained_judge


def main() -> None:
    from glossdb import Index

    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--recall", type=float, default=0.9)
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--adapter", default="", help="a trained judge version (bench.judge_train)")
    args = ap.parse_args()
    queries, qrels = scifact.queries(), scifact.qrels("train")
    dev = split_train(list(qrels))[1][: args.queries]
    ix = Index(corpus_index.cold_copy("scifact", corpus_index.RAW / "scifact-semantic.glossdb"),
               **trained_judge(args.adapter))
    docs = {c.id: c.uri.rsplit("#", 1)[-1]
            for c in ix.store.get_chunks(ix.store.chunk_ids()).values()}
    rows = []
    for q in dev:
        claim = queries[q]
        ids = [c.chunk_id for c in ix.prefilter.candidates(claim, args.rows)]
        everything = ix._verdicts(claim, ids)
        accepted = {c for c, v in everything.items() if v in ("match", "strong match")}
        result = ix.filter(claim, candidates=args.rows, recall_target=args.recall,
                           sample=args.sample, seed=int(q))
        kept = set(result.kept)
        relevant = {c for c in ids if qrels[q].get(docs[c], 0) > 0}
        rows.append({"query": q, "rows": len(ids), "judge_positive": len(accepted),
                     "kept": len(kept), "judged": result.judged,
                     "expensive_share": round(result.expensive_share, 3),
                     "recall_vs_judge": round(len(kept & accepted) / len(accepted), 3)
                     if accepted else 1.0,
                     "qrels_recall": round(len(kept & relevant) / len(relevant), 3)
                     if relevant else None,
                     "qrels_precision": round(len(kept & relevant) / len(kept), 3)
                     if kept else None, "threshold": result.threshold})
        print(json.dumps(rows[-1]), flush=True)
    judge_name = ix.judge().version().name
    ix.close()
    met = [r["recall_vs_judge"] >= args.recall for r in rows]
    summary = {"filter_queries": len(rows), "filter_judge": judge_name,
               "filter_adapter": Path(args.adapter).stem or None,
               "filter_recall_target": args.recall,
               "filter_sample": args.sample,
               "filter_target_met_share": round(sum(met) / len(met), 3),
               "filter_expensive_share": round(statistics.fmean(
                   r["expensive_share"] for r in rows), 3),
               "filter_rows": rows}
    path = RESULTS / "sql.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    print(json.dumps({k: v for k, v in summary.items() if k != "filter_rows"}))
    if args.adapter:  # a trained judge's figures sit beside the shipped judge's
        old.setdefault("filter_by_judge", {})[summary["filter_adapter"]] = summary
        summary = {}
    path.write_text(json.dumps({**old, **summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
