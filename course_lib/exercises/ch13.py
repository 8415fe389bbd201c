"""Self-checks for the exercises of chapter 13 (challenges and trends, measured).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from the
course library (`course_lib.chapters.ch13_challenges`), so an exercise and the chapter can
never disagree.

Example:

>>> check_training_flops(1.875e18)
✅ Correct: 6 · 125,000,000 · 2,500,000,000 = 1.875e+18 FLOPs.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.chapters.ch13_challenges import parameter_memory, training_flops, weat_effect_size
from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong

__all__ = [
    "EX1_PARAMETERS",
    "EX1_TOKENS",
    "EX2_PARAMETERS",
    "EX3_TEACHER",
    "EX3_TEMPERATURE",
    "EX4_X",
    "EX4_Y",
    "EX4_A",
    "EX4_B",
    "check_training_flops",
    "check_mixed_memory",
    "check_soft_probability",
    "check_weat_effect_size",
    "check_integrated_gradients",
]

EX1_PARAMETERS = 125_000_000  # about GPT-2 small
EX1_TOKENS = 2_500_000_000  # 20 tokens per parameter: Chinchilla-optimal
EX2_PARAMETERS = 350_000_000
EX3_TEACHER = [4.0, 2.0, 1.0, -1.0]
EX3_TEMPERATURE = 4.0
EX4_X = [[1.0, 0.3], [0.8, 0.4]]
EX4_Y = [[0.2, 1.0], [0.5, 0.9]]
EX4_A = [[1.0, 0.0], [0.9, 0.1]]
EX4_B = [[0.0, 1.0], [0.1, 0.9]]


def _close(value, expected, rel=0.01):
    return math.isclose(value, expected, rel_tol=rel)


def check_training_flops(answer):
    """Exercise 13.1: 6·N·D for `EX1_PARAMETERS` and `EX1_TOKENS`.

    Args:
        answer: the learner's FLOP count.

    Example:

    >>> check_training_flops(6.25e17)
    ❌ Not yet: 6.25e+17 is 2·N·D, the forward pass only. Hint: the backward pass costs about twice the forward; training is 6·N·D.
    False
    """
    value = as_number(answer, "the training FLOPs")
    if value is None:
        return False
    n, d = EX1_PARAMETERS, EX1_TOKENS
    expected = training_flops(n, d)
    if _close(value, expected):
        return _ok(f"6 · {n:,} · {d:,} = {expected:.4g} FLOPs.")
    if _close(value, 2 * n * d):
        return _wrong(
            f"{value:.4g} is 2·N·D, the forward pass only.",
            "the backward pass costs about twice the forward; training is 6·N·D.",
        )
    if _close(value, n * d):
        return _wrong(f"{value:.4g} is N·D.", "each parameter costs 6 FLOPs per training token.")
    if _close(value / expected, round(value / expected)) or _close(expected / value,
                                                                    round(expected / value)):
        return _wrong(
            f"{value:.4g} is off by a power of ten or a whole factor.",
            "count the zeros: N = 1.25e8, D = 2.5e9.",
        )
    return _wrong(f"{value:.4g} is not 6·N·D.", "multiply 6, the parameters and the tokens.")


def check_mixed_memory(answer):
    """Exercise 13.2: bytes of weights, gradients and AdamW state under mixed_bfloat16.

    Args:
        answer: the learner's byte count.

    Example:

    >>> check_mixed_memory(16 * EX2_PARAMETERS)
    ❌ Not yet: 5,600,000,000 bytes is the float32 figure (16 bytes per parameter). Hint: mixed precision keeps the float32 variables and adds a 2-byte copy of each weight.
    False
    """
    value = as_number(answer, "the memory in bytes")
    if value is None:
        return False
    p = EX2_PARAMETERS
    expected = parameter_memory(p, "mixed_bfloat16")["total"]
    if _close(value, expected, 1e-3):
        return _ok(
            f"4 (weight) + 4 (gradient) + 8 (two AdamW moments) + 2 (bfloat16 copy) = 18 bytes "
            f"per parameter: {expected:,} bytes ({expected / 2**30:.2f} GiB)."
        )
    if _close(value, 16 * p, 1e-3):
        return _wrong(
            f"{value:,.0f} bytes is the float32 figure (16 bytes per parameter).",
            "mixed precision keeps the float32 variables and adds a 2-byte copy of each weight.",
        )
    if _close(value, 8 * p, 1e-3):
        return _wrong(
            f"{value:,.0f} bytes is pure bfloat16 training (2 + 2 + 4).",
            "Keras's mixed policy keeps variables, gradients and moments in float32.",
        )
    if _close(value, expected / 2**30, 1e-3) or _close(value, expected / 1e9, 1e-3):
        return _wrong("that looks like GiB or GB.", "give the answer in bytes.")
    for per in (4, 6, 10, 12, 14, 20):
        if _close(value, per * p, 1e-3):
            return _wrong(
                f"{per} bytes per parameter is not right.",
                "add the weight (4), its gradient (4), AdamW's two moments (4 each) and the "
                "16-bit copy (2).",
            )
    return _wrong(f"{value:,.0f} bytes is not right.", "count bytes per parameter, then × P.")


def _softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def check_soft_probability(answer):
    """Exercise 13.3: the smallest probability of softmax(`EX3_TEACHER` / `EX3_TEMPERATURE`).

    Args:
        answer: a probability.

    Example:

    >>> check_soft_probability(0.0057)
    ❌ Not yet: 0.0057 is the probability at T = 1. Hint: divide every logit by T = 4 before the softmax.
    False
    """
    value = as_number(answer, "the probability")
    if value is None:
        return False
    soft = _softmax(np.asarray(EX3_TEACHER) / EX3_TEMPERATURE)
    hard = _softmax(EX3_TEACHER)
    if math.isclose(value, soft.min(), abs_tol=5e-4):
        return _ok(
            f"{soft.min():.4f} at T = {EX3_TEMPERATURE:g}, against {hard.min():.4f} at T = 1: "
            f"{soft.min() / hard.min():.0f} times more weight on the least likely token."
        )
    if math.isclose(value, hard.min(), abs_tol=5e-4):
        return _wrong(
            f"{value:g} is the probability at T = 1.",
            f"divide every logit by T = {EX3_TEMPERATURE:g} before the softmax.",
        )
    if math.isclose(value, soft.max(), abs_tol=5e-4) or math.isclose(value, hard.max(),
                                                                     abs_tol=5e-4):
        return _wrong(f"{value:g} is the most likely token's probability.",
                      "the question asks for the least likely one (logit −1).")
    if not 0 <= value <= 1:
        return _wrong(f"{value:g} is not a probability.", "a softmax output lies in [0, 1].")
    return _wrong(
        f"{value:g} is not it.",
        "compute exp(z / T) for every logit, divide by their sum, take the smallest.",
    )


def check_weat_effect_size(answer):
    """Exercise 13.4: the WEAT effect size d of `EX4_X`, `EX4_Y`, `EX4_A`, `EX4_B`.

    Args:
        answer: the learner's d.

    Example:

    >>> check_weat_effect_size(0.5)
    ❌ Not yet: 0.5 is not d. Hint: s(w) = mean cos(w, A) − mean cos(w, B) for each of the four targets; d = (mean s over X − mean s over Y) / std of all four s (ddof = 1).
    False
    """
    value = as_number(answer, "the effect size")
    if value is None:
        return False
    X, Y, A, B = (np.asarray(v, dtype=np.float64) for v in (EX4_X, EX4_Y, EX4_A, EX4_B))
    expected = weat_effect_size(X, Y, A, B)

    def s(w):
        unit = lambda m: m / np.linalg.norm(m, axis=-1, keepdims=True)  # noqa: E731
        return (unit(A) @ unit(w)).mean() - (unit(B) @ unit(w)).mean()

    sx, sy = np.array([s(w) for w in X]), np.array([s(w) for w in Y])
    both = np.concatenate([sx, sy])
    if math.isclose(value, expected, abs_tol=2e-3):
        return _ok(f"d = {expected:.3f}: the X words lean toward A, the Y words toward B.")
    if math.isclose(value, (sx.mean() - sy.mean()) / both.std(ddof=0), abs_tol=2e-3):
        return _wrong(
            "you divided by the population standard deviation.",
            "WEAT uses the sample standard deviation (ddof = 1, np.std(s, ddof=1)).",
        )
    if math.isclose(value, -expected, abs_tol=2e-3):
        return _wrong("the sign is flipped.", "compute mean s over X minus mean s over Y.")
    if math.isclose(value, sx.sum() - sy.sum(), abs_tol=2e-3):
        return _wrong(
            "that is the test statistic S, not the effect size.",
            "divide the difference of the means by the standard deviation of all s(w).",
        )
    return _wrong(
        f"{value:g} is not d.",
        "s(w) = mean cos(w, A) − mean cos(w, B) for each of the four targets; d = (mean s over "
        "X − mean s over Y) / std of all four s (ddof = 1).",
    )


_IG_X = np.array([0.5, -1.0, 2.0])


def _f(x):
    return float(np.sum(np.sin(x) * x))


def _grad_f(x):
    return np.cos(x) * x + np.sin(x)


def check_integrated_gradients(fn):
    """Exercise 13.5: the learner's integrated gradients on f(x) = Σ sin(x_i)·x_i.

    For this separable f the exact attributions are x_i·sin(x_i), and they sum to f(x) − f(0).

    Args:
        fn: ``my_integrated_gradients(grad_f, x, steps)``.

    Example:

    >>> check_integrated_gradients(lambda grad_f, x, steps=50: x * grad_f(x))
    ❌ Not yet: that is gradient × input (the gradient at x only). Hint: average grad_f over the points alpha * x for alpha = (k + 0.5) / steps, then multiply by x.
    False
    """
    if not callable(fn):
        return _wrong("expected a function.", "define my_integrated_gradients(grad_f, x, steps).")
    try:
        result = fn(_grad_f, _IG_X.copy(), steps=50)
    except Exception as exc:  # the learner's code: report any failure as a hint
        return _wrong(f"your function raised {type(exc).__name__}: {exc}.",
                      "test it on a small x first.")
    if result is None:
        return _wrong("your function returned None.", "return an array shaped like x.")
    result = np.asarray(result, dtype=np.float64)
    if result.shape != _IG_X.shape:
        return _wrong(f"the result has shape {result.shape}, x has {_IG_X.shape}.",
                      "return one attribution per input feature.")
    exact = _IG_X * np.sin(_IG_X)
    if np.allclose(result, exact, atol=2e-3):
        total = float(result.sum())
        return _ok(
            f"attributions {np.round(result, 4).tolist()} sum to {total:.4f} = f(x) − f(0) = "
            f"{_f(_IG_X):.4f} (completeness)."
        )
    if np.allclose(result, _IG_X * _grad_f(_IG_X), atol=2e-3):
        return _wrong(
            "that is gradient × input (the gradient at x only).",
            "average grad_f over the points alpha * x for alpha = (k + 0.5) / steps, then "
            "multiply by x.",
        )
    alphas = (np.arange(50) + 0.5) / 50
    mean_grad = np.mean([_grad_f(a * _IG_X) for a in alphas], axis=0)
    if np.allclose(result, mean_grad, atol=2e-3):
        return _wrong("you returned the average gradient.", "multiply it by (x − baseline) = x.")
    return _wrong(
        f"the attributions sum to {result.sum():.4f}, not f(x) − f(0) = {_f(_IG_X):.4f}.",
        "IG_i = x_i · mean over alpha of grad_f(alpha · x)_i.",
    )
