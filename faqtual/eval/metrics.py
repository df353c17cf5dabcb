"""Pure metrics over judged rankings. No I/O; golden-tested.

A *judgement* is one question's ranked candidates as booleans (is the
candidate at rank r right?), the top candidate's confidence, and whether the
question has any right answer at all (an out-of-scope question has none and
should be abstained on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Judged:
    """One labeled question after retrieval."""

    in_scope: bool
    hits: tuple[bool, ...]
    confidence: float


@dataclass(frozen=True)
class Metrics:
    """Headline numbers of an evaluation at one threshold. Rates are in [0, 1]."""

    questions: int
    in_scope: int
    out_of_scope: int
    top1: float
    mrr5: float
    mrr10: float
    precision_answered: float
    coverage: float
    abstention_accuracy: float
    handled: float
    threshold: float


def reciprocal_rank(hits: Sequence[bool], *, k: int) -> float:
    """1/rank of the first right candidate within the top ``k``, else 0."""
    for rank, hit in enumerate(hits[:k], 1):
        if hit:
            return 1.0 / rank
    return 0.0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def summarise(judged: Sequence[Judged], *, threshold: float) -> Metrics:
    """Metrics of ``judged`` when answers below ``threshold`` are withheld.

    ``top1`` and ``mrr`` count in-scope questions only. ``precision_answered``
    is the share of answered questions whose answer was right; ``coverage`` the
    share of in-scope questions answered; ``abstention_accuracy`` the share of
    out-of-scope questions abstained on; ``handled`` the share of all questions
    handled right (right answer given, or no answer when there is none).
    """
    inside = [j for j in judged if j.in_scope]
    outside = [j for j in judged if not j.in_scope]
    answered = [j for j in judged if j.confidence >= threshold]
    right_answered = sum(1 for j in answered if j.in_scope and j.hits and j.hits[0])
    handled = right_answered + sum(1 for j in outside if j.confidence < threshold)
    return Metrics(
        questions=len(judged),
        in_scope=len(inside),
        out_of_scope=len(outside),
        top1=_mean([1.0 if j.hits and j.hits[0] else 0.0 for j in inside]),
        mrr5=_mean([reciprocal_rank(j.hits, k=5) for j in inside]),
        mrr10=_mean([reciprocal_rank(j.hits, k=10) for j in inside]),
        precision_answered=_ratio(right_answered, len(answered)),
        coverage=_ratio(sum(1 for j in inside if j.confidence >= threshold), len(inside)),
        abstention_accuracy=_ratio(sum(1 for j in outside if j.confidence < threshold), len(outside)),
        handled=_ratio(handled, len(judged)),
        threshold=threshold,
    )


@dataclass(frozen=True)
class RiskCoveragePoint:
    """Answering only at confidence >= threshold: how many are answered, how many wrong."""

    threshold: float
    answered: float
    precision: float


def risk_coverage(judged: Sequence[Judged], *, thresholds: Sequence[float]) -> list[RiskCoveragePoint]:
    """Share of all questions answered and precision on those, per threshold."""
    points = []
    for t in thresholds:
        answered = [j for j in judged if j.confidence >= t]
        right = sum(1 for j in answered if j.in_scope and j.hits and j.hits[0])
        points.append(RiskCoveragePoint(t, _ratio(len(answered), len(judged)), _ratio(right, len(answered))))
    return points


def pick_threshold(judged: Sequence[Judged], *, precision: float, min_answered: int = 1) -> float | None:
    """The lowest threshold whose answered questions are right at least ``precision`` of the time.

    Every higher threshold that answers at least ``min_answered`` questions must
    meet the target too, so one lucky point does not decide; a larger
    ``min_answered`` keeps the few surest answers from vetoing on their own.
    ``None`` when no threshold reaches the target.
    """
    candidates = sorted({j.confidence for j in judged})
    best: float | None = None
    for t in reversed(candidates):
        answered = [j for j in judged if j.confidence >= t]
        right = sum(1 for j in answered if j.in_scope and j.hits and j.hits[0])
        if right / len(answered) >= precision:
            best = t
        elif len(answered) >= min_answered:
            break
    return best


@dataclass(frozen=True)
class ReliabilityBin:
    """Questions whose confidence fell in [low, high): mean confidence vs accuracy."""

    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


def reliability(judged: Sequence[Judged], *, bins: int = 10) -> list[ReliabilityBin]:
    """Calibration table of the top answers' confidence against their accuracy."""
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [j for j in judged if low <= j.confidence < high or (b == bins - 1 and j.confidence == 1.0)]
        correct = [1.0 if (j.in_scope and j.hits and j.hits[0]) else 0.0 for j in inside]
        out.append(ReliabilityBin(low, high, len(inside), _mean([j.confidence for j in inside]), _mean(correct)))
    return out


def expected_calibration_error(judged: Sequence[Judged], *, bins: int = 10) -> float:
    """Count-weighted mean gap between confidence and accuracy over the bins."""
    table = reliability(judged, bins=bins)
    total = sum(b.count for b in table)
    return sum(b.count * abs(b.mean_confidence - b.accuracy) for b in table) / total if total else 0.0
