"""Greetings and thanks: a polite reply and some questions to ask, instead of a no-answer.

Only a question that is nothing but a greeting, thanks or goodbye counts
("hello!", "Thank you so much"); "hello, does Botox hurt?" is a question.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from faqtual.models import AskResult

SmallTalk = Literal["greeting", "thanks", "goodbye"]

PHRASES: dict[SmallTalk, frozenset[str]] = {
    "greeting": frozenset(
        ["hello", "hi", "hey", "hiya", "howdy", "greetings", "hello there", "hi there", "hey there"]
        + ["good morning", "good afternoon", "good evening", "good day"]
    ),
    "thanks": frozenset(
        [
            "thanks",
            "thank you",
            "thank you so much",
            "thank you very much",
            "thanks a lot",
            "many thanks",
            "thanks so much",
            "cheers",
            "ta",
            "thx",
            "ty",
            "great thanks",
            "ok thanks",
            "okay thanks",
            "thanks again",
        ]
    ),
    "goodbye": frozenset(["bye", "goodbye", "bye bye", "see you", "see you later", "good night"]),
}

REPLIES: dict[SmallTalk, str] = {
    "greeting": "Hello! Ask me a question about synkinesis in your own words, or try one of these.",
    "thanks": "You're welcome. If you have another question, ask it here.",
    "goodbye": "Goodbye, and take care. Come back if you have another question.",
}

_NOT_WORDS = re.compile(r"[^\w\s]+")


def small_talk(question: str) -> SmallTalk | None:
    """Which kind of small talk ``question`` is, if it is nothing else."""
    text = " ".join(_NOT_WORDS.sub(" ", question.casefold()).split())
    return next((kind for kind, phrases in PHRASES.items() if text in phrases), None)


def reply(
    question: str, kind: SmallTalk, *, suggestions: Sequence[str], kb: str | None, disclaimer: str | None
) -> AskResult:
    """The polite reply as an :class:`AskResult`: not answered, no answers, the reply as ``message``."""
    return AskResult(
        question=question,
        answered=False,
        answers=(),
        message=REPLIES[kind],
        related=tuple(suggestions),
        kb=kb,
        disclaimer=disclaimer,
    )
