"""The verdicts every chapter's exercise checks print, in one place.

Each ``check_*`` function in the ``course_lib.exercises*`` modules prints one line: a green
"Correct" or a red "Not yet" with a hint, and returns whether the answer was right.

Example:

>>> correct("the IDF is 1.69.")
✅ Correct: the IDF is 1.69.
True
>>> as_number(None, "the IDF")
❌ Not yet: expected a number for the IDF, got None. Hint: replace the `None` with your value.
"""

from __future__ import annotations

from numbers import Real


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
