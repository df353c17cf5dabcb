"""Gradient-boosted decision trees, evaluated with NumPy.

The ranking and confidence models are small tree ensembles fitted offline by
``benchmarks/train_scoring.py`` with scikit-learn's
``HistGradientBoostingClassifier`` and shipped as JSON, so answering needs
neither scikit-learn nor its import time. Every tree is stored as a *perfect*
binary tree of the ensemble's depth (a leaf above the last level becomes a node
that always goes left, with copies of its value below), so a batch of rows
walks all trees at once: one gather per level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]

#: Stands in for +inf in JSON: a node with this threshold always goes left.
ALWAYS_LEFT = 3.0e38


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """A sum of perfect binary trees of depth ``depth`` plus a ``baseline``.

    ``feature`` and ``threshold`` have one row per tree and ``2**depth - 1``
    columns (internal nodes in breadth-first order: children of node ``i`` are
    ``2i+1`` and ``2i+2``); ``value`` has ``2**depth`` leaf values per tree.
    A row goes left at a node when its feature is ``<=`` the threshold.
    """

    depth: int
    baseline: float
    feature: npt.NDArray[np.int64]
    threshold: Array
    value: Array

    def __post_init__(self) -> None:
        trees = len(self.feature)
        if self.feature.shape != (trees, 2**self.depth - 1) or self.threshold.shape != self.feature.shape:
            raise ValueError("tree arrays do not match the ensemble's depth")
        if self.value.shape != (trees, 2**self.depth):
            raise ValueError("leaf values do not match the ensemble's depth")

    @classmethod
    def constant(cls, baseline: float) -> TreeEnsemble:
        """An ensemble without trees: every row scores ``baseline``."""
        return cls(1, baseline, np.zeros((0, 1), np.int64), np.zeros((0, 1), np.float32), np.zeros((0, 2), np.float32))

    @cached_property
    def inputs(self) -> int:
        """The number of input columns the ensemble reads (at least)."""
        return int(self.feature.max(initial=-1)) + 1

    @cached_property
    def _flat(self) -> tuple[npt.NDArray[np.int64], Array, npt.NDArray[np.intp], npt.NDArray[np.intp], Array]:
        """Every tree's node features, thresholds and leaves end to end, where each
        tree's nodes start there, and the offset from a tree's last-level node
        number to its leaf. Asked on every query, so worked out once."""
        trees, internal = len(self.feature), 2**self.depth - 1
        first = np.arange(trees, dtype=np.intp) * internal
        leaf = np.arange(trees, dtype=np.intp) * (internal + 1) - internal
        return self.feature.ravel(), self.threshold.ravel(), first, leaf, self.value.ravel()

    def raw(self, x: npt.NDArray[np.floating[Any]]) -> Array:
        """The ensemble's score (log-odds) for each row of ``x``."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        # Flat indexes: one gather per level for every (row, tree) pair at once.
        feature, threshold, first, leaf, value = self._flat
        row_start = (np.arange(len(x)) * x.shape[1])[:, None]
        cells = x.ravel()
        node = np.zeros((len(x), len(first)), dtype=np.intp)
        for _ in range(self.depth):
            at = first + node
            node = 2 * node + 1 + (cells[row_start + feature[at]] > threshold[at])
        out: Array = (value[leaf + node].sum(axis=1) + self.baseline).astype(np.float32)
        return out

    def scaled(self, a: float, b: float) -> TreeEnsemble:
        """The ensemble whose score is ``a * score + b`` (folds a Platt calibration in)."""
        return TreeEnsemble(self.depth, a * self.baseline + b, self.feature, self.threshold, self.value * np.float32(a))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (see :meth:`from_json`)."""
        return {
            "kind": "trees",
            "depth": self.depth,
            "baseline": float(self.baseline),
            "feature": self.feature.tolist(),
            "threshold": [[float(f"{t:.7g}") for t in row] for row in self.threshold.tolist()],
            "value": [[float(f"{v:.7g}") for v in row] for row in self.value.tolist()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TreeEnsemble:
        """Rebuild an ensemble written by :meth:`to_json`."""
        return cls(
            depth=int(data["depth"]),
            baseline=float(data["baseline"]),
            feature=np.asarray(data["feature"], dtype=np.int64).reshape(len(data["feature"]), -1),
            threshold=np.asarray(data["threshold"], dtype=np.float32).reshape(len(data["threshold"]), -1),
            value=np.asarray(data["value"], dtype=np.float32).reshape(len(data["value"]), -1),
        )


def from_hist_gradient_boosting(model: Any) -> TreeEnsemble:
    """Convert a fitted binary ``sklearn.ensemble.HistGradientBoostingClassifier``.

    Reads the fitted trees through the estimator's attributes, so this module
    never imports scikit-learn. The model must have been fitted without
    missing values or categorical features.
    """
    predictors = [iteration[0] for iteration in model._predictors]
    depth = max(int(p.nodes["depth"].max()) for p in predictors) if predictors else 1
    depth = max(depth, 1)
    internal, leaves = 2**depth - 1, 2**depth
    feature = np.zeros((len(predictors), internal), dtype=np.int64)
    threshold = np.full((len(predictors), internal), ALWAYS_LEFT, dtype=np.float32)
    value = np.zeros((len(predictors), leaves), dtype=np.float32)
    for t, predictor in enumerate(predictors):
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")

        def place(source: int, slot: int, level: int, nodes: Any = nodes, t: int = t) -> None:
            node = nodes[source]
            if level == depth:
                value[t, slot - internal] = node["value"]
                return
            if node["is_leaf"]:  # always left; both subtrees carry the leaf's value
                place(source, 2 * slot + 1, level + 1)
                place(source, 2 * slot + 2, level + 1)
                return
            feature[t, slot] = node["feature_idx"]
            threshold[t, slot] = node["num_threshold"]
            place(int(node["left"]), 2 * slot + 1, level + 1)
            place(int(node["right"]), 2 * slot + 2, level + 1)

        place(0, 0, 0)
    baseline = float(np.ravel(model._baseline_prediction)[0])
    return TreeEnsemble(depth, baseline, feature, threshold, value)
