"""LangChain: glossdb as a ``langchain_core`` retriever (``pip install 'glossdb[langchain]'``).

    from glossdb.integrations.langchain import GlossdbRetriever
    retriever = GlossdbRetriever(index="docs.glossdb", k=4, min_verdict="match")
    docs = retriever.invoke("how are glosses versioned?")
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import (AsyncCallbackManagerForRetrieverRun,
                                      CallbackManagerForRetrieverRun)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from . import SharedIndex, hit_metadata


class GlossdbRetriever(BaseRetriever):
    """Documents for the best chunks, ranked by glossdb's judge; metadata per
    :func:`glossdb.integrations.hit_metadata`. ``index`` is an Index or a path."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any
    k: int = 4
    explain: bool = False
    min_verdict: str | None = None
    candidates: int | None = None
    _shared: SharedIndex = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        self._shared = SharedIndex(self.index)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self._shared.search(query, k=self.k, explain=self.explain,
                                   min_verdict=self.min_verdict, candidates=self.candidates)
        return [Document(page_content=h.text, metadata=hit_metadata(h)) for h in hits]

    def feedback(self, query: str, document: Document, relevant: bool = True) -> dict:
        """Mark a retrieved document relevant (or not) to the query that found it: a
        training pair for ``glossdb train``."""
        return self._shared.feedback(query, int(document.metadata["chunk_id"]), relevant,
                                     "langchain")

    async def _aget_relevant_documents(
            self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        return await asyncio.to_thread(self._get_relevant_documents, query,
                                       run_manager=run_manager.get_sync())
