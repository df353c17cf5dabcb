"""Cleaning every parser applies to every entry, and the collector parsers fill.

Cleaning never changes an answer silently: a removed citation marker or a
cut-off fragment at the end of an answer is reported as a :class:`Flag`, and
an entry that cannot be used is reported as a :class:`Rejection`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from faqtual.models import FaqEntry, Flag, KbOptions, ParseResult, Provenance, Rejection
from faqtual.text import dangling_fragment, normalize_text, strip_citations

MAX_QUESTION_CHARS = 1000
_TAIL_CHARS = 80

_LIST_SEPARATOR = re.compile(r"\|")
_TAG_SEPARATOR = re.compile(r"[|,]")


@dataclass(frozen=True)
class CleanedEntry:
    """The cleaned question and answer, what cleaning changed, and whether it is usable.

    ``rejection`` is set (and ``question``/``answer`` may be empty) when the
    entry cannot be used.
    """

    question: str
    answer: str
    flags: tuple[Flag, ...]
    rejection: Rejection | None = None


def _strip_paragraph_citations(text: str) -> tuple[str, int]:
    # Per paragraph, so a marker that opens a paragraph does not take the
    # paragraph break before it along (the marker pattern eats leading space).
    total = 0
    paragraphs = []
    for paragraph in text.split("\n\n"):
        cleaned, count = strip_citations(paragraph)
        paragraphs.append(cleaned)
        total += count
    if not total:
        return text, 0
    return normalize_text("\n\n".join(paragraphs)), total


def _dangling(answer: str) -> str | None:
    # dangling_fragment's pattern is tried at every position, which costs about
    # 0.1 ms per kilobyte of answer; the fragment is one short word at the end,
    # so look at the tail only. The "x" stands for the text cut off before the
    # tail, so the pattern's start-of-text case cannot match there.
    if len(answer) <= _TAIL_CHARS:
        return dangling_fragment(answer)
    return dangling_fragment("x" + answer[-_TAIL_CHARS:])


def clean_question(text: str) -> str:
    """A question on one line: normalised, whitespace (even paragraph breaks) collapsed."""
    return " ".join(normalize_text(text).split())


def clean_entry(question: str, answer: str, *, provenance: Provenance) -> CleanedEntry:
    """Normalise a question and answer, strip citation markers and a cut-off ending.

    Args:
        question: The question as the source wrote it.
        answer: The answer as the source wrote it.
        provenance: Where the entry came from; every flag and rejection names it.

    Returns:
        The cleaned pair with a ``citation-stripped`` flag (with the count) and a
        ``dangling-fragment`` flag (naming the removed fragment) where they apply,
        or a rejection when the question or answer is empty after cleaning or the
        question is longer than 1000 characters.
    """
    flags: list[Flag] = []
    q, q_count = _strip_paragraph_citations(clean_question(question))
    a, a_count = _strip_paragraph_citations(normalize_text(answer))
    if q_count + a_count:
        flags.append(
            Flag(
                provenance,
                "citation-stripped",
                f"removed {q_count + a_count} citation marker(s) such as '(12)' or '[7,8]'",
            )
        )
    fragment = _dangling(a)
    if fragment is not None:
        a = a.rstrip()[: -len(fragment)].rstrip()
        flags.append(
            Flag(
                provenance,
                "dangling-fragment",
                f"removed the cut-off fragment {fragment!r} at the end of the answer; "
                "check the source for the missing text",
            )
        )
    reason = None
    if not q:
        reason = "the question is empty"
    elif not a:
        reason = f"the answer to {_quote(q)} is empty"
    elif len(q) > MAX_QUESTION_CHARS:
        reason = f"the question is {len(q)} characters long (at most {MAX_QUESTION_CHARS}); is it an answer?"
    elif not (_encodable(q) and _encodable(a)):
        reason = "the text holds invalid Unicode (a lone surrogate)"
    rejection = Rejection(provenance, reason) if reason else None
    return CleanedEntry(q, a, tuple(flags), rejection)


def split_alternates(value: str) -> tuple[str, ...]:
    """Split ``"a | b | c"`` into alternates, dropping empty items."""
    return _split(_LIST_SEPARATOR, value)


def split_tags(value: str) -> tuple[str, ...]:
    """Split tags separated by ``,`` or ``|``, dropping empty items."""
    return _split(_TAG_SEPARATOR, value)


def _split(pattern: re.Pattern[str], value: str) -> tuple[str, ...]:
    return tuple(item for item in (" ".join(part.split()) for part in pattern.split(value)) if item)


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "\u2026")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unique_alternates(question: str, alternates: Iterable[str]) -> tuple[str, ...]:
    seen = {question.casefold()}
    kept = []
    for alternate in alternates:
        text = clean_question(alternate)
        key = text.casefold()
        if text and key not in seen and _encodable(text):
            seen.add(key)
            kept.append(text)
    return tuple(kept)


def _optional(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    return text if text and _encodable(text) else None


class EntryCollector:
    """Collects the cleaned entries, flags and rejections of one parse of one file.

    Owned by a single parser call; not shared.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self._entries: list[FaqEntry] = []
        self._flags: list[Flag] = []
        self._rejected: list[Rejection] = []

    def add(
        self,
        question: str,
        answer: str,
        *,
        line: int,
        entry_id: str = "",
        alternates: Iterable[str] = (),
        source: str | None = None,
        url: str | None = None,
        tags: Iterable[str] = (),
    ) -> None:
        """Clean one pair and keep it, or record why it cannot be used.

        Args:
            question: The question as written.
            answer: The answer as written.
            line: The 1-based line the entry starts on.
            entry_id: The id the source gives, or ``""`` for none.
            alternates: Other wordings of the question.
            source: Where the answer comes from.
            url: A link to the source.
            tags: Topic tags.
        """
        provenance = Provenance(self.file, line)
        cleaned = clean_entry(question, answer, provenance=provenance)
        if cleaned.rejection is not None:
            self._rejected.append(cleaned.rejection)
            return
        self._flags.extend(cleaned.flags)
        entry_id = " ".join(entry_id.split())
        self._entries.append(
            FaqEntry(
                id=entry_id if _encodable(entry_id) else "",
                question=cleaned.question,
                answer=cleaned.answer,
                alternates=_unique_alternates(cleaned.question, alternates),
                source=_optional(source),
                url=_optional(url),
                tags=tuple(dict.fromkeys(t for t in (_optional(t) for t in tags) if t)),
                provenance=(provenance,),
            )
        )

    def reject(self, line: int, reason: str) -> None:
        """Record a record that cannot be used, and why."""
        self._rejected.append(Rejection(Provenance(self.file, line), reason))

    def result(self, *, options: KbOptions | None = None) -> ParseResult:
        """Everything collected, as a :class:`ParseResult`."""
        return ParseResult(
            entries=tuple(self._entries),
            flags=tuple(self._flags),
            rejected=tuple(self._rejected),
            options=options or KbOptions(),
        )
