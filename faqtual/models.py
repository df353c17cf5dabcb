"""Frozen dataclasses that cross module boundaries. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from faqtual.safety import SafetyHit

FlagCode = Literal[
    "dangling-fragment",
    "citation-stripped",
    "duplicate-question",
    "merged-duplicate-answer",
]


@dataclass(frozen=True)
class Provenance:
    """Where an entry (or a problem) came from: a file and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class FaqEntry:
    """One curated question and its answer.

    ``id`` is empty when a parser's source gave none; the ingest assigns a
    stable id derived from the question text (see :func:`faqtual.text.entry_id_for`).
    """

    id: str
    question: str
    answer: str
    alternates: tuple[str, ...] = ()
    source: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()
    provenance: tuple[Provenance, ...] = ()

    @property
    def questions(self) -> tuple[str, ...]:
        """The main question followed by the alternates."""
        return (self.question, *self.alternates)


@dataclass(frozen=True)
class Flag:
    """Something an ingest changed or noticed and the curator should review."""

    provenance: Provenance
    code: FlagCode
    message: str

    def __str__(self) -> str:
        return f"{self.provenance}: {self.code}: {self.message}"


@dataclass(frozen=True)
class Rejection:
    """A record an ingest could not use, and why."""

    provenance: Provenance
    reason: str

    def __str__(self) -> str:
        return f"{self.provenance}: {self.reason}"


@dataclass(frozen=True)
class KbOptions:
    """Per-KB settings, from Markdown front matter or ``faqtual calibrate``.

    ``None`` means "use the package default".
    """

    name: str | None = None
    title: str | None = None
    threshold: float | None = None
    no_answer_message: str | None = None
    disclaimer: str | None = None
    help_url: str | None = None


@dataclass(frozen=True)
class ParseResult:
    """What one parser made of one file."""

    entries: tuple[FaqEntry, ...]
    flags: tuple[Flag, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    options: KbOptions = field(default_factory=KbOptions)


@dataclass(frozen=True)
class IngestReport:
    """The summary an ingest prints: what was added, merged, flagged, rejected."""

    kb_path: str
    files: tuple[str, ...]
    added: int
    updated: int
    unchanged: int
    removed: int
    merged: int
    embedded: int
    flags: tuple[Flag, ...]
    rejected: tuple[Rejection, ...]
    kb_version: int


@dataclass(frozen=True)
class Answer:
    """One candidate answer for a question, best first in an :class:`AskResult`."""

    entry_id: str
    question: str
    alternates: tuple[str, ...]
    answer: str
    confidence: float
    source: str | None
    url: str | None = None
    kb: str | None = None


@dataclass(frozen=True)
class AskResult:
    """The answer to one question: the JSON contract of ``faqtual ask --json``.

    ``answers`` holds the best candidates whether or not the best clears the
    threshold; ``answered`` says whether it does; ``message`` is the KB's
    no-answer text when it does not. ``did_you_mean`` lists other entries
    whose confidence is close to the best one's (a near tie). ``safety`` is
    the safety rule that fired, if any: then ``answered`` is false, ``answers``
    is empty and ``message`` is the rule's fixed response.
    """

    question: str
    answered: bool
    answers: tuple[Answer, ...]
    message: str | None
    did_you_mean: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    kb: str | None = None
    disclaimer: str | None = None
    safety: SafetyHit | None = None
    #: The KB version whose index gave every answer (one index per result); not part of ``to_json``.
    kb_version: int | None = None

    def to_json(self) -> dict[str, object]:
        """The JSON contract as plain data (``json.dumps``-ready)."""
        return {
            "question": self.question,
            "answered": self.answered,
            "answers": [
                {
                    "entry_id": a.entry_id,
                    "question": a.question,
                    "alternates": list(a.alternates),
                    "answer": a.answer,
                    "confidence": round(a.confidence, 4),
                    "source": a.source,
                    "url": a.url,
                    "kb": a.kb,
                }
                for a in self.answers
            ],
            "message": self.message,
            "did_you_mean": list(self.did_you_mean),
            "related": list(self.related),
            "kb": self.kb,
            "disclaimer": self.disclaimer,
            "safety": None if self.safety is None else self.safety.to_json(),
        }
