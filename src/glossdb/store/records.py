"""Plain records that cross the store boundary."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it has an id: what a chunker produces."""

    text: str
    start_char: int
    end_char: int
    heading: str | None = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)


@dataclass(frozen=True)
class Chunk:
    id: int
    document_id: int
    ordinal: int
    text: str
    start_char: int
    end_char: int
    heading: str | None
    content_hash: str
    uri: str = ""
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Representation:
    """A representation version: which model and prompt wrote a gloss."""

    id: int
    name: str
    model_id: str
    prompt_template: str
    prompt_hash: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JudgeVersion:
    id: int
    name: str
    model_id: str
    method: str
    template: str
    template_hash: str


@dataclass(frozen=True)
class Judgment:
    chunk_id: int
    score: float
    explanation: str | None = None
    cached: bool = False
    read_hash: str | None = None  # for a judgment on the lead: the hash of the text read

    @property
    def on_lead(self) -> bool:
        """Judged on the text's lead: the chunk had no gloss when judged."""
        return self.read_hash is not None
