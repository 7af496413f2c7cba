"""Where the default fails, per query: is a relevant chunk among the candidates, and where do
the judge and each prior signal put it?

    python -m bench.studies.failure --set scifact:train --queries 120 --representation gloss-f445bb9b2b
    python -m bench.studies.failure --set cranfield:test

For every query: the relevant documents found in the prefilter's top 10 / 30 / 100; for the
queries whose top 10 mixes relevant and other candidates, each signal's pairwise accuracy
(the share of (relevant, other) candidate pairs it orders right: ROC AUC within the query)
for the judge, BM25, cosine, the RRF prior and the fused score that ranks; and nDCG@10 of
the default against an oracle that re-orders the same 10 candidates perfectly (the most any
re-ranker of the top 10 can reach) and one that re-orders the top 30. Judgments come from the
index (search stores them; missing ones are judged). Writes bench/results/failure.json.
"""

from __future__ import annotations

import json
import statistics

from tqdm import tqdm

from glossdb.ranking import final_scores, prior_parts, rank

from .. import scifact
from ..hybrid import RESULTS, Collection, open_study, study_arguments


def auc(scores: list[float], good: list[bool]) -> float | None:
    pos = [s for s, g in zip(scores, good) if g]
    neg = [s for s, g in zip(scores, good) if not g]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def oracle(c: Collection, chunk_ids: list[int], qrels: dict) -> float:
    docs = c.docs_of(chunk_ids)
    return scifact.ndcg_at(sorted(docs, key=lambda d: -qrels.get(d, 0)), qrels)


def analyse(c: Collection, qids: list[str], depth: int) -> dict:
    ix = c.ix
    judge, rep, weight = ix.judge(), ix.representation(), ix.config.fusion_weight
    per = {"judge": [], "BM25": [], "cosine": [], "RRF prior": [], "fused": []}
    found_at = {10: 0, 30: 0, 100: 0}
    mixed = none = 0
    nd = {"default": [], "prior": [], "oracle top 10": [], "oracle top 30": []}
    for qid in tqdm(qids, desc=f"{c.name}", leave=False):
        qrels = c.qrels[qid]
        deep = ix.prefilter.candidates(c.queries[qid], 100)
        for k in found_at:
            found_at[k] += any(qrels.get(c.doc[f.chunk_id], 0) > 0 for f in deep[:k])
        found = deep[:depth]
        chunks = ix.store.get_chunks(f.chunk_id for f in found)
        judged = judge.judge(c.queries[qid], [chunks[f.chunk_id] for f in found], rep)
        scores = {cid: j.score for cid, j in judged.items()}
        ids = [f.chunk_id for f in found]
        good = [qrels.get(c.doc[i], 0) > 0 for i in ids]
        nd["default"].append(scifact.ndcg_at(c.docs_of(rank(found, scores, weight)), qrels))
        nd["prior"].append(scifact.ndcg_at(c.docs_of(ids), qrels))
        nd["oracle top 10"].append(oracle(c, ids, qrels))
        nd["oracle top 30"].append(oracle(c, [f.chunk_id for f in deep[:30]], qrels))
        if not any(good):
            none += 1
            continue
        if all(good):
            continue
        mixed += 1
        bm25, cos = prior_parts(found)
        signals = {"judge": [scores[i] for i in ids], "BM25": bm25, "cosine": cos,
                   "RRF prior": [f.prefilter_score for f in found],
                   "fused": final_scores(found, scores, weight)}
        for name, vals in signals.items():
            per[name].append(auc(vals, good))
    n = len(qids)
    return {
        "queries": n,
        "relevant in top 10 / 30 / 100": [round(found_at[k] / n, 3) for k in (10, 30, 100)],
        "no relevant in top 10": none, "mixed top 10": mixed,
        "pairwise accuracy on mixed queries": {k: round(statistics.fmean(v), 3)
                                               for k, v in per.items()},
        "ndcg@10": {k: round(statistics.fmean(v), 4) for k, v in nd.items()},
        "representation": rep.name,
    }


def main() -> None:
    args = study_arguments("cranfield:test", 0).parse_args()
    c, qids = open_study(args)
    result = analyse(c, qids, args.depth)
    print(json.dumps(result, indent=2))
    out = RESULTS / "failure.json"
    data = json.loads(out.read_text()) if out.exists() else {}
    data[":".join(args.set)] = {**result, "machine": scifact.machine(), "date": scifact.today()}
    out.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
