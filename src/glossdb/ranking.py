"""Turning judgments into a ranking: pure functions, shared by search and the benchmarks.

The judge's score leads. With ``fusion_weight`` > 0 the prefilter's evidence joins in, every
part z-scored over the candidates of one query and added:

* hybrid candidates (BM25 and cosine known): judge + w/2 * z(BM25) + w/2 * z(cosine); a
  candidate missing from one list takes that list's lowest score among the candidates.
  Measured on 400 SciFact train queries (bench/README.md): 0.773 nDCG@10 at w = 2, against
  0.766 for judge + w * z(RRF prior) and 0.747 for the prior alone;
* lexical candidates only: judge + w * z(BM25) (tuned on SciFact train, bench/rerank.py).

Ties keep the prefilter's order. The fusion itself is :func:`glossdb.signals.fuse` over the
built-in signals, which the pipeline runs; these are its pure-function form for benchmarks
that hold judge scores as a dict.
"""

from __future__ import annotations

from typing import Sequence

from .prefilter import Candidate
from .signals import default_signals, filled, fuse, zscores
from .store import Judgment

__all__ = ["filled", "final_scores", "fused_scores", "prior_parts", "rank", "zscores"]


def fused_scores(judge: Sequence[float], prefilter: Sequence[float], weight: float) -> list[float]:
    if not weight:
        return list(judge)
    return [j + weight * p for j, p in zip(zscores(judge), zscores(prefilter))]


def prior_parts(candidates: Sequence[Candidate]) -> list[list[float]]:
    """The prefilter's evidence per candidate, one list per part: [BM25, cosine] for hybrid
    candidates, [the prefilter score] otherwise."""
    if any(c.vector_score is not None for c in candidates):
        return [filled([c.lexical_score for c in candidates]),
                filled([c.vector_score for c in candidates])]
    return [[c.prefilter_score for c in candidates]]


def final_scores(candidates: Sequence[Candidate], scores: dict[int, float],
                 weight: float = 0.0) -> list[float]:
    """The score that ranks each candidate: the judge's z-score plus the weighted prior's."""
    judged = {c.chunk_id: Judgment(c.chunk_id, scores[c.chunk_id]) for c in candidates}
    return fuse(default_signals(weight), candidates, judged)[0]


def rank(candidates: Sequence[Candidate], scores: dict[int, float], weight: float = 0.0) -> list[int]:
    """Chunk ids, best first."""
    fused = final_scores(candidates, scores, weight)
    order = sorted(zip(fused, candidates), key=lambda x: (-x[0], x[1].prefilter_rank))
    return [c.chunk_id for _, c in order]
