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
from typing import Any, Iterator, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

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
                             "the LLM judge, with verdict, gloss and (explain=true) a reason.")
    def search(query: str, k: int = 5, explain: bool = False,
               min_verdict: Literal["weak match", "match", "strong match"] | None = None
               ) -> list[dict]:
        with tool_errors():
            hits = shared.search(query, k=k, explain=explain, min_verdict=min_verdict)
        return [{**hit_metadata(h), "text": h.text} for h in hits]

    @server.tool(description="Why a chunk does or does not match a query, and where search "
                             "ranks it.")
    def why(query: str, chunk_id: int) -> dict:
        with tool_errors(), shared.lock:
            return shared.index.why(query, chunk_id).to_dict()

    @server.tool(description="A chunk's text, its glosses by version and stored judgments.")
    def show(chunk_id: int) -> dict:
        with tool_errors(), shared.lock:
            return shared.index.show(chunk_id).to_dict()

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
    build_server(index, allow_add).run("stdio")
