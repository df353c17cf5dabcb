"""Records of what patients asked and said, kept beside the KB (schema 2).

These are not KB content: writing them does not bump the KB version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class LoggedQuery:
    """One question as asked, with what the engine made of it."""

    query_id: str
    asked_at: float
    question: str
    answered: bool
    entry_id: str | None
    confidence: float
    kb_version: int


@dataclass(frozen=True)
class Feedback:
    """A patient's "Was this helpful?" on one answer."""

    query_id: str
    entry_id: str
    helpful: bool
    comment: str | None
    given_at: float


@dataclass(frozen=True)
class QuestionGroup:
    """Logged questions that say nearly the same thing, most asked first."""

    questions: tuple[LoggedQuery, ...]
    count: int
    best_entry_id: str | None
    best_confidence: float

    @property
    def example(self) -> str:
        """The question to show for the group (its first member)."""
        return self.questions[0].question


@runtime_checkable
class LogStore(Protocol):
    """A store that also keeps the question log and feedback (SQLite does)."""

    def log_query(self, record: LoggedQuery) -> None:
        """Store one asked question."""
        ...

    def logged_queries(self, *, below: float, limit: int) -> list[LoggedQuery]:
        """Unanswered or low-confidence logged questions, newest first."""
        ...

    def logged_query(self, query_id: str) -> LoggedQuery | None:
        """One logged question, or ``None``."""
        ...

    def forget_queries(self, query_ids: Sequence[str]) -> None:
        """Delete those logged questions."""
        ...

    def purge_logs(self, *, before: float | None) -> int:
        """Delete logged questions and feedback older than ``before`` (epoch seconds; ``None``: all).

        Returns:
            How many records were deleted.
        """
        ...

    def record_feedback(self, feedback: Feedback) -> None:
        """Store one feedback record."""
        ...

    def feedback(self, *, limit: int) -> list[Feedback]:
        """The latest feedback, newest first."""
        ...
