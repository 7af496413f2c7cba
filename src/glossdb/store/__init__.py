"""SQLite storage for glossdb: schema, migrations and queries. No model code lives here."""

from .db import Store
from .records import Chunk, ChunkDraft, JudgeVersion, Judgment, Representation, content_hash

__all__ = [
    "Chunk",
    "ChunkDraft",
    "JudgeVersion",
    "Judgment",
    "Representation",
    "Store",
    "content_hash",
]
