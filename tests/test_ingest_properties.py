"""Property tests: every parser round-trips what its format can hold, and fails only with IngestError."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faqtual.errors import IngestError
from faqtual.ingest import SUPPORTED_SUFFIXES, parse_file
from faqtual.ingest.clean import clean_entry, clean_question
from faqtual.models import Provenance

Pair = tuple[str, str]

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\u00e9\u00fc\u00df\u0416\u00e7"
SEPARATORS = [" ", ", ", " & ", " < ", " > ", ' "', '" ', " - ", "; ", ": ", " (", ") ", " 'x' ", " / "]

words = st.text(alphabet=LETTERS, min_size=1, max_size=8)


def _join(parts: list[str], separators: list[str]) -> str:
    text = parts[0]
    for part, separator in zip(parts[1:], separators, strict=False):
        text += separator + part
    return text


@st.composite
def _phrase(draw: st.DrawFn, *, newlines: bool) -> str:
    parts = draw(st.lists(words, min_size=1, max_size=8))
    choices = [*SEPARATORS, "\n"] if newlines else SEPARATORS
    return _join(parts, draw(st.lists(st.sampled_from(choices), min_size=len(parts), max_size=len(parts))))


questions = _phrase(newlines=False).map(lambda text: text + "?")
paragraphs = _phrase(newlines=True).map(lambda text: text + ".")
answers = st.lists(paragraphs, min_size=1, max_size=3).map("\n\n".join)
pair_lists = st.lists(st.tuples(questions, answers), min_size=1, max_size=5, unique_by=lambda p: clean_question(p[0]))


def _expected(pairs: list[Pair]) -> list[Pair]:
    cleaned = (clean_entry(q, a, provenance=Provenance("x", 1)) for q, a in pairs)
    return [(c.question, c.answer) for c in cleaned if c.rejection is None]


def _text(pairs: list[Pair]) -> str:
    return "\n\n".join(f"{q}\n\n{a}" for q, a in pairs) + "\n"


def _markdown(pairs: list[Pair]) -> str:
    return "---\nname: generated\n---\n\n" + "\n\n".join(f"## {q}\n\n{a}" for q, a in pairs) + "\n"


def _table(delimiter: str) -> Callable[[list[Pair]], str]:
    def write(pairs: list[Pair]) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow(["Question", "Answer"])
        writer.writerows(pairs)
        return out.getvalue()

    return write


def _jsonl(pairs: list[Pair]) -> str:
    return "".join(json.dumps({"question": q, "answer": a}, ensure_ascii=False) + "\n" for q, a in pairs)


def _html_answer(answer: str) -> str:
    return "".join(f"<p>{html.escape(p)}</p>\n" for p in answer.split("\n\n"))


def _html(form: str) -> Callable[[list[Pair]], str]:
    def write(pairs: list[Pair]) -> str:
        if form == "json-ld":
            entities = [
                {"@type": "Question", "name": html.escape(q), "acceptedAnswer": {"text": _html_answer(a)}}
                for q, a in pairs
            ]
            data = json.dumps({"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": entities})
            body = f'<script type="application/ld+json">\n{data}\n</script>'
        elif form == "details":
            body = "\n".join(
                f"<details>\n<summary>{html.escape(q)}</summary>\n{_html_answer(a)}</details>" for q, a in pairs
            )
        else:
            items = "".join(f"<dt>{html.escape(q)}</dt>\n<dd>{_html_answer(a)}</dd>\n" for q, a in pairs)
            body = f"<dl>\n{items}</dl>"
        return f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n"

    return write


WRITERS: dict[str, tuple[str, Callable[[list[Pair]], str]]] = {
    "plaintext": (".txt", _text),
    "markdown": (".md", _markdown),
    "csv": (".csv", _table(",")),
    "tsv": (".tsv", _table("\t")),
    "jsonl": (".jsonl", _jsonl),
    "html-json-ld": (".html", _html("json-ld")),
    "html-details": (".html", _html("details")),
    "html-dl": (".htm", _html("dl")),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ingest-properties")


@pytest.mark.parametrize("form", sorted(WRITERS))
@settings(deadline=None, max_examples=60)
@given(pairs=pair_lists)
def test_round_trip(workdir: Path, form: str, pairs: list[Pair]) -> None:
    suffix, write = WRITERS[form]
    path = workdir / f"round-trip{suffix}"
    path.write_text(write(pairs), encoding="utf-8")
    expected = _expected(pairs)
    try:
        result = parse_file(path)
    except IngestError:
        assert not expected  # every pair was unusable after cleaning
        return
    assert [(e.question, e.answer) for e in result.entries] == expected


faq_like_text = st.text(alphabet="ab ?#-:<>/!\"',|\t\n{}[]()=", max_size=200)


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
@settings(deadline=None, max_examples=80)
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300), faq_like_text))
def test_only_ingest_error_escapes(workdir: Path, suffix: str, content: bytes | str) -> None:
    path = workdir / f"arbitrary{suffix}"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    try:
        result = parse_file(path)
    except IngestError as error:
        assert str(error).startswith(str(path))
        return
    assert result.entries
    assert all(e.question and e.answer for e in result.entries)
