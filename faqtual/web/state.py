"""What every route of one app shares: the service, the guards, the batcher, the metrics."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates

from faqtual.config import Settings
from faqtual.errors import NotFoundError
from faqtual.models import AskResult
from faqtual.service import FaqService
from faqtual.web.batching import MicroBatcher
from faqtual.web.guards import ApiKeys, RateLimiter
from faqtual.web.metrics import Metrics
from faqtual.web.smalltalk import reply, small_talk

#: Questions offered after a greeting.
SUGGESTIONS = 3


@dataclass
class WebState:
    """One app's shared objects (built by :func:`faqtual.web.app.create_app`)."""

    service: FaqService
    settings: Settings
    batcher: MicroBatcher
    limiter: RateLimiter
    keys: ApiKeys
    metrics: Metrics
    templates: Jinja2Templates
    ready: bool = field(default=False)

    def check_rate(self, request: Request) -> None:
        """Take a token for the client; raise 429 with ``Retry-After`` when it has none."""
        client = request.client.host if request.client else "unknown"
        wait = self.limiter.retry_after(client)
        if wait > 0:
            raise HTTPException(
                status_code=429,
                detail=f"Too many questions from {client}; wait {wait:.1f} s and ask again.",
                headers={"Retry-After": str(max(1, round(wait)))},
            )

    def check_kb(self, kb: str | None) -> None:
        """Refuse a ``kb`` other than the one served.

        Raises:
            NotFoundError: ``kb`` names another KB.
        """
        if kb is not None and kb != self.service.name:
            raise NotFoundError(f"No KB named {kb!r} here; this server answers from {self.service.name!r}.")

    def require_key(self, request: Request) -> None:
        """Raise 401 unless the request carries a valid curator API key."""
        if not self.keys.check(request.headers.get("authorization")):
            hint = "" if self.keys.enabled else " No curator key is configured: set FAQTUAL_API_KEY_HASHES."
            raise HTTPException(
                status_code=401,
                detail="This needs a curator API key: send 'Authorization: Bearer KEY'." + hint,
                headers={"WWW-Authenticate": "Bearer"},
            )

    async def answer(self, request: Request, question: str, *, top: int | None) -> tuple[str, AskResult]:
        """Rate-limit, check and answer one question (micro-batched); log it if logging is on.

        Returns:
            The new query id and the result.
        """
        self.check_rate(request)
        self.service.check_question(question)
        kind = small_talk(question)
        if kind is not None:
            loaded = await asyncio.to_thread(self.service.loaded)
            suggestions = [e.question for e in loaded.index.entries[:SUGGESTIONS]]
            options = loaded.options
            result = reply(
                question, kind, suggestions=suggestions, kb=options.name, disclaimer=options.disclaimer
            )
            return uuid.uuid4().hex, result
        result = await self.batcher.ask(question, top=top)
        query_id = uuid.uuid4().hex
        self.metrics.answered(answered=result.answered)
        if self.settings.log_questions:
            await asyncio.to_thread(self.service.log_query, query_id, result)
        return query_id, result
