"""CSV and TSV FAQs: one record per row under a header row."""

from __future__ import annotations

import csv
import io
from typing import Literal

from faqtual.errors import IngestError
from faqtual.ingest.clean import EntryCollector, split_alternates, split_tags
from faqtual.models import ParseResult

Delimiter = Literal[",", "\t"]

REQUIRED_COLUMNS = ("question", "answer")
OPTIONAL_COLUMNS = ("alternates", "source", "url", "tags", "id")


def format_hint(delimiter: Delimiter) -> str:
    """What a usable file looks like, for the "no pairs found" error."""
    kind = "CSV (comma-separated)" if delimiter == "," else "TSV (tab-separated)"
    return (
        f"a {kind} file with a header row naming the columns 'question' and 'answer' "
        f"(optional: {', '.join(OPTIONAL_COLUMNS)}) and one question per row"
    )


def _delimiter_tip(header: list[str], delimiter: Delimiter) -> str:
    if len(header) != 1:
        return ""
    if delimiter == "," and "\t" in header[0]:
        return " (the header is tab-separated: name the file .tsv)"
    if delimiter == "\t" and "," in header[0]:
        return " (the header is comma-separated: name the file .csv)"
    return ""


def parse(text: str, *, file: str, delimiter: Delimiter) -> ParseResult:
    """Parse a CSV or TSV FAQ.

    Header names are matched case-insensitively; unknown columns are ignored.
    ``alternates`` are separated by ``|``, ``tags`` by ``,`` or ``|``.

    Args:
        text: The decoded file, with ``\\n`` line ends.
        file: The name that provenance and errors record.
        delimiter: ``","`` for CSV, ``"\\t"`` for TSV (never sniffed). Quoting
            is strict, so a quote left open cannot swallow the rest of the file.

    Raises:
        IngestError: The header lacks ``question`` or ``answer``, or a record is
            malformed (such as a quoted field that never closes).

    Returns:
        The entries; provenance is the physical line where the record starts.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    collector = EntryCollector(file)
    start = 1
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            start = reader.line_num + 1
            header = next(reader, None)
        if header is None:
            return collector.result()
        columns = [cell.strip().lower() for cell in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise IngestError(
                f"the header row has no {' or '.join(repr(m) for m in missing)} column "
                f"(found: {', '.join(repr(c) for c in header)}); "
                f"name the columns {', '.join(REQUIRED_COLUMNS)} in the first row" + _delimiter_tip(header, delimiter),
                file=file,
                line=start,
            )
        index = {name: columns.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in columns}
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue

            def cell(name: str, row: list[str] = row) -> str:
                position = index.get(name)
                return row[position] if position is not None and position < len(row) else ""

            collector.add(
                cell("question"),
                cell("answer"),
                line=line,
                entry_id=cell("id"),
                alternates=split_alternates(cell("alternates")),
                source=cell("source") or None,
                url=cell("url") or None,
                tags=split_tags(cell("tags")),
            )
    except csv.Error as error:
        raise IngestError(
            f"malformed record starting on this line: {error}; a quoted field must end with a quote "
            'followed by the delimiter, and a quote inside it is written twice ("")',
            file=file,
            line=start,
        ) from error
    return collector.result()
