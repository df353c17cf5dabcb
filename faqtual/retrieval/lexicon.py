"""Lexical analysis shared by BM25, spelling repair and coverage features."""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Sequence
from functools import lru_cache

import Stemmer

from faqtual.text import content_words

_STEMMER = Stemmer.Stemmer("english")


def stems(tokens: Sequence[str]) -> list[str]:
    """Snowball (Porter 2) English stems of ``tokens``."""
    return list(_STEMMER.stemWords(list(tokens)))


def analyse(text: str) -> list[str]:
    """The BM25 terms of ``text``: content words, stemmed."""
    return stems(content_words(text))


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Whole English words of the embedding model's WordPiece vocabulary.

    Used as the list of words that are spelled right; it is the tokenizer's
    data, so it ships with the package at no extra cost.
    """
    resource = importlib.resources.files("faqtual") / "data" / "minilm-tokenizer.json"
    vocab = json.loads(resource.read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocab if re.fullmatch(r"[a-z]{2,}", w))
