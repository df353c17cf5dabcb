"""CSV and TSV FAQs."""

from __future__ import annotations

from pathlib import Path

import pytest

from faqtual.errors import IngestError
from faqtual.ingest import parse_file
from faqtual.ingest.tabular import parse

DATA = Path(__file__).resolve().parent / "data" / "ingest"


def test_csv_with_quoted_multi_line_answer() -> None:
    result = parse_file(DATA / "faq.csv", display_name="faq.csv")
    first, second = result.entries
    assert first.id == "q1"
    assert first.question == "How do I reset my password?"
    assert first.answer == 'Open Settings, then choose "Reset".\n\nA link arrives by email.'
    assert first.alternates == ("Forgot password?", "Lost password?")
    assert first.tags == ("account", "security")
    assert (first.source, first.url) == ("Help centre", "https://example.org/help")
    assert second.question == "What is the fee?"
    assert second.id == ""


def test_csv_provenance_is_the_physical_line_of_the_record() -> None:
    result = parse_file(DATA / "faq.csv", display_name="faq.csv")
    assert [e.provenance[0].line for e in result.entries] == [2, 6]
    (rejection,) = result.rejected
    assert rejection.provenance.line == 9
    assert "answer" in rejection.reason and "empty" in rejection.reason


def test_tsv() -> None:
    result = parse_file(DATA / "faq.tsv")
    assert [(e.question, e.answer) for e in result.entries] == [
        ("Where are you based?", "In Utrecht, the Netherlands."),
        ("Do you ship abroad?", 'Yes; see the "Shipping" page.'),
    ]
    assert result.entries[0].tags == ("company", "location")


def test_missing_column_names_the_column_and_the_columns_found() -> None:
    with pytest.raises(IngestError) as info:
        parse_file(DATA / "missing_column.csv", display_name="missing_column.csv")
    message = str(info.value)
    assert message.startswith("missing_column.csv:1:")
    assert "no 'answer' column" in message
    assert "'question', 'reply'" in message


def test_tab_separated_file_named_csv_gets_a_hint() -> None:
    with pytest.raises(IngestError, match=r"tab-separated: name the file \.tsv"):
        parse("question\tanswer\nWhy?\tBecause.\n", file="f.csv", delimiter=",")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('question,answer\nWhy?,Because.\n"Open?,never closed\nMore?,Lost.\n', 3),
        ('question,answer\n"Why?"x,Because.\n', 2),
    ],
)
def test_malformed_quoting_is_an_error_naming_the_record_line(text: str, line: int) -> None:
    with pytest.raises(IngestError, match=rf"^f\.csv:{line}: malformed record"):
        parse(text, file="f.csv", delimiter=",")


def test_empty_csv_has_no_pairs(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n\n")
    with pytest.raises(IngestError, match="no question-answer pairs found; expected a CSV"):
        parse_file(path)
