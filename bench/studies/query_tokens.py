"""Which query tokens must the judge score, and does the softmax shortlist change rankings?

    python -m bench.studies.query_tokens

SciFact *train* queries whose prefilter top 10 (whole corpus) all have cached glosses. Each
query's top 10 is judged twice:

* exactly (full softmax) on every query token, keeping each token's log-probability, so
  any selection of tokens can be scored afterwards from the same numbers;
* the way glossdb judges by default: content words only, softmax shortlist.

Rows: nDCG@10 alone and fused with BM25, and scored positions per query. Writes
bench/results/query-tokens.json. The exact per-token numbers are kept in
bench/cache/query-tokens-exact-<model>.json.gz, so a rerun judges only the default way.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from pathlib import Path

from glossdb.backends.kvstates import KVStates
from glossdb.judge import Judge, JudgeSpec, content_tokens, ql_request
from glossdb.ranking import rank

from .. import scifact
from ..scifact_eval import GlossdbRuns, metrics

RESULTS = Path(__file__).resolve().parents[1] / "results"
CACHE = Path(__file__).resolve().parents[1] / "cache"
WEIGHTS = (0.0, 1.0, 2.0, 3.0)


def cache_file(model_id: str) -> Path:
    """Exact per-token log-probabilities, kept so a rerun only judges the default way."""
    return CACHE / f"query-tokens-exact-{model_id}.json.gz"


def load_exact(model_id: str) -> dict:
    path = cache_file(model_id)
    return json.loads(gzip.decompress(path.read_bytes())) if path.exists() else {}


def save_exact(model_id: str, data: dict) -> None:
    CACHE.mkdir(exist_ok=True)
    cache_file(model_id).write_bytes(gzip.compress(json.dumps(data).encode()))


def candidate_texts(g: GlossdbRuns, judge: Judge, top) -> list[str]:
    chunks = g.ix.store.get_chunks(c.chunk_id for c in top)
    glosses = g.ix.store.glosses(g.rep.id, chunks)
    return [judge.candidate_text(chunks[c.chunk_id], glosses[c.chunk_id]) for c in top]


def exact_token_logprobs(model, query: str, texts: list[str]) -> tuple:
    """Per-candidate log-probabilities of every query token (full softmax) and the pieces."""
    saved, model.shortlist = model.shortlist, 0
    try:
        lps = model.logprobs([ql_request(t, query, tokens="all") for t in texts])
    finally:
        model.shortlist = saved
    pieces = [model.token_bytes(t).decode("utf-8", "replace")
              for t in model.tokenize(" " + query.strip())]
    return lps, pieces


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
    exact = load_exact(model.model_id)
    for qid in qids:
        top = cands[qid][:10]
        texts_ = candidate_texts(g, judge, top)
        ids = [c.chunk_id for c in top]
        if exact.get(qid, {}).get("cids") != ids:
            lps, pieces = exact_token_logprobs(model, texts[qid], texts_)
            exact[qid] = {"cids": ids, "lps": lps, "pieces": pieces}
            save_exact(model.model_id, exact)
        lps, pieces = exact[qid]["lps"], exact[qid]["pieces"]
        keep = content_tokens(pieces)
        variants["all tokens, full softmax"][qid] = [statistics.fmean(x) for x in lps]
        variants["content words, full softmax"][qid] = [
            statistics.fmean(v for v, k in zip(x, keep) if k) for x in lps]
        t = time.perf_counter()
        default = judge.score_uncached(texts[qid], texts_)
        variants["content words, shortlist (default)"][qid] = default
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
