"""A store in a PostgreSQL database (psycopg 3), shared by many processes and machines.

Same schema and migrations as the SQLite file (:mod:`.migrations`, PostgreSQL dialect);
full text parsed by PostgreSQL's text search into a GIN-indexed ``tsvector`` and an
inverted index (``chunk_terms``) that BM25 reads in SQL; vectors
as ``bytea`` rows, searched in memory like SQLite's. One database (or schema, through the
URL's ``options=-csearch_path=…``) holds one index. ``glossdb_gloss`` is a function of the
database; the LLM's SQL functions (``glossdb_match``, ``glossdb_verdict``) call back into
glossdb's process, which PostgreSQL cannot do.
"""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError, IndexCorrupt, InvalidQuery, NoSuchIndex, first_line
from . import pg_tables
from .db import SQLFunctions, SQLTables, Store
from .migrations import MIGRATIONS, POSTGRES

SCHEMES = ("postgresql://", "postgres://")
MIGRATION_LOCK = 0x676C6F73  # advisory lock: one process migrates at a time
K1, B = 1.2, 0.75  # BM25's constants, FTS5's defaults
# BM25 over PostgreSQL's own parsing of the text, the formula FTS5's bm25() computes: idf =
# ln((N - df + 0.5) / (df + 0.5)), at least 1e-6 (a term in over half the chunks counts
# next to nothing, never against), times tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)).
# ts_rank_cd has no idf and ranked SciFact 22 points lower (bench/results/scale.json). Query
# words are stemmed by the same 'english' configuration; the inverted index chunk_terms gives
# the postings of the query's lexemes only, their document frequencies, and the chunks'
# lengths. tests/test_bm25.py checks both stores against bm25s on a fixture.
FTS_SQL = (
    "WITH lex AS (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', ?))) AS lex),"
    " n AS (SELECT count(*) AS n, avg(doclen) AS avgdl FROM chunk_fts),"
    " terms AS (SELECT lex, greatest(ln((n.n - d.df + 0.5) / (d.df + 0.5)), 1e-6) AS idf"
    " FROM lex, n,"
    " LATERAL (SELECT count(*) AS df FROM chunk_terms WHERE lexeme = lex) d)"
    f" SELECT p.chunk_id, sum(t.idf * p.tf * {K1 + 1} / (p.tf + {K1} * ({1 - B} + {B} * p.doclen"
    " / n.avgdl))) AS score FROM terms t JOIN chunk_terms p ON p.lexeme = t.lex, n"
    " GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT ?"
)


def is_url(location: object) -> bool:
    """A store URL: ``postgresql://…`` or a scheme a store plugin registered."""
    if not isinstance(location, str) or "://" not in location:
        return False
    return location.startswith(SCHEMES) or location.split("://", 1)[0] in _plugin_schemes()


@functools.lru_cache(maxsize=1)
def _plugin_schemes() -> frozenset[str]:
    from importlib.metadata import entry_points

    return frozenset(ep.name for ep in entry_points(group="glossdb.stores"))


def display(url: str) -> str:
    """The URL without its password, for messages and ``stats``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class _Connection:
    """psycopg's connection with sqlite3's parameter style (``?``), so the shared queries
    of :class:`~.db.Store` run unchanged; counts the rows its statements change. A
    connection the server dropped (a restart, a failover) is replaced before the next
    statement: the statement that met the break fails (one "unreachable" error, nothing
    retried twice), the next one runs on a new connection."""

    def __init__(self, connect: Callable[[], Any], tracer: Callable[[str], None] | None):
        self._connect, self.tracer, self.total_changes = connect, tracer, 0
        self.conn, self._closed = connect(), False

    def live(self) -> Any:
        if self.conn.broken and not self._closed:
            self.conn = self._connect()
        return self.conn

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        sql = self._sql(sql)
        if self.tracer:
            self.tracer(sql)
        cur = self.live().execute(sql, tuple(params))
        if cur.description is None and cur.rowcount > 0:
            self.total_changes += cur.rowcount
        return cur

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        sql = self._sql(sql)
        if self.tracer:
            self.tracer(sql)
        with self.live().cursor() as cur:
            cur.executemany(sql, rows)
            self.total_changes += max(cur.rowcount, 0)

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.live().info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self._closed = True
        self.conn.close()


class PostgresStore(Store):
    json_ids = "jsonb_array_elements_text(q.results::jsonb) AS j(value)"
    claim_lock = " FOR UPDATE OF c SKIP LOCKED"
    fts_statement = FTS_SQL
    fts_filtered = FTS_SQL.replace(" GROUP BY", " WHERE p.chunk_id IN ({ids}) GROUP BY")
    dialect = "postgresql"
    fts_name = "BM25 over chunk_terms"

    def __init__(self, url: str, *, create: bool = True,
                 tracer: Callable[[str], None] | None = None):
        try:
            import psycopg
        except ImportError:
            raise ConfigError("a postgresql:// index needs psycopg: "
                              "pip install 'glossdb[postgres]'") from None
        self.location = display(url)
        try:
            self.db = _Connection(
                lambda: psycopg.connect(url, autocommit=True, connect_timeout=10), tracer)
        except psycopg.Error as exc:
            raise NoSuchIndex(f"cannot connect to {self.location} ({first_line(exc)}): check "
                              "the URL, and that the server runs and accepts you") from None
        try:
            self._open(create)
        except BaseException:
            self.db.close()
            raise

    def _open(self, create: bool) -> None:
        conn = self.db.conn
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema()")}
        if tables and "_migrations" not in tables:
            raise IndexCorrupt(f"{self.location} holds tables glossdb did not create: use an "
                               "empty database (or schema) for an index")
        if not tables and not create:
            raise NoSuchIndex(f"no index in {self.location}: create one with "
                              f"`glossdb add PATH --index {self.location}`")
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY,"
                         f" applied_at TEXT NOT NULL DEFAULT {POSTGRES.now})")
            done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
            for migration in MIGRATIONS:
                if migration.__name__ not in done:
                    conn.execute(migration(POSTGRES))
                    conn.execute("INSERT INTO _migrations (name) VALUES (%s)",
                                 (migration.__name__,))
        self.readonly = not conn.execute(
            "SELECT has_table_privilege('glosses', 'INSERT')").fetchone()[0]

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        if self.db.in_transaction:
            yield self.db
            return
        with self.db.live().transaction():
            yield self.db

    def fts_query(self, terms: list[str]) -> str:
        """The words, parsed and stemmed in SQL like the chunks' text."""
        return " ".join(terms)

    def run_sql(self, statement: str, params: Sequence[Any], functions: SQLFunctions,
                representation_id: int, tables: SQLTables | None = None,
                batch: Any = None) -> tuple[list[str], list[tuple]]:
        """Plain SQL, with the database's own ``glossdb_gloss`` (migration m007) reading
        ``representation_id``. The judge's functions call back into this process, which
        PostgreSQL cannot do, so a statement using them is refused; a table function
        called with literal arguments is run first and read as a temporary table
        (:func:`.pg_tables.materialize`)."""
        statement, made = pg_tables.materialize(self, statement, tables or {})
        try:
            return self._run_plain(statement, params, functions, representation_id)
        finally:
            pg_tables.drop(self, made)

    def _run_plain(self, statement: str, params: Sequence[Any], functions: SQLFunctions,
                   representation_id: int) -> tuple[list[str], list[tuple]]:
        native = {"glossdb_gloss"}
        used = [name for name in functions
                if name not in native and re.search(rf"\b{name}\s*\(", statement)]
        if used:
            raise InvalidQuery(f"{', '.join(used)} run the LLM in glossdb's process, which "
                               "PostgreSQL cannot call from SQL: use `glossdb search`/`why`, "
                               "or an SQLite index for these functions")
        import psycopg

        try:
            self.db.execute("SELECT set_config('glossdb.representation', ?, false)",
                            (str(representation_id),))
            # without parameters the statement goes as written ('?' and '%' stay literal)
            cursor = (self.db.execute(statement, params) if params
                      else self.db.live().execute(statement))
            rows = cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise InvalidQuery(f"SQL error: {first_line(exc)}") from None
        return [d.name for d in cursor.description or []], rows

    def changes(self) -> int:
        return self.db.total_changes

