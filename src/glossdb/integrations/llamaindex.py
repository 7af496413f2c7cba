"""LlamaIndex: glossdb as a ``llama_index.core`` retriever (``pip install 'glossdb[llamaindex]'``).

    from glossdb.integrations.llamaindex import GlossdbRetriever
    nodes = GlossdbRetriever("docs.glossdb", k=4).retrieve("how are glosses versioned?")
"""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores.types import MetadataFilters

from ..errors import InvalidQuery

from . import SharedIndex, hit_metadata


OPERATORS = {"==": "$eq", "!=": "$ne", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte",
             "in": "$in", "nin": "$nin"}


def where_of(filters: Any) -> dict | None:
    """LlamaIndex ``MetadataFilters`` as a glossdb ``where`` (also given as a dict or text,
    passed through). Operators glossdb has no SQL for (text_match, contains, any, all,
    is_empty, not) are refused, never dropped."""
    if filters is None or isinstance(filters, (dict, str)):
        return filters
    parts = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            parts.append(where_of(f))
            continue
        op = OPERATORS.get(getattr(f.operator, "value", f.operator))
        if op is None:
            raise InvalidQuery(f"glossdb filters have no operator {f.operator.value!r}: use "
                               + ", ".join(OPERATORS))
        parts.append({f.key: {op: f.value}})
    condition = getattr(filters.condition, "value", filters.condition) or "and"
    if condition not in ("and", "or"):
        raise InvalidQuery(f"glossdb filters combine with and/or, not {condition!r}")
    return parts[0] if len(parts) == 1 else {f"${condition}": parts}


class GlossdbRetriever(BaseRetriever):
    """``NodeWithScore`` for the best chunks; the score is the fused score that ranked the
    hit, the metadata per :func:`glossdb.integrations.hit_metadata`. ``filters``: LlamaIndex
    ``MetadataFilters`` (or a glossdb ``where``), applied inside the prefilter."""

    def __init__(self, index: Any, k: int = 4, explain: bool = False,
                 min_verdict: str | None = None, candidates: int | None = None,
                 filters: Any = None, **kwargs: Any):
        self._shared = SharedIndex(index)
        self._options = {"k": k, "explain": explain, "min_verdict": min_verdict,
                         "candidates": candidates, "where": where_of(filters)}
        super().__init__(**kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._shared.search(query_bundle.query_str, **self._options)
        return [NodeWithScore(node=TextNode(text=h.text, id_=f"glossdb-{h.chunk_id}",
                                            metadata=hit_metadata(h)), score=h.score)
                for h in hits]

    def feedback(self, query: str, node: NodeWithScore, relevant: bool = True) -> dict:
        """Mark a retrieved node relevant (or not) to the query that found it: a training
        pair for ``glossdb train``."""
        return self._shared.feedback(query, int(node.node.metadata["chunk_id"]), relevant,
                                     "llamaindex")

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)
