"""``create_app(service, settings)``: the ASGI app behind ``faqtual serve``.

Errors are translated here, in one handler, into one JSON shape
``{"ok": false, "error": str, "status": int}`` (HTML pages get the same
message rendered on the page).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from faqtual import __version__
from faqtual.config import Settings
from faqtual.errors import (
    BadQueryError,
    ConfigError,
    FaqtualError,
    IndexNotReadyError,
    IngestError,
    ModelError,
    NotFoundError,
)
from faqtual.models import AskResult
from faqtual.router import KbRouter
from faqtual.service import FaqService
from faqtual.web.api import public_router
from faqtual.web.batching import MicroBatcher
from faqtual.web.curator import CURATOR_PREFIX, curator_router
from faqtual.web.guards import ApiKeys, BodyLimit, RateLimiter
from faqtual.web.headers import SecurityHeaders, docs_policy
from faqtual.web.metrics import Metrics, MetricsMiddleware
from faqtual.web.pages import pages_router
from faqtual.web.state import WebState

log = logging.getLogger(__name__)

STATUS: tuple[tuple[type[FaqtualError], int], ...] = (
    (BadQueryError, 400),
    (IngestError, 400),
    (ConfigError, 400),
    (NotFoundError, 404),
    (IndexNotReadyError, 503),
    (ModelError, 503),
)


def status_for(exc: FaqtualError) -> int:
    """The HTTP status of a faqtual error (500 for the ones a client cannot fix)."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 500)


def _error(request: Request, state: WebState, status: int, message: str, headers: dict[str, str] | None) -> Response:
    wants_html = not request.url.path.startswith("/v1/") and "text/html" in request.headers.get("accept", "")
    if wants_html:
        context = {"title": "Ask about synkinesis", "error": message, "question": ""}
        return state.templates.TemplateResponse(request, "index.html", context, status_code=status, headers=headers)
    return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI, state: WebState) -> None:
    async def on_faqtual(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FaqtualError)
        status = status_for(exc)
        if status == 500:
            log.error("request failed: %s", exc)
        return _error(request, state, status, str(exc), None)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(request, state, exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return _error(request, state, 422, f"Invalid request: {problems}.", None)

    app.add_exception_handler(FaqtualError, on_faqtual)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)


async def _warm_up(state: WebState) -> None:
    """Load the index and the model before reporting ready."""
    try:
        for service in state.services:
            await asyncio.to_thread(service.loaded)
            await asyncio.to_thread(service.ask, "warm up")
    except IndexNotReadyError as exc:
        log.warning("not ready: %s", exc)
        return
    state.ready = True


def _install_docs(app: FastAPI) -> None:
    """Interactive API docs at ``/docs`` from the locally installed Swagger UI (no CDN)."""
    import swagger_ui_bundle

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="faqtual API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = docs_policy(bytes(page.body))
        return page


def create_app(service: FaqService, settings: Settings, *, fallbacks: Sequence[FaqService] = ()) -> FastAPI:
    """The ASGI app serving ``service``: JSON API, patient page, curator API and page.

    Args:
        service: the KB answered first; the curator API and page edit it.
        settings: resolved settings.
        fallbacks: KBs asked after ``service``, in order, when it is not sure enough
            (see :class:`faqtual.router.KbRouter`); a request's ``kb`` asks one KB by name.

    Raises:
        ConfigError: an API key digest or key file in ``settings`` is unusable.
    """
    web = Path(str(files("faqtual.web")))
    router = KbRouter([service, *fallbacks]) if fallbacks else None

    def answer_many(questions: Sequence[str], top: int | None, kb: str | None) -> list[AskResult]:
        if kb is not None:
            return state.service_named(kb).ask_many(questions, top=top)
        return (router or service).ask_many(questions, top=top)

    state = WebState(
        service=service,
        services=(service, *fallbacks),
        settings=settings,
        batcher=MicroBatcher(
            answer_many,
            max_size=settings.batch_max,
            wait=settings.batch_wait_ms / 1000,
            workers=settings.batch_workers,
        ),
        limiter=RateLimiter(rate=settings.rate_limit, burst=settings.rate_burst),
        keys=ApiKeys.from_settings(settings),
        metrics=Metrics(),
        templates=Jinja2Templates(directory=web / "templates"),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.batcher.start()
        await _warm_up(state)
        try:
            yield
        finally:
            await state.batcher.stop()

    app = FastAPI(
        title="faqtual",
        version=__version__,
        summary="Answers from a curated FAQ, verbatim, with a confidence in words.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.web = state
    _install_error_handlers(app, state)
    app.include_router(public_router(state))
    app.include_router(curator_router(state))
    app.include_router(pages_router(state))
    app.mount("/static", StaticFiles(directory=web / "static"), name="static")
    _install_docs(app)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type"],
        )
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        upload_bytes=settings.max_upload_bytes,
        upload_prefix=f"{CURATOR_PREFIX}/ingest",
    )
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    app.add_middleware(SecurityHeaders)  # outermost: 413s, 429s and 500s get the headers too
    return app
