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
from typing import Any

from ..errors import (BackendError, ConfigError, GlossdbError, IndexBusy, IndexCorrupt,
                      IngestError, InvalidQuery, ModelNotFound, StorageFull, UnknownChunk, UnknownDocument,
                      UnknownRepresentation, store_errors, translate)
from ..index import Index
from .trainer import TrainWorker
from .worker import GlossWorker, IdleWorker

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


class Handles:
    """The server's per-thread handles on the index (:meth:`Index.fork`: own SQLite
    connection, shared models) and its idle-time workers (background glossing; training a
    judge from feedback when ``train_after`` marks came in). Requests run on FastAPI's
    thread pool, so a stats or chunk request (or a cached search) is answered while another
    request waits on a model."""

    def __init__(self, index: Index, gloss_in_background: bool, train_after: int = 0):
        self.index, self.gloss_in_background = index, gloss_in_background
        self.train_after = train_after
        self.forks: list[Index] = []
        self.generation = 0  # bumped at shutdown: a thread's older fork is closed
        self.worker: list[IdleWorker] = []
        self.local = threading.local()

    def status(self, kind: type) -> dict:
        """The status of the running worker of ``kind``, else ``{"running": False}``."""
        found = [w for w in self.worker if isinstance(w, kind)]
        return found[0].status() if found else {"running": False}

    def handle(self) -> Index:
        local = self.local
        if getattr(local, "generation", None) != self.generation:
            local.index, local.generation = self.index.fork(), self.generation
            self.forks.append(local.index)
        return local.index

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Any):
        if self.gloss_in_background:
            self.worker.append(GlossWorker(self.index))
        if self.train_after:
            self.worker.append(TrainWorker(self.index, self.train_after))
        for worker in self.worker:
            worker.start()
        yield
        while self.worker:
            self.worker.pop().stop()
        self.generation += 1
        while self.forks:
            self.forks.pop().close()


def create_app(index: Index, *, api_key: str | None = None,
               allowed_hosts: tuple[str, ...] | list[str] | None = None,
               gloss_in_background: bool = False, train_after: int = 0) -> Any:
    """A FastAPI app serving ``index``. The caller keeps ownership of the index.

    Requests whose Host header names another host are refused (a page on another site cannot
    reach a loopback server through DNS rebinding); with ``api_key`` every route but the
    page shell needs ``Authorization: Bearer KEY``. With ``gloss_in_background`` a worker
    writes missing glosses in usage order whenever no request is being served; with
    ``train_after`` N, a judge version is trained (and adopted if it does not lose) once N
    feedback marks came in since the last training, while no request is being served."""
    _require_fastapi()
    from fastapi import FastAPI

    from .routes import add_routes

    state = Handles(index, gloss_in_background, train_after)
    app = FastAPI(title="glossdb", summary="Search by LLM-judged glosses, with explanations.",
                  docs_url=None, redoc_url=None, lifespan=state.lifespan)
    _guard(app, {h.lower() for h in (allowed_hosts or LOCAL_HOSTS)}, api_key, state)
    _error_handlers(app)
    _docs(app)
    add_routes(app, state)
    return app


def _guard(app: Any, hosts: set[str], api_key: str | None, state: Handles) -> None:
    """The Host check, the API key, and telling the background worker a request runs."""
    from fastapi import Request
    from fastapi.responses import JSONResponse

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
        workers = list(state.worker)
        for worker in workers:
            worker.enter()
        try:
            return await call_next(request)
        finally:
            for worker in workers:
                worker.leave()


def _error_handlers(app: Any) -> None:
    """Every error in one shape, ``{"error": ...}``, with the status of its class: the one
    place the server translates errors."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.routing import Match

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """An unknown route (404) or method (405); a 405 lists in ``Allow`` every method of
        every route on that path."""
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
          gloss_in_background: bool = True, train_after: int = 0) -> None:
    import uvicorn

    hosts = list(LOCAL_HOSTS) + [host] + list(allowed_hosts or [])
    app = create_app(index, api_key=api_key, allowed_hosts=hosts,
                     gloss_in_background=gloss_in_background, train_after=train_after)
    uvicorn.run(app, host=host, port=port, log_level="info")
