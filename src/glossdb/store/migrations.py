"""Schema migrations: named functions, applied in order, each recorded in ``_migrations``.

A migration is a function that returns the SQL script it runs. The runner applies every
pending script and its ``_migrations`` record in one write transaction, so a failing
migration leaves no trace and two processes creating one index never both apply it.
Add one by appending it to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

Migration = Callable[[], str]


def m001_initial() -> str:
    return """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            uri TEXT NOT NULL UNIQUE,
            title TEXT,
            content_hash TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            heading TEXT,
            text TEXT NOT NULL,
            start_char INTEGER NOT NULL,
            end_char INTEGER NOT NULL,
            content_hash TEXT NOT NULL
        );
        CREATE INDEX chunks_document ON chunks(document_id, ordinal);
        CREATE TABLE representations (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            model_id TEXT NOT NULL,
            prompt_template TEXT NOT NULL,
            prompt_hash TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE TABLE glosses (
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            representation_id INTEGER NOT NULL REFERENCES representations(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            PRIMARY KEY (chunk_id, representation_id)
        );
        CREATE TABLE judges (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            model_id TEXT NOT NULL,
            method TEXT NOT NULL,
            template TEXT NOT NULL,
            template_hash TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE TABLE judgments (
            query TEXT NOT NULL,
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            representation_id INTEGER NOT NULL REFERENCES representations(id) ON DELETE CASCADE,
            judge_id INTEGER NOT NULL REFERENCES judges(id) ON DELETE CASCADE,
            score REAL NOT NULL,
            explanation TEXT,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            PRIMARY KEY (query, chunk_id, representation_id, judge_id)
        );
        CREATE INDEX judgments_chunk ON judgments(chunk_id);
        CREATE TABLE query_log (
            id INTEGER PRIMARY KEY,
            query TEXT NOT NULL,
            k INTEGER NOT NULL,
            candidates INTEGER NOT NULL,
            judged INTEGER NOT NULL,
            cached INTEGER NOT NULL,
            seconds REAL NOT NULL,
            results TEXT NOT NULL,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE VIRTUAL TABLE chunk_fts USING fts5(
            text, gloss, tokenize = 'porter unicode61'
        );
        CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
            DELETE FROM chunk_fts WHERE rowid = old.id;
        END;
        """


def m002_query_baselines() -> str:
    """Each query's score after an empty passage, per judge: the zero point of a verdict."""
    return """
        CREATE TABLE query_baselines (
            query TEXT NOT NULL,
            judge_id INTEGER NOT NULL REFERENCES judges(id) ON DELETE CASCADE,
            score REAL NOT NULL,
            PRIMARY KEY (query, judge_id)
        );
        """


def m003_query_log_tokens() -> str:
    """Prompt tokens each search sent to the judge, and how many a server served from cache."""
    return """
        ALTER TABLE query_log ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE query_log ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0;
        """


def m004_vectors() -> str:
    """Internal embeddings: one version row per embedder, one vector per chunk and version.

    ``vectors_generation`` in ``settings`` counts every change, so a process that keeps the
    matrix in memory knows when to reload it (another process may have added chunks)."""
    return """
        CREATE TABLE embedders (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            model_id TEXT NOT NULL,
            dim INTEGER NOT NULL,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE TABLE vectors (
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            embedder_id INTEGER NOT NULL REFERENCES embedders(id) ON DELETE CASCADE,
            vector BLOB NOT NULL,
            PRIMARY KEY (embedder_id, chunk_id)
        ) WITHOUT ROWID;
        CREATE INDEX vectors_chunk ON vectors(chunk_id);
        INSERT INTO settings (key, value) VALUES ('vectors_generation', '0')
            ON CONFLICT(key) DO NOTHING;
        CREATE TRIGGER vectors_delete AFTER DELETE ON vectors BEGIN
            UPDATE settings SET value = CAST(value AS INTEGER) + 1
            WHERE key = 'vectors_generation';
        END;
        """


def m005_query_log_depth() -> str:
    """Per search: how many candidates were judged and the prefilter ranks of the ones the
    judge called a match; the adaptive cut-off learns from these."""
    return """
        ALTER TABLE query_log ADD COLUMN match_ranks TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE query_log ADD COLUMN explore INTEGER NOT NULL DEFAULT 0;
        """


def m006_gloss_claims() -> str:
    """Chunks a process is glossing now, so two processes never gloss the same chunk. A claim
    ends with its gloss, with its owner's death (same host), or at ``expires_at``."""
    return """
        CREATE TABLE gloss_claims (
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            representation_id INTEGER NOT NULL REFERENCES representations(id) ON DELETE CASCADE,
            owner TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (chunk_id, representation_id)
        );
        """


MIGRATIONS: list[Migration] = [m001_initial, m002_query_baselines, m003_query_log_tokens,
                               m004_vectors, m005_query_log_depth, m006_gloss_claims]


def statements(script: str) -> list[str]:
    """A script split into complete SQL statements (a trigger body's ``;`` stays inside)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def apply_migrations(db: sqlite3.Connection, application_id: int | None = None) -> list[str]:
    """Apply every migration not yet recorded, all in one write transaction; return the names
    applied. A second process opening the same new file waits for the first one's lock, then
    finds the migrations recorded and applies nothing."""
    done = _recorded(db)
    if all(m.__name__ in done for m in MIGRATIONS):
        return []
    db.execute("BEGIN IMMEDIATE")
    try:
        if application_id is not None:
            db.execute(f"PRAGMA application_id = {int(application_id)}")
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations ("
            " name TEXT PRIMARY KEY,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        )
        done = _recorded(db)
        applied = []
        for migration in MIGRATIONS:
            if migration.__name__ in done:
                continue
            for statement in statements(migration()):
                db.execute(statement)
            db.execute("INSERT INTO _migrations (name) VALUES (?)", (migration.__name__,))
            applied.append(migration.__name__)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return applied


def _recorded(db: sqlite3.Connection) -> set[str]:
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = '_migrations'").fetchone():
        return set()
    return {row[0] for row in db.execute("SELECT name FROM _migrations")}


def pending(db: sqlite3.Connection) -> list[str]:
    """Names of the migrations this file has not had yet."""
    done = _recorded(db)
    return [m.__name__ for m in MIGRATIONS if m.__name__ not in done]
