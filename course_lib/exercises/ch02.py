"""Self-checks for the exercises of chapter 02 (representations).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values are
computed with the course library where possible, so an exercise and the chapter it belongs
to can never disagree.

Example:

>>> check_glove_weight((25 / 100) ** 0.75)
✅ Correct: f(25) = (25/100)^0.75 = 0.3536.
True
"""

from __future__ import annotations

import math

from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong
from course_lib.text_features import idf_weights

# Shared inputs, so the notebook shows exactly what the check uses.
IDF_DOCS = ["the cat sat", "the dog sat", "the cat ran", "a bird flew"]
IDF_WORD = "cat"
GLOVE_X, GLOVE_X_MAX = 25.0, 100.0
SKIPGRAM_SENTENCE = ["to", "be", "or", "not", "to", "be"]
SKIPGRAM_WINDOW = 2
ANALOGY = ("paris", "france", "rome")  # paris : france :: rome : ?


_number = as_number


def _close(a: float, b: float, tol: float = 1e-3) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def check_idf(answer) -> bool:
    """Exercise 02.1: the smoothed IDF of "cat" in ``IDF_DOCS``.

    Args:
        answer: the learner's IDF value.

    Example:

    >>> check_idf(math.log(4 / 2) + 1)
    ❌ Not yet: that is the unsmoothed IDF, ln(n/df) + 1. Hint: smoothing adds 1 to n and to df: ln((1+n)/(1+df)) + 1.
    False
    """
    value = _number(answer, "the IDF")
    if value is None:
        return False
    n = len(IDF_DOCS)
    df = sum(IDF_WORD in doc.split() for doc in IDF_DOCS)
    expected = float(idf_weights([df], n, smooth_idf=True)[0])
    if _close(value, expected, 1e-4):
        return _ok(f"df = {df} of n = {n} documents, idf = ln(5/3) + 1 = {expected:.4f}.")
    if _close(value, float(idf_weights([df], n, smooth_idf=False)[0]), 1e-4):
        return _wrong(
            "that is the unsmoothed IDF, ln(n/df) + 1.",
            "smoothing adds 1 to n and to df: ln((1+n)/(1+df)) + 1.",
        )
    if _close(value, expected - 1.0, 1e-4):
        return _wrong(
            "you left out the + 1.",
            "the + 1 keeps words that occur everywhere at weight 1 instead of 0.",
        )
    return _wrong(
        f"{value:.4f} is not the IDF of {IDF_WORD!r}.",
        "count the documents that contain the word (df), then ln((1+n)/(1+df)) + 1 "
        "with the natural logarithm.",
    )


def check_glove_weight(answer) -> bool:
    """Exercise 02.2: GloVe's weight f(x) for x = 25, x_max = 100, alpha = 0.75.

    Args:
        answer: the learner's f(x).

    Example:

    >>> check_glove_weight(0.25)
    ❌ Not yet: 0.25 is x / x_max without the exponent. Hint: raise it to the power alpha = 0.75.
    False
    """
    from course_lib.chapters.ch02_representations import glove_weight

    value = _number(answer, "f(x)")
    if value is None:
        return False
    expected = float(glove_weight(GLOVE_X, GLOVE_X_MAX, 0.75))
    if _close(value, expected, 1e-4):
        return _ok(f"f(25) = (25/100)^0.75 = {expected:.4f}.")
    if _close(value, GLOVE_X / GLOVE_X_MAX, 1e-4):
        return _wrong(
            "0.25 is x / x_max without the exponent.", "raise it to the power alpha = 0.75."
        )
    if _close(value, 1.0, 1e-4):
        return _wrong("the weight is capped at 1 only when x >= x_max.", "here x = 25 < 100.")
    return _wrong(f"{value:.4f} is not f(25).", "f(x) = (x / x_max)^0.75 when x < x_max, else 1.")


def check_skipgram_pairs(answer) -> bool:
    """Exercise 02.3: how many (center, context) pairs a fixed window of 2 gives on a 6-word sentence.

    Args:
        answer: the learner's count.

    Example:

    >>> check_skipgram_pairs(9)
    ❌ Not yet: 9 counts each neighbouring pair once. Hint: each pair is used in both directions: (a, b) and (b, a).
    False
    """
    import numpy as np

    from course_lib.chapters.ch02_representations import skipgram_pairs

    value = _number(answer, "the number of pairs")
    if value is None:
        return False
    ids = np.arange(len(SKIPGRAM_SENTENCE))  # positions: the repeated words still count twice
    expected = len(skipgram_pairs(ids, None, SKIPGRAM_WINDOW, shrink_window=False)[0])
    if value == expected:
        return _ok(
            f"{expected} pairs: 5 at distance 1 and 4 at distance 2, each in both directions."
        )
    if value == expected // 2:
        return _wrong(
            f"{value:.0f} counts each neighbouring pair once.",
            "each pair is used in both directions: (a, b) and (b, a).",
        )
    return _wrong(
        f"{value:.0f} is not the count.",
        "for each distance d = 1..2 there are (6 - d) neighbouring positions; "
        "each gives two pairs.",
    )


def check_analogy(answer) -> bool:
    """Exercise 02.4: paris : france :: rome : ? with the pretrained GloVe vectors.

    Args:
        answer: the word the learner's code found.

    Example:

    >>> check_analogy("rome")
    ❌ Not yet: 'rome' is one of the question words. Hint: leave a, b and c out of the candidates (WordVectors.analogy does).
    False
    """
    if not isinstance(answer, str):
        return _wrong(
            f"expected a word (a string), got {answer!r}.",
            "use WordVectors.analogy(a, b, c)[0][0].",
        )
    word = answer.strip().lower()
    if word == "italy":
        return _ok("paris : france :: rome : italy (vector france - paris + rome).")
    if word in ANALOGY:
        return _wrong(
            f"{word!r} is one of the question words.",
            "leave a, b and c out of the candidates (WordVectors.analogy does).",
        )
    return _wrong(
        f"{word!r} is not the country of rome.",
        "compute b - a + c = france - paris + rome, with a = paris, b = france, "
        "c = rome, and take the nearest word.",
    )
