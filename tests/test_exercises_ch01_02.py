"""The exercise checks accept the right answer and explain the usual wrong ones."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from course_lib.exercises import ch01, ch02

# One name for the checks of these chapters, as the tests were written before the split.
ex = SimpleNamespace(**{**vars(ch01), **vars(ch02)})


def _run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


@pytest.mark.parametrize(
    ("check", "right", "wrong", "hint"),
    [
        (ex.check_mlp_params, 203_530, 784 * 256 + 256 * 10, "bias"),
        (ex.check_neuron_gradient, -0.75508, 0.75508, "sign"),
        (ex.check_neuron_gradient, -0.75508, -0.37754, "chain rule"),
        (ex.check_gpt2_params, 124_439_808, 124_439_808 + 50257 * 768, "tied"),
        (ex.check_gpt2_params, 124_439_808, 124_000_000, "within 2%"),
        (ex.check_idf, math.log(5 / 3) + 1, math.log(2) + 1, "unsmoothed"),
        (ex.check_idf, math.log(5 / 3) + 1, math.log(5 / 3), "+ 1"),
        (ex.check_glove_weight, 0.25**0.75, 0.25, "exponent"),
        (ex.check_glove_weight, 0.25**0.75, 1.0, "capped"),
        (ex.check_skipgram_pairs, 18, 9, "both directions"),
        (ex.check_analogy, "Italy", "rome", "question words"),
        (ex.check_analogy, "italy", "spain", "country"),
    ],
)
def test_right_and_wrong_answers(check, right, wrong, hint, capsys):
    ok, out = _run(check, right, capsys)
    assert ok is True and out.startswith("✅ Correct")
    ok, out = _run(check, wrong, capsys)
    assert ok is False and out.startswith("❌ Not yet") and hint in out


@pytest.mark.parametrize(
    "check",
    [
        ex.check_mlp_params,
        ex.check_neuron_gradient,
        ex.check_gpt2_params,
        ex.check_idf,
        ex.check_glove_weight,
        ex.check_skipgram_pairs,
        ex.check_analogy,
    ],
)
def test_unfilled_starter_is_not_accepted(check, capsys):
    ok, out = _run(check, None, capsys)
    assert ok is False and "Hint" in out


def test_neuron_gradient_matches_a_finite_difference():
    x, w, b = ex.NEURON["x"], ex.NEURON["w"], ex.NEURON["b"]

    def loss(w_):
        return -math.log(1 / (1 + math.exp(-(w_ * x + b))))

    eps = 1e-6
    numeric = (loss(w + eps) - loss(w - eps)) / (2 * eps)
    assert ex.neuron_gradient() == pytest.approx(numeric, abs=1e-6)
    assert round(ex.neuron_gradient(), 4) == -0.7551


# ------------------------------------------------------------------------------------------
# course_lib.chapters.ch01_foundations, which the chapter-01 exercises and their checks build on


def test_hand_gradients_match_finite_differences():
    import numpy as np

    from course_lib.chapters import ch01_foundations as nb
    rng = np.random.default_rng(0)
    params = nb.init_two_layer(4, 5, 3, seed=1)
    X, y = rng.normal(size=(7, 4)), rng.integers(0, 3, size=7)
    hand = nb.two_layer_gradients(params, X, y)
    numeric = nb.finite_difference_gradients(lambda p: nb.two_layer_loss(p, X, y), params)
    assert nb.max_relative_error(hand, numeric) < 1e-6
    # A wrong derivation (tanh' taken as 1) is caught.
    wrong = dict(
        hand,
        W1=X.T
        @ (
            (nb.softmax(np.tanh(X @ params["W1"]) @ params["W2"]) - np.eye(3)[y])
            / 7
            @ params["W2"].T
        ),
    )
    assert nb.max_relative_error(wrong, numeric) > 1e-2


def test_parameter_count_formulas():
    from course_lib.chapters import ch01_foundations as nb
    assert nb.dense_param_count([784, 256, 10]) == 203_530
    assert nb.transformer_layer_params(768)["total"] == 12 * 768**2 + 13 * 768
    assert nb.gpt_param_count(12, 768, 50257, 1024)["total"] == 124_439_808  # GPT-2 small
    assert nb.bert_param_count(12, 768)["total"] == 109_482_240  # BERT-base (HF count)
    assert nb.bert_param_count(24, 1024)["total"] == 335_141_888  # BERT-large (HF count)
    gpt3 = nb.gpt_param_count(96, 12288, 50257, 2048)["total"]
    assert abs(gpt3 - 175e9) / 175e9 < 0.01
