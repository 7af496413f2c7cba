"""Response models of the HTTP API: what each route returns, and the error body, so the
OpenAPI schema documents every answer (and schemathesis can check them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..results import Hit, Why
from ..store import Chunk
from ..versions import GlossDiff


class ErrorOut(BaseModel):
    error: str


class SearchOut(BaseModel):
    query: str
    hits: list[Hit]


class GlossRow(BaseModel):
    representation: str
    text: str
    unsupported: list[str] = Field(
        description="Content words of the gloss that its passage does not contain (stems "
                    "compared): what a reader should check.")


class JudgmentRow(BaseModel):
    query: str
    score: float
    explanation: str | None
    representation: str
    judge: str
    at: str


class ChunkOut(BaseModel):
    chunk: Chunk
    glosses: list[GlossRow]
    judgments: list[JudgmentRow]


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
