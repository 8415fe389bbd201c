"""Self-checks for the exercises of chapter 03 (data preparation).

Each ``check_*`` function takes the learner's answer, compares it with a value it computes
itself, prints a verdict (what is right, or what is wrong and a hint) and returns True or
False. Nothing here reveals the answer in its message.

Example:

>>> check_jaccard(0.5)
❌ Not yet: 0.5000 is not it. Hint: J = |A ∩ B| / |A ∪ B| with A = shingles(first, n=3), B = shingles(second, n=3).
False
"""

from __future__ import annotations

from collections.abc import Callable

from course_lib.chapters.ch03_data_preparation import jaccard, shingles
from course_lib.exercises.checks import is_number, verdict

__all__ = [
    "JACCARD_PAIR",
    "BPE_CORPUS",
    "check_clean_review",
    "check_jaccard",
    "check_first_bpe_merge",
]


_REVIEW_CASES = [
    ("imagine o . henry's <b>the gift of the magi</b> relocated", "imagine o . henry's the gift "
     "of the magi relocated"),
    ("  A   reason to <em>WANT</em> it  ", "a reason to want it"),
    ("Tom &amp; Jerry\t\tare <i>back</i>.", "tom & jerry are back."),
    ("no markup here", "no markup here"),
    ("", ""),
]


def check_clean_review(fn: Callable[[str], str]) -> bool:
    """Checks a function that cleans one review: removes HTML tags, decodes entities
    ("&amp;" → "&"), lower-cases, and collapses whitespace (no leading/trailing spaces).

    Args:
        fn: the learner's function ``str -> str``.

    Example:

    >>> check_clean_review(lambda t: t)  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    if not callable(fn):
        return verdict(False, "", f"pass your function itself (got {type(fn).__name__}).")
    for raw, want in _REVIEW_CASES:
        try:
            got = fn(raw)
        except Exception as exc:  # the learner's code may raise anything
            return verdict(False, "", f"your function raised {type(exc).__name__}: {exc} on "
                            f"{raw!r}.")
        if got != want:
            hint = "Hint: strip tags first, then html.unescape, lowercase, ' '.join(t.split())."
            return verdict(False, "", f"for {raw!r} you return {got!r}, expected {want!r}. "
                            + hint)
    return verdict(True, f"all {len(_REVIEW_CASES)} test reviews come out clean.", "")


JACCARD_PAIR = ("Do you like football?", "do you like the NFL?")


def check_jaccard(value) -> bool:
    """Checks the Jaccard similarity of the 3-character shingle sets of ``JACCARD_PAIR``
    (lower-cased, punctuation dropped, as ``course_lib.chapters.ch03_data_preparation.shingles`` does).

    Args:
        value: the learner's number.

    Example:

    >>> check_jaccard(1.0)  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    a, b = (shingles(t, n=3) for t in JACCARD_PAIR)
    want = jaccard(a, b)
    if not is_number(value):
        return verdict(False, "", f"give a number between 0 and 1, got {value!r}.")
    if abs(value - want) < 1e-6:
        return verdict(True, f"{len(a & b)} shared shingles out of {len(a | b)} distinct ones: "
                        f"J = {want:.4f}.", "")
    if not 0 <= value <= 1:
        return verdict(False, "", "a Jaccard similarity lies between 0 and 1.")
    return verdict(False, "", f"{value:.4f} is not it. Hint: J = |A ∩ B| / |A ∪ B| with "
                    "A = shingles(first, n=3), B = shingles(second, n=3).")


BPE_CORPUS = "low lower lowest newer newest wider widest"


def check_first_bpe_merge(merge) -> bool:
    """Checks the first merge byte-pair encoding learns on ``BPE_CORPUS``, written as the two
    symbols separated by a space, in the byte-table spelling (a space before a word is "Ġ"),
    e.g. ``"Ġ l"``.

    Ties (pairs with the same count) go to the pair that sorts first, as in
    ``course_lib.tokenizers.train_bpe``.

    Args:
        merge: the learner's answer, a string "left right".

    Example:

    >>> check_first_bpe_merge("x y")  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    from course_lib.tokenizers import train_bpe

    _, merges = train_bpe(BPE_CORPUS, vocab_size=257)
    want = merges[0]
    if not isinstance(merge, str) or len(merge.split(" ")) != 2:
        return verdict(False, "", f"write the merge as 'left right' (one space), got {merge!r}.")
    if merge == want:
        return verdict(True, f"'{want}' is the most frequent adjacent pair (ties broken by "
                        "sort order).", "")
    return verdict(False, "", f"{merge!r} is not the first merge. Hint: count every adjacent "
                    "pair of symbols in every pre-tokenized word (with its Ġ), take the "
                    "largest count, and among equal counts the pair that sorts first.")


