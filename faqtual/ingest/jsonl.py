"""JSON Lines FAQs: one object per line (the MedQuAD layout loads as is)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from faqtual.errors import IngestError
from faqtual.ingest.clean import EntryCollector, split_alternates, split_tags
from faqtual.models import ParseResult

FORMAT = (
    "JSON Lines: one JSON object per line with the string fields 'question' and 'answer' "
    "(optional: id, alternates, source, url, tags)"
)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _string_list(value: object) -> list[str] | None:
    """A list of strings as is; None when ``value`` is not one."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _problem(record: Mapping[str, object]) -> str | None:
    """Why the record cannot be used, or None."""
    for name in ("question", "answer"):
        if name not in record:
            return f"the object has no {name!r} field (found: {', '.join(map(repr, record)) or 'none'})"
        if not isinstance(record[name], str):
            return f"{name!r} must be a string, not {_json_type(record[name])}"
    for name in ("alternates", "tags"):
        value = record.get(name)
        if value is not None and not isinstance(value, str) and _string_list(value) is None:
            return f"{name!r} must be a list of strings or a '|'-separated string, not {_json_type(value)}"
    for name in ("source", "url"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name!r} must be a string, not {_json_type(value)}"
    value = record.get("id")
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
        return f"'id' must be a string or an integer, not {_json_type(value)}"
    return None


def _items(value: object, *, tags: bool) -> tuple[str, ...]:
    if isinstance(value, str):
        return split_tags(value) if tags else split_alternates(value)
    return tuple(_string_list(value) or ())


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse(text: str, *, file: str) -> ParseResult:
    """Parse a JSON Lines FAQ.

    Blank lines are skipped; fields other than the known ones are ignored.

    Args:
        text: The decoded file, with ``\\n`` line ends.
        file: The name that provenance and errors record.

    Raises:
        IngestError: A line is not valid JSON (the message names its line).

    Returns:
        The entries (provenance: the line number); a line that is not an object
        or lacks a string ``question`` or ``answer`` is rejected, with its line.
    """
    collector = EntryCollector(file)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record: object = json.loads(line)
        except json.JSONDecodeError as error:
            raise IngestError(
                f"invalid JSON ({error.msg} at column {error.colno}); each line must hold one JSON object",
                file=file,
                line=number,
            ) from error
        except (ValueError, RecursionError) as error:
            raise IngestError(
                f"invalid JSON ({error.__class__.__name__}); each line must hold one JSON object",
                file=file,
                line=number,
            ) from error
        if not isinstance(record, dict):
            collector.reject(
                number, f"a JSON {_json_type(record)} where an object with 'question' and 'answer' belongs"
            )
            continue
        problem = _problem(record)
        if problem is not None:
            collector.reject(number, problem)
            continue
        entry_id = record.get("id")
        collector.add(
            _text(record["question"]),
            _text(record["answer"]),
            line=number,
            entry_id="" if entry_id is None else str(entry_id),
            alternates=_items(record.get("alternates"), tags=False),
            source=_text(record.get("source")) or None,
            url=_text(record.get("url")) or None,
            tags=_items(record.get("tags"), tags=True),
        )
    return collector.result()
