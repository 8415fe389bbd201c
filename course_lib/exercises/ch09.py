"""Self-checks for the exercises of chapter 09 (text generation and dialogue).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from the
course library (`course_lib.metrics`, `course_lib.generation`, `course_lib.chapters.ch09_generation_and_dialogue`), so an
exercise and the chapter can never disagree.

Example:

>>> check_distinct_2(6 / 7)
✅ Correct: 6 distinct bigrams of 7 in total, distinct-2 = 0.857.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.chapters.ch09_generation_and_dialogue import turns_that_fit
from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong
from course_lib.generation import top_p_filter
from course_lib.metrics import distinct_n, ngrams

__all__ = [
    "DISTINCT_SAMPLES",
    "NUCLEUS_PROBS",
    "NUCLEUS_P",
    "BEAM_TREE",
    "TURN_LENGTHS",
    "CONTEXT_LENGTH",
    "REPLY_RESERVE",
    "check_distinct_2",
    "check_nucleus_size",
    "best_two_token_sequence",
    "check_beam_choice",
    "check_kept_turns",
]

# Shared inputs, so the notebook shows exactly what each check uses.
DISTINCT_SAMPLES = ["the cat sat on the mat", "the cat ran"]
NUCLEUS_PROBS = {"the": 0.40, "a": 0.25, "my": 0.15, "thy": 0.10, "our": 0.05, "this": 0.05}
NUCLEUS_P = 0.75
# A two-step toy model: p(first) and p(second | first). Greedy takes the likeliest first word.
BEAM_TREE = {
    "good": (0.5, {"night": 0.4, "morrow": 0.35, "lord": 0.25}),
    "sweet": (0.4, {"prince": 0.9, "lord": 0.1}),
    "fair": (0.1, {"lady": 1.0}),
}
TURN_LENGTHS = [20, 12, 9, 15, 10]  # tokens per turn, oldest first; the last is the new message
CONTEXT_LENGTH = 64
REPLY_RESERVE = 16  # tokens kept free for the reply; one more goes to the bot's speaker token


_number = as_number


def check_distinct_2(answer):
    """Exercise 09.1: distinct-2 of `DISTINCT_SAMPLES` (distinct bigrams / all bigrams).

    Args:
        answer: the learner's value (a fraction such as 0.5 or 3 / 4).

    Example:

    >>> check_distinct_2(1.0)
    ❌ Not yet: 1.0 treats the two samples separately. Hint: pool the bigrams of both samples: "the cat" occurs in each, so it counts once among the distinct ones.
    False
    """
    value = _number(answer, "distinct-2")
    if value is None:
        return False
    expected = distinct_n(DISTINCT_SAMPLES, 2)
    total = sum(len(ngrams(s, 2)) for s in DISTINCT_SAMPLES)
    distinct = len({g for s in DISTINCT_SAMPLES for g in ngrams(s, 2)})
    if math.isclose(value, expected, abs_tol=1e-3):
        return _ok(f"{distinct} distinct bigrams of {total} in total, distinct-2 = {expected:.3f}.")
    if math.isclose(value, 1.0, abs_tol=1e-3):
        return _wrong(
            "1.0 treats the two samples separately.",
            'pool the bigrams of both samples: "the cat" occurs in each, so it counts once '
            "among the distinct ones.",
        )
    if math.isclose(value, distinct_n(DISTINCT_SAMPLES, 1), abs_tol=1e-3):
        return _wrong("that is distinct-1 (single words).", "count pairs of neighbouring words.")
    if math.isclose(value, distinct, abs_tol=1e-3) or math.isclose(value, total, abs_tol=1e-3):
        return _wrong(
            f"{value:.0f} is a count, not a ratio.", "divide distinct bigrams by all bigrams."
        )
    return _wrong(
        f"{value:.3f} is not distinct-2.",
        "list every pair of neighbouring words in both samples; distinct-2 = number of "
        "different pairs / number of pairs.",
    )


def check_nucleus_size(answer):
    """Exercise 09.2: how many words top-p sampling with p = `NUCLEUS_P` keeps from
    `NUCLEUS_PROBS`.

    Args:
        answer: the learner's count.

    Example:

    >>> check_nucleus_size(2)
    ❌ Not yet: 0.40 + 0.25 = 0.65 is still below p = 0.75. Hint: keep adding the next most likely word until the sum reaches p.
    False
    """
    value = _number(answer, "the number of kept words")
    if value is None:
        return False
    probs = np.asarray(list(NUCLEUS_PROBS.values()))
    kept = int(np.isfinite(top_p_filter(np.log(probs), NUCLEUS_P)).sum())
    words = sorted(NUCLEUS_PROBS, key=NUCLEUS_PROBS.get, reverse=True)[:kept]
    if value == kept:
        mass = sum(NUCLEUS_PROBS[w] for w in words)
        return _ok(f"{kept} words ({', '.join(words)}) with mass {mass:.2f} >= p = {NUCLEUS_P}.")
    if value == kept - 1:
        return _wrong(
            "0.40 + 0.25 = 0.65 is still below p = 0.75.",
            "keep adding the next most likely word until the sum reaches p.",
        )
    if value > kept:
        return _wrong(
            f"{value:.0f} words is more than the nucleus.",
            "stop at the first word that brings the sum to p or above.",
        )
    return _wrong(
        f"{value:.0f} is not the nucleus size.",
        "sort the words by probability, add them up from the most likely one, and count the "
        "words needed to reach p.",
    )


def best_two_token_sequence(tree=None, beam_width=2):
    """Beam search over a two-step toy model given as a tree, written out for checking.

    Args:
        tree: `{first: (p(first), {second: p(second | first)})}`; defaults to `BEAM_TREE`.
        beam_width: the beams kept after the first step.

    Returns:
        `(first, second, probability)` of the best sequence the beam search finds.

    Example:

    >>> best_two_token_sequence(beam_width=1)[:2]
    ('good', 'night')
    """
    tree = BEAM_TREE if tree is None else tree
    beams = sorted(tree, key=lambda w: -tree[w][0])[:beam_width]
    candidates = [
        (first, second, tree[first][0] * p)
        for first in beams
        for second, p in tree[first][1].items()
    ]
    return max(candidates, key=lambda c: c[2])


def check_beam_choice(answer):
    """Exercise 09.3: the two words beam search with width 2 picks in `BEAM_TREE`.

    Args:
        answer: the sequence as a str, e.g. ``"good night"``.

    Example:

    >>> check_beam_choice("good night")
    ❌ Not yet: "good night" is what greedy decoding picks (0.5 x 0.4 = 0.20). Hint: with width 2 the second-best first word stays in play: compare every two-word sequence that starts with one of the two best first words.
    False
    """
    if not isinstance(answer, str) or len(answer.split()) != 2:
        return _wrong(f"expected two words in a str, got {answer!r}.", 'write it like "fair lady".')
    words = tuple(answer.lower().split())
    first, second, p = best_two_token_sequence(beam_width=2)
    g_first, g_second, g_p = best_two_token_sequence(beam_width=1)
    if words == (first, second):
        return _ok(
            f'"{first} {second}" has probability {BEAM_TREE[first][0]} x {BEAM_TREE[first][1][second]} '
            f"= {p:.2f}, more than greedy's {g_p:.2f}."
        )
    if words == (g_first, g_second):
        return _wrong(
            f'"{g_first} {g_second}" is what greedy decoding picks '
            f"({BEAM_TREE[g_first][0]} x {BEAM_TREE[g_first][1][g_second]} = {g_p:.2f}).",
            "with width 2 the second-best first word stays in play: compare every two-word "
            "sequence that starts with one of the two best first words.",
        )
    if words[0] == "fair":
        return _wrong(
            '"fair" is only the third most likely first word.',
            "a beam of width 2 keeps only the two best first words.",
        )
    return _wrong(
        f'"{answer}" is not the beam\'s choice.',
        "multiply p(first) by p(second | first) for each sequence the beam keeps.",
    )


def check_kept_turns(answer):
    """Exercise 09.4: how many of `TURN_LENGTHS` (the new message included) `chat()` keeps in a
    context of `CONTEXT_LENGTH` tokens with `REPLY_RESERVE` tokens free for the reply.

    Args:
        answer: the number of turns kept.

    Example:

    >>> check_kept_turns(5)
    ❌ Not yet: all five take 66 tokens, more than the 47 available. Hint: the budget is 64 - 16 reserved - 1 for the bot's speaker token.
    False
    """
    value = _number(answer, "the number of kept turns")
    if value is None:
        return False
    budget = CONTEXT_LENGTH - REPLY_RESERVE - 1
    kept = turns_that_fit(TURN_LENGTHS, budget)
    if value == kept:
        used = sum(TURN_LENGTHS[-kept:])
        return _ok(
            f"the newest {kept} turns take {used} of {budget} tokens; the oldest "
            f"({TURN_LENGTHS[0]} tokens) is dropped."
        )
    if value == len(TURN_LENGTHS):
        return _wrong(
            f"all five take {sum(TURN_LENGTHS)} tokens, more than the {budget} available.",
            f"the budget is {CONTEXT_LENGTH} - {REPLY_RESERVE} reserved - 1 for the bot's "
            "speaker token.",
        )
    if value < kept:
        return _wrong(
            f"{value:.0f} turns leave room unused.",
            f"keep adding turns from the newest end while the total stays <= {budget}.",
        )
    return _wrong(
        f"{value:.0f} is not the count.",
        f"start from the newest turn and add turn lengths while the total stays <= {budget}.",
    )
