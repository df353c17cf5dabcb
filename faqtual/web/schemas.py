"""Request and response bodies of the JSON API; each maps 1:1 from :mod:`faqtual.models`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from faqtual.models import AskResult, FaqEntry
from faqtual.store.logs import Feedback, QuestionGroup


class AskRequest(BaseModel):
    """``POST /v1/ask``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The patient's question, in their words.")
    top: int | None = Field(default=None, ge=1, le=50, description="Candidates to return (default: the setting).")
    kb: str | None = Field(default=None, description="KB name; must be the served KB's name if given.")


class AnswerOut(BaseModel):
    """One candidate answer (:class:`faqtual.models.Answer`)."""

    model_config = ConfigDict(extra="forbid")

    entry_id: str
    question: str
    alternates: list[str]
    answer: str
    confidence: float
    source: str | None
    url: str | None
    kb: str | None = None


class SafetyOut(BaseModel):
    """The safety rule that fired (:class:`faqtual.safety.SafetyHit`); its message replaces any answer."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    disposition: str
    message: str


class AskResponse(BaseModel):
    """The engine's JSON contract (:meth:`AskResult.to_json`) plus the ``query_id`` to give feedback on.

    Unknown fields are refused, so a change to the contract fails the web tests
    until this model follows it.
    """

    model_config = ConfigDict(extra="forbid")

    query_id: str
    question: str
    answered: bool
    answers: list[AnswerOut]
    message: str | None
    did_you_mean: list[str]
    related: list[str]
    kb: str | None
    disclaimer: str | None
    safety: SafetyOut | None = None

    @classmethod
    def of(cls, result: AskResult, *, query_id: str) -> AskResponse:
        """Wrap one result."""
        return cls.model_validate({"query_id": query_id, **result.to_json()})


class FeedbackRequest(BaseModel):
    """``POST /v1/feedback``."""

    model_config = ConfigDict(extra="forbid")

    query_id: str = Field(min_length=1, max_length=64)
    entry_id: str = Field(min_length=1, max_length=200)
    helpful: bool
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackOut(BaseModel):
    """One stored feedback record (:class:`faqtual.store.logs.Feedback`)."""

    query_id: str
    entry_id: str
    helpful: bool
    comment: str | None
    given_at: float

    @classmethod
    def of(cls, feedback: Feedback) -> FeedbackOut:
        """Convert a record."""
        return cls(**feedback.__dict__)


class EntryIn(BaseModel):
    """An entry as a curator writes it (id from the URL, or made from the question)."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(min_length=1, max_length=20000)
    alternates: list[str] = Field(default_factory=list)
    source: str | None = None
    url: str | None = None
    tags: list[str] = Field(default_factory=list)

    def to_entry(self, entry_id: str) -> FaqEntry:
        """The domain object."""
        return FaqEntry(
            id=entry_id,
            question=self.question.strip(),
            answer=self.answer.strip(),
            alternates=tuple(a.strip() for a in self.alternates if a.strip()),
            source=self.source,
            url=self.url,
            tags=tuple(self.tags),
        )


class EntryOut(BaseModel):
    """One KB entry (:class:`faqtual.models.FaqEntry`)."""

    entry_id: str
    question: str
    alternates: list[str]
    answer: str
    source: str | None
    url: str | None
    tags: list[str]

    @classmethod
    def of(cls, entry: FaqEntry) -> EntryOut:
        """Convert an entry."""
        return cls(
            entry_id=entry.id,
            question=entry.question,
            alternates=list(entry.alternates),
            answer=entry.answer,
            source=entry.source,
            url=entry.url,
            tags=list(entry.tags),
        )


class AlternateIn(BaseModel):
    """Accept a (logged) question as an alternate question of an entry."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)
    query_id: str | None = None


class WriteOut(BaseModel):
    """What a curator write did."""

    ok: bool = True
    kb_version: int
    entry_id: str | None = None


class QuestionGroupOut(BaseModel):
    """Unanswered or low-confidence questions that say nearly the same thing."""

    example: str
    count: int
    query_ids: list[str]
    questions: list[str]
    best_entry_id: str | None
    best_confidence: float

    @classmethod
    def of(cls, group: QuestionGroup) -> QuestionGroupOut:
        """Convert a group."""
        return cls(
            example=group.example,
            count=group.count,
            query_ids=[q.query_id for q in group.questions],
            questions=[q.question for q in group.questions],
            best_entry_id=group.best_entry_id,
            best_confidence=round(group.best_confidence, 4),
        )


class ErrorOut(BaseModel):
    """The one error shape of the API."""

    ok: bool = False
    error: str
    status: int
