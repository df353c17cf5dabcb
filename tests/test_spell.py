"""Query spelling repair: misspelt KB words are fixed, real words are left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from faqtual.retrieval.spell import SpellFixer

KB = {"synkinesis": 12, "botox": 9, "inject": 3, "cause": 4, "nerves": 5, "palsy": 6, "massage": 2}


@pytest.fixture
def fixer() -> SpellFixer:
    return SpellFixer(KB, common_words={"cost", "weather", "paris", "the"})


def reference_distance(a: str, b: str) -> int:
    """Optimal string alignment, written out: the distance the fixer is specified with."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("botox", "botox", 0),
        ("botx", "botox", 1),
        ("btoox", "botox", 1),  # a swap of neighbours is one edit, not two
        ("synkenesis", "synkinesis", 1),
        ("synknisis", "synkinesis", 2),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
    ],
)
def test_the_library_distance_is_optimal_string_alignment(a: str, b: str, distance: int) -> None:
    assert OSA.distance(a, b) == reference_distance(a, b) == distance


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


def test_of_equally_near_words_the_more_frequent_wins() -> None:
    assert SpellFixer({"botax": 2, "botix": 9, "botux": 4}, common_words=set()).fix("botox") == "botix"
    assert SpellFixer({"botax": 9, "botix": 2}, common_words=set()).fix("botox") == "botax"
    assert SpellFixer({"botoxx": 1, "botax": 9}, common_words=set()).fix("botox") == "botax"


def test_fix_words(fixer: SpellFixer) -> None:
    assert fixer.fix_words(["botx", "cost", "synkenesis"]) == ["botox", "cost", "synkinesis"]


WORDS = st.text(alphabet="abcde", min_size=1, max_size=9)


@given(st.dictionaries(WORDS, st.integers(1, 3), max_size=30), WORDS)
def test_fix_picks_the_nearest_kb_word_then_the_most_frequent(kb: dict[str, int], word: str) -> None:
    limit = 0 if len(word) <= 3 else 1 if len(word) <= 6 else 2
    near = [
        (reference_distance(word, w), -n, w)
        for w, n in kb.items()
        if len(w) > 3 and w[0] == word[0] and reference_distance(word, w) <= limit
    ]
    fixed = SpellFixer(kb, common_words=set()).fix(word)
    if word in kb or not near:
        assert fixed == word
    else:
        best = min(near)[:2]
        assert (reference_distance(word, fixed), -kb[fixed]) == best


@pytest.mark.parametrize(
    ("text", "repaired"),
    [
        ("what does sin kinesis mean", "what does synkinesis mean"),  # a voice assistant's split
        ("synki nesis cause", "synkinesis cause"),  # both halves unknown
        ("sin-kinesis and botx", "synkinesis and botox"),
        ("the cost of botx", "the cost of botox"),  # a fix of one word; "cost" stays
        ("what is synkinesis", "what is synkinesis"),
        ("the weather in paris", "the weather in paris"),  # known words are never joined
    ],
)
def test_repair_fixes_words_and_joins_a_word_typed_in_two(fixer: SpellFixer, text: str, repaired: str) -> None:
    assert fixer.repair(text) == repaired


def test_repair_prefers_the_nearer_reading() -> None:
    kb = {"kinases": 3, "synkinesis": 5}
    common = {"sin", "the"}
    # "sin kinesis" is one edit from "synkinesis", "kinesis" alone two from "kinases".
    assert SpellFixer(kb, common_words=common).repair("sin kinesis") == "synkinesis"
    # "the" + "kinases" is no KB word: the lone word is fixed instead.
    assert SpellFixer(kb, common_words=common).repair("the kinasis") == "the kinases"


def test_repair_joins_dictated_pieces_too_short_or_too_many_to_fix_alone() -> None:
    kb = {"synkinesis": 5, "botox": 4, "patent": 2}
    common = {"sink", "in", "bow", "went", "can", "cure", "what", "does", "mean"}
    fixer = SpellFixer(kb, common_words=common)
    assert fixer.repair("can bow tox cure it") == "can botox cure it"  # "tox" is too short to fix alone
    assert fixer.repair("what does sink in esis mean") == "what does synkinesis mean"  # three pieces
    # "psawent" is two edits from "patent": too far for a join led by a three-letter piece.
    assert fixer.repair("my psa went up") == "my psa went up"
    assert fixer.repair("bow tox", keep={"tox"}) == "bow tox"


def test_repair_leaves_words_it_is_told_to_keep(fixer: SpellFixer) -> None:
    assert fixer.repair("pkd botx", keep={"pkd"}) == "pkd botox"
    assert fixer.repair("sin kinesis", keep={"kinesis"}) == "sin kinesis"
