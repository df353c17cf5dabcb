"""Markdown FAQs: front matter, question headings, comment blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from faqtual.errors import IngestError
from faqtual.ingest import parse_file
from faqtual.ingest.markdown import parse
from faqtual.models import KbOptions

DATA = Path(__file__).resolve().parent / "data" / "ingest"


def test_front_matter_becomes_options() -> None:
    result = parse_file(DATA / "faq.md")
    assert result.options == KbOptions(name="demo-kb", title="Demo FAQ", threshold=0.6, disclaimer="Not advice.")


def test_question_headings_with_comment_block() -> None:
    result = parse_file(DATA / "faq.md", display_name="faq.md")
    assert [e.question for e in result.entries] == [
        "How do I pay?",
        "Can I get a refund?",
        "How long does shipping take?",
    ]
    pay = result.entries[0]
    assert pay.id == "paying"
    assert pay.alternates == ("How can I pay?", "What payment methods are there?")  # case-insensitive dedupe
    assert pay.source == "Billing handbook"
    assert pay.url == "https://example.org/billing"
    assert pay.tags == ("billing", "payments")
    assert [str(p) for p in pay.provenance] == ["faq.md:15"]
    # Emphasis and sub-headings are kept as written; only whitespace is normalised.
    assert pay.answer.startswith("Pay by *card* or by bank transfer.\n\nInvoices arrive by email.")
    assert "We accept Visa and Mastercard." in pay.answer
    assert result.entries[1].id == ""
    assert result.entries[2].id == "shipping-time"
    assert result.entries[2].answer == "Three to five working days."


def test_section_text_is_not_an_answer() -> None:
    answers = " ".join(e.answer for e in parse_file(DATA / "faq.md").entries)
    assert "introduction" not in answers


def test_heading_inside_code_fence_is_not_a_heading() -> None:
    refund = parse_file(DATA / "faq.md").entries[1]
    assert "# not a heading" in refund.answer


def test_without_question_headings_every_heading_is_a_question() -> None:
    text = "# Opening hours\n\nNine to five.\n\n# Parking\n\nIn the garage.\n"
    result = parse(text, file="f.md")
    assert [(e.question, e.answer) for e in result.entries] == [
        ("Opening hours", "Nine to five."),
        ("Parking", "In the garage."),
    ]


def test_unknown_front_matter_key_names_key_line_and_valid_keys() -> None:
    with pytest.raises(IngestError) as info:
        parse_file(DATA / "unknown_key.md", display_name="unknown_key.md")
    message = str(info.value)
    assert message.startswith("unknown_key.md:3:")
    assert "'colour'" in message
    assert "threshold" in message and "help_url" in message


@pytest.mark.parametrize("value", ["high", "1.5", "-0.1", "nan"])
def test_bad_threshold_is_an_error(value: str) -> None:
    with pytest.raises(IngestError, match=r"f\.md:2: threshold .* between 0 and 1"):
        parse(f"---\nthreshold: {value}\n---\n## Q?\nA.\n", file="f.md")


def test_unclosed_front_matter_is_an_error() -> None:
    with pytest.raises(IngestError, match="never closed"):
        parse("---\nname: x\n## Q?\nA.\n", file="f.md")


def test_unknown_comment_block_key_is_an_error() -> None:
    text = "## Q?\n<!--\nid: q\nalternate: typo\n-->\nA.\n"
    with pytest.raises(IngestError, match=r"f\.md:4: unknown comment-block key 'alternate'"):
        parse(text, file="f.md")


def test_single_line_comment_block() -> None:
    (entry,) = parse("## Q?\n<!-- id: q1 -->\nThe answer.\n", file="f.md").entries
    assert (entry.id, entry.answer) == ("q1", "The answer.")


def test_question_heading_without_answer_is_rejected() -> None:
    result = parse("## First?\n## Second?\nAnswer.\n", file="f.md")
    assert [e.question for e in result.entries] == ["Second?"]
    assert [r.provenance.line for r in result.rejected] == [1]


def test_shipped_synkinesis_kb_loads() -> None:
    path = Path(__file__).resolve().parents[1] / "faqtual" / "data" / "synkinesis.md"
    if not path.is_file():
        pytest.skip(f"{path} is not written yet")
    result = parse_file(path)
    assert result.entries and all(e.id for e in result.entries)
    assert result.options.name
