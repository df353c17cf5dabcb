"""The patient page (``/``) and the curator page (``/admin``): server-rendered, enhanced by small scripts."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from faqtual.errors import BadQueryError
from faqtual.models import AskResult
from faqtual.render import confidence_words
from faqtual.web.state import WebState

#: Pages load nothing but their own files and run no inline script (answers cannot inject any).
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page_context(state: WebState) -> dict[str, Any]:
    """What every page shows about the KB: title, disclaimer, where to get help."""
    options = state.service.loaded().options if state.ready else None
    return {
        "title": (options.title if options else None) or "Ask about synkinesis",
        "disclaimer": options.disclaimer if options else None,
        "help_url": options.help_url if options else None,
        "threshold": state.service.threshold() if options else 0.5,
    }


def card_context(state: WebState, result: AskResult, query_id: str) -> dict[str, Any]:
    """The answer card's data: best answer, confidence in words, near ties, related questions."""
    threshold = state.service.threshold()
    best = result.answers[0] if result.answers else None
    return {
        "result": result,
        "query_id": query_id,
        "best": best,
        "words": confidence_words(best.confidence, threshold=threshold) if best else None,
        "did_you_mean": [a for a in result.answers if a.entry_id in result.did_you_mean],
        "closest": [] if result.answered else list(result.answers),
    }


def pages_router(state: WebState) -> APIRouter:
    """HTML routes. They work without JavaScript: forms post, the server renders."""
    router = APIRouter(include_in_schema=False)

    async def render(request: Request, question: str | None) -> Response:
        context = await asyncio.to_thread(page_context, state)
        context["question"] = question or ""
        status = 200
        if question is not None:
            try:
                query_id, result = await state.answer(request, question, top=None)
                context.update(await asyncio.to_thread(card_context, state, result, query_id))
            except BadQueryError as exc:
                context["error"] = str(exc)
                status = 400
        return state.templates.TemplateResponse(
            request, "index.html", context, status_code=status, headers=PAGE_HEADERS
        )

    @router.get("/", response_class=HTMLResponse)
    async def index(request: Request, q: str | None = None) -> Response:
        return await render(request, q)

    @router.post("/", response_class=HTMLResponse)
    async def index_post(request: Request) -> Response:
        form = await request.form()
        question = form.get("q")
        return await render(request, question if isinstance(question, str) else "")

    @router.post("/feedback", response_class=HTMLResponse)
    async def feedback_post(request: Request) -> Response:
        state.check_rate(request)
        form = await request.form()
        fields = {k: form.get(k) for k in ("query_id", "entry_id", "helpful", "q")}
        if not all(isinstance(fields[k], str) and fields[k] for k in ("query_id", "entry_id", "helpful")):
            raise BadQueryError("The feedback form is incomplete; use the buttons under an answer.")
        service = await asyncio.to_thread(state.service_with_entry, str(fields["entry_id"]))
        await asyncio.to_thread(
            service.record_feedback,
            query_id=str(fields["query_id"]),
            entry_id=str(fields["entry_id"]),
            helpful=fields["helpful"] == "yes",
        )
        context = await asyncio.to_thread(page_context, state)
        context.update(question=fields["q"] or "", thanks=True)
        return state.templates.TemplateResponse(request, "index.html", context, headers=PAGE_HEADERS)

    @router.get("/admin", response_class=HTMLResponse)
    async def admin(request: Request) -> Response:
        context = await asyncio.to_thread(page_context, state)
        return state.templates.TemplateResponse(request, "admin.html", context, headers=PAGE_HEADERS)

    return router
