"""glossdb's HTTP API and inspection page (FastAPI).

    glossdb serve --index docs.glossdb        # http://127.0.0.1:8700/

Routes are thin adapters over :class:`~glossdb.index.Index`, like the CLI's commands. Errors
are translated to HTTP in one place (:func:`error_response`): the status follows the error's
class and the body is ``{"error": <one-line message that says how to fix it>}``.

Handlers run on FastAPI's thread pool, each thread with its own handle on the index
(:meth:`Index.fork`: its own SQLite connection, the shared models). Model calls are
serialised by each model's lock; everything else (stats, chunks, cached searches) is
answered meanwhile. WAL lets readers run beside the one writer.
"""

from __future__ import annotations

import contextlib
import hmac
import threading
from typing import Any, Literal

from ..errors import (BackendError, ConfigError, GlossdbError, IndexBusy, IndexCorrupt,
                      IngestError, InvalidQuery, ModelNotFound, StorageFull, UnknownChunk, UnknownDocument,
                      UnknownRepresentation, store_errors, translate)
from ..index import Index
from ..results import MAX_QUERY_CHARS
from .page import PAGE
from .worker import GlossWorker

STATUS = {
    InvalidQuery: 400, ConfigError: 400, IngestError: 422, UnknownChunk: 404,
    UnknownDocument: 404, UnknownRepresentation: 404, ModelNotFound: 503, BackendError: 502, IndexCorrupt: 500,
    IndexBusy: 503, StorageFull: 507,
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


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
OPEN_PATHS = ("/", "/favicon.ico")
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" '
           'height="16" rx="3" fill="#175"/><text x="8" y="12" font-size="11" '
           'text-anchor="middle" fill="#fff" font-family="sans-serif">g</text></svg>')  # the page shell carries no data; its API calls need the key


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def key_matches(header: str, api_key: str) -> bool:
    """``Authorization: Bearer KEY``; the scheme is case-insensitive (RFC 7235)."""
    scheme, _, token = header.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                              api_key.encode())


def create_app(index: Index, *, api_key: str | None = None,
               allowed_hosts: tuple[str, ...] | list[str] | None = None,
               gloss_in_background: bool = False) -> Any:
    """A FastAPI app serving ``index``. The caller keeps ownership of the index.

    Requests whose Host header names another host are refused (a page on another site cannot
    reach a loopback server through DNS rebinding); with ``api_key`` every route but the
    page shell needs ``Authorization: Bearer KEY``. With ``gloss_in_background`` a worker
    writes missing glosses in usage order whenever no request is being served."""
    _require_fastapi()
    from fastapi import FastAPI, Path, Query, Request
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    from .schema import ERRORS, ChunkOut, GlossDiff, SearchIn, SearchOut, StatsOut, Why

    forks: list[Index] = []
    generation = [0]  # bumped at shutdown: a thread's older fork is closed, make a new one

    worker: list[GlossWorker] = []

    @contextlib.asynccontextmanager
    async def lifespan(_: Any):
        if gloss_in_background:
            worker.append(GlossWorker(index))
            worker[0].start()
        yield
        while worker:
            worker.pop().stop()
        generation[0] += 1
        while forks:
            forks.pop().close()

    app = FastAPI(title="glossdb", summary="Search by LLM-judged glosses, with explanations.",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    hosts = {h.lower() for h in (allowed_hosts or LOCAL_HOSTS)}

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = host_name(request.headers.get("host", "")).lower()
        if host not in hosts:
            return JSONResponse({"error": f"unexpected Host header {host!r}: this server "
                                 f"answers for {', '.join(sorted(hosts))} "
                                 "(glossdb serve --allowed-host NAME adds one)"},
                                status_code=400)
        shell = request.url.path in OPEN_PATHS or request.url.path.startswith("/chunks/")
        if api_key and not shell:
            if not key_matches(request.headers.get("authorization", ""), api_key):
                return JSONResponse({"error": "missing or wrong API key: send the header "
                                     "Authorization: Bearer KEY"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
        if not worker:
            return await call_next(request)
        worker[0].enter()
        try:
            return await call_next(request)
        finally:
            worker[0].leave()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """An unknown route (404) or method (405) in glossdb's error shape; a 405 lists in
        ``Allow`` every method of every route on that path."""
        from starlette.routing import Match

        text = {404: "no such route: the page is at / and the API under /api (see /docs)",
                405: "this route does not take that method (see /docs)"}.get(
                    exc.status_code, str(exc.detail))
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            methods = {m for r in app.router.routes if getattr(r, "methods", None)
                       and r.matches(request.scope)[0] != Match.NONE for m in r.methods}
            headers["Allow"] = ", ".join(sorted(methods))
        return JSONResponse({"error": text}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(x) for x in e['loc'][1:])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": "; ".join(parts) or "bad request"}, status_code=400)

    _docs(app)
    handles = threading.local()

    def handle() -> Index:
        """This worker thread's handle on the index: its own SQLite connection, the shared
        models. Requests run on FastAPI's thread pool, so a stats or chunk request (or a
        cached search) is answered while another request waits on a model."""
        if getattr(handles, "generation", None) != generation[0]:
            handles.index, handles.generation = index.fork(), generation[0]
            forks.append(handles.index)
        return handles.index

    QUERY = Query(..., min_length=1, max_length=MAX_QUERY_CHARS,
                  description="The query: words to search for (control characters are folded "
                              "out; an empty one is a 400)")

    @app.exception_handler(GlossdbError)
    async def error_response(_: Request, exc: GlossdbError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=status_of(exc))

    async def store_error(request: Request, exc: Exception) -> JSONResponse:
        known = translate(exc)
        if known is None:
            raise exc
        return await error_response(request, known)

    for error_class in store_errors():  # sqlite3's, and psycopg's when an index loaded it
        app.add_exception_handler(error_class, store_error)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return PAGE

    @app.get("/chunks/{chunk_id}", response_class=HTMLResponse, include_in_schema=False)
    def chunk_page(chunk_id: int) -> str:
        handle().store.get_chunk(chunk_id)  # an unknown (or out-of-range) id is a 404
        return PAGE  # the page reads the id from its URL: a link to one chunk

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(FAVICON, media_type="image/svg+xml")

    @app.get("/api/search", response_model=SearchOut, responses=ERRORS)
    def search(q: str = QUERY, k: int = Query(10, ge=1, le=100), explain: bool = False,
               candidates: int | None = Query(None, ge=1, le=1000),
               min_verdict: Literal["weak match", "match", "strong match"] | None = Query(
                   None, description="Only hits judged at least this (possibly fewer than k).")
               ) -> dict:
        hits = handle().search(q, k=k, explain=explain, candidates=candidates,
                               min_verdict=min_verdict)
        return {"query": q, "hits": [h.to_dict() for h in hits]}

    def search_long(body) -> dict:
        """The same search with the parameters in a JSON body (no URL length limit)."""
        return search(**body.model_dump())

    search_long.__annotations__ = {"body": SearchIn, "return": dict}  # a local class
    app.post("/api/search", response_model=SearchOut, responses=ERRORS)(search_long)

    @app.get("/api/why", response_model=Why, responses=ERRORS)
    def why(q: str = QUERY, chunk_id: int = Query(..., ge=-(2**63), lt=2**63)) -> dict:
        return handle().why(q, chunk_id).to_dict()

    @app.get("/api/chunks/{chunk_id}", response_model=ChunkOut, responses=ERRORS)
    def chunk(chunk_id: int = Path(..., ge=-(2**63), lt=2**63)) -> dict:
        return handle().show(chunk_id).to_dict()

    @app.get("/api/diff", response_model=GlossDiff, responses=ERRORS)
    def diff(old: str | None = None, new: str | None = None,
                   limit: int = Query(20, ge=0, le=1000)) -> dict:
        return handle().diff(old, new, limit).to_dict()

    @app.get("/api/stats", response_model=StatsOut, responses=ERRORS)
    def stats() -> dict:
        data = handle().stats().to_dict()
        data["background_glossing"] = worker[0].status() if worker else {"running": False}
        return data

    return app


def _docs(app: Any) -> None:
    """OpenAPI docs at /docs from Swagger UI files installed with glossdb (no CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import JSONResponse

    try:  # Swagger UI 5 (FastAPI's schema is OpenAPI 3.1, which Swagger UI 4 cannot read)
        import fastapi_swagger
        from pathlib import Path as FilePath

        swagger_ui_path = str(FilePath(fastapi_swagger.__file__).parent / "resources")
    except ImportError:
        swagger_ui_path = None

    if swagger_ui_path is not None:
        from fastapi.staticfiles import StaticFiles

        app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Any:
        if swagger_ui_path is None:
            return JSONResponse({"error": "the docs page needs its assets: pip install "
                                 "fastapi-swagger (the schema is at /openapi.json)"},
                                status_code=404)
        return get_swagger_ui_html(openapi_url="/openapi.json", title="glossdb API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png",
                                   swagger_ui_parameters={"validatorUrl": None})


def serve(index: Index, host: str = "127.0.0.1", port: int = 8700, *,
          api_key: str | None = None, allowed_hosts: list[str] | None = None,
          gloss_in_background: bool = True) -> None:
    import uvicorn

    hosts = list(LOCAL_HOSTS) + [host] + list(allowed_hosts or [])
    app = create_app(index, api_key=api_key, allowed_hosts=hosts,
                     gloss_in_background=gloss_in_background)
    uvicorn.run(app, host=host, port=port, log_level="info")
