"""A passage the LLM writes for the query, used by the prefilter (HyDE / query2doc).

    python -m bench.studies.hyde_study --set scifact:train --queries 100 --role writer

For a sample of queries (every n-th), the model (`--role`: writer or judge) writes a short
passage that would answer the query; the prefilter then searches with the query's vector
moved towards the passage's (HyDE) and/or the passage's words added to the lexical query
(query2doc). Prints nDCG@10 and recall@10/20 of the fused prior for each variant, and the
seconds per query the writing took. Writes the passages to bench/cache/raw/ so variants are
re-scored without writing again.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from tqdm import tqdm

from glossdb.backends.base import GenerateRequest
from glossdb.prefilter import POOL, query_terms, rrf, search_terms

from .. import corpus_index, scifact
from ..hybrid import Collection, evaluate, set_spec

SYSTEM = ("You write a short passage from a scientific or technical document that answers"
          " the user's query. Write 2-3 factual sentences, no preamble.")


def passages(c: Collection, qids: list[str], role: str, max_tokens: int) -> tuple[dict, float]:
    path = corpus_index.RAW / f"hyde-{c.name}-{c.split}-{role}.json"
    done = json.loads(path.read_text()) if path.exists() else {}
    todo = [q for q in qids if q not in done]
    model = c.ix.model(role)
    t = time.perf_counter()
    for q in tqdm(todo, desc="write"):
        req = GenerateRequest(prompt=c.queries[q], system=SYSTEM, max_tokens=max_tokens)
        done[q] = model.generate([req])[0].strip()
        path.write_text(json.dumps(done))
    secs = (time.perf_counter() - t) / max(1, len(todo))
    return done, secs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="scifact:train", type=set_spec, help="collection:split")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--role", default="writer", choices=["writer", "judge"])
    ap.add_argument("--max-tokens", type=int, default=64)
    args = ap.parse_args()
    c = Collection(*args.set)
    step = max(1, len(c.queries) // args.queries)
    qids = list(c.queries)[::step][: args.queries]
    written, secs = passages(c, qids, args.role, args.max_tokens)
    print(f"{secs:.2f} s per query to write; e.g. {c.queries[qids[0]]!r} -> {written[qids[0]]!r}")
    pre = c.ix.prefilter
    qv = pre.embedder.embed([c.queries[q] for q in qids])
    pv = pre.embedder.embed([written[q] or c.queries[q] for q in qids])
    jv = pre.embedder.embed([f"{c.queries[q]} {written[q]}" for q in qids])

    def lex(q: str, extra: bool) -> list[int]:
        terms = search_terms(c.queries[q])
        if extra:
            terms += [t for t in query_terms(written[q]) if t not in terms]
        return [cid for cid, _ in c.ix.store.fts_search(terms, POOL)]

    def vec(v: np.ndarray) -> list[int]:
        return [cid for cid, _ in pre.vectors.search(pre.version, v / np.linalg.norm(v), POOL)]

    variants = {
        "query only (default)": lambda i, q: rrf([lex(q, False), vec(qv[i])]),
        "HyDE: mean(query, passage) vector": lambda i, q: rrf([lex(q, False), vec(qv[i] + pv[i])]),
        "HyDE: vector of query + passage": lambda i, q: rrf([lex(q, False), vec(jv[i])]),
        "3 lists: lexical, query vector, passage vector":
            lambda i, q: rrf([lex(q, False), vec(qv[i]), vec(pv[i])]),
        "query2doc lexical + query vector": lambda i, q: rrf([lex(q, True), vec(qv[i])]),
        "query2doc lexical + HyDE mean vector": lambda i, q: rrf([lex(q, True), vec(qv[i] + pv[i])]),
    }
    rows = []
    for name, fn in variants.items():
        runs = {q: c.docs_of([cid for cid, _, _ in fn(i, q)]) for i, q in enumerate(qids)}
        r = {"variant": name}
        for depth in (10, 20):
            m = evaluate(runs, {q: c.qrels[q] for q in qids}, depth)
            r["ndcg@10"], r[f"recall@{depth}"] = m["ndcg@10"], m["recall@depth"]
        rows.append(r)
    print(scifact.markdown_table(rows, list(rows[0])))
    half = {"A": qids[::2], "B": qids[1::2]}
    for name in ("query only (default)", "HyDE: mean(query, passage) vector"):
        fn = variants[name]
        for h, qs in half.items():
            runs = {q: c.docs_of([cid for cid, _, _ in fn(qids.index(q), q)]) for q in qs}
            print(name, h, evaluate(runs, {q: c.qrels[q] for q in qs}, 10)["ndcg@10"])
    print(statistics.fmean(len(written[q].split()) for q in qids), "words per passage")


if __name__ == "__main__":
    main()
