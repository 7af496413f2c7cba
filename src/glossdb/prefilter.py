"""The prefilter: cheap retrieval that proposes candidates for the LLM judge.

It lives inside the database and never decides a ranking on its own: it only discards the
least promising chunks. FTS5's BM25 runs over chunk text and gloss; when the index has
internal vectors, their nearest neighbours join by reciprocal rank fusion, so a chunk that
shares no word with the query can still be judged. Vectors never leave the database.

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
from .store.filters import chunk_ids_sql, inline
from .where import Where

RRF_K = 10  # reciprocal rank fusion constant (bench/README.md: tuned on SciFact train)
POOL = 100  # each list contributes its top POOL (at least the candidates judged)

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


def search_terms(query: str) -> list[str]:
    """The terms full-text search ORs: the query's words, stopwords dropped unless nothing
    else is left."""
    terms = query_terms(query) or re.findall(r"\w+", query.lower())
    if not terms:
        raise InvalidQuery("the query has no searchable words: use letters or digits")
    return terms


@dataclass(frozen=True)
class Candidate:
    """A chunk the prefilter proposes. ``prefilter_score`` is the fused prior (higher is
    better); ``lexical_rank`` and ``vector_rank`` say where each list put it (None: not in
    that list's top ``pool``)."""

    chunk_id: int
    prefilter_score: float
    prefilter_rank: int
    lexical_rank: int | None = None
    vector_rank: int | None = None
    lexical_score: float | None = None  # BM25 (higher is better)
    vector_score: float | None = None  # cosine similarity


def rrf(lists: list[list[int]], k0: float = RRF_K, weights: list[float] | None = None
        ) -> list[tuple[int, float, list[int | None]]]:
    """Reciprocal rank fusion: (id, score, rank in each list), best first.

    Score = sum over lists of weight / (k0 + rank). Ties keep the order in which ids first
    appear (first list first), so the result is deterministic."""
    weights = weights or [1.0] * len(lists)
    ranks: dict[int, list[int | None]] = {}
    for li, ids in enumerate(lists):
        for r, cid in enumerate(ids, start=1):
            ranks.setdefault(cid, [None] * len(lists))
            if ranks[cid][li] is None:
                ranks[cid][li] = r
    scored = [(cid, sum(w / (k0 + r) for w, r in zip(weights, rs) if r is not None), rs)
              for cid, rs in ranks.items()]
    return sorted(scored, key=lambda x: -x[1])


class Prefilter:
    """Lexical (FTS5 BM25) candidates, fused with vector neighbours when the index has an
    embedder: each list contributes its top ``POOL`` (or ``limit`` when larger), fused by
    reciprocal rank, and the best ``limit`` of the union are judged."""

    def __init__(self, store: Store, vectors=None, embedder=None, version=None):
        self.store = store
        self.vectors, self.embedder, self.version = vectors, embedder, version

    @property
    def hybrid(self) -> bool:
        return self.embedder is not None and self.version is not None

    def candidates(self, query: str, limit: int, where: Where | None = None
                   ) -> list[Candidate]:
        """The best ``limit`` chunks. Lexical only when the index has no vectors: then, when
        fewer than ``limit`` share a word with the query, the rest of the budget goes to
        other chunks (oldest first), so a small index is judged in full. ``where`` (a
        metadata filter, :mod:`glossdb.where`) narrows both lists in the database, before
        either is cut, so it never empties the top ``limit`` while that many chunks match."""
        if not self.hybrid:
            return self._lexical(query, limit, where)
        pool = max(POOL, limit)
        lexical = dict(self.store.fts_search(search_terms(query), pool, where))
        qvec = self.embedder.embed([query])[0]
        among = self.store.filtered_chunk_ids(where) if where else None
        nearest = dict(self.vectors.search(self.version, qvec, pool, among))
        fused = rrf([list(lexical), list(nearest)])[:limit]
        return [Candidate(cid, score, rank, rs[0], rs[1], lexical.get(cid), nearest.get(cid))
                for rank, (cid, score, rs) in enumerate(fused, start=1)]

    def _lexical(self, query: str, limit: int, where: Where | None) -> list[Candidate]:
        rows = self.store.fts_search(search_terms(query), limit, where)
        if len(rows) < limit:
            rows += [(cid, 0.0) for cid in self.store.other_chunk_ids(
                [cid for cid, _ in rows], limit - len(rows), where)]
        return [Candidate(cid, score, rank, rank if score else None)
                for rank, (cid, score) in enumerate(rows, start=1)]

    def sql(self, query: str, limit: int, where: Where | None = None) -> str:
        """What the prefilter runs, for ``--sql`` inspection: the lexical statement and, with
        vectors, the rows the nearest-neighbour search reads and the fusion rule."""
        pool = max(POOL, limit) if self.hybrid else limit
        lexical = self.store.fts_sql(search_terms(query), pool, where)
        if not self.hybrid:
            return lexical + ";"
        among = (f" AND chunk_id IN ({inline(*chunk_ids_sql(where, self.store.dialect))})"
                 if where else "")
        return (f"-- lexical: {self.store.fts_name}, its top {pool}\n{lexical};\n"
                f"-- vectors ({self.version.name}): cosine of the query's vector with these"
                f" rows (in memory), its top {pool}\n"
                f"SELECT chunk_id, vector FROM vectors WHERE embedder_id = {self.version.id}"
                f"{among};\n"
                f"-- fused: score = 1/({RRF_K} + lexical rank) + 1/({RRF_K} + vector rank);"
                f" the best {limit} are judged")


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
