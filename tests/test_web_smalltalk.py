"""Which questions count as greetings, thanks or goodbyes (and which do not)."""

from __future__ import annotations

import pytest

from faqtual.web.smalltalk import REPLIES, reply, small_talk


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Hello!", "greeting"),
        ("  hi there ", "greeting"),
        ("Good morning.", "greeting"),
        ("Thank you so much!!", "thanks"),
        ("THANKS", "thanks"),
        ("bye", "goodbye"),
    ],
)
def test_small_talk_is_recognised(text: str, kind: str) -> None:
    assert small_talk(text) == kind


@pytest.mark.parametrize(
    "text",
    ["hello, does Botox hurt?", "Thank you, but why does my eye close?", "hi-fi", "what is synkinesis"],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert small_talk(text) is None


def test_reply_is_a_polite_unanswered_result_with_suggestions() -> None:
    result = reply("hello", "greeting", suggestions=["What is synkinesis?"], kb="kb", disclaimer="d")
    assert (result.answered, result.answers, result.message) == (False, (), REPLIES["greeting"])
    assert result.related == ("What is synkinesis?",)
