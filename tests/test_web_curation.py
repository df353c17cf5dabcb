"""The service and store methods behind the curator API: logs, feedback, entry writes, migration."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from faqtual.config import Settings
from faqtual.errors import NotFoundError
from faqtual.factory import open_service
from faqtual.models import FaqEntry
from faqtual.retrieval.embed import OnnxMiniLM
from faqtual.service import FaqService
from faqtual.store.sqlite import SCHEMA_VERSION, SqliteStore

FAQ = Path(__file__).resolve().parents[1] / "faqtual" / "data" / "synkinesis.md"

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def master_kb(tmp_path_factory: pytest.TempPathFactory, minilm: OnnxMiniLM) -> Path:
    path = tmp_path_factory.mktemp("curation") / "kb.sqlite"
    service = open_service(Settings(), kb=str(path), create=True, embedder=minilm)
    service.ingest([FAQ])
    service.store.close()
    return path


@pytest.fixture
def make_service(master_kb: Path, minilm: OnnxMiniLM) -> Callable[..., FaqService]:
    """A service over a private copy of the default FAQ's KB."""

    def make(path: Path, *, log_questions: bool) -> FaqService:
        shutil.copyfile(master_kb, path)
        return open_service(Settings(log_questions=log_questions), kb=str(path), embedder=minilm)

    return make


@pytest.fixture
def logging_service(tmp_path: Path, make_service: Callable[..., FaqService]) -> Iterator[FaqService]:
    service = make_service(tmp_path / "kb.sqlite", log_questions=True)
    yield service
    service.store.close()


def test_questions_are_not_logged_by_default(tmp_path: Path, make_service: Callable[..., FaqService]) -> None:
    service = make_service(tmp_path / "kb.sqlite", log_questions=False)
    assert service.log_query("q1", service.ask("Can my dog catch synkinesis?")) is False
    with sqlite3.connect(tmp_path / "kb.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM query_log").fetchone()[0] == 0


def test_unanswered_questions_are_grouped_by_meaning(logging_service: FaqService) -> None:
    version = logging_service.store.version()
    asked = ["Can my dog catch synkinesis?", "can my dog catch synkinesis", "What is the capital of France?"]
    for n, question in enumerate(asked):
        assert logging_service.log_query(f"q{n}", logging_service.ask(question)) is True
    assert logging_service.store.version() == version  # logs are not KB content
    groups = logging_service.unanswered()
    assert [g.count for g in groups] == [2, 1]
    assert {q.query_id for q in groups[0].questions} == {"q0", "q1"}


def test_accepting_a_logged_question_makes_it_answerable(logging_service: FaqService) -> None:
    question = "Can my dog catch synkinesis?"
    logging_service.log_query("q0", logging_service.ask(question))
    version = logging_service.add_alternate("synkinesis-meaning", question, query_id="q0")
    assert version == logging_service.store.version()
    assert question in logging_service.entry("synkinesis-meaning").alternates
    assert logging_service.ask(question).answers[0].entry_id == "synkinesis-meaning"
    assert logging_service.unanswered() == []
    with pytest.raises(NotFoundError):
        logging_service.add_alternate("no-such-entry", question)


def test_entry_writes_bump_the_version_and_are_answered_at_once(logging_service: FaqService) -> None:
    before = logging_service.store.version()
    entry = FaqEntry(id="", question="Is cold water swimming safe?", answer="Yes, if you protect your eye.")
    version = logging_service.upsert_entry(entry)
    assert version == before + 1 == logging_service.loaded().version
    created = next(e for e in logging_service.entries() if e.question == entry.question)
    assert created.id.startswith("is-cold-water-swimming-safe")
    assert logging_service.ask(entry.question).answers[0].entry_id == created.id
    assert logging_service.delete_entry(created.id) == before + 2
    with pytest.raises(NotFoundError):
        logging_service.delete_entry(created.id)


def test_feedback_is_kept_newest_first(logging_service: FaqService) -> None:
    logging_service.record_feedback(query_id="a", entry_id="botox-help", helpful=True)
    logging_service.record_feedback(query_id="b", entry_id="botox-help", helpful=False, comment="vague")
    assert [(f.query_id, f.helpful, f.comment) for f in logging_service.feedback()] == [
        ("b", False, "vague"),
        ("a", True, None),
    ]
    with pytest.raises(NotFoundError):
        logging_service.record_feedback(query_id="c", entry_id="no-such-entry", helpful=True)


def test_a_schema_1_kb_gains_the_log_tables_when_opened(
    tmp_path: Path, make_service: Callable[..., FaqService]
) -> None:
    path = tmp_path / "old.sqlite"
    make_service(path, log_questions=False).store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE query_log")
        conn.execute("DROP TABLE feedback")
        conn.execute("PRAGMA user_version = 1")
    store = SqliteStore.open(path)
    try:
        assert store.logged_queries(below=1.0, limit=10) == []
        assert store.feedback(limit=10) == []
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
