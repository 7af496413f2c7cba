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

from glossdb.models import resolve_model
from glossdb.train.pairs import Pair, corpus_pairs, labeled_pairs

from . import gloss_cache
from .hybrid import RESULTS, Collection, evaluate

PAIRS = gloss_cache.CACHE / "pairs"
ADAPTERS = gloss_cache.CACHE / "adapters"


def split_train(qids: list[str]) -> tuple[list[str], list[str]]:
    """(training queries, dev queries): every 5th query of the sorted ids is dev."""
    ordered = sorted(qids, key=lambda q: (len(q), q))
    return [q for i, q in enumerate(ordered) if i % 5], ordered[::5]


def chunk_labels(c: Collection, qids: list[str]) -> dict[str, dict[int, int]]:
    """{query text: {chunk id: grade}} from the collection's qrels (every chunk of a
    relevant document)."""
    chunks_of: dict[str, list[int]] = {}
    for cid, doc in c.doc.items():
        chunks_of.setdefault(doc, []).append(cid)
    out = {}
    for q in qids:
        marked = {cid: g for doc, g in c.qrels[q].items() for cid in chunks_of.get(doc, [])}
        if marked:
            out[c.queries[q]] = marked
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
    c = Collection("scifact", "train")
    train_q, dev_q = split_train(list(c.queries))
    t = time.perf_counter()
    pairs = labeled_pairs(c.ix, chunk_labels(c, train_q), args.negatives, args.depth)
    path = save_pairs("scifact-labels", pairs)
    print(f"{len(pairs)} pairs ({sum(p.label for p in pairs)} positive) of {len(train_q)} "
          f"queries in {time.perf_counter() - t:.0f} s -> {path}; dev: {len(dev_q)} queries")
    if args.corpus:
        for name in ("scifact", "cranfield"):
            split = "train" if name == "scifact" else "test"
            cc = c if name == "scifact" else Collection(name, split)
            cp = corpus_pairs(cc.ix, args.negatives, args.depth, limit=args.corpus)
            print(f"{name}: {len(cp)} corpus pairs -> {save_pairs(f'{name}-corpus', cp)}")


def cmd_train(args) -> None:
    from glossdb.train.lora import TrainSpec, train

    pairs = [p for name in args.source.split("+") for p in load_pairs(name)]
    if args.limit:
        pairs = pairs[: args.limit]
    spec = TrainSpec(rank=args.rank, lr=args.lr, epochs=args.epochs, batch=args.batch,
                     max_tokens=args.max_tokens)
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


def run_set(c: Collection, qids: list[str], depth: int, **config) -> tuple[dict, list[float]]:
    """The pipeline over ``qids``: runs (judged top ``depth`` then the prefilter's order)."""
    ix = c.ix
    ix.config = replace(ix.config, **config)
    pipeline = ix.pipeline()
    runs, secs = {}, []
    for q in qids:
        text = c.queries[q]
        t = time.perf_counter()
        found = ix.prefilter.candidates(text, 100)
        ranked = pipeline.rank(text, depth, candidates=found[:depth])
        secs.append(time.perf_counter() - t)
        runs[q] = c.docs_of(ranked.order + [f.chunk_id for f in found[depth:]])
    return runs, secs


def prefilter_runs(c: Collection, qids: list[str]) -> dict:
    return {q: c.docs_of([f.chunk_id for f in c.ix.prefilter.candidates(c.queries[q], 100)])
            for q in qids}


def cmd_eval(args) -> None:
    name, split = args.set.split(":")
    c = Collection(name, split, cold=True)
    qids = sorted(c.queries)
    if split == "train":
        qids = split_train(qids)[1]
    if args.queries:
        qids = qids[:: max(1, len(qids) // args.queries)][: args.queries]
    base = evaluate(prefilter_runs(c, qids), {q: c.qrels[q] for q in qids}, 10)["ndcg@10"]
    rows = []
    for weight in [float(w) for w in args.weights.split(",")]:
        cfg = {"fusion_weight": weight}
        if args.adapter:
            cfg.update(judge_method="relevance", judge_adapter=str(Path(args.adapter).resolve()))
        runs, secs = run_set(c, qids, args.depth, **cfg)
        m = evaluate(runs, {q: c.qrels[q] for q in qids}, 10)
        row = {"set": args.set, "adapter": args.adapter, "weight": weight, "depth": args.depth,
               "queries": len(qids), "ndcg@10": m["ndcg@10"], "prefilter": base,
               "judge_gain": round(m["ndcg@10"] - base, 4),
               "s_per_query": round(statistics.median(secs), 3)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    with open(RESULTS / "judge-eval-log.jsonl", "a") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs")
    p.add_argument("--negatives", type=int, default=3)
    p.add_argument("--depth", type=int, default=30)
    p.add_argument("--corpus", type=int, default=0, help="also corpus pairs of this many chunks")
    t = sub.add_parser("train")
    t.add_argument("--source", default="scifact-labels")
    t.add_argument("--out", default="")
    t.add_argument("--limit", type=int, default=0)
    t.add_argument("--rank", type=int, default=8)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--epochs", type=float, default=1.0)
    t.add_argument("--batch", type=int, default=8)
    t.add_argument("--max-tokens", type=int, default=192)
    e = sub.add_parser("eval")
    e.add_argument("--set", default="scifact:train")
    e.add_argument("--adapter", default="")
    e.add_argument("--depth", type=int, default=10)
    e.add_argument("--queries", type=int, default=0)
    e.add_argument("--weights", default="2.0")
    args = ap.parse_args()
    {"pairs": cmd_pairs, "train": cmd_train, "eval": cmd_eval}[args.cmd](args)


if __name__ == "__main__":
    main()
