"""The query log: every search, what it judged and cost (``stats``, ``tune``, the cut-off).

Functions over a :class:`~glossdb.store.db.Store`, like :mod:`.feedback`."""

from __future__ import annotations

import json
from typing import Any

from .db import Store


def log_query(store: Store, query: str, k: int, candidates: int, judged: int, cached: int,
              seconds: float, results: list[int], tokens: tuple[int, int] = (0, 0),
              match_ranks: list[int] = (), explore: bool = False) -> None:
    """Record a search; ``tokens`` is (prompt tokens, of which served from a prefix cache),
    ``match_ranks`` the prefilter ranks of its top matches (glossdb.cutoff), ``explore``
    whether it read twice the depth."""
    if store.readonly:
        return  # a read-only index caches and logs nothing
    store.db.execute(
        "INSERT INTO query_log (query, k, candidates, judged, cached, seconds, results,"
        " prompt_tokens, cached_tokens, match_ranks, explore)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (query, k, candidates, judged, cached, seconds, json.dumps(results), *tokens,
         json.dumps(list(match_ranks)), int(explore)),
    )


def explored_match_ranks(store: Store, window: int) -> list[tuple[int, list[int]]]:
    """(candidates judged, match ranks) of the exploring searches among the latest
    ``window`` logged ones."""
    rows = store.db.execute(
        "SELECT candidates, match_ranks FROM (SELECT * FROM query_log ORDER BY id DESC"
        " LIMIT ?) AS recent WHERE explore = 1", (window,)).fetchall()
    return [(n, json.loads(r)) for n, r in rows]


def searches_logged(store: Store) -> int:
    """How many searches the log holds (rows are never deleted by glossdb)."""
    return store.db.execute("SELECT count(*) FROM query_log").fetchone()[0]


def recent_queries(store: Store, limit: int) -> list[str]:
    """The latest distinct queries searched, newest first."""
    rows = store.db.execute(
        "SELECT query FROM query_log GROUP BY query ORDER BY max(id) DESC LIMIT ?", (limit,)
    ).fetchall()
    return [r[0] for r in rows]


def query_log_summary(store: Store) -> dict[str, Any]:
    n, p50, prompt, cached = store.db.execute(
        "SELECT count(*), (SELECT seconds FROM query_log ORDER BY seconds LIMIT 1"
        " OFFSET (SELECT count(*) FROM query_log) / 2), sum(prompt_tokens),"
        " sum(cached_tokens) FROM query_log"
    ).fetchone()
    return {"searches": n, "p50_seconds": p50, "prompt_tokens": prompt or 0,
            "prefix_cached_tokens": cached or 0}
