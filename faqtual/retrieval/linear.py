"""A linear score, the light alternative to :class:`~faqtual.retrieval.trees.TreeEnsemble`.

Large KBs have far fewer labeled questions than there are tree parameters, so
their ranker and confidence model are linear: a weighted sum of the inputs plus
a bias (for the confidence model, the log-odds of a logistic regression).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class LinearModel:
    """``x @ weights + bias`` for each row ``x``; inputs past ``len(weights)`` are ignored."""

    weights: Array
    bias: float

    @property
    def inputs(self) -> int:
        """The number of input columns the model reads."""
        return len(self.weights)

    def raw(self, x: npt.NDArray[np.floating[Any]]) -> Array:
        """The score of each row of ``x``."""
        x = np.asarray(x, dtype=np.float32)[:, : len(self.weights)]
        out: Array = (x @ self.weights + np.float32(self.bias)).astype(np.float32)
        return out

    def scaled(self, a: float, b: float) -> LinearModel:
        """The model whose score is ``a * score + b``."""
        return LinearModel((self.weights * np.float32(a)).astype(np.float32), a * self.bias + b)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (see :meth:`from_json`)."""
        return {"kind": "linear", "weights": [float(f"{w:.7g}") for w in self.weights.tolist()], "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        """Rebuild a model written by :meth:`to_json`."""
        return cls(np.asarray(data["weights"], dtype=np.float32).reshape(-1), float(data["bias"]))
