"""Response models of the HTTP API: what each route returns, and the error body, so the
OpenAPI schema documents every answer (and schemathesis can check them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ..results import GlossView, Hit, JudgmentView, Why
from ..store import Chunk
from ..versions import GlossDiff


class ErrorOut(BaseModel):
    error: str


class SearchOut(BaseModel):
    query: str
    hits: list[Hit]


class ChunkOut(BaseModel):
    """``/api/chunks/ID``: the shape of :class:`glossdb.results.ChunkView`."""

    chunk: Chunk
    glosses: list[GlossView]
    judgments: list[JudgmentView]


class StatsOut(BaseModel):
    """Counts and settings; more keys may appear in later versions."""

    model_config = ConfigDict(extra="allow")
    path: str
    documents: int
    chunks: int
    glosses: int
    judgments: int
    candidates: dict[str, Any]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in (
        (400, "bad query or parameter"), (401, "missing or wrong API key"),
        (404, "unknown chunk, document or version"), (500, "damaged index"),
        (502, "model backend failed"), (503, "model not installed or index busy"))
}

__all__ = ["ERRORS", "ChunkOut", "ErrorOut", "GlossDiff", "SearchOut", "StatsOut", "Why"]
