"""Representation versions as diffable events: what changed in the glosses, and what it does
to the rankings of queries users actually ran.

A new gloss model or prompt is a new representation version (``describe.py``); its glosses
sit beside the old ones. :func:`diff_glosses` lists the chunks whose gloss changed, word by
word; :func:`regression_check` re-ranks logged queries under both versions (same candidates,
same judge) and reports how much each query's top k moved.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .store import Representation, Store

if TYPE_CHECKING:
    from .pipeline import Pipeline


def word_diff(old: str, new: str) -> str:
    """``old`` turned into ``new``, words removed as [-…-] and added as {+…+}."""
    a, b = old.split(), new.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out += a[i1:i2]
            continue
        if i2 > i1:
            out.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(out)


@dataclass
class GlossChange:
    chunk_id: int
    uri: str
    old: str
    new: str
    diff: str


@dataclass
class GlossDiff:
    old: str
    new: str
    same: int = 0
    only_old: int = 0
    only_new: int = 0
    changed: int = 0
    changes: list[GlossChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def diff_glosses(store: Store, old: Representation, new: Representation,
                 limit: int = 20) -> GlossDiff:
    """Count same/changed/missing glosses between two versions; list up to ``limit`` changes."""
    ids = store.chunk_ids()
    before, after = store.glosses(old.id, ids), store.glosses(new.id, ids)
    out = GlossDiff(old.name, new.name)
    out.only_old = len(before.keys() - after.keys())
    out.only_new = len(after.keys() - before.keys())
    changed = [cid for cid in ids if cid in before and cid in after and before[cid] != after[cid]]
    out.changed = len(changed)
    out.same = len(before.keys() & after.keys()) - out.changed
    chunks = store.get_chunks(changed[:limit])
    out.changes = [GlossChange(cid, chunks[cid].uri, before[cid], after[cid],
                               word_diff(before[cid], after[cid])) for cid in changed[:limit]]
    return out


@dataclass
class QueryCheck:
    query: str
    overlap: float  # share of the old top k still in the new top k
    same_top1: bool
    old_top: list[int]
    new_top: list[int]
    candidates: int = 0  # ranked under both versions (over k: the top k can change)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def regression_check(old: "Pipeline", new: "Pipeline", queries: list[str], k: int = 10,
                     candidates: int = 10) -> list[QueryCheck]:
    """Rank each query's candidates under both versions' pipelines (the same prefilter,
    judge and signals; the same candidates). ``candidates`` should be well over ``k``: with
    as many candidates as hits the top k is the same set whatever the version does."""
    checks = []
    for query in queries:
        found = old.prefilter.candidates(query, candidates)
        tops = [p.rank(query, candidates, candidates=found).order[:k] for p in (old, new)]
        kept = len(set(tops[0]) & set(tops[1])) / max(1, len(tops[0]))
        checks.append(QueryCheck(query, round(kept, 3), tops[0][:1] == tops[1][:1], *tops,
                                 candidates=len(found)))
    return checks