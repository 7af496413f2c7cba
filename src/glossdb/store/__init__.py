"""Storage for glossdb: schema, migrations and queries. No model code lives here.

``open_store`` picks the store by location: a ``postgresql://`` URL opens
:class:`~.postgres.PostgresStore`, anything else is an SQLite file (:class:`~.sqlite.SQLiteStore`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .db import Store
from .postgres import PostgresStore, is_url
from .records import Chunk, ChunkDraft, JudgeVersion, Judgment, Representation, content_hash
from .sqlite import SQLiteStore


def open_store(location: str | Path, *, create: bool = True,
               tracer: Callable[[str], None] | None = None) -> Store:
    if is_url(location):
        return PostgresStore(str(location), create=create, tracer=tracer)
    return SQLiteStore(location, create=create, tracer=tracer)


__all__ = [
    "Chunk",
    "ChunkDraft",
    "JudgeVersion",
    "Judgment",
    "Representation",
    "SQLiteStore",
    "Store",
    "content_hash",
    "is_url",
    "open_store",
]
