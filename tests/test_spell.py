"""Query spelling repair: misspelt KB words are fixed, real words are left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faqtual.retrieval.spell import SpellFixer, edit_distance

KB = {"synkinesis": 12, "botox": 9, "inject": 3, "cause": 4, "nerves": 5, "palsy": 6, "massage": 2}


@pytest.fixture
def fixer() -> SpellFixer:
    return SpellFixer(KB, common_words={"cost", "weather", "paris", "the"})


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("botox", "botox", 0),
        ("botx", "botox", 1),
        ("btoox", "botox", 1),
        ("synkenesis", "synkinesis", 1),
        ("synknisis", "synkinesis", 2),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, limit=5) == distance


def test_edit_distance_stops_at_the_limit() -> None:
    assert edit_distance("abcdefgh", "zyxwvuts", limit=2) == 3
    assert edit_distance("a", "abcdef", limit=2) == 3


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [
        ("synkenesis", "synkinesis"),
        ("synkinisis", "synkinesis"),
        ("botx", "botox"),
        ("nerfes", "nerves"),
        ("masage", "massage"),
    ],
)
def test_misspellings_are_fixed(fixer: SpellFixer, typo: str, fixed: str) -> None:
    assert fixer.fix(typo) == fixed


@pytest.mark.parametrize("word", ["cost", "weather", "paris", "botox", "the", "eye", "1234", "zzzzzzzz"])
def test_real_and_unknown_words_stay(fixer: SpellFixer, word: str) -> None:
    assert fixer.fix(word) == word


def test_fix_words(fixer: SpellFixer) -> None:
    assert fixer.fix_words(["botx", "cost", "synkenesis"]) == ["botox", "cost", "synkinesis"]


@given(st.text(alphabet="abcdefghij", max_size=8), st.text(alphabet="abcdefghij", max_size=8))
def test_edit_distance_is_symmetric_and_bounded(a: str, b: str) -> None:
    d = edit_distance(a, b, limit=20)
    assert d == edit_distance(b, a, limit=20)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert (d == 0) == (a == b)
