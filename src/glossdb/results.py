"""What the index's verbs take and return: plain records, each with ``to_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InvalidQuery


@dataclass
class Hit:
    rank: int
    chunk_id: int
    score: float
    verdict: str
    uri: str
    title: str | None
    heading: str | None
    text: str
    gloss: str | None
    explanation: str | None = None
    prefilter_rank: int | None = None
    cached: bool = False
    lexical_rank: int | None = None
    vector_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AddReport:
    files: int = 0
    documents_new: int = 0
    documents_changed: int = 0
    documents_unchanged: int = 0
    chunks_added: int = 0
    chunks_kept: int = 0
    glosses_written: int = 0
    vectors_written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Why:
    query: str
    chunk_id: int
    score: float
    verdict: str
    rank: int | None
    candidates: int
    prefilter_rank: int | None
    gloss: str | None
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TuneReport:
    queries: int
    deep: int
    k: int
    target: float
    current: int
    recommended: int
    curve: list[tuple[int, float]]  # (cut-off, recall of the deep top k)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise InvalidQuery("the query is empty: pass some words to search for")
    return " ".join(query.split())
