"""Internal vectors and the hybrid prefilter: vectors follow chunks, fusion follows its rule,
the adaptive cut-off moves on a synthetic log and stays pinned, torch is never imported."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from glossdb.store import querylog
from glossdb import Index
from glossdb.cutoff import ADAPT_EVERY, EXPLORE_EVERY, estimate, recall_at
from glossdb.embeddings.hashing import HashingEmbedder
from glossdb.embeddings.minilm import MiniLMEmbedder
from glossdb.prefilter import POOL, RRF_K, rrf



@pytest.fixture
def index(any_index):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_index

def vector_rows(ix: Index) -> set[int]:
    return {r[0] for r in ix.store.db.execute("SELECT chunk_id FROM vectors")}


def test_vectors_follow_chunks_through_readd_and_remove(index, corpus):
    report = index.add([corpus])
    chunks = set(index.store.chunk_ids())
    assert report.vectors_written == len(chunks) and vector_rows(index) == chunks
    md = corpus / "cats.md"
    md.write_text(md.read_text().replace("twelve and sixteen", "ten and twenty"))
    report = index.add([corpus])
    assert report.vectors_written == report.chunks_added == 1
    assert vector_rows(index) == set(index.store.chunk_ids())
    index.remove([md])
    assert vector_rows(index) == set(index.store.chunk_ids())
    assert index.add([corpus / "rockets.txt"]).vectors_written == 0


def test_vector_matrix_reloads_when_another_process_changes_it(index, corpus, tmp_path):
    index.add([corpus / "cats.md"])
    pre = index.prefilter
    before = len(pre.vectors.matrix(pre.version)[0])
    other = Index(index.path, models=index._models)
    other.add([corpus / "rockets.txt"])
    other.close()
    assert len(pre.vectors.matrix(pre.version)[0]) > before


def test_rrf_matches_a_hand_computed_oracle():
    fused = rrf([[1, 2, 3], [3, 4]], k0=10)
    want = {1: 1 / 11, 2: 1 / 12, 3: 1 / 13 + 1 / 11, 4: 1 / 12}
    assert [c for c, _, _ in fused] == sorted(want, key=lambda c: (-want[c], [1, 2, 3, 4].index(c)))
    assert {c: round(s, 12) for c, s, _ in fused} == {c: round(s, 12) for c, s in want.items()}
    assert dict((c, r) for c, _, r in fused)[3] == [3, 1]


def test_hybrid_candidates_are_the_union_rule(index, corpus):
    """Candidates = the best `limit` by RRF over the lexical and the vector top `pool`."""
    index.add([corpus])
    pre = index.prefilter
    assert pre.hybrid
    query, limit = "how long do cats sleep", 3
    pool = max(POOL, limit)
    lexical = [cid for cid, _ in index.store.fts_search(["cats", "sleep", "long"], pool)]
    qvec = MiniLMEmbedder().embed([query])[0]
    ids, mat = pre.vectors.matrix(pre.version)
    nearest = [int(ids[i]) for i in np.argsort(-(mat @ qvec), kind="stable")[:pool]]
    scores: dict[int, float] = {}
    for ranked in (lexical, nearest):
        for r, cid in enumerate(ranked, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1 / (RRF_K + r)
    want = sorted(scores, key=lambda c: -scores[c])[:limit]
    got = pre.candidates(query, limit)
    assert [c.chunk_id for c in got] == want
    for c in got:
        assert c.lexical_rank == (lexical.index(c.chunk_id) + 1 if c.chunk_id in lexical else None)
        assert c.vector_rank == (nearest.index(c.chunk_id) + 1 if c.chunk_id in nearest else None)


def test_vectors_find_a_chunk_that_shares_no_word(tmp_path, fake):
    ix = Index(tmp_path / "v.glossdb", models={"judge": fake, "writer": fake})
    docs = tmp_path / "d"
    docs.mkdir()
    (docs / "a.txt").write_text("The feline dozed on the windowsill all afternoon.")
    for i, topic in enumerate(["Interest rates rose at the central bank meeting.",
                               "The compiler rejected the borrowed reference.",
                               "Basalt forms when lava cools quickly."]):
        (docs / f"b{i}.txt").write_text(topic)
    ix.add([docs], gloss=False)
    top = ix.prefilter.candidates("sleeping cat", 1)[0]
    assert top.lexical_rank is None and top.vector_rank == 1
    assert ix.store.get_chunk(top.chunk_id).text.startswith("The feline")
    ix.close()


def test_no_embedder_means_lexical_only(tmp_path, fake, corpus):
    ix = Index(tmp_path / "l.glossdb", models={"judge": fake, "writer": fake}, embedder="")
    assert ix.add([corpus]).vectors_written == 0
    assert not ix.prefilter.hybrid and vector_rows(ix) == set()
    ix.close()


def test_embedder_batches_keep_order_and_unit_length():
    e = HashingEmbedder()
    e.batch_size = 2
    texts = ["a b c d e", "a", "b b", "zzz yyy xxx"]
    out = e.embed(texts)
    one = np.vstack([e.embed([t]) for t in texts])
    assert np.allclose(out, one) and np.allclose(np.linalg.norm(out, axis=1), 1.0)


def test_cutoff_estimate_is_the_smallest_depth_keeping_the_target():
    samples = [[1, 2], [3], [1, 12], [2, 4]]
    assert recall_at(samples, 4) == 6 / 7
    est = estimate(samples, explored_depth=20, current=10, target=0.95)
    assert est.depth == 12 and est.source == "adapted" and est.recall == 1.0
    assert estimate(samples[:2], 20, 10).source == "default"  # too little evidence


def log_searches(ix: Index, n: int, match_ranks: list[int], depth: int) -> None:
    for i in range(n):
        querylog.log_query(ix.store, f"q{i}", 10, depth, depth, 0, 0.1, [], match_ranks=match_ranks,
                           explore=(i + 1) % EXPLORE_EVERY == 0)


def test_cutoff_adapts_from_the_log_without_a_command(index, corpus):
    index.add([corpus])
    assert index.cutoff().source == "default" and index.cutoff().depth == 10
    log_searches(index, 3 * ADAPT_EVERY - 1, [1, 2], depth=20)
    index.search("cats")  # the 60th search re-estimates: every exploring match was in the top 2
    cut = index.cutoff()
    assert cut.source == "adapted" and cut.depth == 5 and cut.queries >= 3
    assert index.stats().candidates["depth"] == 5


def test_cutoff_stays_pinned_when_set(tmp_path, fake, corpus):
    ix = Index(tmp_path / "p.glossdb", models={"judge": fake, "writer": fake}, candidates=7)
    ix.add([corpus])
    log_searches(ix, 3 * ADAPT_EVERY - 1, [1], depth=14)
    ix.search("cats")
    assert ix.cutoff().depth == 7 and ix.cutoff().source == "pinned"
    assert ix.store.get_setting("cutoff") is None
    last = ix.store.db.execute("SELECT candidates, explore FROM query_log ORDER BY id DESC")
    assert last.fetchone()[1] == 0  # a pinned depth never explores
    ix.close()


def test_import_and_search_never_import_torch(tmp_path, corpus):
    code = f"""
import sys
from glossdb import Index
from glossdb.backends.fake import FakeModel
fake = FakeModel()
ix = Index({str(tmp_path / 'x.glossdb')!r}, models={{"judge": fake, "writer": fake}})
ix.add([{str(corpus)!r}])
ix.search("cats sleep")
assert ix.prefilter.hybrid
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "sentence_transformers", "transformers"))
print(bad)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
