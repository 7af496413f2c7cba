"""Issue 5: how close the judge scan gets to llama.cpp's raw prompt-eval rate.

    python -m bench.scan --candidates 100

* roofline: llama.cpp prompt processing on the judge model, one 512-token sequence per
  decode, logits for the last token only;
* naive: each (query, chunk) pair evaluated from scratch on the raw chunk text, one at a time,
  every query token through the full softmax;
* scan: glossdb's judge over glosses, all pairs in batched decodes (one sequence each, the
  shared prefix attached to every sequence), only the query's content words scored, one
  reference pair per query through the full softmax and the rest over its shortlist (no
  output head), KV states of the glosses not yet saved (cold); measured in ``--rounds``
  rounds, each between two roofline runs, and reported as the median ratio;
* exact scan: the same pairs, every query token, full softmax (the method before the
  shortlist), in the same rounds;
* warm scan: the same glosses judged for a second query, their saved KV states restored, so
  only the query's tokens are evaluated;
* gloss writing: glosses/s batched (one decode step for all sequences) vs one at a time.

Needs glosses of the default representation in bench/cache/ (python -m bench.core).
Writes bench/results/scan.json, with p50 search latency from bench/results/latency.json
(python -m bench.latency) when it exists.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from glossdb import Index
from glossdb.backends.kvstates import KVStates
from glossdb.judge import Judge, JudgeSpec

from . import scifact
from .core import pick_docs
from .rerank import build_index

RESULTS = Path(__file__).resolve().parent / "results"


def roofline(model, tokens: int = 2048, width: int = 512) -> float:
    ids = model.tokenize("The quick brown fox jumps over the lazy dog. " * 200)[:width]
    model._clear()
    started = time.perf_counter()
    done = 0
    while done < tokens:
        for pos, tok in enumerate(ids):
            model._add(pos, tok, pos, 0, pos == len(ids) - 1)
        model._decode(len(ids))
        model._clear()
        done += len(ids)
    return done / (time.perf_counter() - started)


def latency() -> dict:
    """p50 search seconds, chunks and nDCG@10 with the default settings (bench.latency)."""
    path = RESULTS / "latency.json"
    if not path.exists():
        return {"p50_search_s": None, "chunks": None, "ndcg@10": None, "search_candidates": None}
    rows = json.loads(path.read_text())["rows"]
    row = next((r for r in rows if "default" in r["setting"]), rows[0])
    out = {k: row[k] for k in ("p50_search_s", "chunks", "ndcg@10")}
    return {**out, "search_candidates": row["candidates"]}


def timed_scores(model, judge: Judge, query: str, texts: list[str], one_by_one: bool):
    before = model.tokens_evaluated
    started = time.perf_counter()
    if one_by_one:
        scores = [judge.score_uncached(query, [t])[0] for t in texts]
    else:
        scores = judge.score_uncached(query, texts)
    seconds = time.perf_counter() - started
    return scores, model.tokens_evaluated - before, seconds


def gloss_rates(ix: Index, n: int) -> tuple[float, float]:
    describer = ix.describer()
    chunks = list(ix.store.get_chunks(ix.store.chunk_ids()[:n]).values())
    requests = [describer.spec.request(describer.model, c) for c in chunks]
    t = time.perf_counter()
    describer.model.generate(requests)
    batched = len(requests) / (time.perf_counter() - t)
    t = time.perf_counter()
    for r in requests:
        describer.model.generate([r])
    single = len(requests) / (time.perf_counter() - t)
    return batched, single


def scan_rounds(model, judge: Judge, query: str, texts: list[str], rounds: int) -> dict:
    """Interleave roofline and scans so each ratio compares runs seconds apart (this VM's
    speed drifts by 10 % between minutes): glossdb's scan (content words, softmax
    shortlist) and the exact scan (every query token, full softmax)."""
    exact = Judge(judge.store, model, replace(judge.spec, ql_tokens="all"))
    out: dict[str, list[float]] = {"roof": [], "scan": [], "exact": [], "scan_tokens": []}
    for _ in range(rounds):
        before = statistics.median(roofline(model) for _ in range(2))
        _, tokens, seconds = timed_scores(model, judge, query, texts, False)
        saved, model.shortlist = model.shortlist, 0
        try:
            _, exact_tokens, exact_s = timed_scores(model, exact, query, texts, False)
        finally:
            model.shortlist = saved
        after = statistics.median(roofline(model) for _ in range(2))
        roof = (before + after) / 2
        out["roof"].append(roof)
        out["scan"].append(tokens / seconds / roof)
        out["exact"].append(exact_tokens / exact_s / roof)
        out["scan_tokens"].append(tokens)
        out.setdefault("scan_s", []).append(seconds)
    return out


def build(args) -> tuple[Index, list, dict]:
    """An index of the bench documents with their cached glosses; the first candidates."""
    ix = build_index(Path(tempfile.mkdtemp(prefix="glossdb-scan-")), pick_docs(args.docs))
    chunks = list(ix.store.get_chunks(ix.store.chunk_ids()).values())[: args.candidates]
    glosses = ix.store.glosses(ix.representation().id, [c.id for c in chunks])
    if len(glosses) < len(chunks):
        raise SystemExit("glosses missing from bench/cache/: run python -m bench.core first")
    return ix, chunks, glosses


def measure(ix: Index, chunks, glosses, rounds: int) -> dict:
    """Naive one-at-a-time scoring of raw text, the scan rounds, and a warm scan."""
    model = ix.model("judge")
    query = scifact.queries()["13"]
    naive_judge = Judge(ix.store, model, JudgeSpec(reads="text", ql_tokens="all"))
    scan_judge = Judge(ix.store, model, JudgeSpec(reads="gloss"))
    naive_texts = [naive_judge.candidate_text(c, None) for c in chunks]
    scan_texts = [scan_judge.candidate_text(c, glosses[c.id]) for c in chunks]
    model.kv_states = KVStates(0)
    _, naive_tokens, naive_s = timed_scores(model, naive_judge, query, naive_texts, True)
    naive_roof = statistics.median(roofline(model) for _ in range(2))
    m = scan_rounds(model, scan_judge, query, scan_texts, rounds)
    model.kv_states = KVStates(256 << 20)
    timed_scores(model, scan_judge, query, scan_texts, False)
    _, warm_tokens, warm_s = timed_scores(model, scan_judge, scifact.queries()["3"], scan_texts,
                                          False)
    return {**m, "naive_tokens": naive_tokens, "naive_s": naive_s, "naive_roof": naive_roof,
            "warm_tokens": warm_tokens, "warm_s": warm_s}


def result_row(ix: Index, n: int, m: dict, batched: float, single: float) -> dict:
    scan_tokens, scan_s = m["scan_tokens"][0], statistics.median(m["scan_s"])
    row = {
        "model": ix.config.model, "representation": ix.representation().name, "candidates": n,
        "roofline_tokens_per_s": round(statistics.median(m["roof"]), 1),
        "naive_tokens_per_pair": round(m["naive_tokens"] / n, 1),
        "naive_pairs_per_s": round(n / m["naive_s"], 2),
        "naive_tokens_per_s": round(m["naive_tokens"] / m["naive_s"], 1),
        "naive_vs_roofline": round(m["naive_tokens"] / m["naive_s"] / m["naive_roof"], 3),
        "scan_tokens_per_pair": round(scan_tokens / n, 1),
        "scan_pairs_per_s": round(n / scan_s, 2),
        "scan_tokens_per_s": round(scan_tokens / scan_s, 1),
        "scan_vs_roofline": round(statistics.median(m["scan"]), 3),
        "scan_vs_roofline_rounds": [round(x, 3) for x in m["scan"]],
        "exact_scan_vs_roofline": round(statistics.median(m["exact"]), 3),
        "exact_scan_vs_roofline_rounds": [round(x, 3) for x in m["exact"]],
        "warm_scan_tokens_per_pair": round(m["warm_tokens"] / n, 1),
        "warm_scan_pairs_per_s": round(n / m["warm_s"], 2),
        "glosses_per_s_batched": round(batched, 3), "glosses_per_s_single": round(single, 3),
        "gloss_model": ix.config.writer_model(), **latency(),
        "machine": scifact.machine(), "date": scifact.today(),
    }
    row["tokens_per_pair_reduction"] = round(m["naive_tokens"] / max(1, scan_tokens), 2)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--docs", type=int, default=350)
    ap.add_argument("--gloss-sample", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--refresh-latency", action="store_true",
                    help="only copy the latest bench.latency numbers into scan.json")
    args = ap.parse_args()
    path = RESULTS / "scan.json"
    if args.refresh_latency:
        path.write_text(json.dumps({**json.loads(path.read_text()), **latency()}, indent=2) + "\n")
        return
    ix, chunks, glosses = build(args)
    m = measure(ix, chunks, glosses, args.rounds)
    row = result_row(ix, len(chunks), m, *gloss_rates(ix, args.gloss_sample))
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(row, indent=2) + "\n")
    print(scifact.markdown_table([row], [
        "roofline_tokens_per_s", "naive_tokens_per_pair", "scan_tokens_per_pair",
        "naive_pairs_per_s", "scan_pairs_per_s", "scan_tokens_per_s", "scan_vs_roofline",
        "exact_scan_vs_roofline", "warm_scan_tokens_per_pair", "warm_scan_pairs_per_s",
        "glosses_per_s_batched", "glosses_per_s_single", "p50_search_s", "chunks", "ndcg@10"]))
    print("scan / roofline per round:", row["scan_vs_roofline_rounds"],
          "exact:", row["exact_scan_vs_roofline_rounds"])
    ix.close()


if __name__ == "__main__":
    main()
