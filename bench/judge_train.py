"""Issue 23: judge versions trained from labels, feedback and the corpus itself.

    python -m bench.judge_train pairs                 # SciFact train pairs (+ dev split)
    python -m bench.judge_train train --source labels # a LoRA adapter from them
    python -m bench.judge_train eval --adapter bench/cache/adapters/labels.gguf

SciFact train queries are split once: every 5th query is *dev* (fusion weight and verdict
thresholds are chosen there), the rest give training pairs. SciFact test and Cranfield are
only ever evaluated. Writes bench/results/judge.json rows {set, system, default,
judge_version, train_source, train_pairs, queries, ndcg@10, judge_gain, s_per_query,
train_s}.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from dataclasses import asdict, replace
from pathlib import Path

from glossdb.judge import relevance_probability
from glossdb.models import resolve_model
from glossdb.train.pairs import (Pair, corpus_labels, corpus_pairs, labeled_pairs,
                                 writer_questions)
from glossdb.training import chunk_labels

from tqdm import tqdm

from . import gloss_cache
from .hybrid import RESULTS, Collection, evaluate

PAIRS = gloss_cache.CACHE / "pairs"
FEATURES: list[dict] = []  # per judged pair, for bench/results/judge-pairs-*.jsonl.gz
ADAPTERS = gloss_cache.CACHE / "adapters"


def split_train(qids: list[str]) -> tuple[list[str], list[str]]:
    """(training queries, dev queries): every 5th query of the sorted ids is dev."""
    ordered = sorted(qids, key=lambda q: (len(q), q))
    return [q for i, q in enumerate(ordered) if i % 5], ordered[::5]


def trained_judge(adapter: str) -> dict:
    """Index settings for the judge version of a trained adapter ({} for the shipped one)."""
    if not adapter:
        return {}
    return {"judge_method": "relevance", "judge_adapter": str(Path(adapter).resolve())}


def query_labels(c: Collection, qids: list[str]) -> dict[str, dict[int, int]]:
    """{query text: {chunk id: grade}} from the collection's qrels, mapped as `glossdb train
    --qrels` maps them (every chunk of a relevant document)."""
    labels = chunk_labels(c.ix.store, {c.queries[q]: c.qrels[q] for q in qids})
    return {q: marked for q, marked in labels.items() if marked}


def feedback_labels_sim(c: Collection, qids: list[str], k: int = 10) -> dict:
    """A user's clicks, simulated: each of the top ``k`` prefilter candidates of a query
    marked relevant or not by the qrels (what a user marking every hit shown would give)."""
    out = {}
    for q in qids:
        found = [f.chunk_id for f in c.ix.prefilter.candidates(c.queries[q], k)]
        out[c.queries[q]] = {cid: int(c.qrels[q].get(c.doc[cid], 0) > 0) for cid in found}
    return out


def save_pairs(name: str, pairs: list[Pair]) -> Path:
    PAIRS.mkdir(parents=True, exist_ok=True)
    path = PAIRS / f"{name}.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        for p in pairs:
            fh.write(json.dumps(asdict(p)) + "\n")
    return path


def load_pairs(name: str) -> list[Pair]:
    with gzip.open(PAIRS / f"{name}.jsonl.gz", "rt") as fh:
        return [Pair(**json.loads(line)) for line in fh]


def cmd_pairs(args) -> None:
    if args.questions:
        return question_pairs(args)
    c = Collection("scifact", "train")
    c.ix.config = replace(c.ix.config, judge_lead_chars=args.lead)
    suffix = (f"-lead{args.lead}" if args.lead != 240 else "") + (
        f"-neg{args.negatives}" if args.negatives != 3 else "")
    train_q, dev_q = split_train(list(c.queries))
    t = time.perf_counter()
    pairs = labeled_pairs(c.ix, query_labels(c, train_q), args.negatives, args.depth)
    path = save_pairs(f"scifact-labels{suffix}", pairs)
    print(f"{len(pairs)} pairs ({sum(p.label for p in pairs)} positive) of {len(train_q)} "
          f"queries in {time.perf_counter() - t:.0f} s -> {path}; dev: {len(dev_q)} queries")
    if args.feedback:
        sim = feedback_labels_sim(c, train_q[::2])
        fp = labeled_pairs(c.ix, sim, negatives=0, source="feedback")
        print(f"feedback (top 10 of {len(sim)} queries marked): {len(fp)} pairs "
              f"({sum(p.label for p in fp)} positive) -> {save_pairs('scifact-feedback', fp)}")
    if args.corpus:
        for name in ("scifact", "cranfield"):
            split = "train" if name == "scifact" else "test"
            cc = c if name == "scifact" else Collection(name, split)
            cp = corpus_pairs(cc.ix, args.negatives, args.depth, limit=args.corpus)
            print(f"{name}: {len(cp)} corpus pairs -> {save_pairs(f'{name}-corpus', cp)}")


def question_pairs(args) -> None:
    """Pairs whose queries the writer model wrote, one question per sampled chunk (for
    ``--questions-set``, a collection whose queries are never read). The questions are kept
    (``<set>-questions-labels-<N>.json``), so other negative samplings reuse them, and in the
    collection's index (glossdb.store.questions), so a larger sample asks only of the chunks
    it adds."""
    name, split = args.questions_set.split(":")
    c = Collection(name, split)
    saved = PAIRS / f"{name}-questions-labels-{args.questions}.json"
    t = time.perf_counter()
    if saved.exists():
        labels = {q: {int(k): g for k, g in m.items()} for q, m in
                  json.loads(saved.read_text()).items()}
    else:
        bar = tqdm(total=args.questions, desc=f"questions {name}")
        ask = writer_questions(c.ix.model("writer"), progress=bar.update, store=c.ix.store)
        labels = corpus_labels(c.ix, limit=args.questions, ask=ask)
        bar.close()
        PAIRS.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(labels))
    qp = labeled_pairs(c.ix, labels, args.negatives, args.depth, source="questions",
                       hard=args.hard, found_within=args.found_within)
    suffix = (f"-n{args.questions}" if args.questions != 600 else "") + (
        f"-hard{args.hard}-d{args.depth}" if args.hard is not None else "") + (
        f"-f{args.found_within}" if args.found_within else "")
    path = save_pairs(f"{name}-questions{suffix}", qp)
    print(f"{name}: {len(qp)} question pairs ({sum(p.label for p in qp)} positive) of "
          f"{len({p.query for p in qp})} of {len(labels)} questions in "
          f"{time.perf_counter() - t:.0f} s -> {path}")
    for p in qp[:40:8]:
        print("  ", p.query)


def cmd_train(args) -> None:
    from glossdb.train.lora import TrainSpec, train

    pairs = [p for name in args.source.split("+") for p in load_pairs(name)]
    if args.limit:
        pairs = pairs[: args.limit]
    spec = TrainSpec(rank=args.rank, lr=args.lr, epochs=args.epochs, batch=args.batch,
                     max_tokens=args.max_tokens, objective=args.objective)
    _, path = resolve_model("gemma3-270m")
    out = ADAPTERS / f"{args.out or args.source}.gguf"
    started = time.perf_counter()

    def progress(step, steps, loss):
        if step % 10 == 0 or step == steps:
            print(f"step {step}/{steps} loss {loss:.3f} {time.perf_counter() - started:.0f}s",
                  flush=True)

    digest, report = train(path, pairs, out, spec, progress=progress,
                           metadata={"source": args.source})
    log = {"adapter": str(out), "sha256": digest, "source": args.source, "pairs": report.pairs,
           "steps": report.steps, "train_s": report.seconds,
           "s_per_1000_pairs": report.s_per_1000_pairs, "spec": spec.describe(),
           "loss_first": statistics.fmean(report.losses[:20]),
           "loss_last": statistics.fmean(report.losses[-20:])}
    out.with_suffix(".json").write_text(json.dumps(log, indent=1) + "\n")
    print(json.dumps(log))


def run_set(c: Collection, qids: list[str], depth: int, **config):
    """The pipeline over ``qids``: runs (judged top ``depth`` then the prefilter's order),
    seconds per query, and (verdict, probability or None, relevant) per judged pair."""
    ix = c.ix
    ix.config = replace(ix.config, **config)
    pipeline = ix.pipeline()
    runs, secs, pairs = {}, [], []
    trained = ix.config.judge_method == "relevance"
    for q in tqdm(qids, desc=f"judge {c.name}", leave=False):
        text = c.queries[q]
        t = time.perf_counter()
        found = ix.prefilter.candidates(text, 100)
        ranked = pipeline.rank(text, depth, candidates=found[:depth])
        secs.append(time.perf_counter() - t)
        runs[q] = c.docs_of(ranked.order + [f.chunk_id for f in found[depth:]])
        by_id = {f.chunk_id: f for f in found}
        for cid in ranked.order:
            p = relevance_probability(ranked.judged[cid].score) if trained else None
            rel = c.qrels[q].get(c.doc[cid], 0) > 0
            pairs.append((ranked.verdicts[cid], p, rel))
            f = by_id[cid]
            FEATURES.append({"set": f"{c.name}:{c.split}", "q": q, "chunk": cid,
                             "judge": ranked.judged[cid].score, "bm25": f.lexical_score,
                             "cosine": f.vector_score, "prior": f.prefilter_score,
                             "fused": ranked.fused[cid], "relevant": int(rel)})
    return runs, secs, pairs


def calibration(pairs) -> dict:
    """"match or better" precision/recall over judged pairs; with probabilities, the
    reliability diagram (10 bins) and the expected calibration error."""
    matched = [rel for v, _, rel in pairs if v in ("match", "strong match")]
    relevant = sum(rel for _, _, rel in pairs)
    out = {"pairs": len(pairs), "match_precision": round(sum(matched) / max(1, len(matched)), 3),
           "match_recall": round(sum(matched) / max(1, relevant), 3)}
    probs = [(p, rel) for _, p, rel in pairs if p is not None]
    if probs:
        bins = [[] for _ in range(10)]
        for p, rel in probs:
            bins[min(9, int(p * 10))].append((p, rel))
        diagram = [{"bin": f"{i / 10:.1f}-{(i + 1) / 10:.1f}", "pairs": len(b),
                    "mean_p": round(statistics.fmean(p for p, _ in b), 3),
                    "relevant": round(statistics.fmean(r for _, r in b), 3)}
                   for i, b in enumerate(bins) if b]
        out["ece"] = round(sum(d["pairs"] * abs(d["mean_p"] - d["relevant"]) for d in diagram)
                           / len(probs), 4)
        out["reliability"] = diagram
    return out


def prefilter_runs(c: Collection, qids: list[str]) -> dict:
    return {q: c.docs_of([f.chunk_id for f in c.ix.prefilter.candidates(c.queries[q], 100)])
            for q in qids}


def adapter_info(adapter: str) -> dict:
    """What the adapter's training log says: source, pairs, seconds."""
    if not adapter:
        return {"train_source": "none (shipped judge)", "train_pairs": 0, "train_s": 0.0}
    log = Path(adapter).with_suffix(".json")
    info = json.loads(log.read_text()) if log.exists() else {}
    return {"train_source": info.get("source", "?"), "train_pairs": info.get("pairs", 0),
            "train_s": info.get("train_s", 0.0),
            "s_per_1000_pairs": info.get("s_per_1000_pairs")}


def cmd_eval(args) -> None:
    name, split = args.set.split(":")
    c = Collection(name, split, cold=True)
    qids = sorted(c.queries)
    if split == "train":
        qids = split_train(qids)[1]
    if args.queries:
        qids = qids[:: max(1, len(qids) // args.queries)][: args.queries]
    qrels = {q: c.qrels[q] for q in qids}
    base = evaluate(prefilter_runs(c, qids), qrels, 10)["ndcg@10"]
    rows = []
    for depth in [int(d) for d in str(args.depth).split(",")]:
        for weight in [float(w) for w in args.weights.split(",")]:
            cfg = {"fusion_weight": weight, "judge_lead_chars": args.lead}
            if args.model:
                cfg["model"] = args.model
            cfg.update(trained_judge(args.adapter))
            runs, secs, pairs = run_set(c, qids, depth, **cfg)
            m = evaluate(runs, qrels, 10)
            rows.append({
                "set": args.set, "system": args.system or (
                    f"trained judge ({Path(args.adapter).stem})" if args.adapter
                    else f"query-likelihood judge ({args.model or 'shipped'})"),
                "default": False, "judge_version": c.ix.judge().version().name,
                **adapter_info(args.adapter), "queries": len(qids), "depth": depth,
                "fusion_weight": weight, "judge_lead_chars": args.lead, "ndcg@10": m["ndcg@10"], "prefilter_ndcg@10": base,
                "judge_gain": round(m["ndcg@10"] - base, 4),
                "s_per_query": round(statistics.fmean(secs), 3),
                "p50_s": round(statistics.median(secs), 3), **calibration(pairs)})
            print(json.dumps(rows[-1]), flush=True)
    with open(RESULTS / "judge-eval-log.jsonl", "a") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    if args.features:
        with gzip.open(PAIRS / f"features-{args.features}.jsonl.gz", "wt") as fh:
            for row in FEATURES:
                fh.write(json.dumps(row) + "\n")


def cmd_report(args) -> None:
    """bench/results/judge.json from the eval log: the latest row per (set, system, depth,
    weight), the shipped query-likelihood judge's rows from bench/results/hybrid.json (same
    prefilter, same queries), and ``default`` marked as given."""
    latest: dict[tuple, dict] = {}
    for line in (RESULTS / "judge-eval-log.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["set"] in ("scifact:test", "cranfield:test"):
            latest[(r["set"], r["system"], r["depth"], r["fusion_weight"])] = r
    rows = []
    defaults = dict(d.split("=", 1) for d in args.default)
    hybrid = json.loads((RESULTS / "hybrid.json").read_text())
    prefilter = {x["set"]: x["ndcg@10"] for x in hybrid
                 if x["system"].startswith("glossdb prefilter")}
    for h in hybrid:
        if h["system"].startswith("glossdb "):
            pre = prefilter[h["set"]]
            name = h["system"] + " (bench.hybrid)"
            rows.append({"set": h["set"], "system": name,
                         "default": defaults.get(h["set"]) == name, "judge_version": "shipped" if h["llm"] else "-",
                         "train_source": "-", "train_pairs": 0, "queries": h["queries"],
                         "ndcg@10": h["ndcg@10"], "judge_gain": round(h["ndcg@10"] - pre, 4),
                         "s_per_query": h["s_per_query"], "train_s": 0.0})
    for r in latest.values():
        rows.append({**r, "default": defaults.get(r["set"]) == r["system"]})
    (RESULTS / "judge.json").write_text(json.dumps(rows, indent=1) + "\n")
    for r in rows:
        print(f"{r['set']:15} {r['system'][:60]:60} {r['ndcg@10']:.4f} {r['judge_gain']:+.4f} "
              f"{r['s_per_query']:.2f}s {'default' if r['default'] else ''}")


def _ndcg_by(rows: list[dict], key, qrels: dict, docs: dict) -> float:
    by_q: dict[str, list[dict]] = {}
    for r in rows:
        by_q.setdefault(r["q"], []).append(r)
    from . import scifact

    return round(statistics.fmean(
        scifact.ndcg_at(list(dict.fromkeys(docs[r["chunk"]] for r in sorted(rs, key=key))),
                        qrels[q]) for q, rs in by_q.items()), 4)


def cmd_calibrate(args) -> None:
    """Fit the trained judge's verdict calibration on dev pairs (glossdb.calibration), and
    report its reliability on dev and test, with "match or better" precision and recall at
    the thresholds of glossdb.judge, and nDCG@10 of each ordering of the judged top 10."""
    from glossdb.calibration import fit
    from glossdb.judge import relevance_calibrated, relevance_verdict
    from glossdb.train.export import calibration_path

    def load(name):  # an eval over several weights saves each pair once per weight
        with gzip.open(PAIRS / f"features-{name}.jsonl.gz", "rt") as fh:
            first: dict[tuple, dict] = {}
            for r in map(json.loads, fh):
                first.setdefault((r["set"], r["q"], r["chunk"]), r)
            return list(first.values())
    dev, test = load(args.dev), load(args.test)
    w = fit(dev)
    print("calibration", json.dumps(w))
    if args.adapter:  # the sidecar a search with that adapter reads its verdicts from
        calibration_path(args.adapter).write_text(json.dumps(w) + "\n")
        print("written to", calibration_path(args.adapter))
    for name, rows in (("dev", dev), ("test", test)):
        probs = [relevance_calibrated(r["judge"], r["cosine"], r["prior"], w) for r in rows]
        cal = calibration([(relevance_verdict(p), p, bool(r["relevant"]))
                           for p, r in zip(probs, rows)])
        cal.pop("reliability")
        c = Collection("scifact", "train" if name == "dev" else "test")
        logit = {(r["q"], r["chunk"]): p for r, p in zip(rows, probs)}
        print(name, cal, "nDCG@10 z-fused", _ndcg_by(rows, lambda r: -r["fused"], c.qrels, c.doc),
              "calibrated", _ndcg_by(rows, lambda r: -logit[(r["q"], r["chunk"])], c.qrels, c.doc),
              "judge alone", _ndcg_by(rows, lambda r: -r["judge"], c.qrels, c.doc),
              "prior alone", _ndcg_by(rows, lambda r: -r["prior"], c.qrels, c.doc))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("--negatives", type=int, default=3)
    p.add_argument("--depth", type=int, default=30)
    p.add_argument("--corpus", type=int, default=0, help="also corpus pairs of this many chunks")
    p.add_argument("--feedback", action="store_true", help="also simulated feedback pairs")
    p.add_argument("--lead", type=int, default=240, help="judge_lead_chars of the pairs")
    p.add_argument("--questions", type=int, default=0,
                   help="only pairs of writer-made questions, for this many chunks")
    p.add_argument("--questions-set", default="cranfield:test")
    p.add_argument("--hard", type=int, default=None,
                   help="highest-ranked negatives (default: half of --negatives)")
    p.add_argument("--found-within", type=int, default=0,
                   help="drop a question its own chunk is not in the prefilter's top k of")
    t = sub.add_parser("train")
    t.add_argument("--source", default="scifact-labels")
    t.add_argument("--out", default="")
    t.add_argument("--limit", type=int, default=0)
    t.add_argument("--rank", type=int, default=8)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--epochs", type=float, default=1.0)
    t.add_argument("--batch", type=int, default=8)
    t.add_argument("--max-tokens", type=int, default=192)
    t.add_argument("--objective", default="listwise", choices=("listwise", "pointwise"))
    e = sub.add_parser("eval")
    e.add_argument("--set", default="scifact:train")
    e.add_argument("--adapter", default="")
    e.add_argument("--depth", default="10", help="judged candidates; several: 10,20")
    e.add_argument("--system", default="", help="the row's name")
    e.add_argument("--features", default="", help="save per-pair features under this name")
    e.add_argument("--queries", type=int, default=0)
    e.add_argument("--weights", default="2.0")
    e.add_argument("--lead", type=int, default=240, help="judge_lead_chars")
    e.add_argument("--model", default="", help="the judge model (default: the shipped one)")
    k = sub.add_parser("calibrate")
    k.add_argument("--dev", default="scifact-dev-labels")
    k.add_argument("--test", default="scifact-test-labels")
    k.add_argument("--adapter", default="", help="write the fit beside this adapter")
    r = sub.add_parser("report")
    r.add_argument("--default", action="append", default=[], help="SET=SYSTEM")
    args = ap.parse_args()
    {"report": cmd_report, "pairs": cmd_pairs, "train": cmd_train, "eval": cmd_eval,
     "calibrate": cmd_calibrate}[args.cmd](args)


if __name__ == "__main__":
    main()
