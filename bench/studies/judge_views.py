"""What the judge reads: the gloss, the text's lead, or both (their query likelihoods
averaged), fused with the hybrid prior as search fuses them.

    python -m bench.studies.judge_views --set scifact:train --queries 100       # tune here
    python -m bench.studies.judge_views --set cranfield:test --queries 225      # check only

Every candidate is scored under each view once; the table gives nDCG@10 of each view alone
and fused at several weights, so choosing a view on train and checking it elsewhere reads
the same numbers. Glosses come from ``--representation`` (a chunk without one is read as its
lead in the gloss view, as search does). Writes bench/results/judge-views.json.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from tqdm import tqdm

from glossdb.describe import passage_text
from glossdb.ranking import rank

from .. import scifact
from ..hybrid import Collection, open_study, study_arguments

RESULTS = Path(__file__).resolve().parents[1] / "results"
WEIGHTS = (1.0, 2.0, 3.0)


def score_views(c: Collection, qids: list[str], depth: int, lead_chars: int) -> dict:
    judge, rep = c.ix.judge(), c.ix.representation()
    out = {}
    for qid in tqdm(qids, desc=f"judging {c.name}"):
        query = c.queries[qid]
        found = c.ix.prefilter.candidates(query, depth)
        chunks = c.ix.store.get_chunks(f.chunk_id for f in found)
        glosses = c.ix.store.glosses(rep.id, chunks)
        ids = [f.chunk_id for f in found]
        gloss_view = [judge.candidate_text(chunks[i], glosses.get(i)) for i in ids]
        lead_view = [passage_text(chunks[i], lead_chars) for i in ids]
        scores = judge.score_uncached(query, gloss_view + lead_view)
        out[qid] = {"found": found, "glossed": sum(i in glosses for i in ids),
                    "gloss": dict(zip(ids, scores[: len(ids)])),
                    "lead": dict(zip(ids, scores[len(ids):]))}
    return out


def ndcg(c: Collection, runs: dict, view: str, weight: float) -> float:
    vals = []
    for qid, r in runs.items():
        if view == "prior":
            order = [f.chunk_id for f in r["found"]]
        else:
            parts = view.split("+")
            scores = {cid: statistics.fmean(r[p][cid] for p in parts) for cid in r["gloss"]}
            order = rank(r["found"], scores, weight)
        vals.append(scifact.ndcg_at(c.docs_of(order), c.qrels[qid]))
    return round(statistics.fmean(vals), 4)


def main() -> None:
    ap = study_arguments("scifact:train", 100)
    ap.add_argument("--lead-chars", type=int, default=240)
    args = ap.parse_args()
    c, qids = open_study(args)
    t = time.perf_counter()
    runs = score_views(c, qids, args.depth, args.lead_chars)
    seconds = (time.perf_counter() - t) / len(qids)
    rows = [{"view": "prior only", "weight": "-", "ndcg@10": ndcg(c, runs, "prior", 0)}]
    for view in ("gloss", "lead", "gloss+lead"):
        for w in (0.0, *WEIGHTS):
            rows.append({"view": view, "weight": w, "ndcg@10": ndcg(c, runs, view, w)})
    print(scifact.markdown_table(rows, list(rows[0])))
    glossed = sum(r["glossed"] for r in runs.values()) / sum(len(r["found"]) for r in runs.values())
    print(f"{len(qids)} queries, {glossed:.0%} of candidates glossed, {seconds:.2f} s per query "
          "for both views")
    out = RESULTS / "judge-views.json"
    data = json.loads(out.read_text()) if out.exists() else {}
    data[f"{':'.join(args.set)}-q{len(qids)}-depth{args.depth}-lead{args.lead_chars}"] = {
        "representation": c.ix.representation().name, "glossed_share": round(glossed, 3),
        "s_per_query_both_views": round(seconds, 2), "rows": rows,
        "machine": scifact.machine(), "date": scifact.today()}
    out.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
