"""Issue 12: does a more faithful writer rank as well? SciFact *train* queries only.

    python -m bench.writer_ranking --queries 24 --variants "legacy (gloss-f445bb9b2b)" "grounded 1.5"

For the first `--queries` train queries (every 20th, a fixed sample), the hybrid top 10 are
glossed by each writer variant of bench.faithfulness (cached in bench/cache/ per version),
then judged over each variant's glosses and over 240-character leads, and fused as search
fuses. Prints nDCG@10 per variant; writes bench/results/writer-ranking.json.
"""

from __future__ import annotations

import argparse
import json
import statistics

from glossdb.describe import Describer
from glossdb.ranking import rank

from . import gloss_cache, scifact
from .faithfulness import VARIANTS, save
from .hybrid import RESULTS, Collection


def glosses_for(ix, spec, chunks: dict) -> tuple[str, dict[int, str]]:
    """The variant's glosses of these chunks: cached ones reused, the rest written now."""
    d = Describer(ix.store, ix.model("writer"), spec)
    rep = d.representation()
    by_hash = {c.content_hash: cid for cid, c in chunks.items()}
    cached = [(by_hash[r["content_hash"]], r["gloss"]) for r in gloss_cache.load(rep.name)
              if r["content_hash"] in by_hash]
    ix.store.put_glosses(rep.id, cached, searchable=False)
    have = ix.store.glosses(rep.id, chunks)
    todo = [c for cid, c in chunks.items() if cid not in have]
    for start in range(0, len(todo), 16):
        d.write(todo[start:start + 16], searchable=False)
        save(rep.name, ix, rep.id, chunks)
        print(f"{rep.name}: {start + len(todo[start:start + 16])}/{len(todo)} written", flush=True)
    return rep.name, ix.store.glosses(rep.id, chunks)


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
        name, glosses = glosses_for(ix, VARIANTS[label], chunks)
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
