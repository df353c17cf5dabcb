"""The public JSON API: ask, feedback, entries, health and metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from faqtual.models import AskResult
from faqtual.web.schemas import AskRequest, AskResponse, EntryOut, ErrorOut, FeedbackRequest
from faqtual.web.state import WebState

#: Response header of ``/v1/ask``: the KB version whose index gave every answer.
KB_VERSION_HEADER = "X-KB-Version"

ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorOut} for code in (400, 404, 413, 422, 429, 503)}


def public_router(state: WebState) -> APIRouter:
    """Routes anyone may call."""
    router = APIRouter()

    @router.post("/v1/ask", response_model=AskResponse, responses=ERRORS, tags=["ask"])
    async def ask_post(body: AskRequest, request: Request, response: Response) -> AskResponse:
        """Answer a question: the best curated answers and their confidence, or the KB's no-answer message.

        The ``X-KB-Version`` header names the KB version whose index gave every answer.
        """
        query_id, result = await state.answer(request, body.question, top=body.top, kb=body.kb)
        _version_header(response, result)
        return AskResponse.of(result, query_id=query_id)

    @router.get("/v1/ask", response_model=AskResponse, responses=ERRORS, tags=["ask"])
    async def ask_get(
        request: Request,
        response: Response,
        q: str = Query(description="The question."),
        top: int | None = Query(default=None, ge=1, le=50),
        kb: str | None = None,
    ) -> AskResponse:
        """Answer a question given in the query string (same result as ``POST /v1/ask``)."""
        query_id, result = await state.answer(request, q, top=top, kb=kb)
        _version_header(response, result)
        return AskResponse.of(result, query_id=query_id)

    @router.post("/v1/feedback", status_code=201, responses=ERRORS, tags=["ask"])
    async def feedback(body: FeedbackRequest, request: Request) -> dict[str, bool]:
        """Record whether an answer helped."""
        state.check_rate(request)
        service = await asyncio.to_thread(state.service_with_entry, body.entry_id)
        await asyncio.to_thread(
            service.record_feedback,
            query_id=body.query_id,
            entry_id=body.entry_id,
            helpful=body.helpful,
            comment=body.comment,
        )
        return {"ok": True}

    @router.get("/v1/entries", response_model=list[EntryOut], responses=ERRORS, tags=["entries"])
    async def entries(search: str | None = None, kb: str | None = None) -> list[EntryOut]:
        """Every entry of a KB (default: the first served), in order; ``search`` keeps those containing it."""
        service = await asyncio.to_thread(state.service_named, kb)
        found = await asyncio.to_thread(service.entries)
        if search:
            needle = search.casefold()
            found = tuple(e for e in found if needle in " ".join((*e.questions, e.answer, e.id)).casefold())
        return [EntryOut.of(e) for e in found]

    @router.get("/v1/entries/{entry_id}", response_model=EntryOut, responses=ERRORS, tags=["entries"])
    async def entry(entry_id: str) -> EntryOut:
        """One entry, from the first served KB that holds it."""
        service = await asyncio.to_thread(state.service_with_entry, entry_id)
        return EntryOut.of(await asyncio.to_thread(service.entry, entry_id))

    @router.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, bool]:
        """The process is alive."""
        return {"ok": True}

    @router.get("/readyz", tags=["ops"], responses=ERRORS)
    async def readyz() -> Response:
        """The model and the index are loaded, and the KB version is fresh: the server can answer."""
        if not state.ready:
            return JSONResponse(
                {"ok": False, "error": "Loading the model and the index; try again shortly.", "status": 503},
                status_code=503,
            )
        stale = state.staleness()
        if stale is not None:
            return JSONResponse({"ok": False, "error": stale, "status": 503}, status_code=503)
        version = await asyncio.to_thread(state.service.store.version)
        return JSONResponse({"ok": True, "kb_version": version})

    @router.get("/metrics", response_class=PlainTextResponse, tags=["ops"])
    async def metrics() -> str:
        """Prometheus metrics: requests, latency, answered/abstained, KB version."""
        return state.metrics.render(
            kb_version=await asyncio.to_thread(state.service.store.version),
            batches=state.batcher.batches,
            batched_questions=state.batcher.questions,
            dropped_log_lines=sum(s.dropped_log_lines for s in state.services),
        )

    return router


def _version_header(response: Response, result: AskResult) -> None:
    # One index answers a whole result, so one version names it (absent for small talk and pooled KBs).
    if result.kb_version is not None:
        response.headers[KB_VERSION_HEADER] = str(result.kb_version)
