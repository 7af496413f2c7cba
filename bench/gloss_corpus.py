"""Grow the SciFact gloss cache in the background, most useful chunks first.

    python -m bench.gloss_corpus --hours 1.5

Order: query by query (test first, then train), the chunks that glossdb's prefilter puts in
its top `--depth`, so each finished query can be re-ranked over glosses by
`bench.scifact_eval`; then every other chunk. Works in batches of 16: each batch is glossed
and exported to bench/cache/ before the next, so stopping at any moment loses at most one
batch. Chunks already in the cache are skipped.
"""

from __future__ import annotations

import argparse
import time

from . import gloss_cache, scifact
from .scifact_eval import GlossdbRuns


def priority_order(g: GlossdbRuns, depth: int) -> list[int]:
    texts = scifact.queries()
    order: dict[int, None] = {}
    for split in ("test", "train"):
        for qid in scifact.qrels(split):
            for cand in g.ix.prefilter.candidates(texts[qid], depth):
                order.setdefault(cand.chunk_id, None)
    order.update({cid: None for cid in g.ix.store.chunk_ids()})
    return list(order)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    deadline = time.monotonic() + args.hours * 3600
    g = GlossdbRuns(scifact.corpus())
    describer = g.ix.describer()
    rep = describer.representation()
    order = priority_order(g, args.depth)
    chunks = g.ix.store.get_chunks(order)
    have = set(g.ix.store.glosses(rep.id, chunks))
    todo = [cid for cid in order if cid not in have]
    print(f"{len(have)} chunks glossed, {len(todo)} to go", flush=True)
    done = 0
    for start in range(0, len(todo), args.batch):
        if time.monotonic() > deadline:
            break
        batch = [chunks[c] for c in todo[start : start + args.batch]]
        t = time.perf_counter()
        done += describer.write(batch, searchable=False)
        gloss_cache.record_timing(rep.name, time.perf_counter() - t, len(batch))
        gloss_cache.export_glosses(g.ix)
        print(f"{len(have) + done} chunks glossed ({done} this run)", flush=True)
    g.ix.close()


if __name__ == "__main__":
    main()
