"""Issue 12: are the verdicts calibrated? Precision and recall of "match or better".

    python -m bench.calibration

Pairs: the 400 SciFact *train* queries of the fusion study (bench.studies.fusion_study, depth 10;
judged as search judges: the gloss where the cache has one, else the lead), each candidate
labelled relevant when its document is in the train qrels. Two signals: the lift (judge score
minus the query's score after an empty passage) and the fused score that ranks. For each:
ROC AUC over all pairs, and precision/recall/F1 of "match or better" at the thresholds in
force; for the lift also the thresholds that reach the best F1 (match), precision 0.5 (strong)
and recall 0.9 (weak). Writes bench/results/calibration.json.
"""

from __future__ import annotations

import json

from glossdb import judge as judge_mod
from glossdb.prefilter import Candidate
from glossdb.ranking import final_scores

from . import corpus_index, scifact
from .hybrid import RESULTS, doc_of

STUDY = corpus_index.RAW / "fusion-gloss-240-depth10.json"


def auc(pos: list[float], neg: list[float]) -> float:
    """ROC AUC: the chance a relevant pair outscores an irrelevant one (ties count half)."""
    ranked = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # average 1-based rank of the tie block
        rank_sum += mid * sum(lab for _, lab in ranked[i:j])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def prf(pairs: list[tuple[float, bool]], threshold: float) -> dict:
    tp = sum(1 for s, rel in pairs if s >= threshold and rel)
    fp = sum(1 for s, rel in pairs if s >= threshold and not rel)
    fn = sum(1 for s, rel in pairs if s < threshold and rel)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"threshold": round(threshold, 3), "precision": round(p, 3), "recall": round(r, 3),
            "f1": round(f1, 3), "selected": tp + fp}


def sweep(pairs: list[tuple[float, bool]]) -> list[dict]:
    cuts = sorted({round(s, 2) for s, _ in pairs})
    return [prf(pairs, t) for t in cuts[:: max(1, len(cuts) // 400)]]


def main() -> None:
    study = json.loads(STUDY.read_text())
    ix, _ = corpus_index.open_index("scifact")
    judge = ix.judge()
    queries, qrels = scifact.queries(), scifact.qrels("train")
    chunks = ix.store.get_chunks(ix.store.chunk_ids())
    lift_pairs, fused_pairs, floored = [], [], []
    for qid, row in study.items():
        found = [Candidate(**c) for c in row["found"]]
        scores = {int(k): v for k, v in row["judge"].items()}
        base = judge.baseline(queries[qid])
        fused = final_scores(found, scores, ix.config.fusion_weight)
        for cand, f in zip(found, fused):
            rel = doc_of(chunks[cand.chunk_id].uri) in qrels[qid]
            lift = scores[cand.chunk_id] - base
            lift_pairs.append((lift, rel))
            fused_pairs.append((f, rel))
            floored.append((f if lift >= judge_mod.WEAK_LIFT else -99.0, rel))
    out = {"queries": len(study), "pairs": len(lift_pairs),
           "relevant_pairs": sum(r for _, r in lift_pairs), "judge": judge.version().name}
    for name, pairs in (("lift", lift_pairs), ("fused", fused_pairs)):
        out[f"{name}_auc"] = round(auc([s for s, r in pairs if r], [s for s, r in pairs if not r]), 4)
    out["lift_in_force"] = {v: prf(lift_pairs, t) for v, t in (
        ("strong match", judge_mod.STRONG_LIFT), ("match or better", judge_mod.MATCH_LIFT),
        ("weak match or better", judge_mod.WEAK_LIFT))}
    curve = sweep(lift_pairs)
    out["lift_best_f1"] = max(curve, key=lambda r: r["f1"])
    out["lift_precision_0.5"] = min((r for r in curve if r["precision"] >= 0.5),
                                    key=lambda r: r["threshold"], default=None)
    out["lift_recall_0.9"] = max((r for r in curve if r["recall"] >= 0.9),
                                 key=lambda r: r["threshold"], default=None)
    for name, pairs in (("fused", fused_pairs), ("fused_lift_floor", floored)):
        curve = sweep(pairs)
        out[f"{name}_best_f1"] = max(curve, key=lambda r: r["f1"])
        out[f"{name}_precision_0.8"] = min((r for r in curve if r["precision"] >= 0.8),
                                           key=lambda r: r["threshold"], default=None)
        out[f"{name}_recall_0.9"] = max((r for r in curve if r["recall"] >= 0.9),
                                        key=lambda r: r["threshold"], default=None)
    out["fused_in_force"] = {v: prf(floored, t) for v, t in (
        ("strong match", judge_mod.STRONG_FUSED), ("match or better", judge_mod.MATCH_FUSED),
        ("weak match or better", judge_mod.WEAK_FUSED))}
    out.update(machine=scifact.machine(), date=scifact.today())
    print(json.dumps(out, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "calibration.json").write_text(json.dumps(out, indent=2) + "\n")
    ix.close()


if __name__ == "__main__":
    main()
