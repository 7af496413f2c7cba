"""The prefilter: cheap lexical retrieval that proposes candidates for the LLM judge.

It lives inside the database and never decides a ranking on its own: it only discards
candidates that share nothing with the query. FTS5's BM25 runs over chunk text and gloss.

Its cut-off (how many candidates the judge reads) is tuned from observed usage:
:func:`cutoff_recall` and :func:`needed_cutoff` are the pure part of ``glossdb tune``, which
judges logged queries with a deep candidate list and finds the shallowest cut-off that still
keeps the deep ranking's top hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidQuery
from .store import Store
from .store.db import FTS_SQL

STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if in
    into is it its may might more most no not of on or our should so than that the their them
    then there these they this those to was we were what when where which while who whom why
    will with would you your""".split()
)


def query_terms(query: str) -> list[str]:
    """Lower-cased word terms of a query, stopwords dropped, order kept, no repeats."""
    seen: dict[str, None] = {}
    for word in re.findall(r"\w+", query.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
    return list(seen)


def fts_expression(query: str) -> str:
    """An FTS5 MATCH expression that ORs the query's terms, each quoted (no syntax leaks)."""
    terms = query_terms(query) or re.findall(r"\w+", query.lower())
    if not terms:
        raise InvalidQuery("the query has no searchable words: use letters or digits")
    return " OR ".join(f'"{t}"' for t in terms)


@dataclass(frozen=True)
class Candidate:
    chunk_id: int
    prefilter_score: float
    prefilter_rank: int


class Prefilter:
    def __init__(self, store: Store):
        self.store = store

    def candidates(self, query: str, limit: int) -> list[Candidate]:
        """BM25's best ``limit`` chunks. When fewer match lexically, the rest of the budget
        goes to other chunks (oldest first): a small index is judged in full, so a query
        that shares no word with its answer can still find it."""
        rows = self.store.fts_search(fts_expression(query), limit)
        if len(rows) < limit:
            rows += [(cid, 0.0) for cid in self.store.other_chunk_ids(
                [cid for cid, _ in rows], limit - len(rows))]
        return [Candidate(cid, score, rank) for rank, (cid, score) in enumerate(rows, start=1)]

    def sql(self, query: str, limit: int) -> str:
        """The statement the prefilter runs, for ``--sql`` style inspection."""
        expr = "'" + fts_expression(query).replace("'", "''") + "'"
        return FTS_SQL.replace("?", expr, 1).replace("?", str(limit), 1)


def cutoff_recall(top_ranks: list[list[int]], cutoff: int) -> float:
    """Share of the deep ranking's top hits (given by their prefilter ranks, one list per
    query) that a prefilter cut-off of ``cutoff`` candidates would have kept."""
    kept = [sum(r <= cutoff for r in ranks) / len(ranks) for ranks in top_ranks if ranks]
    return sum(kept) / len(kept) if kept else 1.0


def needed_cutoff(top_ranks: list[list[int]], target: float, deep: int) -> int:
    """The smallest cut-off whose recall of the deep top hits reaches ``target``."""
    for cutoff in range(1, deep + 1):
        if cutoff_recall(top_ranks, cutoff) >= target:
            return cutoff
    return deep
