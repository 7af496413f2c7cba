"""glossdb's HTTP API and inspection page (FastAPI).

    glossdb serve --index docs.glossdb        # http://127.0.0.1:8700/

Routes are thin adapters over :class:`~glossdb.index.Index`, like the CLI's commands. Errors
are translated to HTTP in one place (:func:`error_response`): the status follows the error's
class and the body is ``{"error": <one-line message that says how to fix it>}``.

Handlers are ``async`` and call the index directly, so requests are served one at a time on
the event loop: the index holds one SQLite connection and one in-process model, and a
search already judges all its candidates in one batch.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..errors import (BackendError, ConfigError, GlossdbError, IndexBusy, IndexCorrupt,
                      IngestError, InvalidQuery, ModelNotFound, UnknownChunk, UnknownDocument,
                      UnknownRepresentation, translate)
from ..index import Index
from .page import PAGE

STATUS = {
    InvalidQuery: 400, ConfigError: 400, IngestError: 422, UnknownChunk: 404,
    UnknownDocument: 404, UnknownRepresentation: 404, ModelNotFound: 503, BackendError: 502, IndexCorrupt: 500,
    IndexBusy: 503,
}


def status_of(exc: GlossdbError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _require_fastapi() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ConfigError("the HTTP server needs FastAPI and uvicorn: "
                          "pip install 'glossdb[server]'") from None


def create_app(index: Index) -> Any:
    """A FastAPI app serving ``index``. The caller keeps ownership of the index."""
    _require_fastapi()
    from fastapi import FastAPI, Query, Request
    from fastapi.responses import HTMLResponse, JSONResponse

    app = FastAPI(title="glossdb", summary="Search by LLM-judged glosses, with explanations.")

    @app.exception_handler(GlossdbError)
    async def error_response(_: Request, exc: GlossdbError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=status_of(exc))

    @app.exception_handler(sqlite3.Error)
    async def store_error(request: Request, exc: sqlite3.Error) -> JSONResponse:
        known = translate(exc)
        if known is None:
            raise exc
        return await error_response(request, known)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return PAGE

    @app.get("/api/search")
    async def search(q: str, k: int = Query(10, ge=1, le=100), explain: bool = False,
                     candidates: int | None = Query(None, ge=1, le=1000)) -> dict:
        hits = index.search(q, k=k, explain=explain, candidates=candidates)
        return {"query": q, "hits": [h.to_dict() for h in hits]}

    @app.get("/api/why")
    async def why(q: str, chunk_id: int) -> dict:
        return index.why(q, chunk_id).to_dict()

    @app.get("/api/chunks/{chunk_id}")
    async def chunk(chunk_id: int) -> dict:
        return index.show(chunk_id)

    @app.get("/api/diff")
    async def diff(old: str | None = None, new: str | None = None,
                   limit: int = Query(20, ge=0, le=1000)) -> dict:
        return index.diff(old, new, limit).to_dict()

    @app.get("/api/stats")
    async def stats() -> dict:
        return index.stats()

    return app


def serve(index: Index, host: str = "127.0.0.1", port: int = 8700) -> None:
    import uvicorn

    uvicorn.run(create_app(index), host=host, port=port, log_level="info")
