"""Fusion of the per-entry features into a rank score and a calibrated confidence.

Ranking is a weighted sum of the features (a linear fusion of dense and BM25
evidence; weights tuned on the labeled development sets). Confidence is a
logistic model (Platt scaling, Platt 1999) over the candidate's features and
its margin over the best *other* entry, fitted on labeled
questions where out-of-scope questions count as wrong answers. So a confidence
of 0.8 means: on questions like the labeled ones, such an answer was right
about 80 % of the time. The fitted numbers ship in ``faqtual/data/scoring.json``
and are rebuilt with ``python benchmarks/train_scoring.py``.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from faqtual.errors import ModelError
from faqtual.retrieval.index import FEATURES, LARGE_KB

Array = npt.NDArray[np.float32]

# The fused score itself is left out: it is a linear mix of the features (collinear).
CONFIDENCE_INPUTS = (*FEATURES, "margin")


@dataclass(frozen=True)
class ScoringModel:
    """Rank weights (one per feature) and the logistic confidence model.

    ``large`` optionally holds a second model for large KBs, whose index has
    other units (see :data:`faqtual.retrieval.index.LARGE_KB`), so the same
    feature means something else there; :meth:`for_size` picks one.
    """

    rank_weights: tuple[float, ...]
    conf_weights: tuple[float, ...]
    conf_bias: float
    default_threshold: float
    large: ScoringModel | None = None

    def __post_init__(self) -> None:
        if len(self.rank_weights) != len(FEATURES) or len(self.conf_weights) != len(CONFIDENCE_INPUTS):
            raise ModelError(
                "scoring model does not match this faqtual's features; rebuild it with "
                "'python benchmarks/train_scoring.py'"
            )

    @classmethod
    def packaged(cls) -> ScoringModel:
        """The model shipped in ``faqtual/data/scoring.json``."""
        resource = importlib.resources.files("faqtual") / "data" / "scoring.json"
        data = json.loads(resource.read_text(encoding="utf-8"))
        large = cls.from_json(data["large"]) if "large" in data else None
        return replace(cls.from_json(data["small"]), large=large)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoringModel:
        """A model from its JSON form (see :meth:`to_json`)."""
        return cls(
            rank_weights=tuple(data["rank_weights"]),
            conf_weights=tuple(data["conf_weights"]),
            conf_bias=float(data["conf_bias"]),
            default_threshold=float(data["default_threshold"]),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form of this model (without ``large``)."""
        return {
            "rank_weights": [round(x, 5) for x in self.rank_weights],
            "conf_weights": [round(x, 5) for x in self.conf_weights],
            "conf_bias": round(self.conf_bias, 5),
            "default_threshold": round(self.default_threshold, 4),
        }

    def for_size(self, entries: int) -> ScoringModel:
        """The model for a KB of ``entries`` entries."""
        return self.large if self.large is not None and entries > LARGE_KB else self

    def fused(self, features: Array) -> Array:
        """Rank score per entry: the weighted sum of its features."""
        return (features @ np.asarray(self.rank_weights, dtype=np.float32)).astype(np.float32)

    def confidence_inputs(self, features: Array, fused: Array, order: npt.NDArray[np.int64]) -> Array:
        """Inputs of the confidence model for the entries in ``order`` (best first)."""
        top = fused[order]
        best_other = np.where(np.arange(len(order)) == 0, top[1] if len(top) > 1 else 0.0, top[0])
        margin = top - best_other
        return np.column_stack([features[order], margin]).astype(np.float32)

    def rank(self, features: Array, *, depth: int) -> tuple[npt.NDArray[np.int64], Array]:
        """The best ``depth`` entries by fused score and their confidences.

        The fused score ranks better than the confidence model (which is fitted
        for the top answer), so the order is the fused one, and a candidate's
        confidence is capped by the confidence of every candidate above it: the
        list a user sees always goes from surest to least sure.
        """
        fused = self.fused(features)
        order = np.argsort(-fused, kind="stable")[:depth]
        confidences = self.confidence(self.confidence_inputs(features, fused, order))
        return order, np.minimum.accumulate(confidences).astype(np.float32)

    def confidence(self, inputs: Array) -> Array:
        """Probability that each candidate is a right answer."""
        z = inputs @ np.asarray(self.conf_weights, dtype=np.float32) + self.conf_bias
        out: Array = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return out


def fit_logistic(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], *, l2: float = 1e-2, iterations: int = 100
) -> tuple[npt.NDArray[np.float64], float]:
    """L2-regularised logistic regression by Newton's method (IRLS).

    Returns:
        The weights and the bias.
    """
    n, d = x.shape
    xb = np.column_stack([x, np.ones(n)])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + reg * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])
