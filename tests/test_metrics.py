"""The benchmark's metrics against hand-computed values."""

from __future__ import annotations

import math

from bench.scifact import mrr_at, ndcg_at, recall_at


def test_ndcg_perfect_and_shifted():
    rel = {"a": 1}
    assert ndcg_at(["a", "b"], rel) == 1.0
    assert math.isclose(ndcg_at(["b", "a"], rel), 1 / math.log2(3))
    assert ndcg_at(["b", "c"], rel) == 0.0


def test_ndcg_two_relevant():
    rel = {"a": 1, "b": 1}
    idcg = 1 + 1 / math.log2(3)
    assert math.isclose(ndcg_at(["a", "x", "b"], rel), (1 + 1 / 2) / idcg)


def test_recall_and_mrr():
    rel = {"a": 1, "b": 1}
    assert recall_at(["x", "a"], rel, 100) == 0.5
    assert mrr_at(["x", "y", "b"], rel) == 1 / 3
    assert mrr_at(["x"], rel) == 0.0


def test_gloss_export_import_round_trip(tmp_path, corpus, fake):
    from glossdb import Index

    a = Index(tmp_path / "a.glossdb", models={"judge": fake, "writer": fake})
    a.add([corpus])
    rows = a.export_glosses()
    b = Index(tmp_path / "b.glossdb", models={"judge": fake, "writer": fake})
    b.add([corpus], gloss=False)
    assert b.import_glosses(rows) == b.store.counts()["chunks"]
    fake.history.clear()
    assert b.add([corpus]).glosses_written == 0 and fake.history == []
    assert b.export_glosses() == rows


def test_rank_by_judge_then_fusion_then_prefilter_order():
    from glossdb.prefilter import Candidate
    from glossdb.ranking import rank

    cands = [Candidate(1, 9.0, 1), Candidate(2, 1.0, 2), Candidate(3, 5.0, 3)]
    assert rank(cands, {1: -3.0, 2: -1.0, 3: -2.0}) == [2, 3, 1]
    assert rank(cands, {1: -3.0, 2: -1.0, 3: -2.0}, weight=10.0)[0] == 1
    assert rank(cands, {1: -1.0, 2: -1.0, 3: -1.0}) == [1, 2, 3]


def test_hybrid_fusion_matches_a_hand_computed_oracle():
    """judge + w/2 z(BM25) + w/2 z(cosine); a candidate missing from a list takes its lowest."""
    import statistics

    from glossdb.prefilter import Candidate
    from glossdb.ranking import final_scores, rank

    cands = [Candidate(1, 0.2, 1, 1, None, 8.0, None), Candidate(2, 0.1, 2, None, 1, None, 0.9),
             Candidate(3, 0.05, 3, 2, 2, 4.0, 0.5)]
    judge = {1: -2.0, 2: -1.0, 3: -3.0}

    def z(xs):
        mu, sd = statistics.fmean(xs), statistics.pstdev(xs)
        return [(x - mu) / sd for x in xs]

    want = [j + 1.0 * b + 1.0 * c for j, b, c in
            zip(z([-2.0, -1.0, -3.0]), z([8.0, 4.0, 4.0]), z([0.5, 0.9, 0.5]))]
    got = final_scores(cands, judge, 2.0)
    assert all(math.isclose(g, w) for g, w in zip(got, want))
    assert rank(cands, judge, 2.0) == sorted([1, 2, 3], key=lambda c: -want[c - 1])


def test_the_bench_metrics_equal_ir_measures_on_random_runs():
    """nDCG@10 (linear gains, graded like Cranfield's 0-4), recall@100 and MRR@10 of
    bench.scifact against ir-measures (trec_eval's definitions), the independent oracle."""
    import random

    ir_measures = __import__("pytest").importorskip("ir_measures")
    from ir_measures import MRR, R, nDCG

    rng = random.Random(7)
    docs = [f"d{i}" for i in range(60)]
    qrels, runs = [], {}
    for q in range(40):
        qid = f"q{q}"
        judged = rng.sample(docs, rng.randint(1, 8))
        for d in judged:
            qrels.append(ir_measures.Qrel(qid, d, rng.choice([0, 1, 2, 3, 4])))
        runs[qid] = rng.sample(docs, 30)
    scored = [ir_measures.ScoredDoc(q, d, 100.0 - i) for q, ranked in runs.items()
              for i, d in enumerate(ranked)]
    theirs = {(str(m.measure), m.query_id): m.value
              for m in ir_measures.iter_calc([nDCG @ 10, R @ 100, MRR @ 10], qrels, scored)}
    rel = {}
    for qr in qrels:
        rel.setdefault(qr.query_id, {})[qr.doc_id] = qr.relevance
    for qid, ranked in runs.items():
        mine = rel[qid]
        if not any(g > 0 for g in mine.values()):
            continue  # trec_eval leaves such a query out
        assert math.isclose(ndcg_at(ranked, mine), theirs[("nDCG@10", qid)], abs_tol=1e-9)
        assert math.isclose(recall_at(ranked, mine), theirs[("R@100", qid)], abs_tol=1e-9)
        assert math.isclose(mrr_at(ranked, mine), theirs[("RR@10", qid)], abs_tol=1e-9)
