"""Adapters for the places RAG users already are: LangChain, LlamaIndex, MCP.

Each adapter is a thin layer over :class:`glossdb.Index` and imports its framework only when
used (``pip install 'glossdb[langchain]'``, ``'glossdb[llamaindex]'``, ``'glossdb[mcp]'``).
:func:`hit_metadata` is the one shape of metadata every adapter attaches to a hit.
"""

from __future__ import annotations

import threading
from typing import Any

from ..results import Hit


def hit_metadata(hit: Hit) -> dict[str, Any]:
    """What a framework document carries besides the chunk's text: its document's own
    fields (what ``where`` filters on), then glossdb's (which win a clash of names)."""
    return {
        **hit.metadata,
        "chunk_id": hit.chunk_id, "uri": hit.uri, "title": hit.title, "heading": hit.heading,
        "rank": hit.rank, "score": hit.score, "judge_score": hit.judge_score, "lift": hit.lift,
        "verdict": hit.verdict, "gloss": hit.gloss, "explanation": hit.explanation,
        "prefilter_rank": hit.prefilter_rank, "lexical_rank": hit.lexical_rank,
        "vector_rank": hit.vector_rank,
    }


class SharedIndex:
    """An index opened from a path (or given), searched by one thread at a time: frameworks
    call retrievers from worker threads and event loops."""

    def __init__(self, index: Any):
        from ..index import Index

        self.index = index if isinstance(index, Index) else Index(index, create=False)
        self.lock = threading.Lock()

    def search(self, query: str, **kwargs: Any) -> list[Hit]:
        with self.lock:
            return self.index.search(query, **kwargs)

    def add_texts(self, texts, metadatas=None, ids=None) -> list[str]:
        with self.lock:
            return self.index.add_texts(texts, metadatas, ids)

    def delete_texts(self, ids) -> int:
        with self.lock:
            return self.index.delete_texts(ids)

    def feedback(self, query: str, chunk_id: int, relevant: bool, source: str) -> dict:
        with self.lock:
            return self.index.feedback(query, chunk_id, relevant, source=source)
