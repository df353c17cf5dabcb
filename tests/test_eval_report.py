"""Evaluation reports and run files: the HTML page, ``--compare``, and the run-file round trip.

The report tests use a small run of the real service on the seed KB (built by
``FaqService.ingest`` of the seed FAQ in conftest); the pure pieces
(:func:`outcome`, :func:`changes`, the charts) have golden tests on hand-made runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from faqtual import __version__
from faqtual import cli as cli_module
from faqtual.errors import IngestError
from faqtual.eval import runfile
from faqtual.eval.harness import LabeledQuestion, run
from faqtual.eval.metrics import Judged, ReliabilityBin, RiskCoveragePoint
from faqtual.eval.report import (
    Change,
    CurveSeries,
    changes,
    outcome,
    reliability_svg,
    render_report,
    risk_coverage_svg,
)
from faqtual.eval.runfile import Returned, RunConfig, SavedQuestion, SavedRun
from faqtual.retrieval.embed import OnnxMiniLM
from faqtual.service import FaqService

SCRIPT_QUESTION = "<script>alert('x')</script> does botox cure synkinesis?"
LABELED = [
    LabeledQuestion("what causes synkinesis", ("What is the cause of synkinesis?",), 1),
    LabeledQuestion("Can Botox cure synkinesis?", ("Can Botox cure synkinesis?",), 2),
    # Mislabeled on purpose so that it is listed among the questions that went wrong.
    LabeledQuestion(SCRIPT_QUESTION, ("What does synkinesis mean?",), 3),
    LabeledQuestion("how long does synkinesis last after bell's palsy", ("What is the cause of synkinesis?",), 4),
    LabeledQuestion("what's the weather in Paris tomorrow", (), 5),
    LabeledQuestion("can botox treat migraines", (), 6),
]


def saved_run(service: FaqService, *, threshold: float) -> SavedRun:
    outcome_run = run(service, LABELED, threshold=threshold)
    return runfile.from_eval(outcome_run, kb="seed.sqlite", questions_file="labeled.jsonl", version=__version__)


# -- the report on a real run ----------------------------------------------------------------


def test_report_shows_metrics_two_charts_and_escapes(seed_service: FaqService) -> None:
    saved = saved_run(seed_service, threshold=0.5)
    page = render_report(saved)
    m = saved.metrics()
    assert page.startswith("<!DOCTYPE html>")
    for value in (m.top1, m.mrr10, m.precision_answered, m.coverage, m.abstention_accuracy):
        assert f"{value:.3f}" in page
    assert page.count("<svg") == 2
    assert "Risk–coverage curve" in page and "Reliability diagram" in page
    # Self-contained and inert: no scripts, no external resources.
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert "<link" not in page
    # The deliberately mislabeled question is listed as a wrong answer, with what came back and its gold.
    assert "how long does synkinesis last after bell&#x27;s palsy" in page
    assert "What is the cause of synkinesis?" in page


def test_compare_shows_both_runs(seed_service: FaqService) -> None:
    strict = saved_run(seed_service, threshold=0.99)
    lax = saved_run(seed_service, threshold=0.0)
    page = render_report(lax, baseline=strict, labels=("lax", "strict"))
    assert "Compared with strict" in page
    assert "0.990" in page and "0.000" in page  # both thresholds in the diff table
    assert page.count("<svg") == 2
    assert page.count("<polyline") == 2  # both curves on the one risk-coverage chart
    assert "Questions whose outcome changed (strict → lax)" in page
    found = changes(lax, strict)
    assert found and all(c.before != c.after for c in found)
    assert "what&#x27;s the weather in Paris tomorrow" in page


def test_run_file_round_trips(seed_service: FaqService) -> None:
    saved = saved_run(seed_service, threshold=0.5)
    again = runfile.loads(runfile.dumps(saved), source="run.json")
    assert again == saved
    assert again.metrics() == saved.metrics()
    assert again.config == RunConfig("seed.sqlite", "labeled.jsonl", 0.5, __version__)
    first = again.questions[0]
    assert first.returned and first.returned[0].entry_id
    assert len(first.judged.hits) == len(first.returned)


@pytest.fixture
def shared_model(monkeypatch: pytest.MonkeyPatch, minilm: OnnxMiniLM) -> None:
    monkeypatch.setattr("faqtual.factory.default_embedder", lambda settings: minilm)


@pytest.mark.usefixtures("shared_model")
def test_cli_writes_report_run_file_and_compares(seed_kb: Path, tmp_path: Path) -> None:
    questions = tmp_path / "labeled.jsonl"
    questions.write_text(
        '{"q": "what causes synkinesis", "gold": ["What is the cause of synkinesis?"]}\n'
        '{"q": "<b>weather</b> in Paris", "gold": []}\n',
        encoding="utf-8",
    )
    report, run_a, report_b = tmp_path / "a.html", tmp_path / "a.json", tmp_path / "b.html"
    runner = CliRunner()
    args = ["eval", str(questions), "--kb", str(seed_kb)]
    first = runner.invoke(cli_module.cli, [*args, "--report", str(report), "--save-run", str(run_a)])
    assert first.exit_code == 0, first.output
    assert "<svg" in report.read_text(encoding="utf-8")
    saved = runfile.loads(run_a.read_text(encoding="utf-8"), source=str(run_a))
    assert saved.config.kb == str(seed_kb) and saved.config.version == __version__
    assert [q.question for q in saved.questions] == ["what causes synkinesis", "<b>weather</b> in Paris"]
    second = runner.invoke(
        cli_module.cli, [*args, "--threshold", "0", "--report", str(report_b), "--compare", str(run_a)]
    )
    assert second.exit_code == 0, second.output
    page = report_b.read_text(encoding="utf-8")
    assert "Compared with baseline (a.json)" in page and "&lt;b&gt;weather&lt;/b&gt;" in page


@pytest.mark.usefixtures("shared_model")
def test_cli_compare_needs_report_and_a_run_file(seed_kb: Path, tmp_path: Path) -> None:
    questions = tmp_path / "labeled.jsonl"
    questions.write_text('{"q": "what causes synkinesis", "gold": []}\n', encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 99}', encoding="utf-8")
    runner = CliRunner()
    args = ["eval", str(questions), "--kb", str(seed_kb), "--compare", str(bad)]
    assert "add --report FILE" in runner.invoke(cli_module.cli, args).output
    result = runner.invoke(cli_module.cli, [*args, "--report", str(tmp_path / "r.html")])
    assert isinstance(result.exception, IngestError)
    assert "format 99 is not 1" in str(result.exception)
    assert not (tmp_path / "r.html").exists()


# -- run files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "invalid JSON"),
        ('{"format": 2, "config": {}}', "format 2 is not 1"),
        ('{"format": 1, "config": {"kb": "k"}}', "missing or malformed field 'questions_file'"),
        (
            '{"format": 1, "config": {"kb": "k", "questions_file": "q", "threshold": "high", "version": "1"},'
            ' "questions": []}',
            "expected a number",
        ),
    ],
)
def test_bad_run_files_name_the_file(text: str, message: str) -> None:
    with pytest.raises(IngestError, match=re.escape(message)) as info:
        runfile.loads(text, source="old.json")
    assert str(info.value).startswith("old.json: ")


_text = st.text(max_size=30)
_confidence = st.floats(min_value=0, max_value=1, allow_nan=False)
_question = st.builds(
    SavedQuestion,
    question=_text,
    gold=st.tuples(_text),
    returned=st.lists(st.builds(Returned, _text, _text, _confidence), max_size=3).map(tuple),
    judged=st.builds(Judged, st.booleans(), st.lists(st.booleans(), max_size=3).map(tuple), _confidence),
)


@given(
    config=st.builds(RunConfig, _text, _text, _confidence, _text),
    questions=st.lists(_question, max_size=4).map(tuple),
)
def test_any_run_round_trips(config: RunConfig, questions: tuple[SavedQuestion, ...]) -> None:
    saved = SavedRun(config, questions)
    assert runfile.loads(runfile.dumps(saved), source="x") == saved


# -- golden tests of the pure pieces ----------------------------------------------------------


@pytest.mark.parametrize(
    ("judged", "expected"),
    [
        (Judged(True, (True, False), 0.8), "right"),
        (Judged(True, (False, True), 0.8), "wrong answer"),
        (Judged(True, (True,), 0.2), "right answer withheld"),
        (Judged(True, (False, False), 0.2), "missed"),
        (Judged(True, (), 0.0), "missed"),
        (Judged(False, (False,), 0.5), "out of scope answered"),  # exactly at the threshold answers
        (Judged(False, (False,), 0.49), "abstained"),
    ],
)
def test_outcome(judged: Judged, expected: str) -> None:
    assert outcome(judged, threshold=0.5) == expected


def _run(threshold: float, *rows: tuple[str, Judged]) -> SavedRun:
    questions = tuple(SavedQuestion(q, ("g",) if j.in_scope else (), (), j) for q, j in rows)
    return SavedRun(RunConfig("kb", "q.jsonl", threshold, "0"), questions)


def test_changes_golden() -> None:
    right, wrong = Judged(True, (True,), 0.9), Judged(True, (False,), 0.9)
    low = Judged(True, (False,), 0.1)
    baseline = _run(0.5, ("a", wrong), ("b", right), ("c", right), ("dup", right), ("dup", wrong), ("gone", right))
    current = _run(0.5, ("a", right), ("b", wrong), ("c", right), ("dup", right), ("dup", low), ("new", wrong))
    assert changes(current, baseline) == [
        Change("a", "wrong answer", "right"),
        Change("b", "right", "wrong answer"),
        Change("dup", "wrong answer", "missed"),
    ]
    assert [c.verdict for c in changes(current, baseline)] == ["better", "worse", "different"]
    assert changes(current, current) == []
    assert changes(_run(0.5), baseline) == []


def test_risk_coverage_svg_golden() -> None:
    # Plot area: x 52..464, y 294..16 (480 x 340 with margins 52/16/16/46).
    series = CurveSeries(
        "run <1>",
        (
            RiskCoveragePoint(0.0, 1.0, 0.5),
            RiskCoveragePoint(0.5, 0.5, 1.0),
            RiskCoveragePoint(0.9, 0.0, 0.0),  # nothing answered: not drawn
        ),
        RiskCoveragePoint(0.5, 0.5, 1.0),
    )
    svg = risk_coverage_svg([series])
    assert '<polyline points="258.0,16.0 464.0,155.0"' in svg
    assert '<circle cx="258.0" cy="16.0"' in svg
    assert "run &lt;1&gt;" in svg and "threshold 0.50: 50% answered, 100% right" in svg


def test_reliability_svg_golden() -> None:
    bins = [ReliabilityBin(0.0, 0.5, 0, 0.0, 0.0), ReliabilityBin(0.5, 1.0, 4, 0.75, 0.5)]
    svg = reliability_svg(bins)
    assert svg.count('class="bar"') == 1  # empty bins get a count, not a bar
    assert '<rect x="260.0" y="155.0" width="202.0" height="139.0" class="bar">' in svg
    assert ">0</text>" in svg and ">4</text>" in svg
    assert "4 questions, mean confidence 0.75, 50% right" in svg
