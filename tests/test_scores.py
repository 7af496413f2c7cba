"""What a user reads is what ranked: scores in rank order, why agrees with search, and
explanations only when asked for."""

from __future__ import annotations

import re

from glossdb.server.page import PAGE


def test_displayed_scores_are_in_rank_order(index, corpus):
    index.add([corpus])
    hits = index.search("cats sleep hours", k=5)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and len(hits) > 1
    assert all(isinstance(h.judge_score, float) for h in hits)


def test_why_ranks_each_hit_where_search_put_it(index, corpus):
    index.add([corpus])
    hits = index.search("rocket propellant thrust", k=5)
    for hit in hits:
        why = index.why("rocket propellant thrust", hit.chunk_id)
        assert why.rank == hit.rank and why.score == hit.score and why.verdict == hit.verdict


def test_explanations_appear_only_with_explain(index, corpus):
    index.add([corpus])
    with_reasons = index.search("yeast dough", k=2, explain=True)
    assert all(h.explanation for h in with_reasons)
    again = index.search("yeast dough", k=2)
    assert all(h.explanation is None for h in again)  # stored, but not asked for
    assert index.search("yeast dough", k=2, explain=True)[0].explanation  # reused


def test_page_styles_each_verdict_differently():
    styles = {v: re.search(r"\.v-" + v + r"\{([^}]*)\}", PAGE).group(1)
              for v in ("strong-match", "match", "weak-match", "no-match")}
    assert len(set(styles.values())) == 4
    assert 'h.verdict.replace(/ /g, "-")' in PAGE
