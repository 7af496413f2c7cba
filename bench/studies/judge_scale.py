"""Fusion variants over stored judgments, offline (none adopted).

1. The judge's raw score instead of its z-score: per query the judge counts in proportion to
   how far apart it puts the candidates (nats per token), so a judge that cannot tell them
   apart defers to the prior. fused = c * (judge - its mean) + z(BM25) + z(cosine), against
   the default z(judge) + z(BM25) + z(cosine) (fusion weight 2).
2. (train only) A fourth term, the RRF prior's z-score: z(judge) + a z(BM25) + b z(cosine)
   + r z(RRF prior) over a grid of a, b, r; the default is a = b = 1, r = 0.

    python -m bench.studies.judge_scale            # SciFact train: fusion-gloss-240-depth10.json
    python -m bench.studies.judge_scale --check cranfield:test   # stored judgments of bench.hybrid

nDCG@10 over each query's top 10 chunks; the grid also on alternate halves A/B.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics

from glossdb.prefilter import Candidate
from glossdb.ranking import prior_parts, zscores

from .. import corpus_index, scifact
from ..hybrid import Collection, set_spec

SCALES = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
GRID = (0.0, 0.5, 1.0, 1.5)


def ordered(found: list[Candidate], parts: list[list[float]], weights: tuple) -> list[int]:
    """Chunk ids by the weighted sum of the parts, ties in prefilter order."""
    total = [sum(w * p[i] for w, p in zip(weights, parts)) for i in range(len(found))]
    order = sorted(range(len(found)), key=lambda i: (-total[i], found[i].prefilter_rank))
    return [found[i].chunk_id for i in order]


def fused(found: list[Candidate], judge: list[float], scale: float | None) -> list[int]:
    mean = statistics.fmean(judge)
    own = zscores(judge) if scale is None else [scale * (j - mean) for j in judge]
    return ordered(found, [own, *map(zscores, prior_parts(found))], (1, 1, 1))


def mixed(found: list[Candidate], judge: list[float], weights: tuple) -> list[int]:
    """z(judge) + a z(BM25) + b z(cosine) + r z(RRF prior), ``weights`` = (a, b, r)."""
    parts = [zscores(judge), *map(zscores, prior_parts(found)),
             zscores([f.prefilter_score for f in found])]
    return ordered(found, parts, (1, *weights))


def train_runs(c: Collection) -> list[tuple[str, list[Candidate], list[float]]]:
    dump = json.loads((corpus_index.RAW / "fusion-gloss-240-depth10.json").read_text())
    return [(q, [Candidate(**f) for f in r["found"]],
             [r["judge"][str(f["chunk_id"])] for f in r["found"]]) for q, r in dump.items()]


def stored_runs(c: Collection) -> list[tuple[str, list[Candidate], list[float]]]:
    judge, rep = c.ix.judge(), c.ix.representation()
    cands, _ = c.prefilter(10)
    out = []
    for q, found in cands.items():
        got = c.ix.store.judgments(c.queries[q], [f.chunk_id for f in found], rep.id,
                                   judge.version().id)
        if len(got) == len(found):
            out.append((q, found, [got[f.chunk_id].score for f in found]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", default=None, type=set_spec,
                    help="collection:split whose stored judgments to check on")
    args = ap.parse_args()
    c = Collection(*(args.check or ("scifact", "train")))
    runs = stored_runs(c) if args.check else train_runs(c)

    def ndcg(scale: float | None) -> float:
        return round(statistics.fmean(scifact.ndcg_at(c.docs_of(fused(found, judge, scale)),
                                                      c.qrels[q]) for q, found, judge in runs), 4)

    scales = SCALES if not args.check else (3.0,)
    rows = [{"judge": "z-score (default)", "ndcg@10": ndcg(None)}]
    rows += [{"judge": f"raw x {s:g}", "ndcg@10": ndcg(s)} for s in scales]
    print(f"{len(runs)} queries")
    print(scifact.markdown_table(rows, list(rows[0])))
    if not args.check:
        print(scifact.markdown_table(grid(c, runs), ["bm25", "cosine", "rrf", "all", "A", "B"]))


def grid(c: Collection, runs) -> list[dict]:
    """The fourth-term grid, best first."""
    def ndcg(weights: tuple, part: list) -> float:
        return round(statistics.fmean(scifact.ndcg_at(c.docs_of(mixed(found, judge, weights)),
                                                      c.qrels[q]) for q, found, judge in part), 4)

    rows = [{"bm25": a, "cosine": b, "rrf": r, "all": ndcg((a, b, r), runs),
             "A": ndcg((a, b, r), runs[::2]), "B": ndcg((a, b, r), runs[1::2])}
            for a, b, r in itertools.product(GRID, GRID, (*GRID, 2.0))]
    return sorted(rows, key=lambda r: -r["all"])


if __name__ == "__main__":
    main()
