"""Do two trained judges together rank better than one? (issue 23)

    python -m bench.studies.judge_ensemble --features scifact-dev-listwise,scifact-dev-neg7

Reads per-pair features that `bench.judge_train eval --features NAME` stored for the same
queries (SciFact dev: every 5th train query) and re-ranks each query's judged candidates by
the sum of the chosen judges' z-scored log-odds plus ``w`` times the z-scored prior, for
every subset of the judges and w in 1, 1.5, 2, 3: nDCG@10 over the judged top 10 (exact
for them: the rest of the ranking is the prefilter's either way). Writes nothing.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import statistics

from .. import beir, corpus_index, scifact
from ..judge_train import PAIRS


def load(name: str) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    with gzip.open(PAIRS / f"features-{name}.jsonl.gz", "rt") as fh:
        for r in map(json.loads, fh):
            out.setdefault((r["q"], r["chunk"]), r)
    return out


def zscores(values: list[float]) -> list[float]:
    mean, sd = statistics.fmean(values), statistics.pstdev(values) or 1.0
    return [(v - mean) / sd for v in values]


def ndcg(feats: list[dict], weights, prior_w: float, by_q: dict, qrels: dict,
         docs: dict) -> float:
    out = []
    for q, keys in by_q.items():
        parts = [zscores([f[k]["judge"] for k in keys]) for f in feats]
        prior = zscores([feats[0][k]["prior"] for k in keys])
        score = [sum(w * p[i] for w, p in zip(weights, parts)) + prior_w * prior[i]
                 for i in range(len(keys))]
        order = sorted(range(len(keys)), key=lambda i: -score[i])
        ranked = list(dict.fromkeys(docs[keys[i][1]] for i in order))
        out.append(scifact.ndcg_at(ranked, qrels[q]))
    return round(statistics.fmean(out), 4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", required=True, help="names, comma-separated")
    ap.add_argument("--split", default="train", help="the SciFact split the features are of")
    args = ap.parse_args()
    names = args.features.split(",")
    feats = [load(n) for n in names]
    keys = set.intersection(*(set(f) for f in feats))
    by_q: dict[str, list[tuple]] = {}
    for k in sorted(keys):
        by_q.setdefault(k[0], []).append(k)
    ix, _ = corpus_index.open_index("scifact")
    docs = {c.id: c.uri.rsplit("#", 1)[-1]
            for c in ix.store.get_chunks(ix.store.chunk_ids()).values()}
    qrels = beir.dataset("scifact").qrels(args.split)
    print(f"{len(by_q)} queries; prior alone {ndcg(feats, [0] * len(feats), 1, by_q, qrels, docs)}")
    for weights in itertools.product((0, 1), repeat=len(feats)):
        if any(weights):
            chosen = [n for n, w in zip(names, weights) if w]
            print(json.dumps({"judges": chosen, **{f"prior_w={w}": ndcg(
                feats, weights, w, by_q, qrels, docs) for w in (1, 1.5, 2, 3)}}))


if __name__ == "__main__":
    main()
