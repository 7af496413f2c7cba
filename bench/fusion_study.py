"""Judge fusion over the hybrid prior, tuned on SciFact train only.

    python -m bench.fusion_study --queries 100 --depth 10

For a fixed sample of train queries (every n-th), the prefilter's top `depth` (lexical +
vectors) are judged the way search judges them: the gloss where the cache has one, else the
lead of the text (about a gloss long). Prints nDCG@10 of the prior alone, the judge alone,
and the judge fused with the prior at several weights; on the queries whose candidates all
have glosses it also compares judging glosses with judging leads. Writes
bench/results/fusion-study.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from tqdm import tqdm

from glossdb.describe import passage_text
from glossdb.ranking import rank

from . import scifact
from .hybrid import Collection

RESULTS = Path(__file__).resolve().parent / "results"
WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    c = Collection("scifact", "train")
    if args.threads:
        from glossdb.index import Index
        c.ix = Index(c.ix.path, threads=args.threads)
    step = max(1, len(c.queries) // args.queries)
    qids = list(c.queries)[::step][: args.queries]
    judge, rep = c.ix.judge(), c.ix.representation()
    per_query, t0 = {}, time.perf_counter()
    for qid in tqdm(qids, desc="judging"):
        found = c.ix.prefilter.candidates(c.queries[qid], args.depth)
        chunks = c.ix.store.get_chunks(f.chunk_id for f in found)
        glosses = c.ix.store.glosses(rep.id, chunks)
        judged = judge.judge(c.queries[qid], [chunks[f.chunk_id] for f in found], rep)
        row = {"found": found, "mixed": {cid: j.score for cid, j in judged.items()}}
        if len(glosses) == len(chunks):
            leads = [passage_text(chunks[f.chunk_id], judge.spec.lead_chars) for f in found]
            row["lead"] = dict(zip([f.chunk_id for f in found],
                                   judge.score_uncached(c.queries[qid], leads)))
        per_query[qid] = row
    seconds = time.perf_counter() - t0
    rows = []

    def ndcg(scores_key, weight, subset):
        vals = []
        for qid in subset:
            r = per_query[qid]
            order = rank(r["found"], r[scores_key], weight) if scores_key else \
                [f.chunk_id for f in r["found"]]
            vals.append(scifact.ndcg_at(c.docs_of(order), c.qrels[qid]))
        return round(statistics.fmean(vals), 4)

    every = list(per_query)
    covered = [q for q in every if "lead" in per_query[q]]
    rows.append({"queries": len(every), "judge reads": "-", "weight": "prior only",
                 "ndcg@10": ndcg(None, 0, every)})
    for w in WEIGHTS:
        rows.append({"queries": len(every), "judge reads": "gloss, else lead", "weight": w,
                     "ndcg@10": ndcg("mixed", w, every)})
    if covered:
        rows.append({"queries": len(covered), "judge reads": "-", "weight": "prior only",
                     "ndcg@10": ndcg(None, 0, covered)})
        for key, label in (("mixed", "gloss"), ("lead", "lead")):
            for w in WEIGHTS:
                rows.append({"queries": len(covered), "judge reads": label, "weight": w,
                             "ndcg@10": ndcg(key, w, covered)})
    print(scifact.markdown_table(rows, list(rows[0])))
    print(f"{seconds / len(every):.2f} s per query judged")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fusion-study.json").write_text(json.dumps(
        {"depth": args.depth, "rows": rows, "s_per_query": round(seconds / len(every), 2),
         "machine": scifact.machine(), "date": scifact.today()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
