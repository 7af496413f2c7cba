"""Judge fusion over the hybrid prior, tuned on SciFact train only.

    python -m bench.studies.fusion_study --queries 100 --depth 10

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

from .. import corpus_index, scifact
from ..hybrid import Collection

RESULTS = Path(__file__).resolve().parents[1] / "results"
WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--reads", default="gloss", choices=["gloss", "text"],
                    help="gloss: gloss, else a lead of --chars; text: the text cut at --chars")
    ap.add_argument("--chars", type=int, default=240)
    ap.add_argument("--judge-model", default="", help="another judge model (default: the index's)")
    ap.add_argument("--representation", default="",
                    help="the gloss version judged (default: the configured writer's)")
    args = ap.parse_args()
    c = Collection("scifact", "train", threads=args.threads or None,
                   model=args.judge_model or None, representation=args.representation or None)
    step = max(1, len(c.queries) // args.queries)
    qids = list(c.queries)[::step][: args.queries]
    from dataclasses import replace

    from glossdb.judge import Judge

    base = c.ix.judge()
    spec = replace(base.spec, reads=args.reads, lead_chars=args.chars,
                   max_candidate_chars=args.chars)
    judge, rep = Judge(c.ix.store, base.model, spec), c.ix.representation()
    per_query, t0 = {}, time.perf_counter()
    for qid in tqdm(qids, desc="judging"):
        found = c.ix.prefilter.candidates(c.queries[qid], args.depth)
        chunks = c.ix.store.get_chunks(f.chunk_id for f in found)
        glosses = c.ix.store.glosses(rep.id, chunks)
        judged = judge.judge(c.queries[qid], [chunks[f.chunk_id] for f in found], rep)
        row = {"found": found, "mixed": {cid: j.score for cid, j in judged.items()}}
        if args.reads == "gloss" and len(glosses) == len(chunks):
            leads = [passage_text(chunks[f.chunk_id], judge.spec.lead_chars) for f in found]
            row["lead"] = dict(zip([f.chunk_id for f in found],
                                   judge.score_uncached(c.queries[qid], leads)))
        per_query[qid] = row
    seconds = time.perf_counter() - t0
    model = (f"-{args.judge_model}" if args.judge_model else "") + (
        f"-{args.representation}" if args.representation else "")
    dump = corpus_index.RAW / f"fusion-{args.reads}-{args.chars}-depth{args.depth}{model}.json"
    dump.write_text(json.dumps({q: {"found": [f.__dict__ for f in r["found"]],
                                    "judge": r["mixed"]} for q, r in per_query.items()}))
    rows = []

    def mix_ndcg(a, b, wj, subset):
        """judge*wj + a*z(BM25) + b*z(cosine): a learned mix instead of the RRF prior."""
        from glossdb.ranking import zscores

        vals = []
        for qid in subset:
            r = per_query[qid]
            found = r["found"]
            lex = [f.lexical_score for f in found]
            low = min((x for x in lex if x is not None), default=0.0)
            lex = zscores([low if x is None else x for x in lex])
            vec = [f.vector_score for f in found]
            low = min((x for x in vec if x is not None), default=0.0)
            vec = zscores([low if x is None else x for x in vec])
            jz = zscores([r["mixed"][f.chunk_id] for f in found])
            total = [wj * j + a * x + b * y for j, x, y in zip(jz, lex, vec)]
            order = [found[i].chunk_id for i in sorted(range(len(found)), key=lambda i: -total[i])]
            vals.append(scifact.ndcg_at(c.docs_of(order), c.qrels[qid]))
        return round(statistics.fmean(vals), 4)

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
    label = (f"gloss, else {args.chars}-char lead" if args.reads == "gloss"
             else f"text, first {args.chars} chars")
    for w in WEIGHTS:
        rows.append({"queries": len(every), "judge reads": label, "weight": w,
                     "ndcg@10": ndcg("mixed", w, every)})
    for wj in (0.0, 1.0):
        for a in (0.5, 1.0, 2.0):
            for b in (0.5, 1.0, 2.0):
                rows.append({"queries": len(every), "judge reads": f"{label}; mix",
                             "weight": f"judge {wj:g} + {a:g} z(bm25) + {b:g} z(cos)",
                             "ndcg@10": mix_ndcg(a, b, wj, every)})
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
    out = RESULTS / "fusion-study.json"
    runs = json.loads(out.read_text()) if out.exists() else {}
    runs = runs if isinstance(runs, dict) and "runs" in runs else {"runs": {}}
    runs["runs"][f"{args.reads}-{args.chars}-depth{args.depth}-q{len(every)}{model}"] = (
        {"depth": args.depth, "rows": rows, "s_per_query": round(seconds / len(every), 2),
         "tokens": judge.model.tokens_evaluated, "machine": scifact.machine(),
         "date": scifact.today()})
    out.write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
