"""Questions the writer model asked of chunks: training pairs from the corpus itself
(glossdb.train.pairs.writer_questions), kept as rows so that training again pays only for
chunks it has not asked of yet.

A row stands for the chunk's text it was asked of (content hash) and the writer that asked
(its model and prompt, ``writer``): a changed chunk, or another writer, is asked afresh.
An empty question records that the writer wrote none (asking again would write none again:
the writer decodes greedily).
"""

from __future__ import annotations

from typing import Iterable

from .db import Store
from .records import Chunk


def stored_questions(store: Store, writer: str, chunks: Iterable[Chunk]) -> dict[int, str]:
    """{chunk id: question ('' for none)} of the given chunks that ``writer`` already asked
    of their current text."""
    wanted = {c.id: c.content_hash for c in chunks}
    if not wanted:
        return {}
    rows = store.db.execute(
        "SELECT chunk_id, content_hash, question FROM writer_questions WHERE writer = ?",
        (writer,))
    return {cid: q for cid, digest, q in rows if wanted.get(cid) == digest}


def put_questions(store: Store, writer: str, chunks: Iterable[Chunk],
                  questions: dict[int, str]) -> None:
    """Record what ``writer`` asked of each chunk ('' where it wrote no question)."""
    rows = [(c.id, writer, c.content_hash, questions.get(c.id, "")) for c in chunks]
    if not rows:
        return
    with store.transaction():
        store.db.executemany(
            "INSERT INTO writer_questions (chunk_id, writer, content_hash, question)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (chunk_id, writer) DO UPDATE SET"
            " content_hash = excluded.content_hash, question = excluded.question,"
            " created_at = excluded.created_at", rows)


def chunk_questions(store: Store, chunk: Chunk) -> list[dict]:
    """The questions writers asked of the chunk's current text (for ``show``)."""
    rows = store.db.execute(
        "SELECT writer, question, created_at FROM writer_questions WHERE chunk_id = ?"
        " AND content_hash = ? AND question <> '' ORDER BY created_at", (chunk.id,
                                                                         chunk.content_hash))
    return [{"writer": w, "question": q, "created_at": at} for w, q, at in rows]


def count_questions(store: Store) -> int:
    """Questions stored (of any writer), not counting chunks it wrote none for."""
    return store.db.execute(
        "SELECT count(*) FROM writer_questions WHERE question <> ''").fetchone()[0]
