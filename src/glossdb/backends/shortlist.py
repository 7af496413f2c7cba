"""Query-token log-probabilities without the full output head for every candidate.

Query likelihood needs log p(token | context) at each scored query position, and the exact
value needs the whole softmax: for Gemma 3 a 262,144 x 640 output projection per position,
more arithmetic than the rest of the model spends on a token. In a scan every candidate is
scored on the same query tokens, and the tokens that carry the softmax's mass at a position
barely change from one candidate to the next. So one *reference* context per query is
scored exactly; at each position its top ``k`` tokens (plus the query's token and the
candidate's own tokens, which its context makes likely) form a shortlist, and each
candidate's log-probability is

    z[target] - (logsumexp(z[shortlist]) + tail)

where ``z`` are the candidate's logits over the shortlist only (its final hidden state
times those rows of the head) and ``tail`` is the reference's log of (full softmax mass /
shortlist mass). The reference is none of the candidates (the query right after the shared
prompt prefix), so every candidate is scored the same way. Measured error and ranking
quality: bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gguf_head import OutputHead


@dataclass(frozen=True)
class Support:
    """The shortlist at one query position: token ids, their head rows, where the target
    sits among them, and the reference row's full logits with its log-sum-exp overall and
    over the shortlist."""

    ids: np.ndarray
    weights: np.ndarray
    target: int
    ref_logits: np.ndarray
    ref_lse: float
    ref_lse_ids: float

    @property
    def tail(self) -> float:
        """The reference's log(full softmax mass / shortlist mass)."""
        return self.ref_lse - self.ref_lse_ids


def logsumexp(x: np.ndarray) -> np.ndarray:
    """Row-wise log(sum(exp(x))) in float64."""
    peak = x.max(axis=-1, keepdims=True)
    return np.log(np.exp(x - peak).sum(axis=-1, dtype=np.float64)) + peak[..., 0]


def make_support(head: OutputHead, logits: np.ndarray, target: int, k: int) -> Support:
    """The shortlist of one reference row of full logits: its top ``k`` tokens and the target."""
    top = np.argpartition(-logits, k)[:k] if k < len(logits) else np.arange(len(logits))
    ids = np.union1d(top, [target])
    return Support(ids, head.rows(ids), int(np.searchsorted(ids, target)),
                   np.array(logits, dtype=np.float32), float(logsumexp(logits)),
                   float(logsumexp(logits[ids])))


@dataclass(frozen=True)
class Extra:
    """A candidate's own tokens (they are what its context makes likely) and their head rows:
    added to every position's shortlist, so mass a candidate moves onto words it contains
    is counted in its softmax."""

    ids: np.ndarray
    weights: np.ndarray


def make_extra(head: OutputHead, tokens) -> Extra:
    ids = np.unique(np.asarray(list(tokens), dtype=np.int64))
    return Extra(ids, head.rows(ids))


def shortlist_logprobs(hidden: np.ndarray, support: Support,
                       extras: list[Extra] | None = None) -> np.ndarray:
    """log p(target) for final hidden states (one row per candidate) at one position."""
    z = hidden.astype(np.float32) @ support.weights.T
    lse = logsumexp(z)
    out = z[:, support.target] - lse - support.tail
    for i, extra in enumerate(extras or []):
        outside = ~np.isin(extra.ids, support.ids, assume_unique=True)
        if not outside.any():
            continue
        mine = np.logaddexp(lse[i], logsumexp(extra.weights[outside] @ hidden[i]))
        covered = np.logaddexp(support.ref_lse_ids,
                               logsumexp(support.ref_logits[extra.ids[outside]]))
        out[i] = z[i, support.target] - mine - (support.ref_lse - covered)
    return out
