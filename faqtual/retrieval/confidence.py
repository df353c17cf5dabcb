"""Ranking and calibrated confidence from the per-entry features.

Two small gradient-boosted tree ensembles (see :mod:`faqtual.retrieval.trees`)
do the work. The *ranker* scores each candidate entry from its features, their
distance to the best candidate's and its rank on each one (a candidate that
wins on question similarity but trails far on BM25 is judged in that light),
fitted on labeled questions to tell the right entry from the others. The
*confidence* model maps the top candidate's features, its ranker score and its
margin over the best *other* entry to the probability that it is right, fitted
on the same questions with out-of-scope questions counting as wrong answers and
then Platt-scaled (Platt 1999) on held-out folds. So a confidence of 0.8 means:
on questions like the labeled ones, such an answer was right about 80 % of the
time. Large KBs, with far fewer labeled questions, use linear models in both roles
(:mod:`faqtual.retrieval.linear`). The fitted models ship in
``faqtual/data/scoring.json`` and are rebuilt with
``python benchmarks/train_scoring.py``.
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
from faqtual.retrieval.linear import LinearModel
from faqtual.retrieval.trees import TreeEnsemble

Array = npt.NDArray[np.float32]
#: A fitted score over rows of inputs: trees for small KBs, linear for large ones.
Scorer = TreeEnsemble | LinearModel

#: Columns the ranker reads per candidate: the features, each minus the best
#: candidate's value, and the candidate's rank (0 = best) on each feature.
RANK_INPUTS = (
    *FEATURES,
    *(f"{name}_gap" for name in FEATURES),
    *(f"{name}_rank" for name in FEATURES),
)
#: Columns the confidence model reads for a candidate.
CONFIDENCE_INPUTS = (*FEATURES, "rank_score", "margin")
#: A lone candidate (a KB of one entry) has no runner-up; its margin is measured
#: against a candidate at even odds (ranker score 0), so it must earn it.
LONE_RUNNER_UP = 0.0


#: The ranker learned from KBs of 13 entries and more. A smaller candidate set is
#: padded with empty candidates (no similarity, no shared words) before gaps and
#: ranks are taken, so that "best of two" does not pass for "best of thirteen":
#: in a KB of one entry, that entry would otherwise rank first on everything.
MIN_CANDIDATES = 13
#: Columns that describe the question, not the entry: the same for every candidate.
_QUERY_COLUMNS = [FEATURES.index("kb_coverage"), FEATURES.index("query_length")]


def rank_inputs(features: Array) -> Array:
    """The ranker's input rows for candidates whose features are ``features`` (one row each)."""
    features = np.asarray(features, dtype=np.float32)
    n = len(features)
    pool = features
    if 0 < n < MIN_CANDIDATES:
        empty = np.zeros((MIN_CANDIDATES - n, features.shape[1]), dtype=np.float32)
        empty[:, _QUERY_COLUMNS] = features[0, _QUERY_COLUMNS]
        pool = np.vstack([features, empty])
    gaps = features - pool.max(axis=0, initial=-np.inf) if n else features
    ranks = np.argsort(np.argsort(-pool, axis=0, kind="stable"), axis=0, kind="stable")[:n]
    return np.hstack([features, gaps, ranks.astype(np.float32)])


def confidence_inputs(features: Array, scores: Array, order: npt.NDArray[np.int64]) -> Array:
    """Confidence-model rows for the candidates in ``order`` (best first), given ranker ``scores``."""
    top = scores[order]
    if len(top) > 1:
        best_other = np.where(np.arange(len(order)) == 0, top[1], top[0])
    else:
        best_other = np.full_like(top, LONE_RUNNER_UP)
    out = np.empty((len(order), features.shape[1] + 2), dtype=np.float32)
    out[:, :-2] = features[order]
    out[:, -2] = top
    out[:, -1] = top - best_other
    return out


@dataclass(frozen=True, eq=False)
class Ranked:
    """Candidates best first: positions in the feature rows, confidences, ranker scores (log-odds)."""

    order: npt.NDArray[np.int64]
    confidence: Array
    score: Array

    def near_ties(self) -> list[int]:
        """Positions in :attr:`order` (after the first) that the ranker finds about as likely right as the best.

        The ranker judges each candidate on its own, so two entries that answer
        alike (two "how long does it last" entries) can both score high; the
        capped confidences cannot show that, the scores can.
        """
        if not len(self.score):
            return []
        best = float(self.score[0])
        return [
            i
            for i in range(1, len(self.score))
            if self.score[i] >= NEAR_TIE_SCORE and best - self.score[i] <= NEAR_TIE_GAP
        ]


#: A near tie: a ranker score of at least this (even odds of being right) ...
NEAR_TIE_SCORE = 0.0
#: ... and within this many log-odds of the best candidate's.
NEAR_TIE_GAP = 2.5


@dataclass(frozen=True)
class ScoringModel:
    """The ranker, the calibrated confidence model and the default abstention threshold.

    ``large`` optionally holds a second model for large KBs, whose index has
    other units (see :data:`faqtual.retrieval.index.LARGE_KB`), so the same
    feature means something else there; :meth:`for_size` picks one.
    """

    ranker: Scorer
    confidence: Scorer
    default_threshold: float
    large: ScoringModel | None = None

    def __post_init__(self) -> None:
        if self.ranker.inputs > len(RANK_INPUTS) or self.confidence.inputs > len(CONFIDENCE_INPUTS):
            raise ModelError(_MISMATCH)

    @classmethod
    def packaged(cls) -> ScoringModel:
        """The model shipped in ``faqtual/data/scoring.json``."""
        resource = importlib.resources.files("faqtual") / "data" / "scoring.json"
        return cls.from_file_text(resource.read_text(encoding="utf-8"))

    @classmethod
    def from_file_text(cls, text: str) -> ScoringModel:
        """A model from the text of a file written by ``benchmarks/train_scoring.py``."""
        data = json.loads(text)
        if data.get("features") != list(FEATURES):
            raise ModelError(_MISMATCH)
        large = cls.from_json(data["large"]) if "large" in data else None
        return replace(cls.from_json(data["small"]), large=large)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoringModel:
        """A model from its JSON form (see :meth:`to_json`)."""
        try:
            return cls(
                ranker=scorer_from_json(data["ranker"]),
                confidence=scorer_from_json(data["confidence"]),
                default_threshold=float(data["default_threshold"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(_MISMATCH) from exc

    def to_json(self) -> dict[str, Any]:
        """The JSON form of this model (without ``large``)."""
        return {
            "ranker": self.ranker.to_json(),
            "confidence": self.confidence.to_json(),
            "default_threshold": round(self.default_threshold, 4),
        }

    def for_size(self, entries: int) -> ScoringModel:
        """The model for a KB of ``entries`` entries."""
        return self.large if self.large is not None and entries > LARGE_KB else self

    def scores(self, features: Array) -> Array:
        """Ranker score (log-odds of being the right entry) per candidate row of ``features``."""
        if self.ranker.inputs <= len(FEATURES):  # reads no gaps or ranks: skip computing them
            return self.ranker.raw(features)
        return self.ranker.raw(rank_inputs(features))

    def rank(self, features: Array, *, depth: int) -> Ranked:
        """The best ``depth`` candidates by ranker score, with their scores and confidences.

        The confidence model is fitted for the top answer, so a candidate's
        confidence is capped by the confidence of every candidate above it: the
        list a user sees always goes from surest to least sure.
        """
        if not len(features):
            empty = np.zeros(0, dtype=np.float32)
            return Ranked(np.zeros(0, dtype=np.int64), empty, empty)
        scores = self.scores(features)
        order = np.argsort(-scores, kind="stable")[:depth]
        confidences = self.probability(confidence_inputs(features, scores, order))
        return Ranked(order, np.minimum.accumulate(confidences).astype(np.float32), scores[order])

    def probability(self, inputs: Array) -> Array:
        """Probability that each candidate (a row of confidence inputs) is a right answer."""
        z = self.confidence.raw(inputs)
        out: Array = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return out


def scorer_from_json(data: dict[str, Any]) -> Scorer:
    """A ranker or confidence model from its JSON form (``kind`` says which)."""
    kinds: dict[str, type[TreeEnsemble] | type[LinearModel]] = {"trees": TreeEnsemble, "linear": LinearModel}
    return kinds[data["kind"]].from_json(data)


_MISMATCH = (
    "the packaged scoring model does not match this faqtual's features; rebuild it with "
    "'python benchmarks/train_scoring.py --write'"
)
