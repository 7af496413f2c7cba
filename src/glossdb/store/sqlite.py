"""The embedded store: one SQLite file, one connection, WAL, explicit transactions.

The index file is only ever opened through SQLite. On POSIX, closing *any* descriptor of a
file drops every advisory lock the process holds on it, so a plain ``open()``/``close()`` of
the index (to read its header, copy it, hash it) while a connection of this process holds it
would let another process checkpoint and delete the WAL under that connection, and the
writes it had committed would be lost ("How To Corrupt An SQLite Database File", 2.2).
A file that is not SQLite is recognised by SQLite's own "file is not a database".

FTS5 (porter stemmer) is the full-text index; LLM matching runs as SQL functions registered
on the connection. Everything that is not SQLite's own lives in :class:`~.db.Store`.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..errors import GlossdbError, IndexCorrupt, InvalidQuery, NoSuchIndex
from . import sql_side
from .db import SQLFunctions, SQLTables, Store, calls
from .migrations import apply_migrations, pending

APPLICATION_ID = 0x676C6F73  # "glos"
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's write lock


class _Discard(Exception):
    """Rolls back a pass whose writes must not land."""


class SQLiteStore(Store):
    json_ids = "json_each(q.results) AS j"
    fts_statement = ("SELECT rowid, -bm25(chunk_fts) FROM chunk_fts WHERE chunk_fts MATCH ?"
                     " ORDER BY bm25(chunk_fts) LIMIT ?")
    fts_filtered = fts_statement.replace(" ORDER BY", " AND rowid IN ({ids}) ORDER BY")
    dialect = "sqlite"
    fts_name = "FTS5 BM25"

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        tracer: Callable[[str], None] | None = None,
    ):
        self.path = Path(path)
        self.location = str(self.path)
        self._check_path(create)
        self.readonly = self.path.exists() and not (
            os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK))
        self.db: sqlite3.Connection | None = None
        try:
            self.db = self._connect()
            if tracer is not None:
                self.db.set_trace_callback(tracer)
            self._open_waiting()
        except sqlite3.DatabaseError as exc:
            if self.db is not None:
                self.db.close()
            what = ("not an SQLite file" if "file is not a database" in str(exc) else exc)
            raise IndexCorrupt(
                f"{self.path} is not a glossdb index ({what}); move it aside or pass another path"
            ) from None

    def _connect(self) -> sqlite3.Connection:
        """A read-write connection, or for a file (or folder) that cannot be written, a
        read-only one: searches then work without caching judgments or logging."""
        if not self.readonly:
            return sqlite3.connect(str(self.path), isolation_level=None,
                                   check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        uri = self.path.resolve().as_uri()
        for mode in ("mode=ro", "immutable=1"):  # a read-only folder cannot hold the -shm
            db = sqlite3.connect(f"{uri}?{mode}", uri=True, isolation_level=None,
                                 check_same_thread=False, timeout=BUSY_TIMEOUT_S)
            try:
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return db
            except sqlite3.OperationalError:
                db.close()
            except sqlite3.DatabaseError:
                db.close()
                raise
        raise IndexCorrupt(f"{self.path} is read-only and cannot be opened for reading either; "
                           "check its permissions")

    def _check_path(self, create: bool) -> None:
        if self.path.is_dir():
            raise IndexCorrupt(f"{self.path} is a folder, not an index file: pass a file path "
                               f"such as {self.path / 'index.glossdb'}")
        if not self.path.exists():
            if not create:
                raise NoSuchIndex(f"no index at {self.path}: create one with "
                                  "`glossdb add PATH` or check the path")
            if not self.path.parent.is_dir():
                raise NoSuchIndex(f"cannot create {self.path}: the folder {self.path.parent} "
                                  "does not exist (create it first, or check the path)")

    def _open_waiting(self) -> None:
        """Open, waiting out another process that is creating or upgrading the same file:
        SQLite answers "locked" at once, without its busy handler, when waiting could
        deadlock (two new connections racing to set up the schema), so retry here."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                return self._open()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                time.sleep(0.02 + random.random() * 0.05)

    def _open(self) -> None:
        # one statement, one snapshot: another process may commit the schema in between
        app_id, tables = self.db.execute(
            "SELECT (SELECT application_id FROM pragma_application_id),"
            " (SELECT count(*) FROM sqlite_master)").fetchall()[0]
        if tables and app_id != APPLICATION_ID:
            raise sqlite3.DatabaseError("an SQLite database that glossdb did not create")
        self.db.execute("PRAGMA foreign_keys = ON")
        if self.readonly:
            if pending(self.db):
                raise IndexCorrupt(f"{self.path} is read-only and was made by an older "
                                   "glossdb: open it once with write access to upgrade it")
            return
        # FULL: a commit is on disk before it is reported (WAL's NORMAL may roll the last
        # commits back when the OS, the disk or its file system fails); one fsync a write
        # transaction, small beside model time (bench.faults measures the file system going
        # read-only under a writer)
        self.db.execute("PRAGMA synchronous = FULL")
        if self.db.execute("PRAGMA journal_mode").fetchall()[0][0] != "wal":
            self.db.execute("PRAGMA journal_mode = WAL")
        apply_migrations(self.db, APPLICATION_ID)
        self.db.row_factory = None

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside happen or none do."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def fts_query(self, terms: list[str]) -> str:
        """An FTS5 MATCH expression that ORs the terms, each quoted (no syntax leaks)."""
        return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)

    def run_sql(self, statement: str, params: Sequence[Any], functions: SQLFunctions,
                representation_id: int, tables: SQLTables | None = None,
                batch: Any = None) -> tuple[list[str], list[tuple]]:
        """On a read-only apsw side connection when the statement uses a table function or
        judges (batched there: :mod:`.sql_side`); a statement that writes runs here, its
        judged pairs collected in a pass that is rolled back, judged, then answered."""
        tables = {n: t for n, t in (tables or {}).items() if calls(statement, n)}
        judges = batch is not None and any(calls(statement, n) for n in batch.FUNCTIONS)
        if tables or judges:
            try:
                return sql_side.run(self.path, statement, params, functions, tables, batch)
            except sql_side.WritingStatement:
                if tables:
                    raise InvalidQuery(
                        f"{', '.join(tables)} can only be read from: a statement that writes "
                        "cannot call it (SELECT its rows first, then write them in a second "
                        "statement)") from None
        raised: list[GlossdbError] = []
        for name, (arity, fn) in functions.items():
            self.db.create_function(name, arity, _keeping(fn, raised))
        if judges:
            self._collect(statement, params, batch, raised)
        return self._execute(statement, params, raised)

    def _collect(self, statement: str, params: Sequence[Any], batch: Any,
                 raised: list) -> None:
        """The collecting pass of a writing statement: run, then rolled back."""
        batch.collecting = True
        try:
            with self.transaction():
                self._execute(statement, params, raised)
                raise _Discard
        except _Discard:
            pass
        finally:
            batch.collecting = False
        batch.judge_collected()
        batch.storing = False  # mid-statement: a pair not collected is scored, not stored

    def _execute(self, statement: str, params: Sequence[Any], raised: Sequence = ()
                 ) -> tuple[list[str], list[tuple]]:
        try:
            cursor = self.db.execute(statement, tuple(params))
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            if raised:  # sqlite3 hides what a function raised: the error that says the fix
                raise raised[-1] from None
            raise InvalidQuery(f"SQL error: {exc}") from None
        return [d[0] for d in cursor.description or []], rows

    def changes(self) -> int:
        return self.db.total_changes


def _keeping(fn: Callable, raised: list) -> Callable:
    """``fn`` as an SQL function whose glossdb errors are kept for :meth:`_execute`."""
    def call(*args):
        try:
            return fn(*args)
        except GlossdbError as exc:
            raised.append(exc)
            raise
    return call
