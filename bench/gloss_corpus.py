"""Grow a collection's gloss cache in the background, most useful chunks first.

    python -m bench.gloss_corpus --set cranfield --hours 1.5 --threads 1

Order: query by query (test first, then train where there is one), the chunks that glossdb's
prefilter (lexical + vectors) puts in its top `--depth`, so each finished query can be
re-ranked over glosses by `bench.hybrid`; then the same to `--deep`; then every other chunk.
Works in batches: each batch is glossed and exported to bench/cache/ before the next, so
stopping at any moment loses at most one batch. Chunks already in the cache are skipped.
"""

from __future__ import annotations

import argparse
import time

from . import beir, corpus_index, gloss_cache


def priority_order(ix, name: str, depths: tuple[int, ...]) -> list[int]:
    ds = beir.dataset(name)
    texts = ds.queries()
    order: dict[int, None] = {}
    for depth in depths:
        for split in beir.SPLITS[name][::-1]:  # test first
            for qid in ds.qrels(split):
                for cand in ix.prefilter.candidates(texts[qid], depth):
                    order.setdefault(cand.chunk_id, None)
    order.update({cid: None for cid in ix.store.chunk_ids()})
    return list(order)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="scifact", choices=sorted(beir.SPLITS))
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--deep", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0, help="writer threads (0: every core)")
    args = ap.parse_args()
    deadline = time.monotonic() + args.hours * 3600
    ix, _ = corpus_index.open_index(args.set, threads=args.threads or None)
    describer = ix.describer()
    rep = describer.representation()
    order = priority_order(ix, args.set, (args.depth, args.deep))
    chunks = ix.store.get_chunks(order)
    have = set(ix.store.glosses(rep.id, chunks))
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
        gloss_cache.export_glosses(ix)
        print(f"{len(have) + done} chunks glossed ({done} this run)", flush=True)
    ix.close()


if __name__ == "__main__":
    main()
