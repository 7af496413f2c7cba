"""Vector pseudo-relevance feedback in the prefilter (not adopted): the query vector moved
towards the mean vector of the fused top m, then fused with the lexical list again.

    python -m bench.studies.prf_study --set scifact:train

Prints nDCG@10 of the prefilter's top 10 without feedback and for each (m, weight).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from glossdb.prefilter import POOL, rrf, search_terms

from .. import beir, corpus_index, scifact
from ..hybrid import doc_of, set_spec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="scifact:train", type=set_spec, help="collection:split")
    args = ap.parse_args()
    name, split = args.set
    ix, _ = corpus_index.open_index(name)
    ds = beir.dataset(name)
    texts, qrels = ds.queries(), ds.qrels(split)
    pre = ix.prefilter
    ids, mat = pre.vectors.matrix(pre.version)
    row = {int(c): i for i, c in enumerate(ids)}
    doc = {cid: doc_of(c.uri) for cid, c in ix.store.get_chunks(ix.store.chunk_ids()).items()}
    qids = list(qrels)
    vectors = pre.embedder.embed([texts[q] for q in qids])
    lexical = {q: [c for c, _ in ix.store.fts_search(search_terms(texts[q]), POOL)] for q in qids}

    def nearest(v: np.ndarray) -> list[int]:
        scores = mat @ v
        top = np.argpartition(-scores, POOL)[:POOL]
        return [int(ids[i]) for i in top[np.argsort(-scores[top])]]

    def fused(q: str, v: np.ndarray) -> list[int]:
        return [c for c, _, _ in rrf([lexical[q], nearest(v)])]

    def ndcg(runs: dict[str, list[int]]) -> float:
        return round(statistics.fmean(
            scifact.ndcg_at(list(dict.fromkeys(doc[c] for c in runs[q][:10])), qrels[q])
            for q in qids), 4)

    base = {q: fused(q, v) for q, v in zip(qids, vectors)}
    rows = [{"m": "-", "weight": "-", "ndcg@10": ndcg(base)}]
    for m in (3, 5, 10):
        for weight in (0.25, 0.5, 1.0):
            runs = {}
            for q, v in zip(qids, vectors):
                moved = v + weight * mat[[row[c] for c in base[q][:m] if c in row]].mean(0)
                runs[q] = fused(q, moved / np.linalg.norm(moved))
            rows.append({"m": m, "weight": weight, "ndcg@10": ndcg(runs)})
    print(scifact.markdown_table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
