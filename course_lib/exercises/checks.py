"""The verdicts every chapter's exercise checks print, and the input checks they share.

Each ``check_*`` function in the ``course_lib.exercises.chNN`` modules prints one line: a green
"Correct" or a red "Not yet" with a hint, and returns whether the answer was right.

Example:

>>> correct("the IDF is 1.69.")
✅ Correct: the IDF is 1.69.
True
>>> as_number(None, "the IDF")
❌ Not yet: expected a number for the IDF, got None. Hint: replace the `None` with your value.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


def correct(message: str) -> bool:
    """Prints a "Correct" verdict and returns True.

    Args:
        message: what the learner got right.

    Example:

    >>> correct("2 + 2 = 4.")
    ✅ Correct: 2 + 2 = 4.
    True
    """
    print(f"✅ Correct: {message}")
    return True


def not_yet(message: str, hint: str) -> bool:
    """Prints a "Not yet" verdict with a hint and returns False.

    Args:
        message: what is wrong with the answer.
        hint: what to try next.

    Example:

    >>> not_yet("5 is too big.", "count again.")
    ❌ Not yet: 5 is too big. Hint: count again.
    False
    """
    print(f"❌ Not yet: {message} Hint: {hint}")
    return False


def as_number(answer, what: str) -> float | None:
    """Returns ``answer`` as a float, or prints a "Not yet" verdict and returns None.

    Args:
        answer: the learner's value (``None`` while the starter cell is untouched).
        what: the quantity, for the message.

    Example:

    >>> as_number(3, "the count")
    3.0
    """
    if answer is None or isinstance(answer, bool) or not isinstance(answer, Real):
        not_yet(
            f"expected a number for {what}, got {answer!r}.", "replace the `None` with your value."
        )
        return None
    return float(answer)


def verdict(ok: bool, right: str, wrong: str) -> bool:
    """Prints the "Correct" message ``right`` or the "Not yet" message ``wrong`` (which carries
    its own hint), and returns ``ok``.

    Args:
        ok: whether the answer is right.
        right: the message for a right answer.
        wrong: the message, with a hint, for a wrong one.

    Example:

    >>> verdict(False, "4.", "5 is one too many: count the edges again.")
    ❌ Not yet: 5 is one too many: count the edges again.
    False
    """
    print(("✅ Correct: " + right) if ok else ("❌ Not yet: " + wrong))
    return ok


def as_array(value, name: str):
    """Returns ``value`` as a float64 NumPy array, or prints a "Not yet" verdict and returns None.

    Args:
        value: the learner's numbers (a list, NumPy array or tensor).
        name: what the numbers are, for the message.

    Example:

    >>> as_array([1, 2], "the weights").tolist()
    [1.0, 2.0]
    >>> as_array("abc", "the weights")
    ❌ Not yet: the weights should be numbers (a list, NumPy array or tensor), got str.
    """
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        print(f"❌ Not yet: {name} should be numbers (a list, NumPy array or tensor), got "
              f"{type(value).__name__}.")
        return None


def is_number(value) -> bool:
    """Whether ``value`` is a real number (Python or NumPy), not a bool.

    Example:

    >>> is_number(np.float32(2.5)), is_number(True), is_number("2")
    (True, False, False)
    """
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def finite_number(answer, what: str) -> float | None:
    """Like :func:`as_number`, and also rejects infinities and NaN with a "Not yet" verdict.

    Args:
        answer: the learner's value.
        what: the quantity, for the message.

    Example:

    >>> finite_number(float("inf"), "the perplexity")
    ❌ Not yet: the perplexity must be a finite number, got inf. Hint: check for a division by zero.
    """
    value = as_number(answer, what)
    if value is None:
        return None
    if not math.isfinite(value):
        not_yet(f"{what} must be a finite number, got {value}.", "check for a division by zero.")
        return None
    return value
