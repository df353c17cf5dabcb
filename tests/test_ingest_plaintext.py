"""Plain-text FAQs, above all the seed file a curator would start from."""

from __future__ import annotations

from pathlib import Path

import pytest

from faqtual.ingest import parse_file
from faqtual.ingest.plaintext import parse
from faqtual.models import ParseResult

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_dd4fd59666329539.txt"


@pytest.fixture(scope="module")
def seed_result() -> ParseResult:
    if not SEED.is_file():
        pytest.skip(f"the seed FAQ is not at {SEED} (it lives in shared/seeds beside the project)")
    return parse_file(SEED, display_name="seed.txt")


def test_seed_gives_13_entries_in_order(seed_result: ParseResult) -> None:
    questions = [e.question for e in seed_result.entries]
    assert len(questions) == 13
    assert questions[0] == "What is the cause of synkinesis?"
    assert questions[1] == "How do you stop synkinesis?"
    assert questions[-1] == "Can nerves in the face be repaired?"


def test_seed_title_line_is_not_an_entry(seed_result: ParseResult) -> None:
    questions = [e.question for e in seed_result.entries]
    assert questions.count("What is the cause of synkinesis?") == 1
    assert seed_result.rejected == ()
    assert seed_result.entries[0].answer.startswith("Synkinesis is usually caused by")


def test_seed_provenance_is_the_question_line(seed_result: ParseResult) -> None:
    lines = [e.provenance[0].line for e in seed_result.entries]
    assert lines == list(range(3, 52, 4))
    assert {p.file for e in seed_result.entries for p in e.provenance} == {"seed.txt"}


def test_seed_citations_are_removed_and_flagged(seed_result: ParseResult) -> None:
    answers = " ".join(e.answer for e in seed_result.entries)
    for marker in ("(8-10)", "(9-11)", "(12)", "[7,8]"):
        assert marker not in answers
    assert "movement that occurs" in answers  # "(9-11)" went with the space before it
    assert "terminal area." in answers
    flagged = {f.provenance.line for f in seed_result.flags if f.code == "citation-stripped"}
    assert flagged == {15, 19, 23}


def test_seed_dangling_dr_is_removed_and_flagged(seed_result: ParseResult) -> None:
    botox = next(e for e in seed_result.entries if e.question == "How long does Botox last for synkinesis?")
    assert botox.answer.endswith("last up to four months.")
    assert "Dr." not in botox.answer
    (flag,) = [f for f in seed_result.flags if f.code == "dangling-fragment"]
    assert flag.provenance.line == botox.provenance[0].line == 43
    assert "'Dr.'" in flag.message


def test_seed_quotes_are_straightened(seed_result: ParseResult) -> None:
    assert any("Bell's palsy" in e.question for e in seed_result.entries)
    assert all("\u2019" not in e.answer for e in seed_result.entries)


def test_answer_of_several_paragraphs_is_kept_whole() -> None:
    text = "Is it safe?\n\nYes.\nMostly.\n\nAsk your doctor first.\n\nHow long?\n\nA week.\n"
    result = parse(text, file="f.txt")
    assert [(e.question, e.answer) for e in result.entries] == [
        ("Is it safe?", "Yes. Mostly.\n\nAsk your doctor first."),
        ("How long?", "A week."),
    ]
    assert [e.provenance[0].line for e in result.entries] == [1, 8]


def test_question_without_answer_is_rejected_with_its_line() -> None:
    text = "Intro line.\n\nFirst?\n\nSecond?\n\nAn answer.\n\nLast?\n"
    result = parse(text, file="f.txt")
    assert [e.question for e in result.entries] == ["Second?"]
    reasons = {r.provenance.line: r.reason for r in result.rejected}
    assert set(reasons) == {1, 3, 9}
    assert "'First?' has no answer" in reasons[3]
    assert "before the first question" in reasons[1]


def test_a_long_paragraph_ending_with_a_question_mark_is_answer_text() -> None:
    long_rhetorical = "Why " + "really " * 60 + "?"
    text = f"Short question?\n\nAnswer start.\n\n{long_rhetorical}\n"
    (entry,) = parse(text, file="f.txt").entries
    assert entry.answer.endswith("really ?")


def test_windows_line_ends_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "faq.txt"
    path.write_bytes("\ufeffIs it on?\r\n\r\nYes, it is.\r\n".encode())
    (entry,) = parse_file(path).entries
    assert (entry.question, entry.answer) == ("Is it on?", "Yes, it is.")
