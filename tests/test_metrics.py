"""Golden tests of the evaluation metrics on a hand-checked 4-question example.

The example (confidence is the top answer's):

    q1  in scope      right at rank 1   confidence 0.9
    q2  in scope      right at rank 2   confidence 0.6
    q3  in scope      right at rank 6   confidence 0.3
    q4  out of scope  (no right answer)  confidence 0.2

At threshold 0.5 q1 and q2 are answered (only q1 rightly) and q3, q4 abstained on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faqtual.errors import IngestError
from faqtual.eval.harness import is_right, load_questions
from faqtual.eval.metrics import (
    Judged,
    Metrics,
    RiskCoveragePoint,
    expected_calibration_error,
    pick_threshold,
    reciprocal_rank,
    reliability,
    risk_coverage,
    summarise,
)
from faqtual.models import Answer

F, T = False, True
EXAMPLE = [
    Judged(in_scope=True, hits=(T, F, F), confidence=0.9),
    Judged(in_scope=True, hits=(F, T, F), confidence=0.6),
    Judged(in_scope=True, hits=(F, F, F, F, F, T), confidence=0.3),
    Judged(in_scope=False, hits=(F, F), confidence=0.2),
]


def test_summarise_golden() -> None:
    m = summarise(EXAMPLE, threshold=0.5)
    assert m == Metrics(
        questions=4,
        in_scope=3,
        out_of_scope=1,
        top1=pytest.approx(1 / 3),
        mrr5=pytest.approx((1 + 1 / 2 + 0) / 3),
        mrr10=pytest.approx((1 + 1 / 2 + 1 / 6) / 3),
        precision_answered=pytest.approx(1 / 2),
        coverage=pytest.approx(2 / 3),
        abstention_accuracy=1.0,
        handled=pytest.approx(2 / 4),
        threshold=0.5,
    )


def test_summarise_answering_everything() -> None:
    m = summarise(EXAMPLE, threshold=0.0)
    assert (m.precision_answered, m.coverage, m.abstention_accuracy, m.handled) == (0.25, 1.0, 0.0, 0.25)
    # top-1 and MRR do not depend on the threshold
    assert (m.top1, m.mrr5) == pytest.approx((1 / 3, 0.5))


def test_reciprocal_rank() -> None:
    assert reciprocal_rank((F, F, T), k=5) == pytest.approx(1 / 3)
    assert reciprocal_rank((F, F, T), k=2) == 0.0
    assert reciprocal_rank((), k=5) == 0.0


@pytest.mark.parametrize(("precision", "expected"), [(1.0, 0.9), (0.6, 0.9), (0.5, 0.6), (0.3, 0.3), (0.25, 0.2)])
def test_pick_threshold_golden(precision: float, expected: float) -> None:
    assert pick_threshold(EXAMPLE, precision=precision) == expected


def test_pick_threshold_none_when_the_surest_answer_is_wrong() -> None:
    wrong_first = [Judged(True, (F, T), 0.95), *EXAMPLE]
    assert pick_threshold(wrong_first, precision=0.9) is None


def test_risk_coverage_golden() -> None:
    assert risk_coverage(EXAMPLE, thresholds=[0.0, 0.5, 1.0]) == [
        RiskCoveragePoint(0.0, 1.0, 0.25),
        RiskCoveragePoint(0.5, 0.5, 0.5),
        RiskCoveragePoint(1.0, 0.0, 0.0),
    ]


def test_reliability_golden() -> None:
    table = reliability(EXAMPLE, bins=10)
    assert [b.count for b in table] == [0, 0, 1, 1, 0, 0, 1, 0, 0, 1]
    top = table[9]
    assert (top.low, top.high, top.mean_confidence, top.accuracy) == pytest.approx((0.9, 1.0, 0.9, 1.0))
    assert table[6].accuracy == 0.0
    assert expected_calibration_error(EXAMPLE) == pytest.approx((0.1 + 0.6 + 0.3 + 0.2) / 4)


def test_confidence_one_lands_in_the_last_bin() -> None:
    table = reliability([Judged(True, (T,), 1.0)], bins=4)
    assert [b.count for b in table] == [0, 0, 0, 1]


def test_empty_input_gives_zeros_not_a_crash() -> None:
    m = summarise([], threshold=0.5)
    assert (
        m.questions,
        m.top1,
        m.mrr5,
        m.precision_answered,
        m.coverage,
        m.abstention_accuracy,
        m.handled,
    ) == (
        0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
    )
    assert pick_threshold([], precision=0.95) is None
    assert risk_coverage([], thresholds=[0.5]) == [RiskCoveragePoint(0.5, 0.0, 0.0)]
    assert sum(b.count for b in reliability([])) == 0
    assert expected_calibration_error([]) == 0.0


judged_lists = st.lists(
    st.builds(
        Judged,
        in_scope=st.booleans(),
        hits=st.lists(st.booleans(), max_size=12).map(tuple),
        confidence=st.floats(0.0, 1.0),
    ),
    max_size=30,
)


@given(judged_lists, st.floats(0.0, 1.0))
def test_rates_stay_in_unit_interval(judged: list[Judged], threshold: float) -> None:
    m = summarise(judged, threshold=threshold)
    for rate in (m.top1, m.mrr5, m.mrr10, m.precision_answered, m.coverage, m.abstention_accuracy, m.handled):
        assert 0.0 <= rate <= 1.0
    assert m.mrr5 <= m.mrr10 + 1e-12
    assert m.in_scope + m.out_of_scope == m.questions


@given(judged_lists, st.integers(1, 20))
def test_reliability_bins_sum_to_count(judged: list[Judged], bins: int) -> None:
    table = reliability(judged, bins=bins)
    assert len(table) == bins
    assert sum(b.count for b in table) == len(judged)
    assert 0.0 <= expected_calibration_error(judged, bins=bins) <= 1.0


@given(judged_lists, st.sampled_from([0.5, 0.8, 0.95, 1.0]))
def test_picked_threshold_meets_the_target(judged: list[Judged], precision: float) -> None:
    chosen = pick_threshold(judged, precision=precision)
    if chosen is not None:
        assert summarise(judged, threshold=chosen).precision_answered >= precision


# -- harness helpers -------------------------------------------------------------


def _answer(entry_id: str, question: str, *alternates: str) -> Answer:
    return Answer(entry_id, question, alternates, "An answer.", 0.5, None)


def test_is_right_by_id_question_or_alternate() -> None:
    answer = _answer("botox-duration", "How long does Botox last?", "When does Botox wear off?")
    assert is_right(answer, ["botox-duration"])
    assert is_right(answer, ["how long does botox last"])
    assert is_right(answer, ["When does Botox wear off?"])
    assert not is_right(answer, ["What is synkinesis?"])
    assert not is_right(answer, [])


def test_load_questions(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"q": "what is it", "gold": ["a"]}\n\n{"question": "weather?", "gold": []}\n', encoding="utf-8")
    loaded = load_questions(path)
    assert [(q.question, q.gold, q.line) for q in loaded] == [("what is it", ("a",), 1), ("weather?", (), 3)]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"q": "ok", "gold": []}\n{"q": "broken"\n', "q.jsonl:2"),
        ('{"q": "no gold"}\n', "q.jsonl:1"),
        ('{"q": "x", "gold": "not a list"}\n', "q.jsonl:1"),
        ("\n\n", "no labeled questions"),
    ],
)
def test_load_questions_errors_name_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IngestError, match=where):
        load_questions(path)


def test_load_questions_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_bytes(b'{"q": "caf\xe9", "gold": []}\n')
    with pytest.raises(IngestError, match="q.jsonl"):
        load_questions(path)
