"""Which query tokens must the judge score, and does the softmax shortlist change rankings?

    python -m bench.query_tokens

SciFact *train* queries whose prefilter top 10 (whole corpus) all have cached glosses. Each
query's top 10 is judged twice:

* exactly (full softmax) on every query token, keeping each token's log-probability, so
  any selection of tokens can be scored afterwards from the same numbers;
* the way glossdb judges by default: content words only, softmax shortlist.

Rows: nDCG@10 alone and fused with BM25, and scored positions per query. Writes
bench/results/query-tokens.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from glossdb.backends.kvstates import KVStates
from glossdb.judge import Judge, JudgeSpec, content_tokens, ql_request
from glossdb.ranking import rank

from . import scifact
from .scifact_eval import GlossdbRuns, metrics

RESULTS = Path(__file__).resolve().parent / "results"
WEIGHTS = (0.0, 1.0, 2.0, 3.0)


def exact_token_logprobs(g: GlossdbRuns, model, judge: Judge, query: str, top) -> tuple:
    """Per-candidate log-probabilities of every query token (full softmax) and the pieces."""
    chunks = g.ix.store.get_chunks(c.chunk_id for c in top)
    glosses = g.ix.store.glosses(g.rep.id, chunks)
    texts = [judge.candidate_text(chunks[c.chunk_id], glosses[c.chunk_id]) for c in top]
    head, model._head = model._head, False
    try:
        lps = model.logprobs([ql_request(t, query, tokens="all") for t in texts])
    finally:
        model._head = head
    pieces = [model.token_bytes(t).decode("utf-8", "replace")
              for t in model.tokenize(" " + query.strip())]
    return texts, lps, pieces


def ranked(g: GlossdbRuns, cands, scores: dict[str, list[float]], weight: float) -> dict:
    runs = {}
    for qid, values in scores.items():
        top = cands[qid][:10]
        order = rank(top, {c.chunk_id: s for c, s in zip(top, values)}, weight)
        runs[qid] = g.doc_of(order + [c.chunk_id for c in cands[qid][10:]])
    return runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=0, help="first N covered train queries")
    args = ap.parse_args()
    qrels, texts = scifact.qrels("train"), scifact.queries()
    g = GlossdbRuns(scifact.corpus())
    cands = g.prefilter({q: texts[q] for q in qrels})
    qids = sorted(g.covered(cands, 10))[: args.queries or None]
    model = g.ix.model("judge")
    model.kv_states = KVStates(0)
    judge = Judge(g.ix.store, model, JudgeSpec(reads="gloss"))
    variants: dict[str, dict[str, list[float]]] = {"all tokens, full softmax": {},
                                                   "content words, full softmax": {},
                                                   "content words, shortlist (default)": {}}
    scored: dict[str, list[int]] = {k: [] for k in variants}
    seconds = []
    for qid in qids:
        texts_, lps, pieces = exact_token_logprobs(g, model, judge, texts[qid], cands[qid][:10])
        keep = content_tokens(pieces)
        variants["all tokens, full softmax"][qid] = [statistics.fmean(x) for x in lps]
        variants["content words, full softmax"][qid] = [
            statistics.fmean(v for v, k in zip(x, keep) if k) for x in lps]
        t = time.perf_counter()
        variants["content words, shortlist (default)"][qid] = judge.score_uncached(texts[qid], texts_)
        seconds.append(time.perf_counter() - t)
        scored["all tokens, full softmax"].append(len(pieces))
        for name in list(variants)[1:]:
            scored[name].append(sum(keep))
    rows = []
    for name, scores in variants.items():
        for w in WEIGHTS:
            m = metrics(ranked(g, cands, scores, w), qrels)
            rows.append({"system": name + (f" + {w:g}*bm25" if w else ""), "weight": w,
                         "ndcg@10": m["ndcg@10"], "queries": len(qids),
                         "scored_per_query": round(statistics.fmean(scored[name]), 1),
                         "split": "train", "date": scifact.today(), "machine": scifact.machine()})
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "query-tokens.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(scifact.markdown_table(rows, ["system", "ndcg@10", "scored_per_query", "queries"]))
    print(f"default judge: {statistics.fmean(seconds):.2f} s per query of 10 candidates")


if __name__ == "__main__":
    main()
