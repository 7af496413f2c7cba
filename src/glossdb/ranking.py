"""Turning judgments into a ranking: pure functions, shared by search and the benchmarks.

The judge's score decides. With ``fusion_weight`` > 0, the prefilter's BM25 score joins in:
both are z-scored over the candidates of one query and added, BM25 scaled by the weight
(tuned on SciFact train queries only, see bench/rerank.py). Ties keep the prefilter's order.
"""

from __future__ import annotations

import statistics
from typing import Sequence

from .prefilter import Candidate


def zscores(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [0.0 for _ in values]
    mu = statistics.fmean(values)
    sd = statistics.pstdev(values) or 1.0
    return [(v - mu) / sd for v in values]


def fused_scores(judge: Sequence[float], prefilter: Sequence[float], weight: float) -> list[float]:
    if not weight:
        return list(judge)
    return [j + weight * p for j, p in zip(zscores(judge), zscores(prefilter))]


def rank(candidates: Sequence[Candidate], scores: dict[int, float], weight: float = 0.0) -> list[int]:
    """Chunk ids, best first."""
    fused = fused_scores([scores[c.chunk_id] for c in candidates],
                         [c.prefilter_score for c in candidates], weight)
    order = sorted(zip(fused, candidates), key=lambda x: (-x[0], x[1].prefilter_rank))
    return [c.chunk_id for _, c in order]
