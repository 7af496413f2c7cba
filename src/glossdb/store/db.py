"""The queries every store runs: documents, chunks, glosses, judgments, the query log.

``Store`` is the seam between glossdb and its database. The queries here are written once in
the SQL both SQLite and PostgreSQL accept (``?`` placeholders; the PostgreSQL store's
connection translates them); a subclass connects, opens transactions, migrates and searches
full text its own way (:mod:`.sqlite`, :mod:`.postgres`). Every statement passes through
``tracer`` when one is given (``open_store(path, tracer=print)`` shows them all).
"""

from __future__ import annotations

import contextlib
import json
import re
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..errors import IndexCorrupt, UnknownChunk
from . import filters
from .records import Chunk, ChunkDraft, JudgeVersion, Judgment, Representation, content_hash

_CHUNK_COLUMNS = (
    "c.id, c.document_id, c.ordinal, c.text, c.start_char, c.end_char, c.heading,"
    " c.content_hash, d.uri, d.title, d.metadata"
)


SQLFunctions = dict[str, tuple[int, Callable[..., Any]]]  # name -> (arity, function)
# name -> (columns, function returning rows): a table-valued function (sql_verbs)
SQLTables = dict[str, tuple[Sequence[str], Callable[..., list[tuple]]]]


def calls(statement: str, name: str) -> bool:
    """Whether ``statement`` calls the SQL function or table ``name``."""
    return re.search(rf"\b{name}\s*\(", statement, re.I) is not None


def _chunk(row: Sequence[Any]) -> Chunk:
    return Chunk(*row[:-1], metadata=json.loads(row[-1] or "{}"))


def _now() -> str:
    """The current UTC time as the schema's defaults write it (ISO 8601, milliseconds)."""
    at = datetime.now(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


# A write derived from a chunk lands only while that chunk still holds the text it was made
# from: another process may have removed it (its id may even be reused by a later add).
STILL_THERE = ("EXISTS (SELECT 1 FROM chunks WHERE id = ?"
               " AND (CAST(? AS TEXT) IS NULL OR content_hash = ?))")


def batches(items: list, size: int) -> list[list]:
    """``items`` in consecutive lists of at most ``size`` (bound parameters per statement)."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def _hash(hashes: dict[int, str] | None, chunk_id: int) -> tuple[str | None, str | None]:
    value = hashes.get(chunk_id) if hashes else None
    return value, value


class Store(ABC):
    """One index's database. ``db`` is a DB-API connection taking ``?`` placeholders;
    ``location`` names the index in messages; ``readonly`` stores nothing it is asked to
    cache or log."""

    # SQL that differs: rows of a JSON array of ids, the lock a claim takes, and the
    # full-text statement (``?`` for what fts_query makes of the terms, ``?`` for the limit)
    json_ids: str = ""
    claim_lock: str = ""
    fts_statement: str = ""
    fts_filtered: str = ""  # fts_statement for the chunks of ``{ids}`` (a SELECT) only
    fts_name: str = ""  # what ranks the lexical list, in words (``--sql``)
    dialect: str = ""  # the SQL of metadata filters: "sqlite" | "postgresql" (store.filters)
    db: Any
    location: str
    readonly: bool = False

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """All writes inside happen or none do (nested: joins the outer one)."""

    @abstractmethod
    def fts_query(self, terms: list[str]) -> str:
        """The value ``fts_statement`` binds for ``terms`` (any of them may match)."""

    def fts_search(self, terms: list[str], limit: int, where: filters.Where | None = None
                   ) -> list[tuple[int, float]]:
        """Full-text search over chunk text and gloss for any of ``terms``; returns
        (chunk_id, score), higher is better, best first; with ``where`` (a metadata filter,
        :mod:`glossdb.where`) among the chunks of matching documents only."""
        rows = self.db.execute(*self._fts(terms, limit, where))
        return [(r[0], float(r[1])) for r in rows]

    def _fts(self, terms: list[str], limit: int, where) -> tuple[str, list[Any]]:
        if not where:
            return self.fts_statement, [self.fts_query(terms), limit]
        ids, params = filters.chunk_ids_sql(where, self.dialect)
        return self.fts_filtered.format(ids=ids), [self.fts_query(terms), *params, limit]

    def fts_sql(self, terms: list[str], limit: int, where: filters.Where | None = None) -> str:
        """The statement :meth:`fts_search` runs, with its values inlined (for ``--sql``)."""
        return filters.inline(*self._fts(terms, limit, where))

    def filtered_chunk_ids(self, where: filters.Where) -> set[int]:
        """The chunks of the documents whose metadata matches ``where``."""
        return {r[0] for r in self.db.execute(*filters.chunk_ids_sql(where, self.dialect))}

    @abstractmethod
    def run_sql(self, statement: str, params: Sequence[Any], functions: SQLFunctions,
                representation_id: int, tables: SQLTables | None = None,
                batch: Any = None) -> tuple[list[str], list[tuple]]:
        """Run a user's statement with glossdb's SQL functions and tables available where
        the database allows them (``glossdb_gloss`` reads ``representation_id``'s
        glosses; ``batch`` may judge the statement's pairs in batches); (columns, rows)."""

    @abstractmethod
    def changes(self) -> int:
        """Rows changed through this connection so far (a counter; differences count)."""

    # settings ----------------------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        if self.readonly:
            return  # a read-only index caches and logs nothing
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # documents ---------------------------------------------------------------------------
    def document_hash(self, uri: str) -> str | None:
        row = self.db.execute("SELECT content_hash FROM documents WHERE uri = ?", (uri,)).fetchone()
        return row[0] if row else None

    def upsert_document(
        self, uri: str, title: str | None, chash: str, metadata: dict[str, Any]
    ) -> int:
        self.db.execute(
            "INSERT INTO documents (uri, title, content_hash, metadata) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(uri) DO UPDATE SET title = excluded.title,"
            " content_hash = excluded.content_hash, metadata = excluded.metadata,"
            " updated_at = ?",
            (uri, title, chash, json.dumps(metadata, sort_keys=True), _now()),
        )
        return self.db.execute("SELECT id FROM documents WHERE uri = ?", (uri,)).fetchone()[0]

    def delete_document(self, uri: str) -> int:
        """Delete a document and everything derived from it; return chunks removed."""
        row = self.db.execute("SELECT id FROM documents WHERE uri = ?", (uri,)).fetchone()
        if row is None:
            return -1
        with self.transaction():
            n = self.db.execute(
                "SELECT count(*) FROM chunks WHERE document_id = ?", (row[0],)
            ).fetchone()[0]
            self.db.execute("DELETE FROM documents WHERE id = ?", (row[0],))
        return n

    def documents(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT d.uri, d.title, count(c.id), count(DISTINCT g.chunk_id), d.updated_at"
            " FROM documents d LEFT JOIN chunks c ON c.document_id = d.id"
            " LEFT JOIN glosses g ON g.chunk_id = c.id GROUP BY d.id ORDER BY d.uri").fetchall()
        return [{"uri": u, "title": t, "chunks": n, "glossed": g, "updated_at": at}
                for u, t, n, g, at in rows]

    def document_uris(self, prefix: str = "") -> list[str]:
        rows = self.db.execute(
            "SELECT uri FROM documents WHERE substr(uri, 1, ?) = ? ORDER BY uri",
            (len(prefix), prefix),
        )
        return [r[0] for r in rows]

    def document_uris_ending(self, tail: str) -> list[str]:
        """URIs that end with ``/tail`` (or ``/tail#record``): a path given relative to
        another folder than the one it was added from."""
        like = "%/" + tail.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.db.execute(
            "SELECT uri FROM documents WHERE uri LIKE ? ESCAPE '\\' OR uri LIKE ? ESCAPE '\\'"
            " ORDER BY uri", (like, like + "#%"))
        return [u for (u,) in rows  # LIKE may ignore case: compare exactly here
                if u.endswith("/" + tail) or ("/" + tail + "#") in u]

    # chunks ------------------------------------------------------------------------------
    def replace_chunks(self, document_id: int, drafts: list[ChunkDraft]) -> tuple[int, int]:
        """Make the document's chunks equal ``drafts``.

        A chunk whose text is unchanged keeps its id, and so its glosses and judgments.
        Returns (kept, added).
        """
        old: dict[str, list[int]] = {}
        for cid, chash in self.db.execute(
            "SELECT id, content_hash FROM chunks WHERE document_id = ? ORDER BY ordinal",
            (document_id,),
        ):
            old.setdefault(chash, []).append(cid)
        kept = added = 0
        for ordinal, d in enumerate(drafts):
            reuse = old.get(d.content_hash)
            if reuse:
                self.db.execute(
                    "UPDATE chunks SET ordinal = ?, start_char = ?, end_char = ?, heading = ?"
                    " WHERE id = ?",
                    (ordinal, d.start_char, d.end_char, d.heading, reuse.pop(0)),
                )
                kept += 1
                continue
            new_id = self.db.execute(
                "INSERT INTO chunks (document_id, ordinal, heading, text, start_char, end_char,"
                " content_hash) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (document_id, ordinal, d.heading, d.text, d.start_char, d.end_char, d.content_hash),
            ).fetchone()[0]
            self.db.execute(
                "INSERT INTO chunk_fts (rowid, text, gloss) VALUES (?, ?, '')",
                (new_id, self._fts_text(d)),
            )
            added += 1
        stale = [cid for ids in old.values() for cid in ids]
        self.db.executemany("DELETE FROM chunks WHERE id = ?", [(c,) for c in stale])
        return kept, added

    @staticmethod
    def _fts_text(d: ChunkDraft) -> str:
        return f"{d.heading}\n{d.text}" if d.heading else d.text

    def get_chunk(self, chunk_id: int) -> Chunk:
        if not -(2**63) <= int(chunk_id) < 2**63:
            raise UnknownChunk(f"no chunk with id {chunk_id} in {self.location}: "
                               "`glossdb search` and `glossdb stats` show valid ids")
        row = self.db.execute(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE c.id = ?",
            (chunk_id,),
        ).fetchone()
        if row is None:
            raise UnknownChunk(
                f"no chunk with id {chunk_id} in {self.location}: "
                "`glossdb search` and `glossdb stats` show valid ids"
            )
        return _chunk(row)

    def get_chunks(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
        ids = list(chunk_ids)
        out: dict[int, Chunk] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self.db.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d"
                f" ON d.id = c.document_id WHERE c.id IN ({marks})",
                part,
            ):
                out[row[0]] = _chunk(row)
        return out

    def other_chunk_ids(self, exclude: list[int], limit: int,
                        where: filters.Where | None = None) -> list[int]:
        skip = set(exclude)
        ids, params = (filters.chunk_ids_sql(where, self.dialect) if where
                       else ("SELECT id FROM chunks", []))
        rows = self.db.execute(f"SELECT id FROM ({ids}) AS f ORDER BY id LIMIT ?",
                               (*params, limit + len(skip)))
        return [r[0] for r in rows if r[0] not in skip][:limit]

    def chunk_ids_by_hash(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for cid, chash in self.db.execute("SELECT id, content_hash FROM chunks"):
            out.setdefault(chash, []).append(cid)
        return out

    def chunk_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM chunks ORDER BY id")]

    # representations and glosses ---------------------------------------------------------
    def ensure_representation(
        self, name: str, model_id: str, template: str, params: dict[str, Any]
    ) -> Representation:
        """The version's row, registered the first time it is used: a search reads it with
        one SELECT and takes no write lock (a read-only index gets id -1: nothing here)."""
        known = self.db.execute("SELECT 1 FROM representations WHERE name = ?", (name,))
        if known.fetchone() is not None:
            return self.representation(name)
        if self.readonly:  # a version this index never wrote has no glosses here
            return Representation(-1, name, model_id, template, content_hash(template), params)
        with self.transaction():
            self.db.execute(
                "INSERT INTO representations (name, model_id, prompt_template, prompt_hash, params)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING",
                (name, model_id, template, content_hash(template), json.dumps(params, sort_keys=True)),
            )
        return self.representation(name)

    def representation(self, name: str) -> Representation:
        row = self.db.execute(
            "SELECT id, name, model_id, prompt_template, prompt_hash, params"
            " FROM representations WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            raise IndexCorrupt(f"representation {name!r} is not in {self.location}")
        return Representation(*row[:5], params=json.loads(row[5]))

    def representations(self) -> list[tuple[Representation, int]]:
        rows = self.db.execute(
            "SELECT r.name, count(g.chunk_id) FROM representations r"
            " LEFT JOIN glosses g ON g.representation_id = r.id GROUP BY r.id ORDER BY r.id"
        ).fetchall()
        return [(self.representation(name), n) for name, n in rows]

    def count_without_gloss(self, representation_id: int,
                            document_ids: Sequence[int] | None = None) -> int:
        """Chunks without a gloss of this version (of these documents only, if given)."""
        groups = [None] if document_ids is None else batches(list(document_ids), 500)
        return sum(self.db.execute(
            "SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM glosses g"
            " WHERE g.chunk_id = c.id AND g.representation_id = ?)"
            + (f" AND c.document_id IN ({','.join('?' * len(ids))})" if ids else ""),
            (representation_id, *(ids or ()))).fetchone()[0] for ids in groups)

    def document_ids(self, uris: Sequence[str]) -> list[int]:
        out: list[int] = []
        for part in batches(list(uris), 500):
            out += [r[0] for r in self.db.execute(
                f"SELECT id FROM documents WHERE uri IN ({','.join('?' * len(part))})", part)]
        return out

    def put_glosses(
        self, representation_id: int, glosses: list[tuple[int, str]], *, searchable: bool,
        hashes: dict[int, str] | None = None,
    ) -> None:
        """Store glosses in one transaction; ``searchable`` also feeds them to FTS. A chunk
        removed meanwhile by another process is skipped, and so (given ``hashes``, the text
        each was written for) is a chunk whose id now holds other text."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO glosses (chunk_id, representation_id, text) SELECT ?, ?, ?"
                f" WHERE {STILL_THERE} ON CONFLICT (chunk_id, representation_id) DO UPDATE"
                " SET text = excluded.text, created_at = excluded.created_at",
                [(cid, representation_id, text, cid, *_hash(hashes, cid))
                 for cid, text in glosses],
            )
            self.db.executemany(
                "DELETE FROM gloss_claims WHERE chunk_id = ? AND representation_id = ?",
                [(cid, representation_id) for cid, _ in glosses],
            )
            if searchable:
                self.db.executemany(
                    "UPDATE chunk_fts SET gloss = ? WHERE rowid = ?",
                    [(text, cid) for cid, text in glosses],
                )

    def glosses(self, representation_id: int, chunk_ids: Iterable[int]) -> dict[int, str]:
        ids = list(chunk_ids)
        out: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            out.update(
                self.db.execute(
                    f"SELECT chunk_id, text FROM glosses WHERE representation_id = ?"
                    f" AND chunk_id IN ({marks})",
                    [representation_id, *part],
                ).fetchall()
            )
        return out

    def glosses_only_in(self, representation_id: int, other_id: int) -> dict[int, str]:
        """The glosses of one version whose chunks have none of ``other_id`` (one indexed
        query; empty once the other version caught up)."""
        return dict(self.db.execute(
            "SELECT g.chunk_id, g.text FROM glosses g WHERE g.representation_id = ?"
            " AND NOT EXISTS (SELECT 1 FROM glosses n WHERE n.chunk_id = g.chunk_id"
            " AND n.representation_id = ?)", (representation_id, other_id)).fetchall())

    def glosses_for_chunk(self, chunk_id: int) -> list[tuple[str, str]]:
        return self.db.execute(
            "SELECT r.name, g.text FROM glosses g JOIN representations r"
            " ON r.id = g.representation_id WHERE g.chunk_id = ? ORDER BY r.id",
            (chunk_id,),
        ).fetchall()

    # judges and judgments ----------------------------------------------------------------
    def ensure_judge(self, name: str, model_id: str, method: str, template: str) -> JudgeVersion:
        """Like :meth:`ensure_representation`: a SELECT, and a write only the first time."""
        select = ("SELECT id, name, model_id, method, template, template_hash FROM judges"
                  " WHERE name = ?")
        row = self.db.execute(select, (name,)).fetchone()
        if row is None and not self.readonly:
            with self.transaction():
                self.db.execute(
                    "INSERT INTO judges (name, model_id, method, template, template_hash)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING",
                    (name, model_id, method, template, content_hash(template)),
                )
            row = self.db.execute(select, (name,)).fetchone()
        if row is None:  # read-only, and this judge never ran here: nothing cached under it
            return JudgeVersion(-1, name, model_id, method, template, content_hash(template))
        return JudgeVersion(*row)

    def judgments(
        self, query: str, chunk_ids: Iterable[int], representation_id: int, judge_id: int
    ) -> dict[int, Judgment]:
        ids = list(chunk_ids)
        out: dict[int, Judgment] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for cid, score, expl, read in self.db.execute(
                "SELECT chunk_id, score, explanation, read_hash FROM judgments WHERE query = ?"
                f" AND representation_id = ? AND judge_id = ? AND chunk_id IN ({marks})",
                [query, representation_id, judge_id, *part],
            ):
                out[cid] = Judgment(cid, score, expl, cached=True, read_hash=read)
        return out

    def put_judgments(
        self, query: str, representation_id: int, judge_id: int, judgments: Iterable[Judgment],
        hashes: dict[int, str] | None = None,
    ) -> None:
        """Cache judgments; like :meth:`put_glosses`, never for a chunk that is gone or
        whose id holds other text than the one judged (given ``hashes``). A judgment on
        something other than the gloss carries the ``read_hash`` of what was read."""
        judgments = list(judgments)
        if self.readonly or not judgments or representation_id < 0:
            return  # a read-only index caches nothing; nothing judged under a known version
        with self.transaction():
            self.db.executemany(
                "INSERT INTO judgments (query, chunk_id, representation_id, judge_id, score,"
                f" explanation, read_hash) SELECT ?, ?, ?, ?, ?, ?, ? WHERE {STILL_THERE}"
                " ON CONFLICT (query, chunk_id, representation_id, judge_id) DO UPDATE SET"
                " score = excluded.score, read_hash = excluded.read_hash, explanation ="
                " CASE WHEN coalesce(judgments.read_hash, '') = coalesce(excluded.read_hash, '')"
                " THEN coalesce(excluded.explanation, judgments.explanation)"
                " ELSE excluded.explanation END",
                [
                    (query, j.chunk_id, representation_id, judge_id, j.score, j.explanation,
                     j.read_hash, j.chunk_id, *_hash(hashes, j.chunk_id))
                    for j in judgments
                ],
            )

    def judges_used(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT jv.name, jv.model_id, jv.method, count(j.chunk_id) FROM judges jv"
            " LEFT JOIN judgments j ON j.judge_id = jv.id GROUP BY jv.id ORDER BY jv.id"
        ).fetchall()
        return [{"name": n, "model": m, "method": meth, "judgments": c} for n, m, meth, c in rows]

    def baseline(self, query: str, judge_id: int) -> float | None:
        row = self.db.execute(
            "SELECT score FROM query_baselines WHERE query = ? AND judge_id = ?", (query, judge_id)
        ).fetchone()
        return row[0] if row else None

    def put_baseline(self, query: str, judge_id: int, score: float) -> None:
        if self.readonly:
            return  # a read-only index caches and logs nothing
        self.db.execute(
            "INSERT INTO query_baselines (query, judge_id, score) VALUES (?, ?, ?)"
            " ON CONFLICT (query, judge_id) DO UPDATE SET score = excluded.score",
            (query, judge_id, score),
        )

    def judgments_for_chunk(self, chunk_id: int, limit: int = 20) -> list[tuple]:
        return self.db.execute(
            "SELECT j.query, j.score, j.explanation, r.name, jv.name, j.created_at"
            " FROM judgments j JOIN representations r ON r.id = j.representation_id"
            " JOIN judges jv ON jv.id = j.judge_id WHERE j.chunk_id = ?"
            " ORDER BY j.created_at DESC LIMIT ?",
            (chunk_id, limit),
        ).fetchall()

    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("documents", "chunks", "glosses", "judgments", "query_log"):
            out[table] = self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return out
