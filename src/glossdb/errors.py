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
