"""Turn parse results into the entries of one knowledge base: ids, merges, flags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from faqtual.errors import IngestError
from faqtual.models import FaqEntry, Flag, KbOptions, ParseResult, Provenance, Rejection
from faqtual.text import entry_id_for, normalize_text


@dataclass(frozen=True)
class Prepared:
    """The entries of a knowledge base, ready to store, and what preparing them did.

    ``merged`` counts the entries folded into another because their answers
    were identical; ``options`` are the first non-default options found.
    """

    entries: tuple[FaqEntry, ...]
    merged: int
    flags: tuple[Flag, ...]
    rejected: tuple[Rejection, ...]
    options: KbOptions


def _where(entry: FaqEntry) -> str:
    return str(entry.provenance[0]) if entry.provenance else "an unknown place"


def _check_explicit_ids(entries: Sequence[FaqEntry]) -> None:
    first: dict[str, FaqEntry] = {}
    for entry in entries:
        if not entry.id:
            continue
        other = first.setdefault(entry.id, entry)
        if other is not entry and (other.question, other.answer) != (entry.question, entry.answer):
            where = entry.provenance[0] if entry.provenance else None
            raise IngestError(
                f"the id {entry.id!r} is given to two different entries, at {_where(other)} and "
                f"{_where(entry)}; give each entry its own id",
                file=where.file if where else None,
                line=where.line if where else None,
            )


def _fold(main: FaqEntry, other: FaqEntry) -> FaqEntry:
    """``other`` folded into ``main``: its questions become alternates."""
    seen = {main.question.casefold()}
    alternates = []
    for question in (*main.alternates, *other.questions):
        if question.casefold() not in seen:
            seen.add(question.casefold())
            alternates.append(question)
    return replace(
        main,
        id=main.id or other.id,
        alternates=tuple(alternates),
        source=main.source or other.source,
        url=main.url or other.url,
        tags=tuple(dict.fromkeys((*main.tags, *other.tags))),
        provenance=(*main.provenance, *other.provenance),
    )


def _merge_answers(entries: Sequence[FaqEntry]) -> tuple[list[FaqEntry], list[Flag]]:
    by_answer: dict[str, int] = {}
    merged: list[FaqEntry] = []
    flags: list[Flag] = []
    for entry in entries:
        key = normalize_text(entry.answer)
        index = by_answer.setdefault(key, len(merged))
        if index == len(merged):
            merged.append(entry)
            continue
        main = merged[index]
        flags.append(
            Flag(
                entry.provenance[0] if entry.provenance else Provenance("", 0),
                "merged-duplicate-answer",
                f"the answer to {entry.question!r} is the same as the answer to {main.question!r} "
                f"({_where(main)}); the question is kept as an alternate of that entry",
            )
        )
        merged[index] = _fold(main, entry)
    return merged, flags


def _assign_ids(entries: Sequence[FaqEntry]) -> list[FaqEntry]:
    taken = {entry.id for entry in entries if entry.id}
    result = []
    for entry in entries:
        if entry.id:
            result.append(entry)
            continue
        base = entry_id_for(entry.question)
        entry_id, number = base, 1
        while entry_id in taken:
            # The same question with different answers: keep both, ids in file order.
            number += 1
            entry_id = f"{base}-{number}"
        taken.add(entry_id)
        result.append(replace(entry, id=entry_id))
    return result


def _duplicate_questions(entries: Sequence[FaqEntry]) -> list[Flag]:
    owner: dict[str, FaqEntry] = {}
    flags = []
    for entry in entries:
        for question in entry.questions:
            other = owner.setdefault(question.casefold(), entry)
            if other is not entry:
                flags.append(
                    Flag(
                        entry.provenance[0] if entry.provenance else Provenance("", 0),
                        "duplicate-question",
                        f"the question {question!r} also belongs to the entry {other.id!r} "
                        f"({_where(other)}); both are kept, so asking it may find either",
                    )
                )
    return flags


def prepare(results: Sequence[ParseResult]) -> Prepared:
    """Combine parse results into the entries of one knowledge base.

    Entries whose answers are identical after normalisation become one entry:
    the first question stays the main question and the others become its
    alternates (provenance of all is kept, a ``merged-duplicate-answer`` flag
    names each merge). Entries without an id get ``entry_id_for(question)``.
    A question shared by two entries is flagged ``duplicate-question``.

    Args:
        results: The parse results, in the order their files were given.

    Raises:
        IngestError: Two different entries are given the same explicit id (the
            message names both places).

    Returns:
        The prepared entries with the merge count, all flags and rejections,
        and the first non-default KB options.
    """
    parsed = [entry for result in results for entry in result.entries]
    _check_explicit_ids(parsed)
    entries, merge_flags = _merge_answers(parsed)
    entries = _assign_ids(entries)
    flags = [flag for result in results for flag in result.flags]
    flags += merge_flags + _duplicate_questions(entries)
    options = next((r.options for r in results if r.options != KbOptions()), KbOptions())
    return Prepared(
        entries=tuple(entries),
        merged=len(parsed) - len(entries),
        flags=tuple(flags),
        rejected=tuple(rejection for result in results for rejection in result.rejected),
        options=options,
    )
