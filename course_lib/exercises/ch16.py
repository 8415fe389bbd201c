"""Self-checks for the exercises of chapter 16 (preference tuning with DPO).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from
`course_lib.chapters.ch16_preference_tuning`, so an exercise and the chapter can never
disagree.

Example:

>>> check_reward_margin(0.4)
✅ Correct: 0.1 × [(−20 + 23) − (−25 + 24)] = 0.1 × 4 = 0.4 > 0: the policy already prefers the chosen review.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.chapters import ch16_preference_tuning as pt
from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong

__all__ = [
    "PAIR",
    "KL_SAMPLES",
    "check_pair_loss",
    "check_reward_margin",
    "check_kl_estimate",
    "check_dpo_loss",
]

# Exercises 1 and 2: one pair's log-probabilities under the policy and the reference.
PAIR = {"beta": 0.1, "policy_chosen": -20.0, "reference_chosen": -23.0,
        "policy_rejected": -25.0, "reference_rejected": -24.0}
# Exercise 3: three reviews' log-probabilities (policy, reference).
KL_SAMPLES = {"policy": [-30.0, -22.0, -41.0], "reference": [-33.0, -22.5, -44.0]}


def _margin():
    p = PAIR
    return p["beta"] * ((p["policy_chosen"] - p["reference_chosen"])
                        - (p["policy_rejected"] - p["reference_rejected"]))


def check_pair_loss(answer):
    """Exercise 16.1: the DPO loss of `PAIR`.

    Example:
    ```python
    check_pair_loss(0.5)  # Not yet
    ```
    """
    value = as_number(answer, "the loss")
    if value is None:
        return False
    p = PAIR
    want = float(pt.dpo_loss(p["policy_chosen"], p["policy_rejected"], p["reference_chosen"],
                             p["reference_rejected"], beta=p["beta"]))
    z = _margin()
    if math.isclose(value, want, rel_tol=1e-3):
        return _ok(f"z = {z:.1f}, −log σ({z:.1f}) = log(1 + e^−{z:.1f}) = {want:.4f} nats.")
    if math.isclose(value, math.log1p(math.exp(z)), rel_tol=1e-3):
        return _wrong(f"{value:.4f} is −log σ(−z): the sign is flipped.",
                      "the bracket is (chosen's log-ratio) − (rejected's log-ratio).")
    if math.isclose(value, math.log1p(math.exp(-z / p["beta"])), rel_tol=1e-3):
        return _wrong(f"{value:.4f} leaves out β.", "multiply the bracket by β = 0.1 first.")
    return _wrong(f"{value:.4f} is not it.",
                  "compute the two log-ratios, subtract, multiply by β, then −log σ.")


def check_reward_margin(answer):
    """Exercise 16.2: β times the difference of the two log-ratios.

    Example:
    ```python
    check_reward_margin(-0.4)  # Not yet
    ```
    """
    value = as_number(answer, "the margin")
    if value is None:
        return False
    want = _margin()
    if math.isclose(value, want, rel_tol=1e-6, abs_tol=1e-9):
        return _ok(f"0.1 × [(−20 + 23) − (−25 + 24)] = 0.1 × 4 = {want:.1f} > 0: the policy "
                   "already prefers the chosen review.")
    if math.isclose(value, -want, rel_tol=1e-6):
        return _wrong(f"{value} has the wrong sign.",
                      "log π_θ − log π_ref for the chosen review is −20 − (−23) = +3.")
    if math.isclose(value, want / PAIR["beta"], rel_tol=1e-6):
        return _wrong(f"{value} leaves out β.", "the implicit reward is β times the log-ratio.")
    return _wrong(f"{value} is not it.", "compute each log-ratio, subtract them, times β.")


def check_kl_estimate(answer):
    """Exercise 16.3: the Monte Carlo estimate of KL(π_θ ‖ π_ref) from three samples.

    Example:
    ```python
    check_kl_estimate(-2.17)  # Not yet
    ```
    """
    value = as_number(answer, "the KL estimate")
    if value is None:
        return False
    diff = np.array(KL_SAMPLES["policy"]) - np.array(KL_SAMPLES["reference"])
    want = float(diff.mean())
    if math.isclose(value, want, rel_tol=1e-3):
        return _ok(f"mean of (log π_θ − log π_ref) = mean({', '.join(f'{d:g}' for d in diff)}) "
                   f"= {want:.3f} nats per review.")
    if math.isclose(value, -want, rel_tol=1e-3):
        return _wrong(f"{value} has the wrong sign.",
                      "KL(π_θ ‖ π_ref) averages log π_θ − log π_ref over the policy's samples.")
    if math.isclose(value, float(diff.sum()), rel_tol=1e-3):
        return _wrong(f"{value} is the sum.", "average over the three samples.")
    return _wrong(f"{value} is not it.", "average log π_θ(y) − log π_ref(y) over the samples.")


def _cases():
    rng = np.random.default_rng(16)
    for size, scale in ((4, 5.0), (6, 40.0), (3, 3000.0)):
        yield (*(rng.normal(-30, scale, size) for _ in range(4)), 0.1)


def check_dpo_loss(fn):
    """Exercise 16.4: the learner's NumPy `fn(...)` against `dpo_loss`, large margins included.

    Example:
    ```python
    check_dpo_loss(lambda pc, pr, rc, rr, beta: 0.0)  # Not yet
    ```
    """
    if not callable(fn):
        return _wrong(f"expected a function, got {fn!r}.", "define `my_dpo_loss(...)`.")
    for *logs, beta in _cases():
        want = float(pt.dpo_loss(*logs, beta=beta))
        try:
            with np.errstate(all="ignore"):
                got = fn(*(a.copy() for a in logs), beta)
        except Exception as error:  # the learner's code: report any failure as a hint
            return _wrong(f"your function raised {type(error).__name__}: {error}.",
                          "try it on one pair first.")
        if got is None:
            return _wrong("your function returned None.", "return the mean loss, a float.")
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _wrong(f"expected a number, got {got!r}.", "return a float.")
        if not math.isfinite(got):
            return _wrong(f"your loss is {got} on pairs with margins in the hundreds.",
                          "−log σ(z) = log(1 + e^−z) overflows for z ≪ 0: use np.logaddexp(0, -z).")
        if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
            return _wrong(f"your loss is {got:.4f}, dpo_loss gives {want:.4f}.",
                          "check the signs of the two log-ratios and the factor β.")
    return _ok("your loss matches dpo_loss on every batch, large margins included.")
