"""The curator API (``/v1/admin/...``): every route needs ``Authorization: Bearer KEY``.

Writes go through :class:`FaqService`, which bumps the KB version and builds
the new index before the response returns; requests in flight finish on the
old index.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request, UploadFile

from faqtual.errors import IngestError
from faqtual.text import entry_id_for
from faqtual.web.schemas import AlternateIn, EntryIn, ErrorOut, FeedbackOut, QuestionGroupOut, WriteOut
from faqtual.web.state import WebState

CURATOR_PREFIX = "/v1/admin"
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorOut} for code in (400, 401, 404, 413, 422)}
UPLOAD_SUFFIXES = (".md", ".txt", ".csv", ".tsv", ".jsonl", ".html", ".htm")


def curator_router(state: WebState) -> APIRouter:
    """Routes for the people who keep the KB right."""

    def require_key(request: Request) -> None:
        state.require_key(request)

    router = APIRouter(prefix=CURATOR_PREFIX, tags=["curator"], dependencies=[Depends(require_key)], responses=ERRORS)

    async def written(version: int, entry_id: str | None = None) -> WriteOut:
        state.ready = True
        return WriteOut(kb_version=version, entry_id=entry_id)

    @router.post("/entries", response_model=WriteOut, status_code=201)
    async def create_entry(body: EntryIn) -> WriteOut:
        """Add an entry; its id is made from the question."""
        entry = body.to_entry(entry_id_for(body.question.strip()))
        version = await asyncio.to_thread(state.service.upsert_entry, entry)
        return await written(version, entry.id)

    @router.put("/entries/{entry_id}", response_model=WriteOut)
    async def put_entry(entry_id: str, body: EntryIn) -> WriteOut:
        """Create or replace the entry ``entry_id``."""
        version = await asyncio.to_thread(state.service.upsert_entry, body.to_entry(entry_id))
        return await written(version, entry_id)

    @router.delete("/entries/{entry_id}", response_model=WriteOut)
    async def delete_entry(entry_id: str) -> WriteOut:
        """Remove the entry ``entry_id``."""
        return await written(await asyncio.to_thread(state.service.delete_entry, entry_id), entry_id)

    @router.post("/entries/{entry_id}/alternates", response_model=WriteOut)
    async def add_alternate(entry_id: str, body: AlternateIn) -> WriteOut:
        """Accept a question (e.g. a logged one, by ``query_id``) as another way to ask ``entry_id``."""
        version = await asyncio.to_thread(state.service.add_alternate, entry_id, body.question, query_id=body.query_id)
        return await written(version, entry_id)

    @router.post("/ingest", response_model=WriteOut)
    async def ingest(file: UploadFile) -> WriteOut:
        """Ingest an uploaded FAQ file (.md, .txt, .csv, .tsv, .jsonl, .html) into the KB."""
        name = Path(file.filename or "upload").name
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            raise IngestError(f"Cannot ingest {name!r}: use one of {', '.join(UPLOAD_SUFFIXES)}.")
        data = await file.read()
        with tempfile.TemporaryDirectory(prefix="faqtual-upload-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            report = await asyncio.to_thread(state.service.ingest, [path])
        await asyncio.to_thread(state.service.loaded)
        return await written(report.kb_version)

    @router.get("/unanswered", response_model=list[QuestionGroupOut])
    async def unanswered(limit: int = Query(default=500, ge=1, le=5000)) -> list[QuestionGroupOut]:
        """Logged questions not answered or only as a "Possible match", grouped, most asked first."""
        groups = await asyncio.to_thread(state.service.unanswered, limit=limit)
        return [QuestionGroupOut.of(g) for g in groups]

    @router.get("/feedback", response_model=list[FeedbackOut])
    async def feedback(limit: int = Query(default=200, ge=1, le=5000)) -> list[FeedbackOut]:
        """The latest feedback, newest first."""
        return [FeedbackOut.of(f) for f in await asyncio.to_thread(state.service.feedback, limit=limit)]

    return router
