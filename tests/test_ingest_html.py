"""HTML FAQs: JSON-LD FAQPage, details/summary and definition lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faqtual.errors import IngestError
from faqtual.ingest import parse_file
from faqtual.ingest.html import html_to_text, parse

DATA = Path(__file__).resolve().parent / "data" / "ingest"


@pytest.fixture(scope="module")
def page() -> dict[str, tuple[str, int]]:
    result = parse_file(DATA / "faq.html")
    return {e.question: (e.answer, e.provenance[0].line) for e in result.entries}


def test_all_three_forms_are_found(page: dict[str, tuple[str, int]]) -> None:
    assert list(page) == [
        "What are your opening hours?",
        "Do I need a referral?",
        "Where do I park?",
        "Can I bring my child?",
        "Is the clinic accessible?",
    ]


def test_json_ld_answer_html_becomes_text(page: dict[str, tuple[str, int]]) -> None:
    assert page["What are your opening hours?"] == ("Monday to Friday, 9\u201317.\n\nClosed on holidays.", 6)


def test_details_answer_drops_scripts(page: dict[str, tuple[str, int]]) -> None:
    answer, line = page["Where do I park?"]
    assert answer == "Use the garage on Main Street. It is free for patients."
    assert line == 18


def test_definition_list_with_optional_end_tags(page: dict[str, tuple[str, int]]) -> None:
    assert page["Can I bring my child?"] == ("Yes & children under 12 must be accompanied.", 25)
    assert page["Is the clinic accessible?"] == (
        "Yes, there is a lift.\n\nWheelchairs are available at the desk.",
        27,
    )


def test_exact_duplicates_across_forms_are_dropped() -> None:
    result = parse_file(DATA / "faq.html")
    assert [e.question for e in result.entries].count("Do I need a referral?") == 1


def test_term_without_answer_is_rejected() -> None:
    result = parse_file(DATA / "faq.html", display_name="faq.html")
    (rejection,) = result.rejected
    assert str(rejection.provenance) == "faq.html:30"
    assert "Orphan term" in rejection.reason


def test_invalid_json_ld_is_rejected_with_its_line() -> None:
    text = '<p>x</p>\n<script type="application/ld+json">{"@type": "FAQPage",</script>\n'
    text += "<details><summary>Q?</summary>A.</details>"
    result = parse(text, file="f.html")
    assert [e.question for e in result.entries] == ["Q?"]
    (rejection,) = result.rejected
    assert rejection.provenance.line == 2
    assert "invalid JSON-LD" in rejection.reason


def test_json_ld_in_a_graph_with_type_lists() -> None:
    data = {
        "@graph": [
            {"@type": "WebSite", "name": "x"},
            {
                "@type": ["WebPage", "FAQPage"],
                "mainEntity": {"@type": "Question", "name": "Why?", "acceptedAnswer": [{"text": "Because."}]},
            },
        ]
    }
    text = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    (entry,) = parse(text, file="f.html").entries
    assert (entry.question, entry.answer) == ("Why?", "Because.")


def test_html_to_text() -> None:
    markup = "<div>One &amp; <b>two</b><br>three</div><ul><li>a</li><li>b</ul><style>p{}</style>"
    assert html_to_text(markup) == "One & two three\n\na\n\nb"


def test_malformed_markup_is_an_ingest_error() -> None:
    with pytest.raises(IngestError, match=r"^f\.html: malformed HTML"):
        parse("<dl><dt>Q?</dt><dd>A.</dd></dl><![foo bar]>", file="f.html")


def test_page_without_faq_forms_has_no_pairs(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text("<html><body><h1>Welcome</h1><p>Hello.</p></body></html>")
    with pytest.raises(IngestError, match="no question-answer pairs found; expected an HTML FAQ"):
        parse_file(path)


def test_deeply_nested_markup_does_not_crash() -> None:
    text = "<div>" * 5000 + "<dl><dt>Q?</dt><dd>A.</dd></dl>" + "</div>" * 5000
    (entry,) = parse(text, file="f.html").entries
    assert entry.answer == "A."
