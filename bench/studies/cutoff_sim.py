"""Issue 10: the adaptive cut-off as a simulated workload on SciFact.

    python -m bench.studies.cutoff_sim --train 200 --test 100

On a copy of the SciFact index with default settings (the cut-off not pinned), train queries
are searched as the usage; the depth adapts after every 20 logged searches (glossdb.cutoff).
Then test queries are searched and scored. Prints the depth's trajectory with its evidence,
and nDCG@10 and seconds per query on the test queries; writes bench/results/cutoff.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from glossdb import Index

from .. import corpus_index, scifact
from ..hybrid import RESULTS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=200)
    ap.add_argument("--test", type=int, default=100)
    args = ap.parse_args()
    texts = scifact.queries()
    ix = Index(corpus_index.cold_copy("scifact", corpus_index.RAW / "cutoff-sim.glossdb"))
    trajectory = []
    train = list(scifact.qrels("train"))[:: max(1, 809 // args.train)][: args.train]
    for n, qid in enumerate(train, start=1):
        ix.search(texts[qid], k=10)
        cut = ix.cutoff()
        if not trajectory or trajectory[-1]["depth"] != cut.depth or n % 20 == 0:
            trajectory.append({"after_searches": n, **cut.to_dict()})
    qrels = scifact.qrels("test")
    ndcg, secs, depths = [], [], []
    for qid in list(qrels)[: args.test]:
        depths.append(ix.cutoff().depth)
        t = time.perf_counter()
        hits = ix.search(texts[qid], k=10)
        secs.append(time.perf_counter() - t)
        docs = list(dict.fromkeys(h.uri.rsplit("#", 1)[1] for h in hits))
        ndcg.append(scifact.ndcg_at(docs, qrels[qid]))
    out = {"train_searches": len(train), "trajectory": trajectory,
           "test": {"queries": len(ndcg), "ndcg@10": round(statistics.fmean(ndcg), 4),
                    "p50_s": round(statistics.median(secs), 2),
                    "depths": sorted(set(depths)), "final": ix.cutoff().to_dict()},
           "machine": scifact.machine(), "date": scifact.today()}
    ix.close()
    print(scifact.markdown_table(trajectory, list(trajectory[0])))
    print(json.dumps(out["test"], indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cutoff.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
