"""course_lib.baselines: parameter formulas and budgets, causality, masking, serialization."""

import keras
import numpy as np
import pytest

from course_lib.baselines import (
    KINDS,
    CNNClassifier,
    CNNLanguageModel,
    RNNClassifier,
    RNNLanguageModel,
    build_language_model,
    count_parameters,
    layers_for_context,
    receptive_field,
    width_for_budget,
)
from course_lib.model_io import load_model

V = 23


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)


def test_parameter_formulas_by_hand():
    # LSTM: embedding V·W, 4 gates × (W·W input + W·W recurrent + W bias), head W·V + V.
    assert count_parameters("lstm", V, 8) == V * 8 + 4 * (64 + 64 + 8) + 8 * V + V
    # GRU (reset_after): 3 gates × (W·W + W·W + 2W).
    assert count_parameters("gru", V, 8) == V * 8 + 3 * (64 + 64 + 16) + 8 * V + V
    # CNN, 2 layers of kernel 3: each LayerNorm 2W + conv 3·W·W + W; final LayerNorm 2W.
    assert count_parameters("cnn", V, 8, 2) == V * 8 + 2 * (16 + 192 + 8) + 16 + 8 * V + V


@pytest.mark.parametrize("kind", KINDS)
def test_budget_is_met_and_formula_matches_the_model(kind):
    width, n = width_for_budget(kind, V, 20_000, context_length=16)
    model = build_language_model(kind, V, 20_000, context_length=16)
    assert model.count_params() == n == count_parameters(kind, V, width, context_length=16)
    assert abs(n - 20_000) / 20_000 < 0.05
    logits = model(np.zeros((2, 16), "int32"))
    assert logits.shape == (2, 16, V)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"


@pytest.mark.parametrize("kind", KINDS)
def test_language_models_are_causal(kind):
    model = build_language_model(kind, V, 10_000, context_length=12)
    ids = np.random.default_rng(0).integers(0, V, (1, 12))
    changed = ids.copy()
    changed[0, 8] = (ids[0, 8] + 1) % V
    a, b = np.asarray(model(ids)), np.asarray(model(changed))
    assert max_diff(a[:, :8], b[:, :8]) < 1e-5  # the past does not see the future
    assert max_diff(a[:, 8:], b[:, 8:]) > 1e-5  # ... and the change is visible from 8 on


def test_cnn_receptive_field_is_exact():
    assert receptive_field(3, 5) == 63 and receptive_field(2, 6) == 64
    assert layers_for_context(64, 3) == 5 and layers_for_context(8, 2) == 3
    model = CNNLanguageModel(V, 8, num_layers=2, kernel_size=2)  # sees 4 tokens
    ids = np.random.default_rng(1).integers(0, V, (1, 10))
    changed = ids.copy()
    changed[0, 2] = (ids[0, 2] + 1) % V
    diff = np.abs(np.asarray(model(ids)) - np.asarray(model(changed))).max(-1)[0]
    assert np.flatnonzero(diff > 1e-6).tolist() == [2, 3, 4, 5]  # positions 2 .. 2 + 4 - 1


def test_classifiers_ignore_padding():
    ids = np.array([[4, 5, 6, 0, 0]])
    longer = np.array([[4, 5, 6, 0, 0, 0, 0]])
    for model in (RNNClassifier(V, 3, 8), RNNClassifier(V, 3, 8, cell="gru",
                                                         bidirectional=False, num_layers=2),
                  CNNClassifier(V, 3, 8, filters=4)):
        out = model(ids)
        assert out.shape == (1, 3)
        assert max_diff(model(longer), out) < 1e-5


def test_classifier_parameter_counts():
    # Bidirectional LSTM: two directions of 4 × (W·W + W·W + W); head 2W·K + K.
    assert RNNClassifier(V, 3, 8).count_params() == V * 8 + 2 * 4 * (64 + 64 + 8) + 16 * 3 + 3
    # Kim CNN: per kernel size k, k·W·F + F; head (F · number of sizes)·K + K.
    cnn = CNNClassifier(V, 2, 8, filters=4, kernel_sizes=(2, 3))
    assert cnn.count_params() == V * 8 + (2 * 8 * 4 + 4) + (3 * 8 * 4 + 4) + 8 * 2 + 2


@pytest.mark.parametrize("make", [
    lambda: RNNLanguageModel(V, 8, 2, cell="gru", dropout=0.1),
    lambda: CNNLanguageModel(V, 8, 3, kernel_size=2),
    lambda: RNNClassifier(V, 2, 8),
    lambda: CNNClassifier(V, 2, 8, filters=4),
])
def test_models_save_and_load(tmp_path, make):
    model = make()
    ids = np.array([[3, 4, 5, 0]])
    path = tmp_path / "model.keras"
    model.save(path)
    restored = load_model(path)
    assert restored.get_config() == model.get_config()
    assert max_diff(restored(ids), model(ids)) == 0.0


def test_validation_messages():
    with pytest.raises(ValueError, match="kind must be one of"):
        count_parameters("mamba", V, 8)
    with pytest.raises(ValueError, match="cell must be 'lstm' or 'gru'"):
        RNNLanguageModel(V, 8, cell="rnn")
    with pytest.raises(ValueError, match="more than twice the budget"):
        width_for_budget("transformer", 5000, 1000)
    with pytest.raises(ValueError, match="width must be a positive int"):
        CNNLanguageModel(V, 0)
    with pytest.raises(ValueError, match="kernel_size must be at least 2"):
        layers_for_context(64, kernel_size=1)
