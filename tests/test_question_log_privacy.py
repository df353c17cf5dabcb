"""Question logging: off by default, scrubbed before writing, fail closed, retention and purge-logs."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faqtual import service as service_module
from faqtual.config import Settings
from faqtual.factory import open_service
from faqtual.retrieval.embed import OnnxMiniLM
from faqtual.service import DAY, FaqService
from faqtual.store.logs import Feedback, LoggedQuery
from tests.conftest import run_faqtual

pytestmark = pytest.mark.model

PRIVATE = "I'm jo.bloggs@example.com, 07700 900123, NHS 943 476 5919, born 03/12/1985: can synkinesis be cured?"


@pytest.fixture
def logging_service(seed_kb: Path, minilm: OnnxMiniLM) -> Iterator[FaqService]:
    service = open_service(Settings(log_questions=True), kb=str(seed_kb), embedder=minilm)
    yield service
    service.store.close()


def _logged(path: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT question, asked_at FROM query_log ORDER BY asked_at").fetchall()


def test_logged_questions_are_scrubbed_before_they_are_written(logging_service: FaqService, seed_kb: Path) -> None:
    result = logging_service.ask(PRIVATE)
    assert logging_service.log_query("q1", result) is True
    [(stored, _)] = _logged(seed_kb)
    assert stored == "I'm [email], [phone], NHS [nhs-number], born [date]: can synkinesis be cured?"
    files = [seed_kb, seed_kb.with_name(seed_kb.name + "-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert b"jo.bloggs" not in raw and b"900123" not in raw


def test_feedback_comments_are_scrubbed_too(logging_service: FaqService) -> None:
    entry_id = logging_service.entries()[0].id
    logging_service.record_feedback(query_id="q1", entry_id=entry_id, helpful=False, comment="call me on 07700 900123")
    assert logging_service.feedback()[0].comment == "call me on [phone]"


def test_a_scrubber_failure_drops_the_log_line_not_the_answer(
    logging_service: FaqService, seed_kb: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(text: str) -> str:
        raise RuntimeError(text)  # the message holds the question: it must not reach the log

    monkeypatch.setattr(service_module, "scrub", broken)
    result = logging_service.ask(PRIVATE)
    assert result.question == PRIVATE  # answered as usual
    with caplog.at_level(logging.WARNING, logger="faqtual.service"):
        assert logging_service.log_query("q1", result) is False
    assert _logged(seed_kb) == []
    assert logging_service.dropped_log_lines == 1
    assert "scrubber failed (RuntimeError)" in caplog.text and "jo.bloggs" not in caplog.text


def test_old_records_are_deleted_on_write_after_the_retention_limit(seed_kb: Path, minilm: OnnxMiniLM) -> None:
    service = open_service(Settings(log_questions=True, log_retention_days=7), kb=str(seed_kb), embedder=minilm)
    store = service.store
    now = time.time()
    store.log_query(LoggedQuery("old", now - 8 * DAY, "old question", False, None, 0.0, 1))  # type: ignore[attr-defined]
    store.log_query(LoggedQuery("recent", now - 6 * DAY, "recent question", False, None, 0.0, 1))  # type: ignore[attr-defined]
    service.log_query("new", service.ask("Is synkinesis permanent?"))
    assert [q for q, _ in _logged(seed_kb)] == ["recent question", "Is synkinesis permanent?"]
    service.store.close()


def test_purge_logs_command(seed_kb: Path, minilm: OnnxMiniLM) -> None:
    service = open_service(Settings(), kb=str(seed_kb), embedder=minilm)
    store = service.store
    now = time.time()
    entry_id = service.entries()[0].id
    for n, age in enumerate((40, 10, 1)):
        store.log_query(LoggedQuery(f"q{n}", now - age * DAY, f"question {n}", False, None, 0.0, 1))  # type: ignore[attr-defined]
        store.record_feedback(Feedback(f"q{n}", entry_id, True, None, now - age * DAY))  # type: ignore[attr-defined]
    store.close()
    default = run_faqtual(["purge-logs", "--kb", str(seed_kb)])  # log_retention_days: 30
    assert default.returncode == 0, default.stderr
    assert "Deleted 2 logged question(s) and feedback record(s), older than 30 day(s)." in default.stdout
    week = run_faqtual(["purge-logs", "--kb", str(seed_kb), "--older-than", "7", "--json"])
    assert json.loads(week.stdout) == {"deleted": 2}
    assert [q for q, _ in _logged(seed_kb)] == ["question 2"]
    everything = run_faqtual(["purge-logs", "--kb", str(seed_kb), "--all", "--json"])
    assert json.loads(everything.stdout) == {"deleted": 2}
    assert _logged(seed_kb) == []
    both = run_faqtual(["purge-logs", "--kb", str(seed_kb), "--all", "--older-than", "3"])
    assert both.returncode == 2 and "either --older-than DAYS or --all" in both.stderr
    missing = run_faqtual(["purge-logs", "--kb", str(seed_kb.with_name("nope.sqlite"))])
    assert missing.returncode == 1 and "No KB at" in missing.stderr
