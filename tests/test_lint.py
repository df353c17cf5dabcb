"""``faqtual lint``: the checks as pure functions, and the command on the seed and the packaged KB."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import run_faqtual

from faqtual.cli import cli
from faqtual.lint import (
    Finding,
    KbVectors,
    Limits,
    answer_openings,
    answer_text,
    duplicate_answers,
    duplicate_questions,
    lint,
    missing_sources,
    never_retrieved,
    off_topic_answers,
    report,
)
from faqtual.models import FaqEntry, Flag, Provenance
from faqtual.retrieval.embed import HashEmbedder

PACKAGED_KB = Path(__file__).resolve().parents[1] / "faqtual" / "data" / "synkinesis.md"
LIMITS = Limits()


def entry(entry_id: str, question: str, answer: str, *, source: str | None = "ours", line: int = 1) -> FaqEntry:
    return FaqEntry(
        id=entry_id, question=question, answer=answer, source=source, provenance=(Provenance("f.md", line),)
    )


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def codes(findings: Sequence[Finding]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.severity, f.code, f.entry_ids) for f in findings]


# -- pure checks -----------------------------------------------------------------


def test_exact_duplicate_question_is_an_error() -> None:
    a = entry("a", "What is synkinesis?", "One answer.")
    b = entry("b", "what is  synkinesis", "Another answer.")
    vectors = KbVectors.of([a, b], HashEmbedder())
    assert codes(duplicate_questions([a, b], vectors, limits=LIMITS)) == [("error", "duplicate-question", ("a", "b"))]


def test_near_duplicate_and_confusable_questions() -> None:
    entries = [entry(i, f"question {i}?", f"answer {i}.") for i in "abc"]
    questions = (unit(1, 0, 0)[None], unit(1, 0.1, 0)[None], unit(1, 0.45, 0)[None])
    answers = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)])
    found = codes(duplicate_questions(entries, KbVectors(questions, answers), limits=LIMITS))
    assert ("warning", "near-duplicate-question", ("a", "b")) in found  # cosine 0.995
    assert ("warning", "confusable-questions", ("a", "c")) in found  # cosine 0.91, answers differ


def test_close_questions_with_the_same_answer_are_not_confusable() -> None:
    entries = [entry(i, f"question {i}?", f"answer {i}.") for i in "ab"]
    questions = (unit(1, 0)[None], unit(1, 0.45)[None])
    answers = np.stack([unit(0, 1), unit(0.05, 1)])
    assert duplicate_questions(entries, KbVectors(questions, answers), limits=LIMITS) == []


def test_duplicate_answers_exact_and_shared_sentence() -> None:
    shared = "Synkinesis begins three to four months after the nerve starts to regrow."
    a = entry("a", "How long does it last?", f"It is a movement problem. {shared}")
    b = entry("b", "How long with Bell's palsy?", shared + " It can go on for two years.")
    c = entry("c", "Is it the same?", "It is a movement problem. " + shared)
    vectors = KbVectors(
        tuple(unit(1, i)[None] for i in range(3)), np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)])
    )
    found = codes(duplicate_answers([a, b, c], vectors, limits=LIMITS))
    assert ("warning", "duplicate-answer", ("a", "b")) in found
    assert ("error", "duplicate-answer", ("a", "c")) in found


def test_off_topic_answer_needs_a_low_score_and_better_questions() -> None:
    n = 8
    entries = [entry(f"e{i}", f"q{i}?", f"a{i}.") for i in range(n)]
    rng = np.random.default_rng(0)
    questions = [unit(*rng.normal(size=16)) for _ in range(n)]
    answers = [unit(*(q * 3 + rng.normal(size=16) * 0.3)) for q in questions]
    answers[5] = unit(*(questions[1] + questions[2] + questions[3] + 0.1 * questions[5]))  # answers other questions
    vectors = KbVectors(tuple(q[None] for q in questions), np.stack(answers))
    found = off_topic_answers(entries, vectors, limits=LIMITS)
    assert codes(found) == [("error", "off-topic-answer", ("e5",))]
    assert "fits" in found[0].message


def test_openings_that_miss_how_long_or_lean_on_context() -> None:
    good = entry("good", "How long does Botox last?", "It lasts about three months. Then it wears off.")
    late = entry("late", "How long does synkinesis last?", "Synkinesis is a movement problem. It lasts years.")
    orphan = entry("orphan", "Who treats it?", "He then decides where to inject.")
    found = codes(answer_openings([good, late, orphan]))
    assert found == [
        ("warning", "opening-misses-question", ("late",)),
        ("warning", "answer-needs-context", ("orphan",)),
    ]


def test_answer_text_checks() -> None:
    cut = entry("cut", "q1?", "The results last up to four months. Dr.")
    open_end = entry("open", "q2?", "The results last up to four months and")
    cited = entry("cited", "q3?", "It regrows slowly [7,8].")
    unended = entry("unended", "q4?", "It regrows slowly")
    long = entry("long", "q5?", "word " * 300 + "end.")
    found = codes(answer_text([cut, open_end, cited, unended, long], limits=LIMITS))
    assert ("error", "truncated-answer", ("cut",)) in found
    assert ("error", "truncated-answer", ("open",)) in found
    assert ("error", "citation-residue", ("cited",)) in found
    assert ("warning", "truncated-answer", ("unended",)) in found
    assert ("warning", "long-answer", ("long",)) in found


def test_answer_text_uses_ingest_flags() -> None:
    e = entry("e", "q?", "A fine answer.", line=43)
    flags = (
        Flag(Provenance("f.md", 43), "dangling-fragment", "removed the cut-off fragment 'Dr.'"),
        Flag(Provenance("f.md", 43), "citation-stripped", "removed 3 citation marker(s)"),
        Flag(Provenance("other.md", 1), "citation-stripped", "not ours"),
    )
    assert codes(answer_text([e], flags, limits=LIMITS)) == [
        ("error", "truncated-answer", ("e",)),
        ("warning", "citation-residue", ("e",)),
    ]


def test_missing_sources_are_one_finding() -> None:
    entries = [
        entry("a", "q1?", "a."),
        entry("b", "q2?", "b.", source=None),
        entry("c", "q3?", "c.", source=None),
    ]
    [finding] = missing_sources(entries)
    assert (finding.severity, finding.code, finding.entry_ids) == ("warning", "missing-source", ("b", "c"))
    assert "2 of 3" in finding.message


def test_never_retrieved() -> None:
    entries = [entry(i, f"q{i}?", f"a{i}.") for i in "abcd"]
    found = never_retrieved(entries, [["a", "b", "c", "d"], ["b"]], top=2)
    assert codes(found) == [("warning", "never-retrieved", ("c",)), ("warning", "never-retrieved", ("d",))]


def test_lint_orders_by_severity_and_report_groups() -> None:
    entries = [entry("a", "Same?", "Same answer."), entry("b", "Same?", "Other answer", source=None)]
    findings = lint(entries, KbVectors.of(entries, HashEmbedder()))
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    text = report(findings, entries=2)
    assert text.index("ERRORS") < text.index("WARNINGS")
    assert text.endswith(
        f"2 entries: {severities.count('error')} error(s), {severities.count('warning')} warning(s), 0 info."
    )


def test_finding_json_shape() -> None:
    f = Finding("error", "duplicate-question", ("a", "b"), "m", (Provenance("f.md", 3),))
    assert f.to_json() == {
        "severity": "error",
        "code": "duplicate-question",
        "entry_ids": ["a", "b"],
        "message": "m",
        "provenance": ["f.md:3"],
    }


# -- the command -------------------------------------------------------------------


def _findings(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _ids_with(findings: list[dict[str, object]], code: str) -> set[str]:
    return {i for f in findings if f["code"] == code for i in f["entry_ids"]}  # type: ignore[attr-defined]


@pytest.mark.model
def test_lint_the_seed(seed_path: Path) -> None:
    result = CliRunner().invoke(cli, ["lint", str(seed_path), "--json"])
    assert result.exit_code == 1, result.output
    findings = _findings(result.output)
    by_code = {f["code"] for f in findings}
    # the two "how long does synkinesis last" answers share a sentence
    assert any(
        f["code"] == "duplicate-answer" and len(f["entry_ids"]) == 2 and all("how-long" in i for i in f["entry_ids"])  # type: ignore[arg-type]
        for f in findings
    )
    # the two answers that do not answer their question
    off = [f for f in findings if f["code"] == "off-topic-answer"]
    assert [f["entry_ids"] for f in off] == [["where-do-you-inject-botox-for-synkinesis-c05cf5"]]
    assert off[0]["severity"] == "error"
    assert "how-long-does-facial-synkinesis-last-08fd03" in _ids_with(findings, "opening-misses-question")
    # the citation markers (lines 15, 19, 23) and the truncated "... four months. Dr."
    cited = {p for f in findings if f["code"] == "citation-residue" for p in f["provenance"]}  # type: ignore[attr-defined]
    assert {p.rsplit(":", 1)[1] for p in cited} == {"15", "19", "23"}
    truncated = [f for f in findings if f["code"] == "truncated-answer"]
    assert [(f["severity"], f["entry_ids"]) for f in truncated] == [
        ("error", ["how-long-does-botox-last-for-synkinesis-dec928"])
    ]
    assert "missing-source" in by_code
    assert "Error: 2 error finding(s)" in result.output


@pytest.mark.model
def test_the_packaged_kb_has_no_errors() -> None:
    result = CliRunner().invoke(cli, ["lint", str(PACKAGED_KB)])
    assert result.exit_code == 0, result.output
    assert "ERRORS" not in result.output
    assert "15 entries: 0 error(s)" in result.output


@pytest.mark.model
@pytest.mark.slow
def test_lint_without_files_lints_the_packaged_kb() -> None:
    result = CliRunner().invoke(cli, ["lint", "--json"])
    assert result.exit_code == 0, result.output
    assert all(f["severity"] != "error" for f in _findings(result.output))


@pytest.mark.model
def test_lint_a_kb_with_labelled_questions(seed_kb: Path, tmp_path: Path) -> None:
    questions = tmp_path / "labelled.jsonl"
    questions.write_text('{"q": "why does synkinesis happen", "gold": []}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["lint", "--kb", str(seed_kb), "--questions", str(questions), "--json"])
    findings = _findings(result.output)
    missed = _ids_with(findings, "never-retrieved")
    assert len(missed) == 13 - 3
    assert "what-is-the-cause-of-synkinesis-6d4833" not in missed


def test_lint_rejects_files_and_kb_together(seed_path: Path) -> None:
    result = CliRunner().invoke(cli, ["lint", str(seed_path), "--kb", "x.sqlite"])
    assert result.exit_code == 2 and "either FILES or --kb" in result.output


@pytest.mark.model
@pytest.mark.slow
def test_lint_exit_status_from_the_real_entry_point(seed_path: Path) -> None:
    result = run_faqtual(["lint", str(seed_path)])
    assert result.returncode == 1
    assert "ERRORS (2)" in result.stdout and "error finding(s)" in result.stderr
