"""Feedback: a user's marks that a hit is (not) relevant to a query, kept as rows.

Given on the page, over the API (``POST /api/feedback``), in the CLI (``glossdb feedback``)
and through the integrations; shown by ``glossdb show``; read by ``glossdb train`` as
training pairs (glossdb.train.pairs). The latest mark of a (query, chunk) pair stands.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidQuery, UnknownChunk
from .db import Store

# marks on the text their chunks hold now (a changed chunk's old marks do not count)
STANDING = ("FROM feedback f JOIN chunks c ON c.id = f.chunk_id"
            " AND c.content_hash = f.content_hash")
SOURCES = ("page", "api", "cli", "mcp", "python", "langchain", "llamaindex")


def put_feedback(store: Store, query: str, chunk_id: int, relevant: bool,
                 source: str = "python") -> dict[str, Any]:
    """Record the mark (replacing an earlier one of the same pair); returns the row."""
    if source not in SOURCES:
        raise InvalidQuery(f"unknown feedback source {source!r}: one of {', '.join(SOURCES)}")
    row = store.db.execute("SELECT content_hash FROM chunks WHERE id = ?", (chunk_id,)).fetchone()
    if row is None:
        raise UnknownChunk(f"no chunk {chunk_id} in {store.location}: `glossdb search` shows "
                            "the ids of hits")
    with store.transaction():
        store.db.execute(
            "INSERT INTO feedback (query, chunk_id, content_hash, relevant, source)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (query, chunk_id) DO UPDATE SET"
            " relevant = excluded.relevant, source = excluded.source,"
            " content_hash = excluded.content_hash, created_at = excluded.created_at",
            (query, chunk_id, row[0], int(bool(relevant)), source))
    return {"query": query, "chunk_id": chunk_id, "relevant": bool(relevant), "source": source}


def feedback_rows(store: Store, chunk_id: int | None = None, limit: int = 0) -> list[dict]:
    """Marks, newest first; of one chunk when ``chunk_id`` is given. Only marks on the
    text the chunk holds now (a changed chunk's old marks do not count)."""
    sql = "SELECT f.query, f.chunk_id, f.relevant, f.source, f.created_at " + STANDING
    params: list[Any] = []
    if chunk_id is not None:
        sql += " WHERE f.chunk_id = ?"
        params.append(chunk_id)
    sql += " ORDER BY f.created_at DESC, f.id DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [{"query": q, "chunk_id": c, "relevant": bool(r), "source": s, "created_at": t}
            for q, c, r, s, t in store.db.execute(sql, params)]


def count_feedback(store: Store) -> int:
    """Standing marks (on the text their chunks hold now)."""
    return store.db.execute("SELECT count(*) " + STANDING).fetchone()[0]


def feedback_labels(store: Store) -> dict[str, dict[int, int]]:
    """{query: {chunk id: 1 relevant / 0 not}} of every standing mark."""
    out: dict[str, dict[int, int]] = {}
    for row in feedback_rows(store):
        out.setdefault(row["query"], {})[row["chunk_id"]] = int(row["relevant"])
    return out
