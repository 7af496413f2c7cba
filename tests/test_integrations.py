"""LangChain and LlamaIndex retrievers and the MCP server, on the real framework packages.

The index answers with the fake backend (the plumbing is under test here); the same
adapters run on the real models in test_real_model.py's example index.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from glossdb import Index

pytest.importorskip("langchain_core")
pytest.importorskip("llama_index.core")
pytest.importorskip("mcp")

QUERY = "yeast dough rise"
KEYS = {"chunk_id", "uri", "title", "heading", "rank", "score", "judge_score", "lift",
        "verdict", "gloss", "explanation", "prefilter_rank", "lexical_rank", "vector_rank"}


@pytest.fixture
def fake_index(tmp_path, corpus):
    path = tmp_path / "rag.glossdb"
    ix = Index(path, backend="fake")
    ix.add([corpus])
    ix.close()
    return path


def test_langchain_retriever_in_a_chain_sync_and_async(fake_index):
    from langchain_core.runnables import RunnableLambda

    from glossdb.integrations.langchain import GlossdbRetriever

    retriever = GlossdbRetriever(index=Index(fake_index, backend="fake"), k=2)
    docs = retriever.invoke(QUERY)
    assert len(docs) == 2 and set(docs[0].metadata) == KEYS
    assert "Yeast" in docs[0].page_content and docs[0].metadata["rank"] == 1
    chain = retriever | RunnableLambda(lambda ds: [d.metadata["chunk_id"] for d in ds])
    assert chain.invoke(QUERY) == [d.metadata["chunk_id"] for d in docs]
    again = asyncio.run(retriever.ainvoke(QUERY))
    assert [d.metadata["chunk_id"] for d in again] == [d.metadata["chunk_id"] for d in docs]
    mark = retriever.feedback(QUERY, docs[1], relevant=False)
    assert mark == {"query": QUERY, "chunk_id": docs[1].metadata["chunk_id"], "relevant": False,
                    "source": "langchain"}


def test_langchain_retriever_passes_min_verdict(fake_index):
    from glossdb.integrations.langchain import GlossdbRetriever

    ix = Index(fake_index, backend="fake")
    every = GlossdbRetriever(index=ix, k=10).invoke(QUERY)
    strong = GlossdbRetriever(index=ix, k=10, min_verdict="strong match").invoke(QUERY)
    assert [d.metadata["chunk_id"] for d in strong] == [
        d.metadata["chunk_id"] for d in every if d.metadata["verdict"] == "strong match"]


def test_llamaindex_retriever_and_query_engine(fake_index):
    from llama_index.core.llms import MockLLM
    from llama_index.core.query_engine import RetrieverQueryEngine

    from glossdb.integrations.llamaindex import GlossdbRetriever

    retriever = GlossdbRetriever(Index(fake_index, backend="fake"), k=2)
    nodes = retriever.retrieve(QUERY)
    assert len(nodes) == 2 and set(nodes[0].node.metadata) == KEYS
    assert nodes[0].score == nodes[0].node.metadata["score"]
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())
    response = engine.query(QUERY)
    assert [n.node.metadata["chunk_id"] for n in response.source_nodes] == [
        n.node.metadata["chunk_id"] for n in nodes]
    again = asyncio.run(retriever.aretrieve(QUERY))
    assert [n.node.node_id for n in again] == [n.node.node_id for n in nodes]
    assert retriever.feedback(QUERY, nodes[0])["source"] == "llamaindex"


def test_a_missing_index_is_a_clear_error(tmp_path):
    from glossdb.errors import NoSuchIndex
    from glossdb.integrations.langchain import GlossdbRetriever

    with pytest.raises(NoSuchIndex, match="glossdb add"):
        GlossdbRetriever(index=str(tmp_path / "none.glossdb"))


async def _mcp_session(path, *extra):
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "glossdb", "mcp", "--index", str(path), "--backend", "fake", *extra],
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            out["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
            out["search"] = await session.call_tool("search", {"query": QUERY, "k": 2})
            out["where"] = await session.call_tool("search", {"query": QUERY, "k": 2,
                                                              "where": "year > 1"})
            first = out["search"].structured_content["result"][0]["chunk_id"]
            out["why"] = await session.call_tool("why", {"query": QUERY, "chunk_id": first})
            out["feedback"] = await session.call_tool("feedback", {"query": QUERY,
                                                                   "chunk_id": first})
            out["empty"] = await session.call_tool("search", {"query": "   "})
            out["unknown"] = await session.call_tool("show", {"chunk_id": 999999})
            out["stats"] = await session.read_resource("glossdb://stats")
    return out


def test_mcp_server_over_stdio(fake_index):
    out = asyncio.run(_mcp_session(fake_index))
    assert out["tools"] == ["feedback", "search", "show", "why"]  # no add without --allow-add
    hits = out["search"].structured_content["result"]
    assert len(hits) == 2 and set(hits[0]) == KEYS | {"text"}
    assert out["where"].structured_content["result"] == []  # no document has a year
    why = out["why"].structured_content or json.loads(out["why"].content[0].text)
    assert why["rank"] == 1 and why["chunk_id"] == hits[0]["chunk_id"]
    mark = out["feedback"].structured_content or json.loads(out["feedback"].content[0].text)
    assert mark["relevant"] is True and mark["source"] == "mcp"
    assert out["empty"].is_error and "Error: " in out["empty"].content[0].text
    assert "query" in out["empty"].content[0].text
    assert out["unknown"].is_error and "999999" in out["unknown"].content[0].text
    assert '"chunks"' in out["stats"].contents[0].text


def test_mcp_add_tool_only_when_allowed(fake_index):
    out = asyncio.run(_mcp_session(fake_index, "--allow-add"))
    assert out["tools"] == ["add", "feedback", "search", "show", "why"]


def test_mcp_answers_malformed_json_and_refuses_a_huge_k(fake_index):
    """JSON-RPC 2.0: a line that is not JSON gets -32700 (it was dropped in silence); a
    search for a million hits is a tool error naming the bound."""
    import subprocess

    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}}
    lines = [json.dumps(init), "{not json at all",
             json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
             json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                 "name": "search", "arguments": {"query": QUERY, "k": 1000000}}})]
    proc = subprocess.Popen([sys.executable, "-m", "glossdb", "mcp", "--index",
                             str(fake_index), "--backend", "fake"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    replies = []
    try:  # stdin stays open until the last answer is read (EOF ends the session)
        proc.stdin.write("\n".join(lines) + "\n")
        proc.stdin.flush()
        while not any(r.get("id") == 2 for r in replies):
            line = proc.stdout.readline()
            assert line, "the server closed its output before answering"
            replies.append(json.loads(line))
    finally:
        proc.stdin.close()
        proc.wait(timeout=120)
    parse = [r for r in replies if r.get("error", {}).get("code") == -32700]
    assert len(parse) == 1 and parse[0]["id"] is None
    (huge,) = [r for r in replies if r.get("id") == 2]
    assert huge["result"]["isError"] and "100" in huge["result"]["content"][0]["text"]


NOTES = ["Production backups are kept for 35 days and encrypted with AES-256.",
         "Priya Raman owns the backup runbook and reviews it every quarter.",
         "Sourdough starter needs feeding with flour and water every day."]
NOTE_META = [{"team": "ops", "year": 2024}, {"team": "ops", "year": 2021},
             {"team": "kitchen", "year": 2024}]


def test_langchain_vector_store_adds_searches_filters_and_deletes(tmp_path):
    from langchain_core.documents import Document

    from glossdb.integrations.langchain import GlossdbVectorStore

    store = GlossdbVectorStore(Index(tmp_path / "vs.glossdb", backend="fake"))
    ids = store.add_documents([Document(t, metadata=m) for t, m in zip(NOTES, NOTE_META)],
                              ids=["b1", "b2", "s1"])
    assert ids == ["b1", "b2", "s1"]
    docs = store.similarity_search("backup kept encrypted", k=2)
    assert docs[0].id == "b1" and docs[0].metadata["team"] == "ops"
    only = store.similarity_search("backup", k=3, filter={"year": {"$gte": 2024}})
    assert {d.id for d in only} <= {"b1", "s1"} and len(only) == 2
    scored = store.similarity_search_with_score("backup", k=1, filter={"team": "kitchen"})
    assert [d.id for d, _ in scored] == ["s1"]
    retriever = store.as_retriever(search_kwargs={"k": 1, "filter": {"team": "ops"}})
    assert retriever.invoke("runbook owner")[0].id == "b2"
    assert store.delete(["b2", "nope"]) is True
    assert "b2" not in {d.id for d in store.similarity_search("runbook", k=3)}
    again = GlossdbVectorStore.from_texts(["a note about tea"], None, [{"team": "x"}],
                                          index=Index(tmp_path / "ft.glossdb", backend="fake"))
    assert again.similarity_search("tea", k=1)[0].metadata["team"] == "x"


def test_retrievers_map_their_filters_onto_where(tmp_path):
    from llama_index.core.vector_stores.types import (FilterCondition, FilterOperator,
                                                      MetadataFilter, MetadataFilters)

    from glossdb.integrations.langchain import GlossdbRetriever as LC
    from glossdb.integrations.llamaindex import GlossdbRetriever as LI
    from glossdb.integrations.llamaindex import where_of

    ix = Index(tmp_path / "f.glossdb", backend="fake")
    ix.add_texts(NOTES, NOTE_META, ["b1", "b2", "s1"])
    docs = LC(index=ix, k=3, where="year == 2021").invoke("backup runbook")
    assert [d.metadata["year"] for d in docs] == [2021]
    filters = MetadataFilters(filters=[
        MetadataFilter(key="team", value="ops"),
        MetadataFilter(key="year", value=2024, operator=FilterOperator.GTE)],
        condition=FilterCondition.AND)
    assert where_of(filters) == {"$and": [{"team": {"$eq": "ops"}}, {"year": {"$gte": 2024}}]}
    nodes = LI(ix, k=3, filters=filters).retrieve("backup")
    assert [n.node.metadata["uri"] for n in nodes] == ["text:b1"]
    with pytest.raises(Exception, match="no operator"):
        where_of(MetadataFilters(filters=[MetadataFilter(key="team", value="o",
                                                         operator=FilterOperator.CONTAINS)]))
