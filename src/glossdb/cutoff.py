"""How many candidates the judge reads, adapted from observed usage: pure functions.

Every search logs the prefilter ranks of its top matches: the first ``TOP_MATCHES`` of its
ranking that the judge called a match. One search in ``EXPLORE_EVERY`` reads twice the
current depth, so the log also sees top matches the current depth would miss. (Every
candidate the judge calls a match was the first rule; on SciFact the judge calls a match
deep in the list so often that the depth climbed to the maximum without better rankings:
bench/README.md.) After every ``ADAPT_EVERY`` logged searches the depth becomes the smallest
one that keeps ``TARGET`` of the matches those exploring searches found, within
[``MIN_DEPTH``, ``MAX_DEPTH``]. A ``candidates`` setting in the index's settings file, the environment
or an argument pins the depth and stops all of this.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

TOP_MATCHES = 3
ADAPT_EVERY = 20
EXPLORE_EVERY = 10
MIN_DEPTH, MAX_DEPTH = 5, 40
TARGET = 0.95
MIN_EVIDENCE = 3  # exploring searches with at least one match before the depth moves
WINDOW = 400  # latest logged searches the estimate reads


@dataclass(frozen=True)
class Cutoff:
    """The depth in force and why: ``source`` is default, adapted or pinned."""

    depth: int
    source: str
    queries: int = 0  # exploring searches with a match that the estimate read
    matches: int = 0
    recall: float | None = None  # share of their matches the depth keeps

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recall_at(samples: Sequence[Sequence[int]], depth: int) -> float:
    """Share of all matches (prefilter ranks, one list per search) at rank <= depth."""
    total = sum(len(s) for s in samples)
    return sum(r <= depth for s in samples for r in s) / total if total else 1.0


def estimate(samples: Sequence[Sequence[int]], explored_depth: int, current: int,
             target: float = TARGET) -> Cutoff:
    """The smallest depth that keeps ``target`` of the matches exploring searches found.

    ``samples`` holds the match ranks of exploring searches (judged to ``explored_depth``);
    with too little evidence the current depth stays. When the deepest matches sit near
    ``explored_depth`` the estimate can only reach it, so the depth at most doubles per round.
    """
    used = [list(s) for s in samples if s]
    if len(used) < MIN_EVIDENCE:
        return Cutoff(current, "default", len(used), sum(map(len, used)))
    top = max(MIN_DEPTH, min(MAX_DEPTH, explored_depth))
    depth = next((d for d in range(MIN_DEPTH, top + 1) if recall_at(used, d) >= target), top)
    return Cutoff(depth, "adapted", len(used), sum(map(len, used)),
                  round(recall_at(used, depth), 4))


def explores(search_number: int) -> bool:
    """Whether the n-th logged search (1-based) reads twice the depth."""
    return search_number % EXPLORE_EVERY == 0


def due(search_number: int) -> bool:
    return search_number % ADAPT_EVERY == 0
