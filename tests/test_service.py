"""FaqService over a real SQLite KB and the real model: answering, re-ingest, atomicity."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import kb_fingerprint

from faqtual.config import Settings
from faqtual.errors import BadQueryError, IndexNotReadyError, IngestError, NotFoundError
from faqtual.factory import open_service
from faqtual.retrieval.embed import OnnxMiniLM
from faqtual.retrieval.index import units_for
from faqtual.service import DEFAULT_NO_ANSWER, FaqService

BOTOX_CURE = "Can Botox cure synkinesis?"
OLD_STOP = "Nerve recovery takes time and patience."
NEW_STOP = "Nerve recovery takes time, patience and daily practice."


def _by_question(service: FaqService, question: str) -> str:
    return next(e.id for e in service.entries() if e.question == question)


def test_ask_exact_question_answers_it(seed_service: FaqService) -> None:
    result = seed_service.ask(BOTOX_CURE)
    assert result.answered
    assert result.message is None
    assert result.answers[0].question == BOTOX_CURE
    assert result.answers[0].entry_id == _by_question(seed_service, BOTOX_CURE)
    assert "Botox" in result.answers[0].answer


def test_ask_paraphrase_with_typos(seed_service: FaqService) -> None:
    result = seed_service.ask("how long do botx injections last for synkinesis")
    assert result.answered
    assert result.answers[0].question == "How long does Botox last for synkinesis?"


def test_ask_a_word_split_in_two_by_voice_typing(seed_service: FaqService) -> None:
    result = seed_service.ask("okay google sin kinesis what does that word mean")
    assert result.answered
    assert result.answers[0].question == "What does synkinesis mean?"


def test_answers_best_first_three_by_default_top_overrides(seed_service: FaqService) -> None:
    result = seed_service.ask("what does synkinesis mean")
    confidences = [a.confidence for a in result.answers]
    assert len(confidences) == 3
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert len(seed_service.ask("what does synkinesis mean", top=5).answers) == 5


def test_off_topic_question_abstains_with_message(seed_service: FaqService) -> None:
    result = seed_service.ask("what's the weather in Paris tomorrow")
    assert not result.answered
    assert result.message == DEFAULT_NO_ANSWER
    assert result.answers, "candidates are listed even when the KB abstains"
    assert result.answers[0].confidence < seed_service.threshold()


def test_ask_many_matches_ask(seed_service: FaqService) -> None:
    questions = [
        "can botox cure synkinesis",
        "what's the weather in Paris tomorrow",
        "can facial nerves regrow",
    ]
    many = seed_service.ask_many(questions)
    assert [r.question for r in many] == questions
    for question, result in zip(questions, many, strict=True):
        single = seed_service.ask(question)
        assert single.answered == result.answered
        assert [a.entry_id for a in single.answers] == [a.entry_id for a in result.answers]


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("x" * 1_000_000, "1,000,000 characters"),
        ("what\x00is\x00synkinesis", "binary"),
        ("?!? ...", "no words"),
    ],
    ids=["empty", "blank", "1MB", "NUL", "punctuation"],
)
def test_bad_questions_are_refused(seed_service: FaqService, question: str, words: str) -> None:
    with pytest.raises(BadQueryError, match=words):
        seed_service.ask(question)


def test_one_bad_question_refuses_the_whole_batch(seed_service: FaqService) -> None:
    with pytest.raises(BadQueryError):
        seed_service.ask_many(["what is synkinesis", ""])


def test_entries_and_entry(seed_service: FaqService) -> None:
    entries = seed_service.entries()
    assert len(entries) == 13
    assert entries[0].question == "What is the cause of synkinesis?"
    assert seed_service.entry(entries[3].id) == entries[3]
    with pytest.raises(NotFoundError, match="no-such-id"):
        seed_service.entry("no-such-id")


def test_set_threshold_is_stored_and_used(seed_service: FaqService, seed_kb: Path, minilm: OnnxMiniLM) -> None:
    off_topic = "what's the weather in Paris tomorrow"
    assert not seed_service.ask(off_topic).answered
    seed_service.set_threshold(0.0)
    assert seed_service.threshold() == 0.0
    assert seed_service.ask(off_topic).answered, "a running service sees the new threshold"
    reopened = open_service(Settings(), kb=str(seed_kb), embedder=minilm)
    assert reopened.threshold() == 0.0
    # A flag or env threshold overrides the KB's own.
    strict = open_service(Settings(threshold=0.999), kb=str(seed_kb), embedder=minilm)
    assert strict.threshold() == 0.999
    assert not strict.ask(off_topic).answered


def test_empty_kb_is_not_ready(tmp_path: Path, minilm: OnnxMiniLM) -> None:
    service = open_service(Settings(), kb=str(tmp_path / "new.sqlite"), create=True, embedder=minilm)
    with pytest.raises(IndexNotReadyError, match="faqtual ingest"):
        service.ask("what is synkinesis")


def test_reingest_same_file_changes_nothing(seed_service: FaqService, seed_path: Path) -> None:
    ids = [e.id for e in seed_service.entries()]
    report = seed_service.ingest([seed_path])
    assert report.unchanged == len(ids) == 13
    assert (report.added, report.updated, report.removed, report.embedded) == (0, 0, 0, 0)
    assert [e.id for e in seed_service.entries()] == ids


def test_editing_one_entry_reembeds_only_its_changed_texts(
    seed_service: FaqService, seed_path: Path, tmp_path: Path
) -> None:
    # A copy of the seed: its first ingest re-labels the provenance but embeds nothing.
    text = seed_path.read_text(encoding="utf-8")
    assert OLD_STOP in text
    copy = tmp_path / "faq.txt"
    copy.write_text(text, encoding="utf-8")
    first = seed_service.ingest([copy])
    ids = [e.id for e in seed_service.entries()]
    assert first.embedded == 0, "same texts as the seed KB: every vector is cached"
    old_texts = set(units_for(seed_service.entries()).texts)

    copy.write_text(text.replace(OLD_STOP, NEW_STOP), encoding="utf-8")
    report = seed_service.ingest([copy])

    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 12, 0)
    edited = next(e for e in seed_service.entries() if NEW_STOP in e.answer)
    expected_new = set(units_for([edited]).texts) - old_texts
    assert 0 < report.embedded == len(expected_new)
    assert len(expected_new) < len(units_for([edited]).texts), "the unchanged question keeps its vector"
    assert [e.id for e in seed_service.entries()] == ids


def test_failed_ingest_leaves_kb_as_it_was(
    seed_service: FaqService, seed_kb: Path, seed_path: Path, tmp_path: Path
) -> None:
    modified = tmp_path / "seed.txt"
    modified.write_text(seed_path.read_text(encoding="utf-8").replace(OLD_STOP, NEW_STOP), encoding="utf-8")
    broken = tmp_path / "broken.csv"
    broken.write_text("question,source\nWhat is synkinesis?,me\n", encoding="utf-8")
    version = seed_service.store.version()
    before = kb_fingerprint(seed_kb)

    with pytest.raises(IngestError, match="answer"):
        seed_service.ingest([modified, broken])

    assert kb_fingerprint(seed_kb) == before
    assert seed_service.store.version() == version
    result = seed_service.ask("How do you stop synkinesis?")
    assert result.answers[0].question == "How do you stop synkinesis?"
    assert OLD_STOP in result.answers[0].answer


def test_second_file_adds_and_replace_removes(seed_service: FaqService, tmp_path: Path) -> None:
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        '{"id": "eye-drops", "question": "Should I use eye drops?", '
        '"answer": "Use lubricating eye drops if your eye does not close fully.", "source": "clinic"}\n',
        encoding="utf-8",
    )
    report = seed_service.ingest([extra])
    assert report.added == 1
    assert len(seed_service.entries()) == 14
    assert seed_service.entry("eye-drops").source == "clinic"
    report = seed_service.ingest([extra], replace=True)
    assert report.removed == 13
    assert [e.id for e in seed_service.entries()] == ["eye-drops"]


def test_running_service_picks_up_another_process_ingest(
    seed_service: FaqService, seed_kb: Path, tmp_path: Path, minilm: OnnxMiniLM
) -> None:
    assert seed_service.ask(BOTOX_CURE).answered  # builds the index of version 1
    writer = open_service(Settings(), kb=str(seed_kb), embedder=minilm)
    extra = tmp_path / "extra.md"
    extra.write_text(
        "# Can I drive after facial Botox injections?\n\nYes, you can drive home after the injections.\n",
        encoding="utf-8",
    )
    writer.ingest([extra])
    result = seed_service.ask("Can I drive after facial Botox injections?")
    assert result.answers[0].question == "Can I drive after facial Botox injections?"
