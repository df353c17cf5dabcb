"""Read FAQ files into entries: one parser per format, no store and no model.

:func:`parse_file` reads one file (the suffix picks the parser) and
:func:`prepare` combines the results into the entries of one knowledge base.
"""

from __future__ import annotations

from pathlib import Path

from faqtual.errors import IngestError
from faqtual.ingest import html, jsonl, markdown, plaintext, tabular
from faqtual.ingest.merge import Prepared, prepare
from faqtual.models import ParseResult

__all__ = ["Prepared", "SUPPORTED_SUFFIXES", "parse_file", "prepare"]

SUPPORTED_SUFFIXES = (".csv", ".htm", ".html", ".jsonl", ".markdown", ".md", ".ndjson", ".tsv", ".txt")

# A text file has almost no control characters besides tab, newline and form
# feed; random bytes have about one in eight.
_BINARY_CONTROL_SHARE = 0.05
_SNIFF_BYTES = 8192
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\v")


def _format_hint(suffix: str) -> str:
    if suffix in (".csv", ".tsv"):
        return tabular.format_hint("," if suffix == ".csv" else "\t")
    hints = {".txt": plaintext.FORMAT, ".jsonl": jsonl.FORMAT, ".ndjson": jsonl.FORMAT}
    hints.update({".md": markdown.FORMAT, ".markdown": markdown.FORMAT})
    return hints.get(suffix, html.FORMAT)


def _parse_text(text: str, *, suffix: str, file: str) -> ParseResult:
    if suffix == ".txt":
        return plaintext.parse(text, file=file)
    if suffix in (".md", ".markdown"):
        return markdown.parse(text, file=file)
    if suffix in (".csv", ".tsv"):
        return tabular.parse(text, file=file, delimiter="," if suffix == ".csv" else "\t")
    if suffix in (".jsonl", ".ndjson"):
        return jsonl.parse(text, file=file)
    return html.parse(text, file=file)


def _looks_binary(data: bytes) -> bool:
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if (byte < 0x20 and byte not in _TEXT_CONTROLS) or byte == 0x7F)
    return bool(head) and controls / len(head) > _BINARY_CONTROL_SHARE


def _decode(data: bytes, *, file: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError("is UTF-16 text; save it as UTF-8 (for example: iconv -f utf-16 -t utf-8)", file=file)
    if _looks_binary(data) or b"\x00" in data:
        raise IngestError(
            "looks like a binary file, not an FAQ (it holds NUL or other control bytes); "
            "give a UTF-8 text file (.txt, .md, .csv, .tsv, .jsonl or .html)",
            file=file,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise IngestError(
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at byte offset {error.start}); "
            "save the file as UTF-8 (for example: iconv -f latin1 -t utf-8)",
            file=file,
            line=line,
        ) from error
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_file(path: Path, *, display_name: str | None = None) -> ParseResult:
    """Parse one FAQ file; its suffix picks the format.

    Args:
        path: The file: ``.txt`` (plain-text FAQ), ``.md``/``.markdown``,
            ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson`` or ``.html``/``.htm``.
        display_name: The name provenance and errors record (default: ``path``
            as given).

    Raises:
        IngestError: The suffix is not supported; the file is missing, a
            directory, binary or not UTF-8 (naming the line of the first bad
            byte); it is malformed for its format; or no question-answer pair
            can be made from it.

    Returns:
        The cleaned entries (ids as the file gives them, else empty), flags,
        rejected records and KB options.
    """
    file = display_name if display_name is not None else str(path)
    if path.is_dir():
        raise IngestError("is a directory; give the FAQ files inside it", file=file)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(
            f"unsupported file type {path.suffix or '(no suffix)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}",
            file=file,
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise IngestError("no such file; check the path", file=file) from error
    except OSError as error:
        raise IngestError(f"cannot be read: {error.strerror or error}", file=file) from error
    result = _parse_text(_decode(data, file=file), suffix=suffix, file=file)
    if not result.entries:
        detail = ""
        if result.rejected:
            detail = f" ({len(result.rejected)} record(s) rejected, the first: {result.rejected[0]})"
        raise IngestError(
            f"no question-answer pairs found{detail}; expected {_format_hint(suffix)}",
            file=file,
        )
    return result
