"""The judge's raw score instead of its z-score in the fusion (not adopted): per query the
judge counts in proportion to how far apart it puts the candidates (nats per token), so a
judge that cannot tell them apart defers to the prior.

    python -m bench.judge_scale            # SciFact train: fusion-gloss-240-depth10.json
    python -m bench.judge_scale --check cranfield:test   # stored judgments of bench.hybrid

fused = c * (judge - its mean) + z(BM25) + z(cosine), against the default
z(judge) + z(BM25) + z(cosine) (fusion weight 2). nDCG@10 over each query's top 10 chunks.
"""

from __future__ import annotations

import argparse
import json
import statistics

from glossdb.prefilter import Candidate
from glossdb.ranking import filled, zscores

from . import corpus_index, scifact
from .hybrid import Collection

SCALES = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)


def fused(found: list[Candidate], judge: list[float], scale: float | None) -> list[int]:
    lex = zscores(filled([f.lexical_score for f in found]))
    vec = zscores(filled([f.vector_score for f in found]))
    mean = statistics.fmean(judge)
    own = zscores(judge) if scale is None else [scale * (j - mean) for j in judge]
    total = [a + b + c for a, b, c in zip(own, lex, vec)]
    order = sorted(range(len(found)), key=lambda i: (-total[i], found[i].prefilter_rank))
    return [found[i].chunk_id for i in order]


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
    ap.add_argument("--check", default="", help="a set whose stored judgments to check on")
    args = ap.parse_args()
    c = Collection(*(args.check or "scifact:train").split(":"))
    runs = stored_runs(c) if args.check else train_runs(c)

    def ndcg(scale: float | None) -> float:
        return round(statistics.fmean(scifact.ndcg_at(c.docs_of(fused(found, judge, scale)),
                                                      c.qrels[q]) for q, found, judge in runs), 4)

    scales = SCALES if not args.check else (3.0,)
    rows = [{"judge": "z-score (default)", "ndcg@10": ndcg(None)}]
    rows += [{"judge": f"raw x {s:g}", "ndcg@10": ndcg(s)} for s in scales]
    print(f"{len(runs)} queries")
    print(scifact.markdown_table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
