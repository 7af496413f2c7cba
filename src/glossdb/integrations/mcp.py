"""MCP: glossdb as tools for an agent, over stdio (``pip install 'glossdb[mcp]'``).

    glossdb mcp --index docs.glossdb [--allow-add]

Tools: ``search`` (query, k, explain, min_verdict), ``why`` (query, chunk_id), ``show``
(chunk_id) and, only with ``--allow-add``, ``add`` (paths). The index's stats are the resource
``glossdb://stats``. A glossdb error comes back as a tool error with the same fix-it text the
CLI prints; this module is the one place the MCP tools translate errors.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from ..errors import GlossdbError, translate
from . import SharedIndex, hit_metadata

INSTRUCTIONS = (
    "glossdb searches a document collection with an LLM judge. Call `search` with a question "
    "to get the best chunks (text, gloss, verdict, chunk_id); `why` explains one chunk's "
    "verdict for a query; `show` gives a chunk's text, glosses and stored judgments."
)


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    """glossdb's errors (and the SQLite errors it can explain) as MCP tool errors."""
    try:
        yield
    except GlossdbError as exc:
        raise ToolError(f"Error: {exc}") from exc
    except Exception as exc:
        known = translate(exc)
        if known is None:
            raise
        raise ToolError(f"Error: {known}") from exc


def build_server(index: Any, allow_add: bool = False) -> MCPServer:
    shared = SharedIndex(index)
    server = MCPServer("glossdb", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(description="Search the index: the k best chunks for a question, ranked by "
                             "the LLM judge, with verdict, gloss and (explain=true) a reason; "
                             "where (e.g. \"year >= 2015\") keeps documents whose metadata "
                             "matches.")
    def search(query: str, k: Annotated[int, Field(ge=1, le=100)] = 5, explain: bool = False,
               min_verdict: Literal["weak match", "match", "strong match"] | None = None,
               where: str | None = None) -> list[dict]:
        with tool_errors():
            hits = shared.search(query, k=k, explain=explain, min_verdict=min_verdict,
                                 where=where)
        return [{**hit_metadata(h), "text": h.text} for h in hits]

    @server.tool(description="Why a chunk does or does not match a query, and where search "
                             "ranks it.")
    def why(query: str, chunk_id: Annotated[int, Field(ge=-(2**63), lt=2**63)]) -> dict:
        with tool_errors(), shared.lock:
            return shared.index.why(query, chunk_id).to_dict()

    @server.tool(description="A chunk's text, its glosses by version and stored judgments.")
    def show(chunk_id: Annotated[int, Field(ge=-(2**63), lt=2**63)]) -> dict:
        with tool_errors(), shared.lock:
            return shared.index.show(chunk_id).to_dict()

    @server.tool(description="Mark a chunk relevant (or not) to a query; the index learns "
                             "its judge from such marks (glossdb train).")
    def feedback(query: str, chunk_id: Annotated[int, Field(ge=-(2**63), lt=2**63)],
                 relevant: bool = True) -> dict:
        with tool_errors(), shared.lock:
            return shared.index.feedback(query, chunk_id, relevant, source="mcp")

    if allow_add:
        @server.tool(description="Add files or folders to the index (load, embed, gloss).")
        def add(paths: list[str]) -> dict:
            with tool_errors(), shared.lock:
                return shared.index.add([Path(p) for p in paths]).to_dict()

    @server.resource("glossdb://stats", name="stats", mime_type="application/json",
                     description="Counts, representation versions, judge, cut-off.")
    def stats() -> str:
        with shared.lock:
            return json.dumps(shared.index.stats().to_dict(), default=str)

    return server


def serve_stdio(index: Any, allow_add: bool = False) -> None:
    import anyio

    anyio.run(_run_stdio, build_server(index, allow_add))


async def _run_stdio(server: MCPServer) -> None:
    """MCPServer's stdio loop, with a line that is not a JSON-RPC message answered as
    JSON-RPC 2.0 says (-32700 parse error, -32600 invalid request) instead of dropped."""
    import anyio
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    lowlevel = server._lowlevel_server
    async with stdio_server() as (read_stream, write_stream):
        send, receive = anyio.create_memory_object_stream(0)

        async def sift() -> None:
            async with send:
                async for item in read_stream:
                    if isinstance(item, Exception):
                        await write_stream.send(SessionMessage(_rejection(item)))
                    else:
                        await send.send(item)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(sift)
            await lowlevel.run(receive, write_stream, lowlevel.create_initialization_options())
            tasks.cancel_scope.cancel()


def _rejection(exc: Exception) -> Any:
    from mcp.types import ErrorData, JSONRPCError

    errors = getattr(exc, "errors", lambda: [])()
    malformed = any(e.get("type") == "json_invalid" for e in errors)
    code, text = (-32700, "Parse error") if malformed else (-32600, "Invalid Request")
    return JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=text))
