"""Fused signals: each one small object that gives a number per candidate of one query.

The score that ranks (and that verdicts read) is the sum over signals of weight x z-score of
the signal's values over the query's candidates; a candidate a signal has no value for takes
that signal's lowest value among the candidates. The judge alone (every other weight 0) ranks
by its raw score. The built-ins reproduce glossdb's measured fusion (bench/README.md):

* hybrid candidates (BM25 and cosine known): judge + w/2 z(BM25) + w/2 z(cosine);
* lexical candidates only: judge + w z(prefilter score);

with w = ``fusion_weight``. A new signal is one class with ``name``, ``weight`` and
``values``, registered with :func:`register` (or a plugin's ``glossdb_signals`` hook,
:mod:`glossdb.plugins`); it then shows in the fused score and in every hit's ``signals``.
"""

from __future__ import annotations

import statistics
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

if TYPE_CHECKING:
    from .config import Config
    from .prefilter import Candidate
    from .store import Chunk, Judgment


class Signal(ABC):
    """One number per candidate. ``values`` returns None when the signal does not apply to
    this query's candidates (e.g. cosine on a lexical-only index)."""

    name: str = ""
    weight: float = 1.0

    @abstractmethod
    def values(self, candidates: Sequence["Candidate"], judged: Mapping[int, "Judgment"],
               chunks: Mapping[int, "Chunk"]) -> list[float | None] | None:
        """One value per candidate (None: no value for that one), or None for none."""


def _hybrid(candidates: Sequence["Candidate"]) -> bool:
    return any(c.vector_score is not None for c in candidates)


class JudgeScore(Signal):
    """The judge's score: mean log-probability per scored query token."""

    name = "judge"

    def values(self, candidates, judged, chunks):
        return [judged[c.chunk_id].score for c in candidates]


class Weighted(Signal, ABC):
    """A signal whose weight is given when it is built (the configured fusion weight)."""

    def __init__(self, weight: float):
        self.weight = weight


class Lexical(Weighted):
    """BM25 from the prefilter's full-text list (hybrid candidates)."""

    name = "bm25"

    def values(self, candidates, judged, chunks):
        return [c.lexical_score for c in candidates] if _hybrid(candidates) else None


class Cosine(Weighted):
    """Cosine similarity of the internal vectors (hybrid candidates)."""

    name = "cosine"

    def values(self, candidates, judged, chunks):
        return [c.vector_score for c in candidates] if _hybrid(candidates) else None


class PrefilterScore(Weighted):
    """The prefilter's own score, for candidates of the full-text list alone."""

    name = "prefilter"

    def values(self, candidates, judged, chunks):
        return None if _hybrid(candidates) else [c.prefilter_score for c in candidates]


SignalFactory = Callable[["Config"], "Signal | None"]
_EXTRA: list[SignalFactory] = []


def register(factory: SignalFactory) -> SignalFactory:
    """Add a signal to every pipeline built from now on: ``factory(config)`` returns it
    (or None to stay out). Usable as a decorator on a Signal class taking ``config``."""
    _EXTRA.append(factory)
    return factory


def unregister(factory: SignalFactory) -> None:
    _EXTRA.remove(factory)


def default_signals(fusion_weight: float) -> list[Signal]:
    half = fusion_weight / 2
    return [JudgeScore(), Lexical(half), Cosine(half), PrefilterScore(fusion_weight)]


def signals_for(config: "Config", extra: Sequence[Signal] = ()) -> list[Signal]:
    """The built-ins at the configured weight, then registered and plugin signals."""
    from .plugins import plugin_signals

    out = default_signals(config.fusion_weight) + list(extra)
    out += [s for f in _EXTRA if (s := f(config)) is not None]
    return out + plugin_signals(config)


def zscores(values: Sequence[float]) -> list[float]:
    if len(values) < 2:
        return [0.0 for _ in values]
    mu = statistics.fmean(values)
    sd = statistics.pstdev(values) or 1.0
    return [(v - mu) / sd for v in values]


def filled(values: Sequence[float | None]) -> list[float]:
    """Missing values take the lowest known one (0.0 when none is known)."""
    low = min((v for v in values if v is not None), default=0.0)
    return [low if v is None else v for v in values]


def fuse(signals: Sequence[Signal], candidates: Sequence["Candidate"],
         judged: Mapping[int, "Judgment"], chunks: Mapping[int, "Chunk"] | None = None
         ) -> tuple[list[float], list[dict[str, float]]]:
    """(fused score per candidate, each candidate's weighted part per signal)."""
    columns: list[tuple[Signal, list[float]]] = []
    for signal in signals:
        if not signal.weight:
            continue
        values = signal.values(candidates, judged, chunks or {})
        if values is not None:
            columns.append((signal, filled(values)))
    if len(columns) == 1 and columns[0][0].weight == 1.0:  # one signal: its raw value
        only, values = columns[0]
        return list(values), [{only.name: v} for v in values]
    total = [0.0] * len(candidates)
    parts: list[dict[str, Any]] = [{} for _ in candidates]
    for signal, values in columns:
        for i, z in enumerate(zscores(values)):
            part = z if signal.weight == 1.0 else signal.weight * z
            total[i] = total[i] + part
            parts[i][signal.name] = round(part, 4)
    return total, parts
