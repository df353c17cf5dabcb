"""The cleaning every parser applies: normalisation, citations, cut-off endings."""

from __future__ import annotations

from faqtual.ingest.clean import clean_entry, split_alternates, split_tags
from faqtual.models import Provenance

HERE = Provenance("f.txt", 7)


def test_normalises_whitespace_and_quotes() -> None:
    cleaned = clean_entry("  What\u2019s   this?\n", "One  line\nsame paragraph.\n\n\n  Next.", provenance=HERE)
    assert (cleaned.question, cleaned.answer) == ("What's this?", "One line same paragraph.\n\nNext.")
    assert cleaned.flags == () and cleaned.rejection is None


def test_citations_are_stripped_and_counted() -> None:
    cleaned = clean_entry("Why (2)?", "Because (8-10). See [7,8].\n\n(3) Also this.", provenance=HERE)
    assert cleaned.question == "Why?"
    assert cleaned.answer == "Because. See.\n\nAlso this."
    (flag,) = cleaned.flags
    assert (flag.code, flag.provenance) == ("citation-stripped", HERE)
    assert "4 citation" in flag.message


def test_text_in_parentheses_is_not_a_citation() -> None:
    cleaned = clean_entry("What is (are) FNP?", "Facial nerve palsy (FNP).", provenance=HERE)
    assert cleaned.question == "What is (are) FNP?"
    assert cleaned.answer == "Facial nerve palsy (FNP)."
    assert cleaned.flags == ()


def test_dangling_fragment_is_removed_and_named() -> None:
    cleaned = clean_entry("How long?", "It lasts four months. Dr.", provenance=HERE)
    assert cleaned.answer == "It lasts four months."
    (flag,) = cleaned.flags
    assert flag.code == "dangling-fragment"
    assert "'Dr.'" in flag.message


def test_dangling_word_in_a_long_answer() -> None:
    answer = "A long sentence. " * 40 + "Use it with the"
    cleaned = clean_entry("How?", answer, provenance=HERE)
    assert cleaned.answer.endswith("Use it with")
    assert "'the'" in cleaned.flags[0].message


def test_street_abbreviation_mid_sentence_is_not_dangling() -> None:
    answer = "x" * 100 + " The clinic is on Main St."
    assert clean_entry("Where?", answer, provenance=HERE).flags == ()


def test_empty_question_or_answer_is_a_rejection() -> None:
    assert clean_entry(" ", "Answer.", provenance=HERE).rejection is not None
    rejection = clean_entry("Why?", "(12)", provenance=HERE).rejection
    assert rejection is not None
    assert rejection.provenance == HERE
    assert "empty" in rejection.reason


def test_overlong_question_is_a_rejection() -> None:
    rejection = clean_entry("word " * 300 + "?", "Answer.", provenance=HERE).rejection
    assert rejection is not None and "1000" in rejection.reason


def test_split_lists() -> None:
    assert split_alternates(" a | b  c ||") == ("a", "b c")
    assert split_tags("x, y|z,,") == ("x", "y", "z")
