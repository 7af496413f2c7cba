"""Storage for glossdb: schema, migrations and queries. No model code lives here.

``open_store`` picks the store by location: a URL by its scheme (``postgresql://`` opens
:class:`~.postgres.PostgresStore`; packages add schemes under the entry-point group
``glossdb.stores``, :mod:`glossdb.plugins`), anything else is an SQLite file
(:class:`~.sqlite.SQLiteStore`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .db import Store
from .postgres import is_url
from .records import Chunk, ChunkDraft, JudgeVersion, Judgment, Representation, content_hash
from .sqlite import SQLiteStore


# URL scheme -> "module:Class" (a Store taking the URL, ``create`` and ``tracer``)
SCHEMES = {"postgresql": "glossdb.store.postgres:PostgresStore",
           "postgres": "glossdb.store.postgres:PostgresStore"}


def open_store(location: str | Path, *, create: bool = True,
               tracer: Callable[[str], None] | None = None) -> Store:
    from ..plugins import load, table

    text = str(location)
    scheme = text.split("://", 1)[0] if "://" in text else ""
    if scheme and scheme in table(SCHEMES, "glossdb.stores"):
        cls = load(SCHEMES, "glossdb.stores", scheme, "store")
        return cls(text, create=create, tracer=tracer)
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
