"""Markdown FAQs: front matter, ``## Question?`` headings, a comment block, the answer.

The layout (see ``faqtual/data/synkinesis.md``)::

    ---
    name: synkinesis
    threshold: 0.55
    ---

    ## What is the cause of synkinesis?
    <!--
    id: synkinesis-causes
    alternates: Why does synkinesis happen? | What causes it?
    source: ...
    tags: causes, nerves
    -->
    The answer, as it will be shown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields

from faqtual.errors import IngestError
from faqtual.ingest.clean import EntryCollector, split_alternates, split_tags
from faqtual.models import KbOptions, ParseResult

FORMAT = (
    "a Markdown FAQ: optional front matter between '---' lines, then headings ending with '?' "
    "('## Question?'), each followed by its answer"
)

OPTION_KEYS = tuple(f.name for f in fields(KbOptions))
ENTRY_KEYS = ("id", "alternates", "source", "url", "tags")
MAX_ENTRY_LEVEL = 3

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_KEY_VALUE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*:(.*)$")


@dataclass(frozen=True)
class _Heading:
    index: int  # 0-based line index
    level: int
    text: str

    @property
    def is_question(self) -> bool:
        return self.level <= MAX_ENTRY_LEVEL and self.text.endswith("?")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _key_values(
    lines: list[str], *, first_line: int, valid: tuple[str, ...], what: str, file: str
) -> dict[str, tuple[str, int]]:
    """``key: value`` lines -> {key: (value, line)}; anything else is an IngestError."""
    found: dict[str, tuple[str, int]] = {}
    for offset, raw in enumerate(lines):
        line = first_line + offset
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _KEY_VALUE.match(raw)
        if match is None:
            raise IngestError(
                f"{what} line {raw.strip()!r} is not 'key: value'; valid keys: {', '.join(valid)}",
                file=file,
                line=line,
            )
        key = match.group(1).lower().replace("-", "_")
        if key not in valid:
            raise IngestError(
                f"unknown {what} key {match.group(1)!r}; valid keys: {', '.join(valid)}",
                file=file,
                line=line,
            )
        found[key] = (_unquote(match.group(2)), line)
    return found


def _front_matter(lines: list[str], file: str) -> tuple[KbOptions, int]:
    """The options in the front matter and the index of the first line after it."""
    if not lines or lines[0].strip() != "---":
        return KbOptions(), 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise IngestError("the front matter opened here is never closed with a '---' line", file=file, line=1)
    found = _key_values(lines[1:end], first_line=2, valid=OPTION_KEYS, what="front-matter", file=file)
    text = {key: value or None for key, (value, _) in found.items() if key != "threshold"}
    threshold = None
    if "threshold" in found and found["threshold"][0]:
        raw, line = found["threshold"]
        try:
            threshold = float(raw)
        except ValueError:
            threshold = math.nan
        if not 0.0 <= threshold <= 1.0:
            raise IngestError(f"threshold {raw!r} is not a number between 0 and 1 (such as 0.55)", file=file, line=line)
    options = KbOptions(
        name=text.get("name"),
        title=text.get("title"),
        threshold=threshold,
        no_answer_message=text.get("no_answer_message"),
        disclaimer=text.get("disclaimer"),
        help_url=text.get("help_url"),
    )
    return options, end + 1


def _headings(lines: list[str], start: int) -> list[_Heading]:
    headings = []
    fence: str | None = None
    for index in range(start, len(lines)):
        line = lines[index]
        fence_match = _FENCE.match(line)
        if fence_match is not None:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
            continue
        match = None if fence is not None else _HEADING.match(line)
        if match is not None:
            headings.append(_Heading(index, len(match.group(1)), (match.group(2) or "").strip()))
    return headings


def _metadata(body: list[str], *, first_line: int, file: str) -> tuple[dict[str, str], list[str]]:
    """The comment block right under a heading (if any) and the answer lines after it."""
    start = 0
    while start < len(body) and not body[start].strip():
        start += 1
    if start == len(body) or not body[start].lstrip().startswith("<!--"):
        return {}, body
    for end in range(start, len(body)):
        if "-->" in body[end]:
            break
    else:
        raise IngestError(
            "the comment block opened here is never closed with '-->'", file=file, line=first_line + start
        )
    block = "\n".join(body[start : end + 1])
    inner = block[block.index("<!--") + 4 : block.index("-->")]
    tail = body[end].split("-->", 1)[1]
    found = _key_values(
        inner.split("\n"), first_line=first_line + start, valid=ENTRY_KEYS, what="comment-block", file=file
    )
    return {key: value for key, (value, _) in found.items()}, [tail, *body[end + 1 :]]


def parse(text: str, *, file: str) -> ParseResult:
    """Parse a Markdown FAQ.

    Each ``#``, ``##`` or ``###`` heading ending with "?" is a question (if no
    heading ends with "?", every such heading is); its answer is the text up to
    the next question heading or the next heading of the same or a higher level,
    kept as written (only whitespace is normalised). A ``<!-- key: value -->``
    block right under the heading gives ``id``, ``alternates`` (``a | b``),
    ``source``, ``url`` and ``tags`` (``x, y``).

    Args:
        text: The decoded file, with ``\\n`` line ends.
        file: The name that provenance and errors record.

    Raises:
        IngestError: The front matter has an unknown key or a bad threshold, or
            a comment block has an unknown key or is never closed.

    Returns:
        The entries (provenance: the heading's line) and the front-matter options.
    """
    lines = text.split("\n")
    options, start = _front_matter(lines, file)
    headings = _headings(lines, start)
    if any(h.is_question for h in headings):
        entries = [h for h in headings if h.is_question]
    else:
        entries = [h for h in headings if h.level <= MAX_ENTRY_LEVEL]
    entry_lines = {h.index for h in entries}
    collector = EntryCollector(file)
    for heading in entries:
        end = next(
            (
                h.index
                for h in headings
                if h.index > heading.index and (h.index in entry_lines or h.level <= heading.level)
            ),
            len(lines),
        )
        meta, body = _metadata(lines[heading.index + 1 : end], first_line=heading.index + 2, file=file)
        collector.add(
            heading.text,
            "\n".join(body),
            line=heading.index + 1,
            entry_id=meta.get("id", ""),
            alternates=split_alternates(meta.get("alternates", "")),
            source=meta.get("source"),
            url=meta.get("url"),
            tags=split_tags(meta.get("tags", "")),
        )
    return collector.result(options=options)
