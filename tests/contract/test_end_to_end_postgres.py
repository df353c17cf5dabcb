"""End to end: the packaged synkinesis FAQ, ingested with the real model, answers alike on both stores."""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from pathlib import Path

import pytest

from faqtual.config import Settings
from faqtual.factory import open_service
from faqtual.models import FaqEntry
from faqtual.retrieval.embed import OnnxMiniLM, Vectors
from faqtual.service import FaqService
from tests.contract.conftest import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.model, pytest.mark.slow]

QUESTIONS = (
    "how long does botox last",
    "why does my eye close when I smile",
    "can the nerves in my face heal",
    "who should I see about synkinesis",
    "what's the weather in Paris tomorrow",
)


def _ingest(service: FaqService) -> None:
    resource = importlib.resources.files("faqtual") / "data" / "synkinesis.md"
    with importlib.resources.as_file(resource) as path:
        report = service.ingest([Path(path)])
    assert (report.added, report.kb_version) == (15, 1)


def test_postgres_answers_like_sqlite(pg_schema_dsn: str, tmp_path: Path, minilm: OnnxMiniLM) -> None:
    on_sqlite = open_service(Settings(), kb=str(tmp_path / "kb.sqlite"), create=True, embedder=minilm)
    on_postgres = open_service(Settings(), kb=pg_schema_dsn, create=True, embedder=minilm)
    try:
        _ingest(on_sqlite)
        _ingest(on_postgres)
        assert on_postgres.entries() == on_sqlite.entries()
        for question in QUESTIONS:
            want, got = on_sqlite.ask(question), on_postgres.ask(question)
            assert got.answered == want.answered, question
            assert [a.entry_id for a in got.answers] == [a.entry_id for a in want.answers], question
            assert [a.confidence for a in got.answers] == pytest.approx([a.confidence for a in want.answers])
        # A second ingest of the same file embeds nothing: the vectors are in the database.
        resource = importlib.resources.files("faqtual") / "data" / "synkinesis.md"
        with importlib.resources.as_file(resource) as path:
            assert on_postgres.ingest([Path(path)]).embedded == 0
    finally:
        on_sqlite.store.close()
        on_postgres.store.close()


class CountingEmbedder:
    """The real model, counting the texts it is asked to embed (a fake would hide a re-embed)."""

    def __init__(self, inner: OnnxMiniLM) -> None:
        self.inner = inner
        self.texts = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return self.inner.embed(texts)


def test_a_curator_change_on_one_replica_reaches_the_other(pg_schema_dsn: str, minilm: OnnxMiniLM) -> None:
    curator_side = open_service(Settings(), kb=pg_schema_dsn, create=True, embedder=minilm)
    _ingest(curator_side)
    replica_embedder = CountingEmbedder(minilm)
    replica = open_service(Settings(), kb=pg_schema_dsn, embedder=replica_embedder)
    try:
        replica.loaded()
        assert replica_embedder.texts == 0  # the replica's index came from vectors already in the database
        assert replica.ask("is there parking at the clinic").answers[0].entry_id != "parking"
        version = curator_side.upsert_entry(
            FaqEntry(
                id="parking",
                question="Is there parking at the clinic?",
                answer="Yes, free parking behind the building.",
                alternates=("Where can I park?",),
                source=None,
                url=None,
                tags=(),
            )
        )
        assert wait_for(lambda: replica.loaded().version == version, timeout=2.0) < 2.0
        assert replica.ask("where can I park my car").answers[0].entry_id == "parking"
        curator_side.delete_entry("parking")
        wait_for(lambda: "parking" not in {e.id for e in replica.loaded().index.entries}, timeout=2.0)
    finally:
        curator_side.store.close()
        replica.store.close()
