"""Logistic calibration of a trained judge's verdicts (pure numpy functions).

A row is one judged pair of a labeled query: the judge's log-odds, the pair's cosine and RRF
prior (None outside a search), and whether it is relevant. :func:`fit` returns the weights
``glossdb.judge.relevance_calibrated`` reads, both with the prefilter evidence and for the
judge alone.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

FEATURES = ("judge", "cosine", "prior")


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 100) -> np.ndarray:
    """Weights of a logistic regression of ``y`` on ``x`` (a column of ones is the bias),
    by Newton's method with a small ridge so separable data stays finite."""
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def design(rows: Sequence[dict], names: Sequence[str] = FEATURES) -> np.ndarray:
    x = np.array([[float(r[n]) if r.get(n) is not None else 0.0 for n in names] for r in rows])
    return np.hstack([x.reshape(len(rows), len(names)), np.ones((len(rows), 1))])


def fit(rows: Sequence[dict]) -> dict[str, float]:
    """The calibration weights for ``rows`` (dicts with FEATURES and ``relevant``)."""
    y = np.array([float(r["relevant"]) for r in rows])
    full = logistic(design(rows), y)
    alone = logistic(design(rows, ("judge",)), y)
    out = {n: round(float(v), 4) for n, v in zip(FEATURES + ("bias",), full)}
    out.update(alone_judge=round(float(alone[0]), 4), alone_bias=round(float(alone[1]), 4))
    return out
