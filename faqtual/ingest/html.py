"""HTML FAQs: schema.org ``FAQPage`` JSON-LD, ``<details>/<summary>`` and ``<dl>/<dt>/<dd>``.

Only the standard library's :mod:`html.parser`: the page is built into a small
tree (closing the elements HTML lets authors leave open), then searched for the
three FAQ forms in document order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from faqtual.errors import IngestError
from faqtual.ingest.clean import EntryCollector, clean_question
from faqtual.models import ParseResult
from faqtual.text import normalize_text

FORMAT = (
    'an HTML FAQ: schema.org FAQPage JSON-LD (<script type="application/ld+json">), '
    "<details><summary>question</summary>answer</details>, or <dl><dt>question</dt><dd>answer</dd></dl>"
)

_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_BLOCK = frozenset(
    "address article aside blockquote dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead tfoot tr "
    "td th ul".split()
)
_DROPPED = frozenset("script style template noscript head title".split())
# An opening tag that implicitly closes an open element (HTML "optional end tags"),
# looked for up to the nearest enclosing container.
_IMPLIES_END = {"dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "li": {"li"}, "tr": {"tr", "td", "th"}}
_IMPLIES_END.update({tag: {"td", "th"} for tag in ("td", "th")})
_CONTAINERS = frozenset("dl ul ol table details div section article body html blockquote".split())
_SPACE = re.compile(r"\s+")


@dataclass(eq=False)
class _Node:
    """An element while the (private, mutable) tree is built and searched."""

    tag: str
    line: int
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)

    def elements(self) -> Iterator[_Node]:
        return (child for child in self.children if isinstance(child, _Node))


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", 1)
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._close_implied(tag)
        node = _Node(tag, self.getpos()[0], {k: v or "" for k, v in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)

    def _close_implied(self, tag: str) -> None:
        targets = _IMPLIES_END.get(tag, {"p"} if tag in _BLOCK else set())
        for depth in range(len(self._stack) - 1, 0, -1):
            open_tag = self._stack[depth].tag
            if open_tag in targets:
                del self._stack[depth:]
                return
            if open_tag in _CONTAINERS:
                return


def _tree(markup: str) -> _Node:
    builder = _TreeBuilder()
    try:
        builder.feed(markup)
        builder.close()
    except AssertionError as error:
        # html.parser reports some malformed markup ("<![foo]>") with
        # AssertionError since Python 3.10 (bpo-31844).
        raise IngestError(f"malformed HTML: {error}") from error
    return builder.root


def _append_text(node: _Node, out: list[str]) -> None:
    # Iterative, so a page nested thousands of elements deep cannot exhaust the stack.
    pending: list[_Node | str] = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        parts: list[_Node | str] = []
        for child in item.children:
            if isinstance(child, str):
                parts.append(child if item.tag == "pre" else _SPACE.sub(" ", child))
            elif child.tag == "br":
                parts.append("\n")
            elif child.tag in _BLOCK:
                parts.extend(("\n\n", child, "\n\n"))
            elif child.tag not in _DROPPED:
                parts.append(child)
        pending.extend(reversed(parts))


def _text(node: _Node, *, skip: _Node | None = None) -> str:
    out: list[str] = []
    shown = _Node(node.tag, node.line, children=[c for c in node.children if c is not skip])
    _append_text(shown, out)
    return normalize_text("".join(out))


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment.

    Block elements become paragraph breaks, ``<br>`` a line break (which
    :func:`faqtual.text.normalize_text`, like every single line break, turns
    into a space), scripts and styles are dropped and entities unescaped.

    Raises:
        IngestError: The markup is too malformed for :mod:`html.parser`.
    """
    return _text(_tree(markup))


@dataclass(frozen=True)
class _Candidate:
    """A question found on the page, or (``problem`` set) why one cannot be used."""

    line: int
    question: str
    answer: str = ""
    alternates: tuple[str, ...] = ()
    problem: str | None = None


def _walk(root: _Node) -> Iterator[_Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(node.elements())))


def _has_type(item: dict[str, object], name: str) -> bool:
    types = item.get("@type")
    values = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and re.split(r"[/:]", t)[-1] == name for t in values)


def _json_ld(script: _Node) -> Iterator[_Candidate]:
    source = "".join(c for c in script.children if isinstance(c, str))
    try:
        data: object = json.loads(source)
    except (ValueError, RecursionError) as error:
        yield _Candidate(script.line, "", problem=f"invalid JSON-LD in this <script> ({error}); fix or remove it")
        return
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict) and _has_type(item, "FAQPage"):
            main = item.get("mainEntity")
            for question in main if isinstance(main, list) else [main]:
                if isinstance(question, dict) and _has_type(question, "Question"):
                    yield _question(question, script.line)
        elif isinstance(item, dict):
            stack.extend(reversed([v for v in item.values() if isinstance(v, dict | list)]))


def _question(item: dict[str, object], line: int) -> _Candidate:
    name = item.get("name")
    accepted = item.get("acceptedAnswer")
    answers = accepted if isinstance(accepted, list) else [accepted]
    answer = next((a["text"] for a in answers if isinstance(a, dict) and isinstance(a.get("text"), str)), None)
    if not isinstance(name, str) or answer is None:
        return _Candidate(line, "", problem=f"a JSON-LD Question without a 'name' and 'acceptedAnswer.text': {name!r}")
    try:
        return _Candidate(line, html_to_text(name), html_to_text(answer))
    except IngestError as error:
        return _Candidate(line, "", problem=f"the JSON-LD Question {name!r} holds {error}")


def _details(node: _Node) -> Iterator[_Candidate]:
    summary = next((c for c in node.elements() if c.tag == "summary"), None)
    if summary is not None:
        yield _Candidate(node.line, _text(summary), _text(node, skip=summary))


def _definition_list(node: _Node) -> Iterator[_Candidate]:
    # <div> may group <dt>/<dd> pairs inside a <dl> (HTML living standard, 4.4.9).
    items = [c for child in node.elements() for c in ([*child.elements()] if child.tag == "div" else [child])]
    groups: list[tuple[list[_Node], list[_Node]]] = []  # (terms, descriptions)
    for item in items:
        if item.tag == "dt":
            if not groups or groups[-1][1]:
                groups.append(([], []))
            groups[-1][0].append(item)
        elif item.tag == "dd" and groups:
            groups[-1][1].append(item)
    for terms, descriptions in groups:
        if descriptions:
            answer = "\n\n".join(_text(d) for d in descriptions)
            yield _Candidate(terms[0].line, _text(terms[0]), answer, tuple(_text(t) for t in terms[1:]))
        else:
            yield from (_Candidate(t.line, "", problem=f"the term {_text(t)!r} has no <dd> answer") for t in terms)


def _candidates(node: _Node) -> Iterator[_Candidate]:
    if node.tag == "script" and node.attrs.get("type", "").strip().lower() == "application/ld+json":
        return _json_ld(node)
    if node.tag == "details":
        return _details(node)
    if node.tag == "dl":
        return _definition_list(node)
    return iter(())


def parse(text: str, *, file: str) -> ParseResult:
    """Parse an HTML FAQ page.

    All three forms are taken, in document order; a pair that another form
    already gave (same question and answer) is dropped.

    Args:
        text: The decoded file, with ``\\n`` line ends.
        file: The name that provenance and errors record.

    Raises:
        IngestError: The markup is too malformed for :mod:`html.parser`.

    Returns:
        The entries; provenance is the line of the ``<script>``, ``<details>``
        or ``<dt>`` element. Invalid JSON-LD and questions without an answer
        are rejected with their line.
    """
    try:
        root = _tree(text)
    except IngestError as error:
        raise IngestError(str(error), file=file) from error
    collector = EntryCollector(file)
    seen: set[tuple[str, str]] = set()
    for node in _walk(root):
        for candidate in _candidates(node):
            if candidate.problem is not None:
                collector.reject(candidate.line, candidate.problem)
                continue
            key = (clean_question(candidate.question), candidate.answer)
            if key not in seen:
                seen.add(key)
                collector.add(
                    candidate.question, candidate.answer, line=candidate.line, alternates=candidate.alternates
                )
    return collector.result()
