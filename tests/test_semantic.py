"""The semantic filter's cascade (glossdb.semantic): the threshold from a judged sample,
checked against an oracle that judges every row; the verb and the CLI over the fake model."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from glossdb import semantic
from glossdb.cli import cli
from glossdb.errors import InvalidQuery

from .test_where import papers


def _world(seed: int, n: int = 400, positives: int = 40):
    """Rows whose proxy score is informative but noisy about which satisfy the condition."""
    rng = random.Random(seed)
    truth = set(rng.sample(range(n), positives))
    proxy = [rng.gauss(3.0 if i in truth else 0.0, 1.0) for i in range(n)]
    return proxy, truth


def test_the_recall_target_holds_on_most_draws_and_saves_judging():
    met, shares = 0, []
    for seed in range(200):
        proxy, truth = _world(seed)
        picks, probs = semantic.draw(proxy, 60, seed)
        p = semantic.plan(proxy, picks, probs, {i: i in truth for i in range(400)}, 0.9, 0.1)
        judged = {i for i in range(400) if proxy[i] >= p.threshold} | set(picks)
        found = {i for i in judged if i in truth}
        met += len(found) / len(truth) >= 0.9
        shares.append(len(judged) / 400)
    assert met / 200 >= 0.85  # delta = 0.1, up to sampling noise
    assert sum(shares) / len(shares) < 0.75  # the cheap stage rejects a share of the rows


def test_without_a_sampled_positive_every_row_is_judged():
    proxy = [float(i) for i in range(10)]
    p = semantic.plan(proxy, [1, 2], semantic.draw_probabilities(proxy),
                      {i: False for i in range(10)}, 0.9, 0.1)
    assert p.threshold == min(proxy) and p.notes


def test_a_precision_target_keeps_dense_rows_unjudged_and_holds_on_most_draws():
    met, saved = 0, []
    for seed in range(200):
        rng = random.Random(seed)  # the top 150 rows satisfy it but a few; the rest rarely
        truth = {i for i in range(400) if rng.random() < (0.97 if i < 150 else 0.1)}
        proxy = [400.0 - i for i in range(400)]
        picks, probs = semantic.draw(proxy, 60, seed)
        positive = {i: i in truth for i in range(400)}
        accept = semantic.accept_threshold(proxy, picks, probs, positive, 0.9, 0.1)
        above = [i for i in range(400) if accept is not None and proxy[i] >= accept]
        kept = {i for i in above if i not in picks} | {i for i in set(picks) if i in truth}
        met += (sum(i in truth for i in kept) / len(kept)) >= 0.9
        saved.append(len([i for i in above if i not in picks]) / 400)
    assert met / 200 >= 0.85
    assert sum(saved) / len(saved) > 0.1  # rows kept without the judge


def test_no_precision_threshold_without_evidence():
    proxy = [float(i) for i in range(10)]
    probs = semantic.draw_probabilities(proxy)
    assert semantic.accept_threshold(proxy, [9, 8], probs, {i: i > 7 for i in range(10)},
                                     0.9, 0.1) is None  # two positives certify nothing
    assert semantic.accept_threshold(proxy, [1, 2], probs, {i: False for i in range(10)},
                                     0.5, 0.1) is None


def test_filter_with_a_precision_target_says_which_rows_it_kept_unjudged(index, tmp_path):
    path, _ = papers(tmp_path)
    index.add([path])
    result = index.filter("cohort 3 vitamin", candidates=30, precision_target=0.5)
    everything = index._verdicts("cohort 3 vitamin", [
        c.chunk_id for c in index.prefilter.candidates("cohort 3 vitamin", 30)])
    judged_kept = {c for c in result.kept if c in result.verdicts}
    assert judged_kept <= {c for c, v in everything.items() if v in ("match", "strong match")}
    for cid in result.kept_unjudged:
        assert result.proxies[cid] >= result.accept_threshold
        assert result.decision(cid).startswith("kept unjudged")
    assert result.kept_unjudged and result.judged + len(result.kept_unjudged) <= result.rows
    cols, rows = index.sql("SELECT chunk_id, verdict FROM glossdb_filter('cohort 3 vitamin', "
                           "30, 0.9, 0.5)")
    assert {r[0] for r in rows if r[1] is None} == set(result.kept_unjudged)
    out = CliRunner().invoke(cli, ["filter", "cohort 3 vitamin", "-i", str(index.path),
                                   "--backend", "fake", "--candidates", "30", "--precision",
                                   "0.5", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["kept_unjudged"] == result.kept_unjudged


def test_filter_keeps_what_the_judge_accepts_and_reports_its_cost(index, tmp_path):
    path, _ = papers(tmp_path)
    index.add([path])
    result = index.filter("cohort 3 vitamin", candidates=30, sample=8)
    assert result.rows == 30 and 0 < result.judged <= 30
    everything = index._verdicts("cohort 3 vitamin", [
        c.chunk_id for c in index.prefilter.candidates("cohort 3 vitamin", 30)])
    accepted = {c for c, v in everything.items() if v in ("match", "strong match")}
    assert set(result.kept) <= accepted
    out = CliRunner().invoke(cli, ["filter", "cohort 3 vitamin", "-i", str(index.path),
                                   "--backend", "fake", "--candidates", "30", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["rows"] == 30 and 0 < data["expensive_share"] <= 1


def test_top_k_ranks_any_set_of_chunks(index, tmp_path):
    path, _ = papers(tmp_path)
    index.add([path])
    docs = {c.id: c for c in index.store.get_chunks(index.store.chunk_ids()).values()}
    south = [cid for cid, c in docs.items() if c.metadata.get("lab") == "south"]
    hits = index.top_k("cohort 4 vitamin", south, k=3)
    assert len(hits) == 3 and {h.chunk_id for h in hits} <= set(south)
    assert [h.rank for h in hits] == [1, 2, 3]
    everything = index.top_k("cohort 4 vitamin", south, k=100)
    assert len(everything) == len(south)
    cols, rows = index.sql("SELECT chunk_id, rank FROM glossdb_top_k('cohort 4 vitamin', 3, "
                           "'SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id"
                           " WHERE json_extract(d.metadata, ''$.lab'') = ''south''')")
    assert [r[0] for r in rows] == [h.chunk_id for h in hits]


def test_join_pairs_left_rows_with_the_right_rows_that_satisfy_the_condition(index, tmp_path):
    path, _ = papers(tmp_path)
    index.add([path])
    docs = index.store.get_chunks(index.store.chunk_ids())
    north = [c for c, ch in docs.items() if ch.metadata.get("lab") == "north"][:2]
    east = [c for c, ch in docs.items() if ch.metadata.get("lab") == "east"]
    result = index.join(north, east, "a study like: {left}", sample=5)
    assert result.left == 2 and result.right == len(east) and 0 < result.judged <= 2 * len(east)
    assert all(lc in north and rc in east for lc, rc in result.pairs)
    for row in result.per_left:
        condition = "a study like: " + index.judge_spec().candidate_text(
            docs[row["left"]], index.store.glosses(index.representation().id,
                                                   [row["left"]]).get(row["left"]))
        assert row["kept"] == len(index.filter(condition, east, sample=5).kept)
    cols, rows = index.sql(
        "SELECT left_id, right_id FROM glossdb_join('a study like: {left}', "
        f"'SELECT id FROM chunks WHERE id IN ({north[0]})', "
        f"'SELECT id FROM chunks WHERE id IN ({', '.join(map(str, east))})')")
    assert cols == ["left_id", "right_id"] and all(r[0] == north[0] for r in rows)


def test_filter_says_how_each_row_was_decided_and_why_a_kept_row_was_kept(index, tmp_path):
    path, _ = papers(tmp_path)
    index.add([path])
    result = index.filter("cohort 3 vitamin", candidates=30, sample=8, explain=True)
    assert result.kept and set(result.explanations) == set(result.kept)
    for cid in result.kept:
        assert result.decision(cid).startswith("kept: the judge said")
        verdict, text = index.explain_pair("cohort 3 vitamin", cid)
        assert result.verdicts[cid] == verdict and result.explanations[cid] == text
    unjudged = set(result.proxies) - set(result.verdicts)
    assert all(result.decision(c).startswith("left out unjudged") for c in unjudged)
    assert result.decision(10**9) == "not a row of this filter"
    decisions = result.to_dict()["decisions"]
    assert len(decisions) == result.rows
    cols, rows = index.sql("SELECT f.chunk_id, f.verdict, glossdb_why('cohort 3 vitamin', "
                           "f.chunk_id) FROM glossdb_filter('cohort 3 vitamin', 30) f")
    assert cols[:2] == ["chunk_id", "verdict"]
    assert rows and all(r[2] == index.explain_pair("cohort 3 vitamin", r[0])[1] for r in rows)
    assert all(r[1] in ("match", "strong match") for r in rows)


def test_semantic_commands_explain_show_sql_rank_any_set_and_join(index, tmp_path):
    path, _ = papers(tmp_path)
    index.add([path])
    base = ["-i", str(index.path), "--backend", "fake"]
    run = CliRunner().invoke
    out = run(cli, ["filter", "cohort 3 vitamin", *base, "--candidates", "30", "--explain"])
    assert out.exit_code == 0, out.output
    assert "kept: the judge said" in out.output and "why: " in out.output
    out = run(cli, ["filter", "cohort 3 vitamin", *base, "--sql"])
    assert out.exit_code == 0 and "SELECT" in out.output and "satisfy" not in out.output
    south = ("SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
             "WHERE json_extract(d.metadata, '$.lab') = 'south'")
    out = run(cli, ["top-k", "cohort 4 vitamin", south, *base, "-k", "2", "--json"])
    assert out.exit_code == 0, out.output
    hits = json.loads(out.output)
    assert [h["chunk_id"] for h in hits] == [
        h.chunk_id for h in index.top_k("cohort 4 vitamin", [r[0] for r in index.sql(south)[1]], 2)]
    out = run(cli, ["join", "a study like: {left}", "SELECT id FROM chunks LIMIT 1",
                    "SELECT id FROM chunks", *base, "--sample", "5", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["left"] == 1 and data["judged"] > 0
    out = run(cli, ["join", "no placeholder", "SELECT 1", "SELECT 1", *base])
    assert out.exit_code != 0 and "{left}" in out.output
    out = run(cli, ["top-k", "cohort", "SELECT title FROM documents", *base])
    assert out.exit_code == 2 and "chunk ids (integers)" in out.output


def test_glossdb_why_judges_and_explains_a_statements_rows_in_one_batch(index, tmp_path,
                                                                          fake, monkeypatch):
    path, _ = papers(tmp_path)
    index.add([path])
    calls = []
    real = fake.generate
    monkeypatch.setattr(fake, "generate",
                        lambda reqs, progress=None: calls.append(len(reqs)) or real(reqs))
    cols, rows = index.sql("SELECT id, glossdb_why('cohort 5 vitamin', id) FROM chunks "
                           "WHERE id <= 6 ORDER BY id")
    assert len(rows) == 6
    assert index.last_sql_calls == {"collected": 6, "batches": 1, "single": 0}
    assert len(calls) == 1 and calls[0] >= 1  # every explanation asked for, in one call
    monkeypatch.setattr(fake, "generate", real)
    assert [r[1] for r in rows] == [index.explain_pair("cohort 5 vitamin", r[0])[1] for r in rows]
    with pytest.raises(InvalidQuery, match="SELECT the explanations first"):
        index.sql("CREATE TABLE why_rows AS SELECT glossdb_why('cohort 5 vitamin', id) AS w "
                  "FROM chunks")
