"""Issue 13: do glossed and unglossed candidates rank fairly side by side?

    python -m bench.studies.mixed --seeds 2 [--gloss 40]

On the SciFact test queries whose hybrid top 10 all have cached glosses (`--gloss N` first
glosses the top 10 of the first N test queries with the default writer), each query's
candidates are judged with a share of them (0, 25, 50, 100 %) read as their gloss and the
rest as their 240-character lead (what search does on a partly glossed index), chosen at
random (`--seeds` draws) or in usage order (the candidates of earlier queries first), then
fused as search fuses. Prints nDCG@10 per share with a paired bootstrap 95 % interval of
its difference from the all-leads point (the noise over queries); writes
bench/results/mixed.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics

from glossdb.ranking import rank

from .. import scifact
from ..hybrid import RESULTS, Collection

SHARES = (0.0, 0.25, 0.5, 1.0)


def gloss_first(c: Collection, n: int) -> None:
    """Gloss (default writer, cached in bench/cache/) the top 10 of the first n queries."""
    from ..faithfulness import gloss_all

    ix = c.ix
    wanted = {f.chunk_id for text in list(c.queries.values())[:n]
              for f in ix.prefilter.candidates(text, 10)}
    gloss_all(ix, ix.describer().spec, ix.store.get_chunks(wanted))


def paired_ci(diffs: list[float], rounds: int = 2000) -> tuple[float, float]:
    rng = random.Random(0)
    means = sorted(statistics.fmean(rng.choices(diffs, k=len(diffs))) for _ in range(rounds))
    return round(means[int(0.025 * rounds)], 4), round(means[int(0.975 * rounds)], 4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--gloss", type=int, default=0)
    args = ap.parse_args()
    c = Collection("scifact", "test")
    ix, judge, rep = c.ix, c.ix.judge(), c.ix.representation()
    if args.gloss:
        gloss_first(c, args.gloss)
    weight = ix.config.fusion_weight
    cases = []
    for qid, text in c.queries.items():
        found = ix.prefilter.candidates(text, 10)
        chunks = ix.store.get_chunks(f.chunk_id for f in found)
        glosses = ix.store.glosses(rep.id, chunks)
        if len(glosses) == len(chunks):
            cases.append((qid, text, found, chunks, glosses))
    cache: dict[tuple[str, int, bool], float] = {}

    def score(qid, text, found, chunks, glosses, glossed: set[int]) -> float:
        todo = [f.chunk_id for f in found if (qid, f.chunk_id, f.chunk_id in glossed) not in cache]
        inputs = [judge.candidate_text(chunks[cid], glosses[cid] if cid in glossed else None)
                  for cid in todo]
        for cid, s in zip(todo, judge.score_uncached(text, inputs) if todo else []):
            cache[(qid, cid, cid in glossed)] = s
        scores = {f.chunk_id: cache[(qid, f.chunk_id, f.chunk_id in glossed)] for f in found}
        return scifact.ndcg_at(c.docs_of(rank(found, scores, weight)), c.qrels[qid])

    rows = []
    leads = [score(q, t, f, ch, g, set()) for q, t, f, ch, g in cases]

    def row(order: str, share: float, vals: list[float]) -> dict:
        low, high = paired_ci([v - b for v, b in zip(vals, leads)])
        return {"order": order, "glossed": share, "ndcg@10": round(statistics.fmean(vals), 4),
                "diff_ci95": [low, high]}

    for seed in range(args.seeds):
        rng = random.Random(seed)
        for share in SHARES:
            vals = []
            for qid, text, found, chunks, glosses in cases:
                ids = [f.chunk_id for f in found]
                glossed = set(rng.sample(ids, round(share * len(ids))))
                vals.append(score(qid, text, found, chunks, glosses, glossed))
            rows.append(row(f"random (seed {seed})", share, vals))
    seen: set[int] = set()
    order = []
    for _, _, found, _, _ in cases:  # usage order: what earlier queries touched
        for f in found:
            if f.chunk_id not in seen:
                seen.add(f.chunk_id)
                order.append(f.chunk_id)
    for share in SHARES:
        glossed = set(order[: round(share * len(order))])
        vals = [score(q, t, f, ch, g, glossed) for q, t, f, ch, g in cases]
        rows.append(row("usage", share, vals))
    out = {"queries": len(cases), "representation": rep.name, "rows": rows,
           "machine": scifact.machine(), "date": scifact.today()}
    print(scifact.markdown_table(rows, ["order", "glossed", "ndcg@10", "diff_ci95"]))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mixed.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
