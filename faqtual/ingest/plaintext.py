"""Plain-text FAQs: a question paragraph ending with "?", then its answer paragraphs."""

from __future__ import annotations

from dataclasses import dataclass

from faqtual.ingest.clean import EntryCollector, clean_question
from faqtual.models import ParseResult

FORMAT = (
    "a plain-text FAQ: paragraphs separated by blank lines, each question a paragraph of its own "
    "ending with '?' (at most 300 characters), followed by one or more answer paragraphs"
)

MAX_QUESTION_PARAGRAPH_CHARS = 300


@dataclass(frozen=True)
class _Paragraph:
    line: int
    text: str

    @property
    def is_question(self) -> bool:
        text = clean_question(self.text)
        return text.endswith("?") and len(text) <= MAX_QUESTION_PARAGRAPH_CHARS


def _paragraphs(text: str) -> list[_Paragraph]:
    paragraphs = []
    start = 0
    lines: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not lines:
                start = number
            lines.append(line)
        elif lines:
            paragraphs.append(_Paragraph(start, "\n".join(lines)))
            lines = []
    if lines:
        paragraphs.append(_Paragraph(start, "\n".join(lines)))
    return paragraphs


def _drop_title(paragraphs: list[_Paragraph]) -> list[_Paragraph]:
    # Copied pages often open with a title that repeats the first question
    # ("What is X?" twice): the first copy has no answer and is not an entry.
    if len(paragraphs) >= 2 and paragraphs[0].is_question and paragraphs[1].is_question:
        first, second = (clean_question(p.text).casefold() for p in paragraphs[:2])
        if first == second:
            return paragraphs[1:]
    return paragraphs


def parse(text: str, *, file: str) -> ParseResult:
    """Parse a plain-text FAQ.

    A question is a paragraph ending with "?" of at most 300 characters; the
    non-question paragraphs after it, joined by a blank line, are its answer. A
    first line that repeats the first question is a title, not an entry.

    Args:
        text: The decoded file, with ``\\n`` line ends.
        file: The name that provenance records.

    Returns:
        The entries (provenance: the question's line). A question with no answer
        before the next question, and text before the first question, are rejected.
    """
    collector = EntryCollector(file)
    question: _Paragraph | None = None
    answer: list[str] = []
    preamble: list[_Paragraph] = []

    def finish() -> None:
        if question is None:
            return
        if answer:
            collector.add(question.text, "\n\n".join(answer), line=question.line)
        else:
            collector.reject(
                question.line,
                f"the question {clean_question(question.text)!r} has no answer paragraph after it",
            )

    for paragraph in _drop_title(_paragraphs(text)):
        if paragraph.is_question:
            finish()
            question, answer = paragraph, []
        elif question is None:
            preamble.append(paragraph)
        else:
            answer.append(paragraph.text)
    finish()
    if preamble and question is not None:
        collector.reject(
            preamble[0].line,
            f"{len(preamble)} paragraph(s) before the first question belong to no entry (a title or an introduction?)",
        )
    return collector.result()
