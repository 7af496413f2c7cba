"""Study (issue 25): which cascade design lets the semantic filter meet its recall target
while the judge reads few rows?

    python -m bench.studies.filter_cascade dump --queries 120
    python -m bench.studies.filter_cascade simulate

``dump`` judges every row of each SciFact train claim's prefilter top ``--rows`` (the claim
as the condition, the judge's verdict "match" or better as the truth a cascade is measured
against) and keeps, per row in the prefilter's order, its prefilter score and verdict in
bench/cache/filter-rows-<judge>.json. ``simulate`` replays :func:`glossdb.semantic.plan`
over those rows (many seeds each) for each design, on the tuning queries (four fifths of
train) and the dev fifth apart: the share of (query, seed) runs whose recall against the
judge meets the target, and the mean share of rows the judge reads (the sample included).
No model is loaded by ``simulate``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics

from glossdb import semantic

from .. import corpus_index, scifact
from ..gloss_cache import CACHE
from ..judge_train import split_train, trained_judge


def dump(args) -> None:
    from glossdb import Index

    queries, qrels = scifact.queries(), scifact.qrels("train")
    tune, dev = split_train(list(qrels))
    qids = dev[: args.queries // 3] + tune[: args.queries - args.queries // 3]
    ix = Index(corpus_index.cold_copy("scifact", corpus_index.RAW / "scifact-cascade.glossdb"),
               **trained_judge(args.adapter))
    out = {"judge": ix.judge().version().name, "rows": args.rows, "queries": {}}
    for n, q in enumerate(qids):
        found = ix.prefilter.candidates(queries[q], args.rows)
        verdicts = ix._verdicts(queries[q], [c.chunk_id for c in found])
        out["queries"][q] = {"dev": q in dev, "proxy": [c.prefilter_score for c in found],
                             "positive": [verdicts.get(c.chunk_id) in ("match", "strong match")
                                          for c in found]}
        print(n, q, sum(out["queries"][q]["positive"]), flush=True)
    ix.close()
    path = CACHE / f"filter-rows-{out['judge']}.json"
    path.write_text(json.dumps(out))
    print("written", path)


def rank_probabilities(proxy, by_rank: float, uniform: float = 0.1) -> list[float]:
    """The draw measured against glossdb.semantic's: proportional to rank ** -by_rank (rank
    1 the highest proxy), mixed with ``uniform`` of the uniform distribution."""
    order = sorted(range(len(proxy)), key=lambda i: -proxy[i])
    weights = [0.0] * len(proxy)
    for rank, i in enumerate(order, 1):
        weights[i] = rank ** -by_rank
    total, n = sum(weights), len(proxy)
    return [(1 - uniform) * w / total + uniform / n for w in weights]


def replay(proxy, positive, target, seed, sample=20, delta=0.1, cautious=True,
           precision=None, by_rank=None, uniform=0.1) -> tuple[bool, float, float]:
    """(recall met, share of rows judged, precision against the judge) of one filter run
    as Index.filter runs it (``by_rank``: drawn by :func:`rank_probabilities` instead)."""
    size = min(sample, 4 * len(proxy))
    if by_rank is None:
        picks, probs = semantic.draw(proxy, size, seed, uniform)
    else:
        probs = rank_probabilities(proxy, by_rank, uniform)
        picks = semantic.picks_of(probs, size, seed)
    pos = dict(enumerate(positive))
    p = semantic.plan(proxy, picks, probs, pos, target, delta, cautious)
    accept = (semantic.accept_threshold(proxy, picks, probs, pos, precision, delta)
              if precision else None)
    accept = math.inf if accept is None else accept
    judged = set(picks) | {i for i, x in enumerate(proxy) if p.threshold <= x < accept}
    kept = {i for i in judged if positive[i]} | {
        i for i, x in enumerate(proxy) if x >= accept and i not in judged}
    total, hits = sum(positive), sum(positive[i] for i in kept)
    return ((hits >= target * total - 1e-9 if total else True), len(judged) / len(proxy),
            hits / len(kept) if kept else 1.0)


def oracle(positive: list[bool], target: float) -> float:
    """The share of rows (best prefilter score first) a cascade that knew every verdict
    would judge to keep ``target`` of the positives."""
    need, seen = target * sum(positive), 0
    for n, p in enumerate(positive, 1):
        seen += p
        if seen >= need - 1e-9:
            return n / len(positive)
    return 1.0


def two_tier_oracle(positive: list[bool], recall: float, precision: float) -> float:
    """The least share of rows judged by a cascade that knew every verdict and may keep the
    best rows unjudged, reject the worst, judge between: recall and precision against the
    judge at least the targets."""
    n, total, best = len(positive), sum(positive), 1.0
    if not total:
        return 0.0
    for a in range(n + 1):  # rows [0, a) kept unjudged, [a, b) judged, [b, n) rejected
        for b in range(a, n + 1):
            hits, kept = sum(positive[:b]), a + sum(positive[a:b])
            if hits >= recall * total - 1e-9 and kept and hits / kept >= precision - 1e-9:
                best = min(best, (b - a) / n)
                break
    return best


def synthetic(target: float, design: dict, draws: int = 200) -> float:
    """The share of draws meeting the recall target on the test suite's synthetic world (400
    rows, 40 positives, the proxy 3 standard deviations higher for them; a sample of 60)."""
    import random

    met = 0
    for seed in range(draws):
        rng = random.Random(seed)
        truth = set(rng.sample(range(400), 40))
        proxy = [rng.gauss(3.0 if i in truth else 0.0, 1.0) for i in range(400)]
        met += replay(proxy, [i in truth for i in range(400)], target, seed,
                      **{**design, "sample": 60})[0]
    return met / draws


def simulate(args) -> None:
    for path in [args.rows_file] if args.rows_file else sorted(CACHE.glob("filter-rows-*.json")):
        simulate_one(args, json.loads(open(path).read()))
        print()


def simulate_one(args, data: dict) -> None:
    print(data["judge"], f"{len(data['queries'])} claims")
    designs = {"landed (sqrt of score)": {}, "no unseen positive": {"cautious": False}}
    for a in (0.5, 1.0):
        designs[f"rank^-{a}"] = {"by_rank": a}
        designs[f"rank^-{a}, no unseen positive"] = {"by_rank": a, "cautious": False}
        designs[f"rank^-{a}, no unseen positive, sample 30"] = {"by_rank": a, "cautious": False,
                                                                "sample": 30}
    for a in (None, 0.5, 1.0):
        base = {} if a is None else {"by_rank": a}
        name = "sqrt of score" if a is None else f"rank^-{a}"
        designs[f"{name}, precision 0.9"] = {**base, "precision": 0.9}
        designs[f"{name}, precision 0.9, no unseen positive"] = {
            **base, "precision": 0.9, "cautious": False}
    for u in (0.3, 0.5):
        designs[f"rank^-1.0, uniform {u}"] = {"by_rank": 1.0, "uniform": u}
        designs[f"rank^-1.0, uniform {u}, precision 0.9"] = {"by_rank": 1.0, "uniform": u,
                                                             "precision": 0.9}
    for part in ("tune", "dev"):  # knowing every verdict: the first rows that hold the target
        need = [oracle(r["positive"], args.recall) for r in data["queries"].values()
                if r["dev"] == (part == "dev")]
        print(f"{'oracle (every verdict known)':40} {part:5} judged {statistics.fmean(need):.3f}")
        two = [two_tier_oracle(r["positive"], args.recall, 0.9) for r in data["queries"].values()
               if r["dev"] == (part == "dev")]
        print(f"{'oracle with an accept tier (0.9)':40} {part:5} judged {statistics.fmean(two):.3f}"
              f" (<= 0.4 on {sum(x <= 0.4 for x in two) / len(two):.2f} of claims)")
    for name, design in designs.items():
        for part in ("tune", "dev"):
            met, share, prec = [], [], []
            for q, r in data["queries"].items():
                if r["dev"] != (part == "dev"):
                    continue
                for seed in range(args.seeds):
                    m, s, pr = replay(r["proxy"], r["positive"], args.recall, seed,
                                      **{"sample": args.sample, **design})
                    met.append(m)
                    share.append(s)
                    prec.append(pr)
            print(f"{name:40} {part:5} runs {len(met):5} met {statistics.fmean(met):.3f} "
                  f"judged {statistics.fmean(share):.3f} precision {statistics.fmean(prec):.3f}")
        print(f"{name:40} synthetic world of tests/test_semantic.py: met "
              f"{synthetic(args.recall, design):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--queries", type=int, default=120)
    d.add_argument("--rows", type=int, default=100)
    d.add_argument("--adapter", default="")
    s = sub.add_parser("simulate")
    s.add_argument("--rows-file", default="")
    s.add_argument("--recall", type=float, default=0.9)
    s.add_argument("--sample", type=int, default=20)
    s.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    {"dump": dump, "simulate": simulate}[args.cmd](args)


if __name__ == "__main__":
    main()
