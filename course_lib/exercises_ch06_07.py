"""Self-checks for the exercises of chapters 06 (the training loop) and 07 (evaluation).

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
from course_lib.exercise_checks import as_number
from course_lib.exercise_checks import correct as _ok
from course_lib.exercise_checks import not_yet as _wrong

__all__ = [
    "GPT2_VOCAB",
    "SCHEDULE",
    "SCHEDULE_STEP",
    "CHAR_LOSS",
    "CHARS_PER_WORD",
    "COUNTS",
    "BLEU_HYPOTHESIS",
    "BLEU_REFERENCE",
    "check_initial_loss",
    "check_cross_entropy_function",
    "expected_learning_rate",
    "check_learning_rate",
    "check_word_perplexity",
    "check_f1",
    "check_modified_precision",
    "check_brevity_penalty",
]

# Chapter 06 inputs
GPT2_VOCAB = 50_257
SCHEDULE = {"peak": 1e-3, "minimum": 1e-4, "warmup_steps": 100, "decay_steps": 2000}
SCHEDULE_STEP = 1500
# Chapter 07 inputs
CHAR_LOSS = 1.2  # nats per character
CHARS_PER_WORD = 5.5  # characters per word, the space included
COUNTS = {"tp": 30, "fp": 10, "fn": 20, "tn": 940}
BLEU_HYPOTHESIS = "the the the cat"
BLEU_REFERENCE = "the cat is on the mat"


def _number(answer, what: str) -> float | None:
    value = as_number(answer, what)
    if value is None:
        return None
    if not math.isfinite(value):
        _wrong(f"{what} must be a finite number, got {value}.", "check for a division by zero.")
        return None
    return value


def _close(a: float, b: float, rel: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


# ---------------------------------------------------------------------------------------------
# Chapter 06
# ---------------------------------------------------------------------------------------------


def check_initial_loss(answer) -> bool:
    """Exercise 06.1: the first loss of a well-initialised model over GPT-2's 50,257 tokens.

    Args:
        answer: the learner's expected loss (nats).

    Example:

    >>> check_initial_loss(math.log2(50_257))
    ❌ Not yet: 15.6170 is the loss in bits. Hint: Keras's cross-entropy uses the natural log: ln V.
    False
    """
    value = _number(answer, "the first loss")
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
    value = _number(answer, "the learning rate")
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


# ---------------------------------------------------------------------------------------------
# Chapter 07
# ---------------------------------------------------------------------------------------------


def check_word_perplexity(answer) -> bool:
    """Exercise 07.1: per-word perplexity of a character model with loss 1.2 nats per character.

    Words average ``CHARS_PER_WORD`` = 5.5 characters (the space included), so a word costs
    5.5 × 1.2 nats.

    Args:
        answer: the learner's per-word perplexity.

    Example:

    >>> check_word_perplexity(math.exp(1.2))
    ❌ Not yet: 3.3201 is the per-character perplexity. Hint: a word costs CHARS_PER_WORD characters' worth of nats: multiply the loss before exp.
    False
    """
    value = _number(answer, "the per-word perplexity")
    if value is None:
        return False
    expected = metrics.perplexity(CHAR_LOSS * CHARS_PER_WORD)
    if _close(value, expected):
        return _ok(
            f"exp(1.2 × 5.5) = exp(6.6) = {expected:.1f} per word, from {math.exp(CHAR_LOSS):.2f} per character."
        )
    if _close(value, math.exp(CHAR_LOSS)):
        return _wrong(
            f"{value:.4f} is the per-character perplexity.",
            "a word costs CHARS_PER_WORD characters' worth of nats: multiply the loss before exp.",
        )
    if _close(value, math.exp(CHAR_LOSS) * CHARS_PER_WORD):
        return _wrong(
            "you multiplied the perplexity.",
            "perplexities multiply along the text: exp(a·b) = exp(a)^b, not b·exp(a).",
        )
    if _close(value, CHAR_LOSS * CHARS_PER_WORD):
        return _wrong("that is the loss per word in nats.", "perplexity = exp(loss).")
    return _wrong(
        f"{value:.4f} is not it.", "total nats per word = 1.2 × 5.5; perplexity = exp(that)."
    )


def check_f1(answer) -> bool:
    """Exercise 07.2: the F1 score of the positive class from ``COUNTS``.

    Args:
        answer: the learner's F1 (0–1).

    Example:

    >>> check_f1(0.675)
    ❌ Not yet: 0.675 is the arithmetic mean of precision 0.75 and recall 0.60. Hint: F1 is the harmonic mean: 2PR / (P + R).
    False
    """
    value = _number(answer, "F1")
    if value is None:
        return False
    tp, fp, fn, tn = COUNTS["tp"], COUNTS["fp"], COUNTS["fn"], COUNTS["tn"]
    y_true = [1] * tp + [0] * fp + [1] * fn + [0] * tn
    y_pred = [1] * tp + [1] * fp + [0] * fn + [0] * tn
    p, r, f1 = metrics.precision_recall_f1(y_true, y_pred)
    if value > 1 and _close(value / 100, f1):
        return _wrong("that is a percentage.", "give F1 as a fraction between 0 and 1.")
    if _close(value, f1):
        return _ok(
            f"P = 30/40 = {p:.2f}, R = 30/50 = {r:.2f}, F1 = 2PR/(P + R) = 2·30/(2·30 + 10 + 20) = {f1:.4f}."
        )
    if _close(value, (p + r) / 2):
        return _wrong(
            f"{value:.3f} is the arithmetic mean of precision {p:.2f} and recall {r:.2f}.",
            "F1 is the harmonic mean: 2PR / (P + R).",
        )
    if _close(value, p) or _close(value, r):
        return _wrong("that is precision or recall alone.", "F1 combines both: 2PR / (P + R).")
    if _close(value, metrics.accuracy(y_true, y_pred)):
        return _wrong(
            "that is the accuracy, inflated by the 940 true negatives.",
            "F1 ignores TN: 2TP / (2TP + FP + FN).",
        )
    return _wrong(
        f"{value:.4f} is not F1.", "precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R)."
    )


def check_modified_precision(answer) -> bool:
    """Exercise 07.3: BLEU's modified unigram precision of ``BLEU_HYPOTHESIS``.

    Args:
        answer: the learner's precision (0–1).

    Example:

    >>> check_modified_precision(1.0)
    ❌ Not yet: 1.0 is the unclipped precision: every word appears in the reference. Hint: clip each word's count at its count in the reference ("the" appears twice there).
    False
    """
    value = _number(answer, "the modified unigram precision")
    if value is None:
        return False
    stats = metrics.bleu_statistics([BLEU_HYPOTHESIS], [BLEU_REFERENCE], max_order=1)[0]
    expected = stats[2] / stats[3]
    if _close(value, expected):
        return _ok(f"'the' counts min(3, 2) = 2 and 'cat' 1: (2 + 1) / 4 = {expected:.2f}.")
    if _close(value, 1.0):
        return _wrong(
            "1.0 is the unclipped precision: every word appears in the reference.",
            'clip each word\'s count at its count in the reference ("the" appears twice there).',
        )
    if _close(value, 3 / 6) or _close(value, 2 / 6):
        return _wrong(
            "you divided by the reference length.", "precision divides by the hypothesis's 4 words."
        )
    return _wrong(
        f"{value:.4f} is not it.",
        "sum over hypothesis words of min(count in hypothesis, count in reference), over 4.",
    )


def check_brevity_penalty(answer) -> bool:
    """Exercise 07.4: BLEU's brevity penalty for ``BLEU_HYPOTHESIS`` against ``BLEU_REFERENCE``.

    Args:
        answer: the learner's brevity penalty.

    Example:

    >>> check_brevity_penalty(math.exp(1 - 4 / 6))
    ❌ Not yet: you used c/r instead of r/c. Hint: BP = exp(1 − r/c) with r = 6 reference and c = 4 hypothesis words.
    False
    """
    value = _number(answer, "the brevity penalty")
    if value is None:
        return False
    expected = metrics.corpus_bleu([BLEU_HYPOTHESIS], [BLEU_REFERENCE]).brevity_penalty
    if _close(value, expected):
        return _ok(f"c = 4 < r = 6, so BP = exp(1 − 6/4) = exp(−0.5) = {expected:.4f}.")
    if _close(value, math.exp(1 - 4 / 6)):
        return _wrong(
            "you used c/r instead of r/c.",
            "BP = exp(1 − r/c) with r = 6 reference and c = 4 hypothesis words.",
        )
    if _close(value, 1.0):
        return _wrong(
            "BP is 1 only when the hypothesis is at least as long as the reference.",
            "here c = 4 < r = 6.",
        )
    if _close(value, 4 / 6):
        return _wrong("that is the length ratio c/r.", "BP = exp(1 − r/c).")
    return _wrong(f"{value:.4f} is not it.", "BP = exp(1 − r/c) when c < r.")
