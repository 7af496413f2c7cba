"""Grow the SciFact gloss cache in the background, most useful documents first.

    python -m bench.gloss_corpus --hours 1.5

Order: for every query (test and train), BM25's top documents, interleaved by rank, so the
documents a reranking benchmark reads first are glossed first. Works in slices: each slice is
added to a scratch index, glossed, and exported to bench/cache/ before the next, so stopping
at any moment loses at most one slice. Documents already in the cache are skipped.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from glossdb import Index

from . import gloss_cache, scifact


def priority_order(depth: int = 30) -> list[str]:
    import bm25s

    docs = scifact.corpus()
    ids = list(docs)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{d['title']} {d['text']}" for d in docs.values()],
                                   stopwords="en", show_progress=False), show_progress=False)
    queries = scifact.queries()
    qids = list(scifact.qrels("test")) + list(scifact.qrels("train"))
    tokens = bm25s.tokenize([queries[q] for q in qids], stopwords="en", show_progress=False)
    results, _ = retriever.retrieve(tokens, k=depth, show_progress=False)
    order: dict[str, None] = {}
    for rank in range(depth):
        for row in results:
            order.setdefault(ids[int(row[rank])], None)
    order.update({d: None for d in ids})
    return list(order)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--slice", type=int, default=32)
    args = ap.parse_args()
    deadline = time.monotonic() + args.hours * 3600
    docs = scifact.corpus()
    work = Path(tempfile.mkdtemp(prefix="glossdb-gloss-"))
    ix = Index(work / "g.glossdb")
    order = priority_order()
    done = 0
    for start in range(0, len(order), args.slice):
        if time.monotonic() > deadline:
            break
        part = [docs[d] for d in order[start : start + args.slice]]
        src = scifact.write_jsonl(work / "slice.jsonl", part)
        ix.add([src], gloss=False)
        gloss_cache.import_glosses(ix)
        done += ix.gloss()
        gloss_cache.export_glosses(ix)
        print(f"{start + len(part)} documents covered, {done} glosses written", flush=True)
    ix.close()


if __name__ == "__main__":
    main()
