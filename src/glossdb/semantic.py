"""Semantic operators with an accuracy target: which rows satisfy a condition, decided by a
cascade (LOTUS-style). Pure functions; :meth:`glossdb.index.Index.filter` wires them.

The *expensive stage* is the LLM judge (a row satisfies the condition when its verdict is
"match" or better); the *cheap stage* is a proxy score every row already has (the
prefilter's fused prior, or the internal embedder's cosine). A recall target ``r`` with
failure probability ``delta`` is met so: ``sample`` rows are drawn with probability rising
with their proxy score (importance sampling, mixed with uniform so every row can be drawn)
and judged; on them, for each proxy threshold, the share of the judge's positives at or
above it is estimated (weighted by 1 / draw probability) with a one-sided lower bound at
confidence ``1 - delta`` (normal approximation); the highest threshold whose bound reaches
``r`` is kept, every row at or above it is judged, and rows below are rejected unjudged.
Without a sampled positive, or no threshold whose bound reaches ``r``, every row is judged
(the target then holds trivially). The guarantee is LOTUS's: recall relative to the judge
judging every row, with probability about ``1 - delta`` over the sample.

With a precision target ``p`` as well (LOTUS's third action), the lowest proxy threshold at
and above which the sample's lower bound on the share of the judge's positives reaches
``p`` is found, and rows there are kept without the judge (:func:`accept_threshold`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Sequence


@dataclass
class CascadePlan:
    """What the cascade decided: the proxy threshold (rows at or above it go to the judge),
    the sampled rows (indices) and their draw probabilities, the estimated recall and its
    lower bound at that threshold."""

    threshold: float
    sample: list[int]
    draw: list[float]
    recall_estimate: float
    recall_bound: float
    positives_sampled: int
    notes: list[str] = field(default_factory=list)


def draw_probabilities(proxy: Sequence[float], uniform: float = 0.1) -> list[float]:
    """Per row, the probability of a draw: proportional to the square root of its proxy
    score shifted to [0, 1] (LOTUS's form), mixed with ``uniform`` of the uniform
    distribution. A draw by rank was measured and not kept (bench.studies.filter_cascade:
    on the synthetic world of tests/test_semantic.py it meets recall on 0.52-0.64 of draws,
    this one on 0.87)."""
    low, high = min(proxy), max(proxy)
    span = (high - low) or 1.0
    roots = [math.sqrt((p - low) / span) for p in proxy]
    total = sum(roots) or 1.0
    n = len(proxy)
    return [(1 - uniform) * r / total + uniform / n for r in roots]


def draw(proxy: Sequence[float], size: int, seed: int = 0, uniform: float = 0.1
         ) -> tuple[list[int], list[float]]:
    """``size`` row indices drawn with replacement by :func:`draw_probabilities`, and
    those probabilities."""
    probs = draw_probabilities(proxy, uniform)
    return picks_of(probs, size, seed), probs


def picks_of(probs: list[float], size: int, seed: int = 0) -> list[int]:
    """``size`` row indices drawn with replacement by ``probs``."""
    return random.Random(seed).choices(range(len(probs)), weights=probs, k=size)


def _ratio(num: list[float], den: list[float], delta: float) -> tuple[float, float]:
    """sum(num) / sum(den) over a sample, and its one-sided lower bound at confidence
    1 - delta (normal approximation of the ratio estimator's linearised variance)."""
    ratio = sum(num) / sum(den)
    m = len(num)
    mean_den = sum(den) / m
    resid = [(n_ - ratio * d) / mean_den for n_, d in zip(num, den)]
    se = math.sqrt(sum(r * r for r in resid) / (m * max(m - 1, 1)))
    return ratio, ratio - NormalDist().inv_cdf(1 - delta) * se


def recall_at(threshold: float, proxy: Sequence[float], picks: list[int], probs: list[float],
              positive: dict[int, bool], delta: float, cautious: bool = True
              ) -> tuple[float, float]:
    """(estimated recall, its lower bound at confidence 1 - delta) of keeping rows whose
    proxy is at or above ``threshold``, from the judged sample (a ratio estimator)."""
    w = [1.0 / (len(proxy) * probs[i]) for i in picks]
    pos = [positive[i] for i in picks]
    num = [wi * p * (proxy[i] >= threshold) for wi, p, i in zip(w, pos, picks)]
    den = [wi * p for wi, p in zip(w, pos)]
    if not sum(den):
        return 1.0, 0.0
    ratio, bound = _ratio(num, den, delta)
    if not cautious:
        return ratio, bound
    # one unseen positive below the threshold, of the sampled positives' mean weight: with
    # few positives the normal bound alone is overconfident (every one above: se = 0)
    mean_pos = sum(den) / sum(pos)
    return ratio, min(sum(num) / (sum(den) + mean_pos), bound)


def plan(proxy: Sequence[float], picks: list[int], probs: list[float],
         positive: dict[int, bool], recall_target: float, delta: float,
         cautious: bool = True) -> CascadePlan:
    """The highest proxy threshold whose recall bound reaches ``recall_target``."""
    sampled_pos = sum(1 for i in set(picks) if positive[i])
    everything = CascadePlan(min(proxy), picks, probs, 1.0, 1.0, sampled_pos)
    if not sampled_pos:
        everything.notes.append("no sampled row satisfied the condition: every row judged")
        return everything
    for threshold in sorted({proxy[i] for i in picks if positive[i]}, reverse=True):
        est, bound = recall_at(threshold, proxy, picks, probs, positive, delta, cautious)
        if bound >= recall_target:
            return CascadePlan(threshold, picks, probs, est, bound, sampled_pos)
    everything.notes.append(f"no threshold's recall bound reached {recall_target}: "
                            "every row judged")
    return everything


def precision_at(threshold: float, proxy: Sequence[float], picks: list[int],
                 probs: list[float], positive: dict[int, bool], delta: float
                 ) -> tuple[float, float]:
    """(estimated share of the judge's positives among rows whose proxy is at or above
    ``threshold``, its lower bound at confidence 1 - delta), from the judged sample: a
    ratio estimator as :func:`recall_at`'s, bounded by the normal approximation and by one
    unseen negative (every sampled row above positive never certifies on its own)."""
    w = [1.0 / (len(proxy) * probs[i]) for i in picks]
    above = [proxy[i] >= threshold for i in picks]
    num = [wi * positive[i] * a for wi, i, a in zip(w, picks, above)]
    den = [wi * a for wi, a in zip(w, above)]
    if not sum(den):
        return 0.0, 0.0
    ratio, bound = _ratio(num, den, delta)
    mean_above = sum(den) / sum(above)
    return ratio, min(sum(num) / (sum(den) + mean_above), bound)


def accept_threshold(proxy: Sequence[float], picks: list[int], probs: list[float],
                     positive: dict[int, bool], precision_target: float, delta: float
                     ) -> float | None:
    """The lowest proxy threshold (of the sampled rows') at and above which the judge's
    positives are, by the sample's lower bound, at least ``precision_target`` of the
    rows: rows there are kept without the judge. None when no threshold reaches it."""
    met = [t for t in set(proxy[i] for i in picks)
           if precision_at(t, proxy, picks, probs, positive, delta)[1] >= precision_target]
    return min(met, default=None)
