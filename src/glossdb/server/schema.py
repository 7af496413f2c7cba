"""Response models of the HTTP API: what each route returns, and the error body, so the
OpenAPI schema documents every answer (and schemathesis can check them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..results import MAX_QUERY_CHARS, GlossView, Hit, JudgmentView, Why
from ..store import Chunk
from ..versions import GlossDiff


class ErrorOut(BaseModel):
    error: str


class SearchIn(BaseModel):
    """``POST /api/search``: the GET route's parameters as a JSON body, for a query too
    long for a URL (a pasted passage: "find more like this")."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as documented
    q: str = Field(..., min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(10, ge=1, le=100)
    explain: bool = False
    candidates: int | None = Field(None, ge=1, le=1000)
    min_verdict: Literal["weak match", "match", "strong match"] | None = None
    where: str | dict[str, Any] | None = None  # a metadata filter (glossdb.where)


class FeedbackIn(BaseModel):
    """``POST /api/feedback``: a user's mark that a hit is (not) relevant to a query;
    ``glossdb train`` learns judge versions from these."""

    model_config = ConfigDict(extra="forbid", strict=True)
    q: str = Field(..., min_length=1, max_length=MAX_QUERY_CHARS)
    chunk_id: int = Field(..., ge=-(2**63), lt=2**63)
    relevant: bool = True
    source: Literal["page", "api"] = "api"


class FeedbackOut(BaseModel):
    query: str
    chunk_id: int
    relevant: bool
    source: str


class SearchOut(BaseModel):
    query: str
    hits: list[Hit]


class ChunkOut(BaseModel):
    """``/api/chunks/ID``: the shape of :class:`glossdb.results.ChunkView`."""

    chunk: Chunk
    glosses: list[GlossView]
    judgments: list[JudgmentView]
    feedback: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []


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
