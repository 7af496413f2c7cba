"""Issue 12: does a more faithful writer rank as well? SciFact *train* queries only.

    python -m bench.studies.writer_ranking --queries 24 --variants "legacy (gloss-f445bb9b2b)" "grounded 1.5"

For the first `--queries` train queries (every 20th, a fixed sample), the hybrid top 10 are
glossed by each writer variant of bench.faithfulness (cached in bench/cache/ per version),
then judged over each variant's glosses and over 240-character leads, and fused as search
fuses. Prints nDCG@10 per variant; writes bench/results/writer-ranking.json.
"""

from __future__ import annotations

import argparse
import json
import statistics

from glossdb.ranking import rank

from .. import scifact
from ..faithfulness import VARIANTS, gloss_all
from ..hybrid import RESULTS, Collection


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=24)
    ap.add_argument("--variants", nargs="+", default=["legacy (gloss-f445bb9b2b)", "grounded 1.5"])
    args = ap.parse_args()
    c = Collection("scifact", "train")
    qids = sorted(c.queries, key=int)[::20][: args.queries]
    ix, judge, weight = c.ix, c.ix.judge(), c.ix.config.fusion_weight
    found = {q: ix.prefilter.candidates(c.queries[q], 10) for q in qids}
    chunks = ix.store.get_chunks({f.chunk_id for fs in found.values() for f in fs})
    inputs: dict[str, dict[int, str]] = {"leads": {cid: judge.candidate_text(ch, None)
                                                   for cid, ch in chunks.items()}}
    names = {"leads": "leads"}
    for label in args.variants:
        name, glosses, _ = gloss_all(ix, VARIANTS[label], chunks)
        names[label] = name
        inputs[label] = {cid: judge.candidate_text(ch, glosses.get(cid))
                         for cid, ch in chunks.items()}
    rows = []
    for label, texts in inputs.items():
        vals = []
        for q in qids:
            ids = [f.chunk_id for f in found[q]]
            scores = dict(zip(ids, judge.score_uncached(c.queries[q], [texts[i] for i in ids])))
            vals.append(scifact.ndcg_at(c.docs_of(rank(found[q], scores, weight)), c.qrels[q]))
        rows.append({"judge reads": label, "representation": names[label],
                     "ndcg@10": round(statistics.fmean(vals), 4)})
        print(rows[-1], flush=True)
    out = {"queries": len(qids), "split": "train", "rows": rows, "machine": scifact.machine(),
           "date": scifact.today()}
    print(scifact.markdown_table(rows, list(rows[0])))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "writer-ranking.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
