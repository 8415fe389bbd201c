"""Self-checks for the exercises of chapter 07 (evaluation).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from the
course library (``course_lib.training``, ``course_lib.metrics``), so an exercise and its chapter
can never disagree. The inputs of each exercise are module constants, so a notebook can show
exactly what the check uses.

Example:

>>> check_f1(2 * 30 / (2 * 30 + 10 + 20))
✅ Correct: P = 30/40 = 0.75, R = 30/50 = 0.60, F1 = 2PR/(P + R) = 2·30/(2·30 + 10 + 20) = 0.6667.
True
"""

from __future__ import annotations

import math

from course_lib import metrics
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import finite_number
from course_lib.exercises.checks import not_yet as _wrong

__all__ = [
    "CHAR_LOSS",
    "CHARS_PER_WORD",
    "COUNTS",
    "BLEU_HYPOTHESIS",
    "BLEU_REFERENCE",
    "check_word_perplexity",
    "check_f1",
    "check_modified_precision",
    "check_brevity_penalty",
]

# Chapter 06 inputs
# Chapter 07 inputs
CHAR_LOSS = 1.2  # nats per character
CHARS_PER_WORD = 5.5  # characters per word, the space included
COUNTS = {"tp": 30, "fp": 10, "fn": 20, "tn": 940}
BLEU_HYPOTHESIS = "the the the cat"
BLEU_REFERENCE = "the cat is on the mat"


def _close(a: float, b: float, rel: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


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
    value = finite_number(answer, "the per-word perplexity")
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
    value = finite_number(answer, "F1")
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
    value = finite_number(answer, "the modified unigram precision")
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
    value = finite_number(answer, "the brevity penalty")
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
