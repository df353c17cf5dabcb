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
    services: tuple[FaqService, ...]
    settings: Settings
    batcher: MicroBatcher
    limiter: RateLimiter
    keys: ApiKeys
    metrics: Metrics
    templates: Jinja2Templates
    ready: bool = field(default=False)

    def staleness(self) -> str | None:
        """Why this replica is not ready because a KB's version is stale, or ``None`` if none is.

        A shared (PostgreSQL) store knows how long ago the database last confirmed
        its version (``version_age``); past ``max_staleness_s`` the replica still
        answers from its last index, but a load balancer should prefer the others.
        """
        limit = self.settings.max_staleness_s
        for service in self.services:
            version_age = getattr(service.store, "version_age", None)
            age = version_age() if version_age is not None else None
            if age is not None and age > limit:
                where = getattr(service.store, "path", "the KB")
                return (
                    f"KB {where} was last confirmed {age:.0f} s ago (limit {limit:g} s, "
                    "max_staleness_s); answering from the last index until the database is back."
                )
        return None

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

    def service_named(self, kb: str | None) -> FaqService:
        """The served KB named ``kb`` (``None``: the first one).

        Raises:
            NotFoundError: no served KB has that name.
        """
        if kb is None:
            return self.service
        for service in self.services:
            if service.name == kb:
                return service
        names = ", ".join(repr(s.name) for s in self.services)
        raise NotFoundError(f"No KB named {kb!r} here; this server answers from {names}.")

    def service_with_entry(self, entry_id: str) -> FaqService:
        """The first served KB holding ``entry_id``.

        Raises:
            NotFoundError: no served KB holds it.
        """
        for service in self.services:
            if any(e.id == entry_id for e in service.loaded().index.entries):
                return service
        raise NotFoundError(f"No entry with id {entry_id!r}. List the ids with GET /v1/entries.")

    def require_key(self, request: Request) -> None:
        """Raise 401 unless the request carries a valid curator API key."""
        if not self.keys.check(request.headers.get("authorization")):
            hint = "" if self.keys.enabled else " No curator key is configured: set FAQTUAL_API_KEY_HASHES."
            raise HTTPException(
                status_code=401,
                detail="This needs a curator API key: send 'Authorization: Bearer KEY'." + hint,
                headers={"WWW-Authenticate": "Bearer"},
            )

    async def answer(
        self, request: Request, question: str, *, top: int | None, kb: str | None = None
    ) -> tuple[str, AskResult]:
        """Rate-limit, check and answer one question (micro-batched); log it if logging is on.

        ``kb`` names one served KB to ask; ``None`` asks them in order of precedence.

        Returns:
            The new query id and the result.
        """
        self.check_rate(request)
        self.service.check_question(question)
        if kb is not None:
            await asyncio.to_thread(self.service_named, kb)
        kind = small_talk(question)
        if kind is not None:
            loaded = await asyncio.to_thread(self.service.loaded)
            suggestions = [e.question for e in loaded.index.entries[:SUGGESTIONS]]
            options = loaded.options
            result = reply(question, kind, suggestions=suggestions, kb=options.name, disclaimer=options.disclaimer)
            return uuid.uuid4().hex, result
        result = await self.batcher.ask(question, top=top, kb=kb)
        query_id = uuid.uuid4().hex
        self.metrics.answered(answered=result.answered)
        if self.settings.log_questions:
            await asyncio.to_thread(self.service.log_query, query_id, result)
        return query_id, result
