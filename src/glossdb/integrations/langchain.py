"""LangChain: glossdb as a ``langchain_core`` retriever and vector store
(``pip install 'glossdb[langchain]'``).

    from glossdb.integrations.langchain import GlossdbRetriever, GlossdbVectorStore
    retriever = GlossdbRetriever(index="docs.glossdb", k=4, where="year >= 2015")
    docs = retriever.invoke("how are glosses versioned?")

    store = GlossdbVectorStore("notes.glossdb")      # LangChain's VectorStore interface
    store.add_documents([Document("Backups are kept 35 days.", metadata={"team": "ops"})])
    store.similarity_search("backup retention", k=2, filter={"team": "ops"})
    store.as_retriever(search_kwargs={"k": 2}).invoke("backup retention")

No embeddings object: glossdb embeds inside the index (its prefilter) and ranks by its judge.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import (AsyncCallbackManagerForRetrieverRun,
                                      CallbackManagerForRetrieverRun)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
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
    where: Any = None  # a metadata filter: {"year": {"$gte": 2015}} or "year >= 2015"
    _shared: SharedIndex = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        self._shared = SharedIndex(self.index)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self._shared.search(query, k=self.k, explain=self.explain,
                                   min_verdict=self.min_verdict, candidates=self.candidates,
                                   where=self.where)
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


class GlossdbVectorStore(VectorStore):
    """LangChain's ``VectorStore`` over a glossdb index (an Index or a path, created when
    missing): ``add_texts``/``add_documents`` store documents (``Index.add_texts``; their
    metadata is filterable), ``similarity_search`` is a glossdb search (``filter``: a
    ``where``), ``delete`` removes by id, ``as_retriever`` comes from LangChain. Scores are
    glossdb's fused scores (higher is better), not distances."""

    def __init__(self, index: Any, *, gloss: bool = True, min_verdict: str | None = None):
        from ..index import Index

        self._shared = SharedIndex(index if isinstance(index, Index) else Index(index))
        self._gloss, self._min_verdict = gloss, min_verdict

    @property
    def embeddings(self) -> None:
        return None  # vectors live inside the index, never handed out

    def add_texts(self, texts: Any, metadatas: list[dict] | None = None, *,
                  ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        with self._shared.lock:
            return self._shared.index.add_texts(list(texts), metadatas, ids, gloss=self._gloss)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if ids is None:
            return None
        return self._shared.delete_texts(ids) > 0

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Any = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        hits = self._shared.search(query, k=k, where=filter, min_verdict=self._min_verdict)
        return [(Document(page_content=h.text, metadata=hit_metadata(h),
                          id=h.uri.removeprefix("text:")), h.score) for h in hits]

    def similarity_search(self, query: str, k: int = 4, filter: Any = None,
                          **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score(query, k, filter)]

    def _select_relevance_score_fn(self):
        return lambda score: score

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Any = None,
                   metadatas: list[dict] | None = None, *, ids: list[str] | None = None,
                   index: Any = "glossdb.glossdb", **kwargs: Any) -> "GlossdbVectorStore":
        """A store at ``index`` holding ``texts`` (``embedding`` is ignored: glossdb
        embeds inside the index)."""
        store = cls(index, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store
