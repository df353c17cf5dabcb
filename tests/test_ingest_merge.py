"""prepare(): ids, merging identical answers, duplicate questions, options."""

from __future__ import annotations

from pathlib import Path

import pytest

from faqtual.errors import IngestError
from faqtual.ingest import Prepared, parse_file, prepare
from faqtual.ingest.jsonl import parse as parse_jsonl
from faqtual.ingest.markdown import parse as parse_markdown
from faqtual.ingest.plaintext import parse as parse_text
from faqtual.models import KbOptions
from faqtual.text import entry_id_for

DATA = Path(__file__).resolve().parent / "data" / "ingest"


def test_identical_answers_become_one_entry_with_alternates() -> None:
    first = parse_text("How do I pay?\n\nBy card.\n\nWhat is the fee?\n\nFive euros.\n", file="a.txt")
    second = parse_text("Which payment methods?\n\nBy  card.\n\nhow do I pay?\n\nBy card.\n", file="b.txt")
    prepared = prepare([first, second])
    assert isinstance(prepared, Prepared)
    assert [e.question for e in prepared.entries] == ["How do I pay?", "What is the fee?"]
    pay = prepared.entries[0]
    assert pay.alternates == ("Which payment methods?",)
    assert [str(p) for p in pay.provenance] == ["a.txt:1", "b.txt:1", "b.txt:5"]
    assert prepared.merged == 2
    merged_flags = [f for f in prepared.flags if f.code == "merged-duplicate-answer"]
    assert [str(f.provenance) for f in merged_flags] == ["b.txt:1", "b.txt:5"]
    assert "How do I pay?" in merged_flags[0].message


def test_ids_explicit_kept_and_generated_stable() -> None:
    text = '{"id": "x1", "question": "Why?", "answer": "Because."}\n{"question": "How?", "answer": "So."}\n'
    one = prepare([parse_jsonl(text, file="f.jsonl")])
    two = prepare([parse_jsonl(text, file="other-name.jsonl")])
    assert one.entries[0].id == "x1"
    assert one.entries[1].id == entry_id_for("How?")
    assert [e.id for e in one.entries] == [e.id for e in two.entries]


def test_generated_ids_are_stable_across_two_parses_of_a_file() -> None:
    ids = [[e.id for e in prepare([parse_file(DATA / "faq.tsv")]).entries] for _ in range(2)]
    assert ids[0] == ids[1]
    assert all(ids[0]) and len(set(ids[0])) == 2


def test_same_explicit_id_on_two_entries_names_both_places() -> None:
    a = parse_jsonl('{"id": "x", "question": "Why?", "answer": "Because."}\n', file="a.jsonl")
    b = parse_jsonl('\n{"id": "x", "question": "How?", "answer": "Like so."}\n', file="b.jsonl")
    with pytest.raises(IngestError) as info:
        prepare([a, b])
    message = str(info.value)
    assert "'x'" in message and "a.jsonl:1" in message and "b.jsonl:2" in message


def test_the_same_entry_twice_is_merged_not_an_error() -> None:
    a = parse_jsonl('{"id": "x", "question": "Why?", "answer": "Because."}\n', file="a.jsonl")
    prepared = prepare([a, a])
    assert len(prepared.entries) == 1 and prepared.merged == 1
    assert prepared.entries[0].alternates == ()


def test_duplicate_question_is_flagged_and_both_kept() -> None:
    result = parse_text("Why?\n\nBecause.\n\nWhy?\n\nNo reason.\n", file="f.txt")
    prepared = prepare([result])
    assert [e.answer for e in prepared.entries] == ["Because.", "No reason."]
    first, second = (e.id for e in prepared.entries)
    assert first == entry_id_for("Why?") and second == f"{first}-2"
    (flag,) = [f for f in prepared.flags if f.code == "duplicate-question"]
    assert str(flag.provenance) == "f.txt:5"


def test_options_flags_and_rejections_are_carried() -> None:
    text_result = parse_text("Lonely?\n\nWhy?\n\nBecause (3).\n", file="f.txt")
    md_result = parse_markdown("---\nname: kb\n---\n## What?\nThat.\n", file="f.md")
    prepared = prepare([text_result, md_result])
    assert prepared.options == KbOptions(name="kb")
    assert [f.code for f in prepared.flags] == ["citation-stripped"]
    assert [str(r.provenance) for r in prepared.rejected] == ["f.txt:1"]
    assert prepare([]).entries == () and prepare([]).options == KbOptions()
