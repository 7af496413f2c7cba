"""Claims on unglossed chunks: how several processes share the glossing of one index.

A process claims a batch in one write transaction (chunks without a gloss and without a live
claim), glosses it, and its glosses delete the claims in the transaction that stores them. A
claim is live while its owner runs: on the same host a dead owner's claims are taken over at
once; from another host they expire after ``LEASE_S``. On SQLite the claim transaction holds
the file's write lock; on PostgreSQL concurrent claimers skip each other's rows
(``FOR UPDATE SKIP LOCKED``), and the claims' primary key keeps a chunk to one owner either
way (a claim that conflicts is not taken).
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from .db import Store, _CHUNK_COLUMNS, _chunk
from .records import Chunk

LEASE_S = 600.0
# Usage order: chunks that logged searches returned, most recent first, then most often;
# then every other chunk in document order.
USAGE_CTE = (
    "WITH usage AS (SELECT CAST(j.value AS BIGINT) AS cid, count(*) AS n, max(q.id) AS last"
    " FROM query_log q, {json_ids} GROUP BY cid)"
)
HOST = socket.gethostname()


def new_owner() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    if host != HOST:
        return True  # another machine's claim: only its lease can end it
    pid = int(rest.split(":", 1)[0] or 0)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_unglossed(store: Store, representation_id: int, limit: int, owner: str,
                    lease_s: float = LEASE_S, document_ids: list[int] | None = None
                    ) -> list[Chunk]:
    """Claim up to ``limit`` chunks that have no gloss and no live claim, in usage order
    (of these documents only, given at most 500 ``document_ids``)."""
    now = time.time()
    among = (f" AND c.document_id IN ({','.join('?' * len(document_ids))})"
             if document_ids else "")
    with store.transaction():
        claims = store.db.execute(
            "SELECT DISTINCT owner FROM gloss_claims WHERE representation_id = ?",
            (representation_id,)).fetchall()
        dead = [o for (o,) in claims if not owner_alive(o)]
        store.db.executemany("DELETE FROM gloss_claims WHERE owner = ?", [(o,) for o in dead])
        store.db.execute("DELETE FROM gloss_claims WHERE expires_at < ?", (now,))
        rows = store.db.execute(
            f"{USAGE_CTE.format(json_ids=store.json_ids)} SELECT {_CHUNK_COLUMNS} FROM chunks c"
            " JOIN documents d ON d.id = c.document_id LEFT JOIN usage u ON u.cid = c.id"
            " WHERE NOT EXISTS (SELECT 1 FROM glosses g WHERE g.chunk_id = c.id"
            " AND g.representation_id = ?) AND NOT EXISTS (SELECT 1 FROM gloss_claims k"
            " WHERE k.chunk_id = c.id AND k.representation_id = ?)" + among +
            f" ORDER BY u.last IS NULL, u.last DESC, u.n DESC, c.id LIMIT ?{store.claim_lock}",
            (representation_id, representation_id, *(document_ids or ()), limit)).fetchall()
        taken = []
        for chunk in map(_chunk, rows):  # a claim another process holds is not taken
            if store.db.execute(
                    "INSERT INTO gloss_claims (chunk_id, representation_id, owner, expires_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING chunk_id",
                    (chunk.id, representation_id, owner, now + lease_s)).fetchone():
                taken.append(chunk)
    return taken


def release(store: Store, owner: str) -> None:
    """Drop this owner's claims (the work stopped before their glosses were written)."""
    with store.transaction():
        store.db.execute("DELETE FROM gloss_claims WHERE owner = ?", (owner,))

