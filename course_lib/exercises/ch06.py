"""Self-checks for the exercises of chapter 06 (the training loop).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from the
course library (``course_lib.training``, ``course_lib.metrics``), so an exercise and its chapter
can never disagree. The inputs of each exercise are module constants, so a notebook can show
exactly what the check uses.

Example:

>>> check_initial_loss(10.825)
✅ Correct: a uniform guess over 50,257 tokens costs ln(50257) = 10.8249 nats.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib import metrics
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import finite_number
from course_lib.exercises.checks import not_yet as _wrong

__all__ = [
    "GPT2_VOCAB",
    "SCHEDULE",
    "SCHEDULE_STEP",
    "check_initial_loss",
    "check_cross_entropy_function",
    "expected_learning_rate",
    "check_learning_rate",
]

# Chapter 06 inputs
GPT2_VOCAB = 50_257
SCHEDULE = {"peak": 1e-3, "minimum": 1e-4, "warmup_steps": 100, "decay_steps": 2000}
SCHEDULE_STEP = 1500
# Chapter 07 inputs


def _close(a: float, b: float, rel: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def check_initial_loss(answer) -> bool:
    """Exercise 06.1: the first loss of a well-initialised model over GPT-2's 50,257 tokens.

    Args:
        answer: the learner's expected loss (nats).

    Example:

    >>> check_initial_loss(math.log2(50_257))
    ❌ Not yet: 15.6170 is the loss in bits. Hint: Keras's cross-entropy uses the natural log: ln V.
    False
    """
    value = finite_number(answer, "the first loss")
    if value is None:
        return False
    expected = math.log(GPT2_VOCAB)
    if _close(value, expected):
        return _ok(
            f"a uniform guess over {GPT2_VOCAB:,} tokens costs ln({GPT2_VOCAB}) = {expected:.4f} nats."
        )
    if _close(value, math.log2(GPT2_VOCAB)):
        return _wrong(
            f"{value:.4f} is the loss in bits.", "Keras's cross-entropy uses the natural log: ln V."
        )
    if _close(value, math.log10(GPT2_VOCAB)):
        return _wrong(f"{value:.4f} uses log base 10.", "cross-entropy uses the natural log: ln V.")
    if _close(value, 1 / GPT2_VOCAB) or _close(value, float(GPT2_VOCAB)):
        return _wrong(
            "that is a probability or a perplexity, not a loss.",
            "the loss is -ln(p) with p = 1/V for each token.",
        )
    return _wrong(
        f"{value:.4f} is not the loss of a uniform guess.",
        "small random weights give logits near 0, so every token gets p = 1/V; the loss is -ln p.",
    )


def _reference_cross_entropy(logits, labels):
    return metrics.sparse_cross_entropy(labels, logits, reduction="none")


def check_cross_entropy_function(fn) -> bool:
    """Exercise 06.2: a NumPy cross-entropy from logits that is right *and* stable.

    The learner's ``fn(logits, labels)`` takes logits ``(N, V)`` and integer labels ``(N,)`` and
    returns the N per-example losses. It is tested on ordinary logits, then on logits of ±1000,
    where ``log(softmax(z))`` overflows.

    Args:
        fn: the learner's function.

    Example:

    >>> def naive(logits, labels):
    ...     p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ...     return -np.log(p[np.arange(len(labels)), labels])
    >>> check_cross_entropy_function(naive)
    ❌ Not yet: right on ordinary logits, but not finite for logits of ±1000. Hint: subtract each row's maximum before exp (log-sum-exp), or compute log_softmax = z - logsumexp(z).
    False
    """
    if not callable(fn):
        return _wrong(
            f"expected a function, got {type(fn).__name__}.",
            "pass the function itself, not its result.",
        )
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (8, 5))
    labels = rng.integers(0, 5, 8)
    try:
        with np.errstate(all="ignore"):
            got = np.asarray(fn(logits.copy(), labels.copy()), dtype=np.float64)
    except Exception as exc:  # the learner's code may raise anything
        return _wrong(
            f"your function raised {type(exc).__name__}: {exc}.", "test it on a 2×3 example first."
        )
    want = _reference_cross_entropy(logits, labels)
    if got.shape != want.shape:
        if got.size == 1 and _close(float(got.reshape(())), float(want.mean()), 1e-6):
            return _wrong("you returned the mean.", "return one loss per example (no reduction).")
        return _wrong(
            f"expected shape {want.shape}, got {got.shape}.", "return one loss per row of logits."
        )
    if not np.allclose(got, want, atol=1e-6):
        if np.allclose(got, -want, atol=1e-6):
            return _wrong(
                "the sign is flipped.", "the loss is MINUS the log-probability of the label."
            )
        return _wrong(
            "the values differ from -log softmax(z)[label].",
            "log softmax(z)_i = z_i - log(sum_j exp(z_j)); pick the label's entry.",
        )
    extreme = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]])
    extreme_labels = np.array([2, 1])
    try:
        with np.errstate(all="ignore"):
            got = np.asarray(fn(extreme.copy(), extreme_labels.copy()), dtype=np.float64)
    except Exception as exc:
        return _wrong(
            f"right on ordinary logits, but it raised {type(exc).__name__} on ±1000.",
            "avoid exp of large numbers.",
        )
    want = _reference_cross_entropy(extreme, extreme_labels)
    if not np.all(np.isfinite(got)):
        return _wrong(
            "right on ordinary logits, but not finite for logits of ±1000.",
            "subtract each row's maximum before exp (log-sum-exp), or compute log_softmax = z - logsumexp(z).",
        )
    if not np.allclose(got, want, rtol=1e-6):
        return _wrong(
            f"finite but wrong for logits of ±1000: got {got.round(3).tolist()}, want {want.round(3).tolist()}.",
            "do not clip probabilities (that caps the loss); work with log-probabilities throughout.",
        )
    return _ok("matches -log softmax(z)[label], also for logits of ±1000 (2000 and 0).")


def expected_learning_rate() -> float:
    """The learning rate of exercise 06.3, from ``course_lib.training.WarmupCosineSchedule``.

    Example:

    >>> round(expected_learning_rate(), 7)
    0.0002452
    """
    from course_lib.training import WarmupCosineSchedule

    return float(WarmupCosineSchedule(**SCHEDULE)(SCHEDULE_STEP))


def check_learning_rate(answer) -> bool:
    """Exercise 06.3: the learning rate at step ``SCHEDULE_STEP`` = 1500 of nanoGPT's CPU schedule.

    Peak 1e-3 after 100 warm-up steps, cosine decay to 1e-4 at step 2000 (``SCHEDULE``).

    Args:
        answer: the learner's learning rate.

    Example:

    >>> check_learning_rate(0.5 * (1 + math.cos(math.pi * 1400 / 1900)) * 1e-3)
    ❌ Not yet: you decayed to 0 instead of to the minimum. Hint: lr = min + 0.5·(1 + cos(π·ratio))·(peak − min).
    False
    """
    value = finite_number(answer, "the learning rate")
    if value is None:
        return False
    expected = expected_learning_rate()
    peak, low = SCHEDULE["peak"], SCHEDULE["minimum"]
    w, d = SCHEDULE["warmup_steps"], SCHEDULE["decay_steps"]
    ratio = (SCHEDULE_STEP - w) / (d - w)
    if _close(value, expected, 1e-4):
        return _ok(
            f"ratio = ({SCHEDULE_STEP} − {w}) / ({d} − {w}) = {ratio:.4f}, "
            f"lr = {low:g} + 0.5·(1 + cos(π·{ratio:.4f}))·{peak - low:g} = {expected:.6g}."
        )
    if _close(value, 0.5 * (1 + math.cos(math.pi * ratio)) * peak, 1e-4):
        return _wrong(
            "you decayed to 0 instead of to the minimum.",
            "lr = min + 0.5·(1 + cos(π·ratio))·(peak − min).",
        )
    if _close(value, low + 0.5 * (1 + math.cos(math.pi * SCHEDULE_STEP / d)) * (peak - low), 1e-4):
        return _wrong(
            "you measured the cosine from step 0.",
            "the cosine starts after warm-up: ratio = (step − warmup) / (decay − warmup).",
        )
    return _wrong(
        f"{value:.6g} is not the scheduled rate.",
        f"step {SCHEDULE_STEP} is past warm-up; compute ratio = (step − warmup) / (decay − warmup) first.",
    )


