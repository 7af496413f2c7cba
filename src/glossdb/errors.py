"""Every error glossdb raises on purpose derives from :class:`GlossdbError`.

Each message is one line that says what went wrong *and how to fix it*; the CLI and the
HTTP server print ``str(error)`` and nothing else (no traceback).
"""

from __future__ import annotations


class GlossdbError(Exception):
    """Root of glossdb's errors. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InvalidQuery(GlossdbError):
    exit_code = 2


class UnknownChunk(GlossdbError):
    exit_code = 3


class UnknownDocument(GlossdbError):
    exit_code = 3


class UnknownRepresentation(GlossdbError):
    exit_code = 3


class ModelNotFound(GlossdbError):
    exit_code = 4


class BackendError(GlossdbError):
    """The model backend failed: server down, bad answer, missing capability."""

    exit_code = 5


class IndexCorrupt(GlossdbError):
    exit_code = 6


class ConfigError(GlossdbError):
    exit_code = 7


class IngestError(GlossdbError):
    """One input could not be ingested. Batches catch it, warn, and go on."""

    exit_code = 8


class NoSuchIndex(GlossdbError):
    """The index file the caller asked to open does not exist."""

    exit_code = 6


class IndexBusy(GlossdbError):
    """Another process held the index's write lock for longer than the busy timeout."""

    exit_code = 6


class RegressionFound(GlossdbError):
    """``diff --check``: the new version moves the rankings of logged queries too much."""

    exit_code = 9


class StorageFull(GlossdbError):
    """The disk (or the database's quota) is full: the write that failed was rolled back."""

    exit_code = 6


def store_errors() -> tuple[type[BaseException], ...]:
    """The database drivers' error classes (psycopg's only once a PostgreSQL index loaded it)."""
    import sqlite3
    import sys

    psycopg = sys.modules.get("psycopg")
    return (sqlite3.Error,) + ((psycopg.Error,) if psycopg is not None else ())


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only (drivers add multi-line details)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def translate(exc: BaseException) -> GlossdbError | None:
    """A library error that reached a boundary (CLI, server), as a glossdb error with a fix,
    or None when it is not one glossdb knows how to explain."""
    import sqlite3

    if not isinstance(exc, store_errors()):
        return None
    text = first_line(exc)
    if not isinstance(exc, sqlite3.Error):
        return _translate_postgres(exc, text)
    if "locked" in text or "busy" in text:
        return IndexBusy(f"the index is busy ({text}): another process is writing to it; "
                         "try again when it has finished")
    if "disk is full" in text:
        return StorageFull(f"the disk holding the index is full ({text}): the last write was "
                           "rolled back and everything committed before it is kept; free "
                           "space, then run the command again (it continues where it stopped)")
    if "disk I/O error" in text:
        return IndexCorrupt(f"the disk failed a read or write of the index ({text}): the last "
                            "write was rolled back; check that the disk and its file system "
                            "are writable again (`dmesg` says why it failed), then run the "
                            "command again (`sqlite3 FILE 'PRAGMA integrity_check'` checks "
                            "the file)")
    if "readonly" in text or "read-only" in text:
        return IndexCorrupt(f"the index cannot be written ({text}): make the file and its "
                            "folder writable, or search a writable copy")
    if isinstance(exc, sqlite3.DatabaseError):
        return IndexCorrupt(f"the index file is damaged ({text}): restore a backup, or move "
                            "it aside and add the documents again (`sqlite3 FILE 'PRAGMA "
                            "integrity_check'` shows what is wrong)")
    return None


def _translate_postgres(exc: BaseException, text: str) -> GlossdbError:
    import psycopg

    if isinstance(exc, psycopg.errors.DiskFull):
        return StorageFull(f"the PostgreSQL server's disk is full ({text}): the last write "
                           "was rolled back; free space, then run the command again")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return IndexCorrupt(f"the index cannot be written ({text}): grant this role INSERT, "
                            "UPDATE and DELETE on the index's tables")
    if isinstance(exc, (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected,
                        psycopg.errors.SerializationFailure)):
        return IndexBusy(f"the index is busy ({text}): try again")
    if isinstance(exc, psycopg.OperationalError):
        return IndexBusy(f"the PostgreSQL server is unreachable ({text}): check that it runs, "
                         "then try again")
    return IndexCorrupt(f"PostgreSQL refused a statement ({text}): the database may not be "
                        "a glossdb index of this version; `glossdb stats` shows what it has")
