"""Self-checks for the exercises of chapter 01 (foundations).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values are
computed with the course library where possible, so an exercise and the chapter it belongs
to can never disagree.

Example:

>>> check_mlp_params(203_530)
✅ Correct: 784*256 + 256 (layer 1) + 256*10 + 10 (layer 2) = 203,530 parameters.
True
"""

from __future__ import annotations

import math

from course_lib.chapters.ch01_foundations import dense_param_count, gpt_param_count
from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong

# Shared inputs, so the notebook shows exactly what the check uses.
MLP_SIZES = (784, 256, 10)
NEURON = {"x": 2.0, "w": 0.5, "b": -0.5, "y": 1.0}
GPT2_SMALL = {"n_layers": 12, "d_model": 768, "vocab_size": 50257, "context_length": 1024}


_number = as_number


def _close(a: float, b: float, tol: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def check_mlp_params(answer) -> bool:
    """Exercise 01.1: parameters of a dense network 784 -> 256 -> 10.

    Args:
        answer: the learner's count.

    Example:

    >>> check_mlp_params(784 * 256 + 256 * 10)
    ❌ Not yet: 203,264 counts only the weights. Hint: every unit also has a bias: add 256 + 10.
    False
    """
    value = _number(answer, "the parameter count")
    if value is None:
        return False
    expected = dense_param_count(MLP_SIZES)
    weights_only = MLP_SIZES[0] * MLP_SIZES[1] + MLP_SIZES[1] * MLP_SIZES[2]
    if value == expected:
        return _ok("784*256 + 256 (layer 1) + 256*10 + 10 (layer 2) = 203,530 parameters.")
    if value == weights_only:
        return _wrong(
            f"{weights_only:,} counts only the weights.",
            "every unit also has a bias: add 256 + 10.",
        )
    return _wrong(
        f"{value:,.0f} is not the count.",
        "a dense layer from n to m units has n*m weights and m biases; sum both layers.",
    )


def neuron_gradient() -> float:
    """dL/dw for the exercise neuron: p = sigmoid(w x + b), L = -log p (label y = 1).

    Example:

    >>> round(neuron_gradient(), 4)
    -0.7551
    """
    x, w, b, y = NEURON["x"], NEURON["w"], NEURON["b"], NEURON["y"]
    p = 1.0 / (1.0 + math.exp(-(w * x + b)))
    return (p - y) * x


def check_neuron_gradient(answer) -> bool:
    """Exercise 01.2: the gradient dL/dw of one sigmoid neuron with cross-entropy loss.

    Args:
        answer: the learner's dL/dw.

    Example:

    >>> check_neuron_gradient(0.755)
    ❌ Not yet: the size is right but the sign is not. Hint: p < y, so increasing w lowers the loss: the gradient is negative.
    False
    """
    value = _number(answer, "dL/dw")
    if value is None:
        return False
    g = neuron_gradient()
    p_minus_y = g / NEURON["x"]
    if _close(value, g):
        return _ok(f"dL/dw = (p - y) * x = ({p_minus_y:+.4f}) * {NEURON['x']} = {g:.4f}.")
    if _close(value, -g):
        return _wrong(
            "the size is right but the sign is not.",
            "p < y, so increasing w lowers the loss: the gradient is negative.",
        )
    if _close(value, p_minus_y):
        return _wrong(
            "that is dL/dz, the gradient before the weight.",
            "chain rule: dL/dw = dL/dz * dz/dw, and dz/dw = x.",
        )
    return _wrong(
        f"{value:.4f} is not dL/dw.",
        "for sigmoid + cross-entropy, dL/dz = p - y; compute p = sigmoid(w*x + b) first.",
    )


def check_gpt2_params(answer) -> bool:
    """Exercise 01.3: the parameter count of GPT-2 small from its published shape.

    Args:
        answer: the learner's total.

    Example:

    >>> check_gpt2_params(124_439_808)
    ✅ Correct: 124,439,808 parameters, the "124M" of GPT-2 small.
    True
    """
    value = _number(answer, "the GPT-2 parameter count")
    if value is None:
        return False
    parts = gpt_param_count(**GPT2_SMALL)
    expected = parts["total"]
    untied = expected + GPT2_SMALL["vocab_size"] * GPT2_SMALL["d_model"]
    if value == expected:
        return _ok(f'{expected:,} parameters, the "124M" of GPT-2 small.')
    if value == untied:
        return _wrong(
            "you counted a separate output layer.",
            "GPT-2 reuses the token embedding as its output layer (tied weights).",
        )
    if abs(value - expected) / expected < 0.02:
        return _wrong(
            f"{value:,.0f} is within 2% but not exact.",
            "count biases of all four attention projections and both LayerNorms "
            "per block, the position embeddings and the final LayerNorm.",
        )
    return _wrong(
        f"{value:,.0f} is far off.",
        "per block 12*d^2 + 13*d; plus (vocab + context) * d embeddings; plus 2*d.",
    )


