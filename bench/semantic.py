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


def measure(result, ids: list[int], accepted: set[int], relevant: set[int]) -> dict:
    """One filter run against the judge's full pass and the qrels."""
    kept = set(result.kept)
    return {"rows": len(ids), "judge_positive": len(accepted), "kept": len(kept),
            "kept_unjudged": len(result.kept_unjudged), "judged": result.judged,
            "expensive_share": round(result.expensive_share, 3),
            "recall_vs_judge": round(len(kept & accepted) / len(accepted), 3)
            if accepted else 1.0,
            "precision_vs_judge": round(len(kept & accepted) / len(kept), 3) if kept else None,
            "qrels_recall": round(len(kept & relevant) / len(relevant), 3) if relevant else None,
            "qrels_precision": round(len(kept & relevant) / len(kept), 3) if kept else None,
            "threshold": result.threshold, "accept_threshold": result.accept_threshold}


def summarize(rows: list[dict], recall: float, prefix: str) -> dict:
    met = [r["recall_vs_judge"] >= recall for r in rows]
    precision = [r["precision_vs_judge"] for r in rows if r["precision_vs_judge"] is not None]
    return {f"{prefix}target_met_share": round(sum(met) / len(met), 3),
            f"{prefix}expensive_share": round(statistics.fmean(
                r["expensive_share"] for r in rows), 3),
            f"{prefix}precision_vs_judge": round(statistics.fmean(precision), 3)
            if precision else None, f"{prefix}rows": rows}


def main() -> None:
    from glossdb import Index

    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--recall", type=float, default=0.9)
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--precision", type=float, default=0.9)
    ap.add_argument("--adapter", default="", help="a trained judge version (bench.judge_train)")
    args = ap.parse_args()
    queries, qrels = scifact.queries(), scifact.qrels("train")
    dev = split_train(list(qrels))[1][: args.queries]
    ix = Index(corpus_index.cold_copy("scifact", corpus_index.RAW / "scifact-semantic.glossdb"),
               **trained_judge(args.adapter))
    docs = {c.id: c.uri.rsplit("#", 1)[-1]
            for c in ix.store.get_chunks(ix.store.chunk_ids()).values()}
    rows, with_precision = [], []
    for q in dev:
        claim = queries[q]
        ids = [c.chunk_id for c in ix.prefilter.candidates(claim, args.rows)]
        everything = ix._verdicts(claim, ids)
        accepted = {c for c, v in everything.items() if v in ("match", "strong match")}
        relevant = {c for c in ids if qrels[q].get(docs[c], 0) > 0}
        for out, precision in ((rows, None), (with_precision, args.precision)):
            result = ix.filter(claim, candidates=args.rows, recall_target=args.recall,
                               sample=args.sample, seed=int(q), precision_target=precision)
            out.append({"query": q, **measure(result, ids, accepted, relevant)})
            print(json.dumps(out[-1]), flush=True)
    judge_name = ix.judge().version().name
    ix.close()
    summary = {"filter_queries": len(rows), "filter_judge": judge_name,
               "filter_adapter": Path(args.adapter).stem or None,
               "filter_recall_target": args.recall, "filter_sample": args.sample,
               **summarize(rows, args.recall, "filter_"),
               "filter_precision_target": args.precision,
               **summarize(with_precision, args.recall, "filter_precision_")}
    path = RESULTS / "sql.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    print(json.dumps({k: v for k, v in summary.items() if not k.endswith("rows")}))
    if args.adapter:  # a trained judge's figures sit beside the shipped judge's
        old.setdefault("filter_by_judge", {})[summary["filter_adapter"]] = summary
        summary = {}
    path.write_text(json.dumps({**old, **summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
