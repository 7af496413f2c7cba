"""Internal vectors in the index (file or PostgreSQL database): one row per (embedder
version, chunk), float16 blobs.

Search is exact: one matrix product over every vector of the embedder version, held in
memory and reloaded only when ``vectors_generation`` moved (this or another process added or
removed vectors). Measured at 10k and 100k chunks in bench/results/vectors.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .db import Store
from .records import Chunk

DTYPE = np.float16


@dataclass(frozen=True)
class EmbedderVersion:
    id: int
    name: str
    model_id: str
    dim: int


class VectorStore:
    """Vectors of one index, next to its chunks; no model code here."""

    def __init__(self, store: Store):
        self.store = store
        self._cache: dict[int, tuple[str, np.ndarray, np.ndarray]] = {}

    @property
    def db(self):
        return self.store.db

    def ensure_embedder(self, model_id: str, dim: int) -> EmbedderVersion:
        name = f"embed-{model_id}"
        with self.store.transaction():
            self.db.execute(
                "INSERT INTO embedders (name, model_id, dim) VALUES (?, ?, ?)"
                " ON CONFLICT(name) DO NOTHING", (name, model_id, dim))
        row = self.db.execute("SELECT id, name, model_id, dim FROM embedders WHERE name = ?",
                              (name,)).fetchone()
        return EmbedderVersion(*row)

    def version_with_vectors(self, model_id: str) -> EmbedderVersion | None:
        """The version row of ``model_id`` if it has any vectors (an index lookup, cheap)."""
        row = self.db.execute(
            "SELECT e.id, e.name, e.model_id, e.dim FROM embedders e WHERE e.model_id = ?"
            " AND EXISTS (SELECT 1 FROM vectors v WHERE v.embedder_id = e.id)", (model_id,)
        ).fetchone()
        return EmbedderVersion(*row) if row else None

    def embedders(self) -> list[tuple[EmbedderVersion, int]]:
        rows = self.db.execute(
            "SELECT e.id, e.name, e.model_id, e.dim, count(v.chunk_id) FROM embedders e"
            " LEFT JOIN vectors v ON v.embedder_id = e.id GROUP BY e.id ORDER BY e.id").fetchall()
        return [(EmbedderVersion(*r[:4]), r[4]) for r in rows]

    def chunks_without_vector(self, embedder_id: int, limit: int) -> list[Chunk]:
        ids = [r[0] for r in self.db.execute(
            "SELECT c.id FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM vectors v"
            " WHERE v.embedder_id = ? AND v.chunk_id = c.id) ORDER BY c.id LIMIT ?",
            (embedder_id, limit))]
        chunks = self.store.get_chunks(ids)
        return [chunks[i] for i in ids if i in chunks]

    def count_without_vector(self, embedder_id: int) -> int:
        return self.db.execute(
            "SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM vectors v"
            " WHERE v.embedder_id = ? AND v.chunk_id = c.id)", (embedder_id,)).fetchone()[0]

    def put(self, embedder_id: int, chunk_ids: Iterable[int], vectors: np.ndarray) -> None:
        """Store vectors for chunks that still exist (a chunk removed meanwhile is skipped)."""
        rows = [(cid, embedder_id, np.asarray(v, dtype=DTYPE).tobytes())
                for cid, v in zip(chunk_ids, vectors)]
        with self.store.transaction():
            self.db.executemany(
                "INSERT INTO vectors (chunk_id, embedder_id, vector)"
                " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?)"
                " ON CONFLICT (embedder_id, chunk_id) DO UPDATE SET vector = excluded.vector",
                [(*r, r[0]) for r in rows])
            self._bump()

    def _bump(self) -> None:
        self.db.execute("UPDATE settings SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
                        " WHERE key = 'vectors_generation'")

    def generation(self) -> str:
        return self.store.get_setting("vectors_generation", "0") or "0"

    def matrix(self, embedder: EmbedderVersion) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, float32 matrix) of every vector of the version, cached in memory."""
        gen = self.generation()
        cached = self._cache.get(embedder.id)
        if cached is not None and cached[0] == gen:
            return cached[1], cached[2]
        rows = self.db.execute(
            "SELECT chunk_id, vector FROM vectors WHERE embedder_id = ? ORDER BY chunk_id",
            (embedder.id,)).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        mat = np.frombuffer(b"".join(r[1] for r in rows), dtype=DTYPE)
        mat = mat.reshape(len(rows), embedder.dim).astype(np.float32)
        self._cache[embedder.id] = (gen, ids, mat)
        return ids, mat

    def search(self, embedder: EmbedderVersion, query: np.ndarray, limit: int,
               among: set[int] | None = None) -> list[tuple[int, float]]:
        """The ``limit`` chunks nearest to ``query`` (cosine; vectors are unit length); with
        ``among``, the nearest of those chunks only (a metadata filter's)."""
        ids, mat = self.matrix(embedder)
        if among is not None:
            keep = np.isin(ids, np.fromiter(among, dtype=np.int64, count=len(among)))
            ids, mat = ids[keep], mat[keep]
        if not len(ids) or limit < 1:
            return []
        scores = mat @ np.asarray(query, dtype=np.float32)
        top = _top(scores, limit)
        return [(int(ids[i]), float(scores[i])) for i in top]


def _top(scores: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the ``limit`` highest scores, best first; ties by position."""
    if limit < len(scores):
        part = np.argpartition(-scores, limit - 1)[:limit]
    else:
        part = np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]
