"""The ranker and confidence models: tree export, JSON round trips and the ranked list."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from faqtual.errors import ModelError
from faqtual.retrieval.confidence import RANK_INPUTS, ScoringModel, rank_inputs, scorer_from_json
from faqtual.retrieval.index import FEATURES
from faqtual.retrieval.linear import LinearModel
from faqtual.retrieval.trees import TreeEnsemble, from_hist_gradient_boosting


@pytest.mark.parametrize("depth", [1, 2, 3, 6])
def test_exported_trees_score_exactly_like_scikit_learn(depth: int) -> None:
    rng = np.random.default_rng(depth)
    x = rng.normal(size=(3000, 6))
    y = x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(size=3000) > 0
    # A large min_samples_leaf leaves some leaves above the last level (unbalanced trees);
    # depth 6 is the shipped small-KB ranker's.
    fitted = HistGradientBoostingClassifier(max_depth=depth, max_iter=60, min_samples_leaf=300, random_state=0)
    fitted.fit(x, y)
    trees = from_hist_gradient_boosting(fitted)
    probe = rng.normal(size=(400, 6)) * 2
    assert np.allclose(trees.raw(probe), fitted.decision_function(probe), atol=1e-5)
    again = scorer_from_json(json.loads(json.dumps(trees.to_json())))
    assert np.allclose(again.raw(probe), trees.raw(probe), atol=1e-5)


def test_scaling_folds_a_calibration_into_the_score() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    fitted = HistGradientBoostingClassifier(max_depth=2, max_iter=20, random_state=0).fit(x, x[:, 0] > 0)
    trees = from_hist_gradient_boosting(fitted)
    assert np.allclose(trees.scaled(2.0, -1.0).raw(x), 2.0 * trees.raw(x) - 1.0, atol=1e-5)
    linear = LinearModel(np.array([1.0, -2.0, 0.5], dtype=np.float32), 0.25)
    assert np.allclose(linear.scaled(3.0, 1.0).raw(x), 3.0 * linear.raw(x) + 1.0, atol=1e-5)
    assert np.allclose(scorer_from_json(json.loads(json.dumps(linear.to_json()))).raw(x), linear.raw(x))


def test_a_tree_ensemble_with_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="depth"):
        TreeEnsemble(2, 0.0, np.zeros((1, 2), np.int64), np.zeros((1, 2), np.float32), np.zeros((1, 4), np.float32))


def test_rank_inputs_hold_features_gaps_to_the_best_and_ranks() -> None:
    features = np.array([[0.2, 0.9], [0.5, 0.1], [0.4, 0.3]], dtype=np.float32)
    rows = rank_inputs(np.hstack([features, np.zeros((3, len(FEATURES) - 2), np.float32)]))
    n = len(FEATURES)
    assert rows.shape == (3, len(RANK_INPUTS))
    assert np.allclose(rows[:, n], [-0.3, 0.0, -0.1])  # first feature minus its best
    assert rows[:, 2 * n].tolist() == [2.0, 0.0, 1.0]  # rank on the first feature
    assert rows[:, 2 * n + 1].tolist() == [0.0, 2.0, 1.0]


def _model() -> ScoringModel:
    # Rank by the first feature; confidence = the rank score itself, as log-odds.
    n = len(FEATURES)
    ranker = LinearModel(np.eye(len(RANK_INPUTS), dtype=np.float32)[0] * 4, 0.0)
    confidence = LinearModel(np.eye(n + 2, dtype=np.float32)[n], 0.0)
    return ScoringModel(ranker, confidence, 0.5)


def test_ranked_list_follows_the_ranker_and_confidences_never_rise() -> None:
    features = np.zeros((4, len(FEATURES)), dtype=np.float32)
    features[:, 0] = [0.1, 0.9, 0.5, 0.7]
    ranked = _model().rank(features, depth=3)
    assert ranked.order.tolist() == [1, 3, 2]
    assert ranked.score.tolist() == pytest.approx([3.6, 2.8, 2.0])
    assert ranked.confidence[0] == pytest.approx(1 / (1 + np.exp(-3.6)), rel=1e-5)
    assert all(a >= b for a, b in zip(ranked.confidence, ranked.confidence[1:], strict=False))


def test_near_ties_are_runners_up_the_ranker_also_finds_likely() -> None:
    features = np.zeros((4, len(FEATURES)), dtype=np.float32)
    features[:, 0] = [0.9, 0.5, 0.3, -0.2]  # scores 3.6, 2.0, 1.2, -0.8
    assert _model().rank(features, depth=4).near_ties() == [1, 2]  # within 2.5 of 3.6; -0.8 is below even odds
    features[:, 0] = [0.9, 0.8, 0.1, 0.0]
    assert _model().rank(features, depth=4).near_ties() == [1]  # 0.4 and 0.0 are over 2.5 behind


def test_a_lone_candidate_and_no_candidates_are_ranked() -> None:
    lone = np.zeros((1, len(FEATURES)), dtype=np.float32)
    ranked = _model().rank(lone, depth=3)
    assert ranked.order.tolist() == [0] and len(ranked.confidence) == 1 and ranked.near_ties() == []
    ranked = _model().rank(np.zeros((0, len(FEATURES)), np.float32), depth=3)
    assert len(ranked.order) == 0 and len(ranked.confidence) == 0 and ranked.near_ties() == []


def test_the_packaged_model_matches_the_features() -> None:
    model = ScoringModel.packaged()
    assert 0.0 < model.default_threshold < 1.0
    assert model.large is not None and model.for_size(10**6) is model.large


def test_a_model_for_other_features_is_refused_with_the_fix() -> None:
    with pytest.raises(ModelError, match="train_scoring.py"):
        ScoringModel.from_json({"ranker": {"kind": "linear"}, "confidence": {}, "default_threshold": 0.5})
    too_wide = LinearModel(np.zeros(len(RANK_INPUTS) + 1, np.float32), 0.0)
    with pytest.raises(ModelError, match="train_scoring.py"):
        ScoringModel(too_wide, too_wide, 0.5)


def test_a_small_candidate_set_is_ranked_against_empty_candidates() -> None:
    n = len(FEATURES)
    lone = np.zeros((1, n), dtype=np.float32)
    lone[0, 0] = -0.02  # a question that resembles nothing
    lone[0, 1] = 0.7
    rows = rank_inputs(lone)
    assert rows[0, n] == pytest.approx(-0.02)  # 0.02 below an empty candidate, not "the best"
    assert rows[0, 2 * n] == 12.0  # last of 13, behind every empty candidate on that feature
    assert rows[0, 2 * n + 1] == 0.0 and rows[0, n + 1] == 0.0  # and first where it beats them
    # From 13 candidates up (the KBs the ranker learned from) nothing is padded.
    many = np.random.default_rng(0).random((13, n)).astype(np.float32) - 0.5
    assert np.allclose(rank_inputs(many)[:, n : 2 * n], many - many.max(axis=0))
