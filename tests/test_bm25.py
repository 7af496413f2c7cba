"""Both stores rank alike: FTS5's bm25() and the PostgreSQL store's BM25 against an
independent implementation, bm25s (Robertson's BM25, k1 = 1.2, b = 0.75), on a fixture whose
words every tokenizer here reads the same way (lower-case, no stopwords, stems unchanged).

bm25s leaves out BM25's constant factor (k1 + 1) and floors idf at 0 where FTS5 floors it at
1e-6; the fixture's terms are each in fewer than half the chunks, so the scores agree after
dividing by k1 + 1, and the rankings agree exactly."""

from __future__ import annotations

import pytest

from glossdb.store import open_store
from glossdb.store.records import ChunkDraft

bm25s = pytest.importorskip("bm25s")

K1, B = 1.2, 0.75
TEXTS = ["cat cat fish milk", "dog bone park walk walk", "cat dog park",
         "fish pond frog frog frog lily", "milk bread jam toast", "bird nest tree tree",
         "frog pond lily cat", "dog walk park bone bone bone", "jam toast tea",
         "tree bird song morning"]
QUERIES = [["cat"], ["frog", "pond"], ["dog", "walk", "park"], ["tree", "bird", "song"],
           ["milk", "cat", "jam"]]


def oracle(query: list[str]) -> list[float]:
    retriever = bm25s.BM25(method="robertson", k1=K1, b=B)
    retriever.index([text.split() for text in TEXTS], show_progress=False)
    return [float(s) * (K1 + 1) for s in retriever.get_scores(query)]


@pytest.mark.parametrize("query", QUERIES, ids=" ".join)
def test_bm25_of_each_store_equals_bm25s(location, query):
    store = open_store(location)
    with store.transaction():
        doc = store.upsert_document("fixture", None, "h", {})
        store.replace_chunks(doc, [ChunkDraft(t, 0, len(t)) for t in TEXTS])
    ids = store.chunk_ids()
    want = {cid: s for cid, s in zip(ids, oracle(query)) if s > 0}
    got = dict(store.fts_search(query, 20))
    store.close()
    assert got.keys() == want.keys()
    for cid in want:
        assert got[cid] == pytest.approx(want[cid], rel=1e-6), (cid, TEXTS[ids.index(cid)])
    order = sorted(want, key=lambda c: (-want[c], c))
    assert sorted(got, key=lambda c: (-got[c], c)) == order
