"""Issue 23: a trained judge as one merged model file against the base model + LoRA adapter.

    python -m bench.studies.merged_judge --adapter bench/cache/adapters/labels-listwise-2ep-r8.gguf

Folds the adapter into Gemma 3 270M (glossdb.train.merge, to a scratch folder), then judges
the same SciFact dev queries' top 10 with the adapter applied at run time (a copy of it,
alone in that folder, so no merged twin beside it is picked up) and with the merged file,
each on a cold copy of the index (no stored judgments), in the order adapter, merged,
adapter, merged: seconds per query (the mean of the two runs' medians), how far the judge's
log-odds of each pair move between the two forms, and nDCG@10 of each. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from .. import judge_train
from ..hybrid import Collection, evaluate


def run(adapter: str, model: str, qids: list[str]) -> tuple[float, dict, dict]:
    """(median seconds per query, judge score per (query, chunk), runs) on a cold copy."""
    c = Collection("scifact", "train", cold=True)
    judge_train.FEATURES.clear()
    cfg = {"fusion_weight": 2.0, "judge_lead_chars": 240, "judge_method": "relevance",
           "judge_adapter": str(Path(adapter).resolve()) if adapter else ""}
    if model:
        cfg["model"] = model
    runs, secs, _ = judge_train.run_set(c, qids, 10, **cfg)
    scores = {(f["q"], f["chunk"]): f["judge"] for f in judge_train.FEATURES}
    c.ix.close()
    return statistics.median(secs), scores, runs


def main() -> None:
    from glossdb.models import resolve_model
    from glossdb.train.merge import merge_lora

    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--queries", type=int, default=40)
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="merged-judge-"))
    adapter = shutil.copy(args.adapter, scratch / "adapter.gguf")
    out = scratch / "merged.gguf"
    t = time.perf_counter()
    merge_lora(resolve_model("gemma3-270m")[1], adapter, out)
    merge_s = time.perf_counter() - t
    c = Collection("scifact", "train")
    qids = judge_train.split_train(sorted(c.queries))[1][: args.queries]
    qrels = {q: c.qrels[q] for q in qids}
    timings: dict[str, list[float]] = {"adapter": [], "merged": []}
    scores, ndcg = {}, {}
    for form in ("adapter", "merged", "adapter", "merged"):
        secs, scores[form], runs = (run(str(adapter), "", qids) if form == "adapter"
                                    else run("", str(out), qids))
        timings[form].append(secs)
        ndcg[form] = evaluate(runs, qrels, 10)["ndcg@10"]
    shared = scores["adapter"].keys() & scores["merged"].keys()
    moved = [abs(scores["adapter"][k] - scores["merged"][k]) for k in shared]
    print(json.dumps({
        "adapter": Path(args.adapter).stem, "queries": len(qids), "pairs": len(shared),
        "merge_s": round(merge_s, 1), "merged_mb": round(out.stat().st_size / 1e6, 1),
        "p50_adapter_s": round(statistics.fmean(timings["adapter"]), 3),
        "p50_merged_s": round(statistics.fmean(timings["merged"]), 3),
        "speedup": round(statistics.fmean(timings["adapter"])
                         / statistics.fmean(timings["merged"]), 3),
        "score_moved_mean": round(statistics.fmean(moved), 4),
        "score_moved_max": round(max(moved), 4),
        "ndcg@10_adapter": ndcg["adapter"], "ndcg@10_merged": ndcg["merged"]}))
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
