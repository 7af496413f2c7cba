"""The page and the API routes: thin adapters over :class:`~glossdb.index.Index`, like
the CLI's commands (errors are translated in :func:`glossdb.server._error_handlers`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import Path, Query
from fastapi.responses import HTMLResponse, Response

from ..results import MAX_QUERY_CHARS
from .page import PAGE
from .trainer import TrainWorker
from .worker import GlossWorker
from .schema import (ERRORS, ChunkOut, FeedbackIn, FeedbackOut, GlossDiff, SearchIn, SearchOut,
                     StatsOut, Why)

if TYPE_CHECKING:
    from . import Handles

FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" '
           'height="16" rx="3" fill="#175"/><text x="8" y="12" font-size="11" '
           'text-anchor="middle" fill="#fff" font-family="sans-serif">g</text></svg>')
QUERY = Query(..., min_length=1, max_length=MAX_QUERY_CHARS,
              description="The query: words to search for (control characters are folded "
                          "out; an empty one is a 400)")
CHUNK_ID = Path(..., ge=-(2**63), lt=2**63)
VERDICT = Query(None, description="Only hits judged at least this (possibly fewer than k).")
WHERE = Query(None, max_length=4000,
              description="Only chunks of documents whose metadata matches: 'year >= 2015 and "
                          "lab == \"x\"', or a JSON object in Chroma's where shape")


def add_routes(app: Any, state: "Handles") -> None:
    _page_routes(app, state)
    _api_routes(app, state)


def _page_routes(app: Any, state: "Handles") -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return PAGE

    @app.get("/chunks/{chunk_id}", response_class=HTMLResponse, include_in_schema=False)
    def chunk_page(chunk_id: int) -> str:
        state.handle().store.get_chunk(chunk_id)  # an unknown (or out-of-range) id: a 404
        return PAGE  # the page reads the id from its URL: a link to one chunk

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(FAVICON, media_type="image/svg+xml")


def _api_routes(app: Any, state: "Handles") -> None:
    @app.get("/api/search", response_model=SearchOut, responses=ERRORS)
    def search(q: str = QUERY, k: int = Query(10, ge=1, le=100), explain: bool = False,
               candidates: int | None = Query(None, ge=1, le=1000),
               min_verdict: Literal["weak match", "match", "strong match"] | None = VERDICT,
               where: str | None = WHERE) -> dict:  # POST may give a dict
        hits = state.handle().search(q, k=k, explain=explain, candidates=candidates,
                                     min_verdict=min_verdict, where=where)
        return {"query": q, "hits": [h.to_dict() for h in hits]}

    @app.post("/api/search", response_model=SearchOut, responses=ERRORS)
    def search_long(body: SearchIn) -> dict:
        """The same search with the parameters in a JSON body (no URL length limit)."""
        return search(**body.model_dump())

    @app.post("/api/feedback", response_model=FeedbackOut, responses=ERRORS)
    def feedback(body: FeedbackIn) -> dict:
        """Mark a hit relevant (or not) to a query: a training pair for `glossdb train`."""
        return state.handle().feedback(body.q, body.chunk_id, body.relevant, body.source)

    @app.get("/api/why", response_model=Why, responses=ERRORS)
    def why(q: str = QUERY, chunk_id: int = Query(..., ge=-(2**63), lt=2**63)) -> dict:
        return state.handle().why(q, chunk_id).to_dict()

    @app.get("/api/chunks/{chunk_id}", response_model=ChunkOut, responses=ERRORS)
    def chunk(chunk_id: int = CHUNK_ID) -> dict:
        return state.handle().show(chunk_id).to_dict()

    @app.get("/api/diff", response_model=GlossDiff, responses=ERRORS)
    def diff(old: str | None = None, new: str | None = None,
             limit: int = Query(20, ge=0, le=1000)) -> dict:
        return state.handle().diff(old, new, limit).to_dict()

    @app.get("/api/stats", response_model=StatsOut, responses=ERRORS)
    def stats() -> dict:
        data = state.handle().stats().to_dict()
        data["background_glossing"] = state.status(GlossWorker)
        data["idle_training"] = state.status(TrainWorker)
        return data
