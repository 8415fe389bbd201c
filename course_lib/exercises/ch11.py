"""Self-checks for the exercises of chapter 11 (extractive question answering).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from
`course_lib.chapters.ch11_question_answering`, so an exercise and the chapter can never disagree.

Example:

>>> check_f1(2 / 3)
✅ Correct: 2 common words, precision 2/4, recall 2/2: F1 = 0.667.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.chapters import ch11_question_answering as qa
from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong

__all__ = [
    "F1_PREDICTION",
    "F1_GOLD",
    "WINDOW_CONTEXT_TOKENS",
    "WINDOW_QUESTION_TOKENS",
    "WINDOW_MAX_LENGTH",
    "WINDOW_STRIDE",
    "SPAN_START",
    "SPAN_END",
    "SPAN_CAP",
    "check_f1",
    "check_num_windows",
    "check_best_span",
    "check_span_decoder",
]

# Exercise 1: the SQuAD F1 of one prediction.
F1_PREDICTION = "in the late 10th century"
F1_GOLD = "10th century"
# Exercise 2: windows over a long context.
WINDOW_CONTEXT_TOKENS = 300
WINDOW_QUESTION_TOKENS = 20
WINDOW_MAX_LENGTH = 128
WINDOW_STRIDE = 64
# Exercise 3: span decoding by hand (6 context tokens, answers of at most 3 tokens).
SPAN_START = [1.0, 0.5, 3.0, 0.0, 2.5, 0.2]
SPAN_END = [2.0, 0.1, 0.4, 1.0, 0.3, 3.5]
SPAN_CAP = 3


def check_f1(answer):
    """Exercise 11.1: SQuAD F1 of `F1_PREDICTION` against `F1_GOLD`.

    Args:
        answer: the learner's F1, a fraction in [0, 1].

    Example:

    >>> check_f1(0.8)
    ❌ Not yet: 0.800 is not the F1. Hint: normalise both answers first (lower-case, drop punctuation and the articles a/an/the), then count common words: precision = common / predicted words, recall = common / gold words, F1 = 2PR / (P + R).
    False
    """
    value = as_number(answer, "the F1")
    if value is None:
        return False
    expected = qa.f1_score(F1_PREDICTION, F1_GOLD)
    pred = qa.normalize_answer(F1_PREDICTION).split()
    gold = qa.normalize_answer(F1_GOLD).split()
    if math.isclose(value, expected, abs_tol=1e-3):
        return _ok(f"2 common words, precision 2/{len(pred)}, recall 2/{len(gold)}: "
                   f"F1 = {expected:.3f}.")
    raw = F1_PREDICTION.lower().split()
    with_article = 2 * (2 / len(raw)) * 1.0 / (2 / len(raw) + 1.0)
    if math.isclose(value, with_article, abs_tol=1e-3):
        return _wrong(f"{value:.3f} counts \"the\" as a predicted word.",
                      "normalisation removes the articles a, an and the before counting.")
    if math.isclose(value, 0.0, abs_tol=1e-3):
        return _wrong("0 is the exact match, not the F1.",
                      "F1 gives partial credit for the words both answers share.")
    if math.isclose(value, 2 / len(pred), abs_tol=1e-3):
        return _wrong(f"{value:.3f} is the precision alone.",
                      "combine precision and recall: F1 = 2PR / (P + R).")
    if math.isclose(value, 100 * expected, abs_tol=0.1):
        return _wrong("that is the F1 in percent.", "give it as a fraction between 0 and 1.")
    return _wrong(
        f"{value:.3f} is not the F1.",
        "normalise both answers first (lower-case, drop punctuation and the articles "
        "a/an/the), then count common words: precision = common / predicted words, recall = "
        "common / gold words, F1 = 2PR / (P + R).",
    )


def _windows():
    window = WINDOW_MAX_LENGTH - WINDOW_QUESTION_TOKENS - 3
    return window, qa._window_starts(WINDOW_CONTEXT_TOKENS, window, WINDOW_STRIDE)


def check_num_windows(answer):
    """Exercise 11.2: how many windows `build_features` makes for the context and question
    sizes of the exercise.

    Args:
        answer: the learner's count.

    Example:

    >>> check_num_windows(3)
    ❌ Not yet: 3 windows of 105 tokens would not overlap. Hint: a new window starts every 64 tokens (the stride), until one reaches the end of the context.
    False
    """
    value = as_number(answer, "the number of windows")
    if value is None:
        return False
    window, starts = _windows()
    if value == len(starts):
        return _ok(f"each window holds {window} context tokens ({WINDOW_MAX_LENGTH} − "
                   f"{WINDOW_QUESTION_TOKENS} question tokens − 3 special tokens); they start "
                   f"at tokens {', '.join(map(str, starts))}.")
    if value == math.ceil(WINDOW_CONTEXT_TOKENS / window):
        return _wrong(f"{value:.0f} windows of {window} tokens would not overlap.",
                      f"a new window starts every {WINDOW_STRIDE} tokens (the stride), until "
                      "one reaches the end of the context.")
    if value == math.ceil(WINDOW_CONTEXT_TOKENS / (WINDOW_MAX_LENGTH - 3)):
        return _wrong("that forgets the question.",
                      "the question shares the window: only "
                      f"{WINDOW_MAX_LENGTH} − {WINDOW_QUESTION_TOKENS} − 3 tokens are context.")
    return _wrong(f"{value:.0f} is not the number of windows.",
                  f"the first window starts at 0 and holds {WINDOW_MAX_LENGTH} − "
                  f"{WINDOW_QUESTION_TOKENS} − 3 context tokens; add {WINDOW_STRIDE} to the "
                  "start until a window reaches the last token.")


def check_best_span(answer):
    """Exercise 11.3: the best span `(start, end)` of `SPAN_START` / `SPAN_END` with
    start ≤ end and at most `SPAN_CAP` tokens.

    Args:
        answer: a pair of token indices (0-based).

    Example:

    >>> check_best_span((2, 5))
    ❌ Not yet: (2, 5) takes the best start and the best end separately. Hint: the pair must also satisfy the length cap; score pairs, not positions.
    False
    """
    try:
        i, j = (int(v) for v in answer)
    except (TypeError, ValueError):
        return _wrong(f"expected a pair (start, end), got {answer!r}.",
                      "write the two token indices, e.g. (1, 2).")
    start, end = np.asarray(SPAN_START), np.asarray(SPAN_END)
    best_i, best_j, score = qa.best_span(start, end, np.ones(len(start), bool), SPAN_CAP)
    if (i, j) == (best_i, best_j):
        return _ok(f"start {i}, end {j}: {start[i]} + {end[j]} = {score:.1f}, the best valid "
                   "pair.")
    if not (0 <= i < len(start) and 0 <= j < len(start)):
        return _wrong(f"({i}, {j}) is outside the {len(start)} tokens.", "indices start at 0.")
    if (i, j) == (int(start.argmax()), int(end.argmax())):
        return _wrong(f"({i}, {j}) takes the best start and the best end separately.",
                      "the pair must also satisfy the length cap; score pairs, not positions.")
    if j < i:
        return _wrong(f"({i}, {j}) ends before it starts.", "only pairs with start ≤ end count.")
    if j - i + 1 > SPAN_CAP:
        return _wrong(f"({i}, {j}) is {j - i + 1} tokens long; the cap is {SPAN_CAP}.",
                      f"only pairs with end − start + 1 ≤ {SPAN_CAP} count.")
    return _wrong(f"({i}, {j}) scores {start[i] + end[j]:.1f}; a valid pair scores more.",
                  "list the valid pairs and add start[i] + end[j] for each.")


def _cases():
    rng = np.random.default_rng(11)
    cases = [
        (np.array([0.0, 0.0, 0.0, 9.0]), np.array([0.0, 9.0, 0.0, 1.0]), 4),  # end < start
        (np.array([5.0] + [0.0] * 9), np.array([0.0, 0.0, 1.0] + [0.0] * 6 + [5.0]), 5),  # cap
        (np.array(SPAN_START), np.array(SPAN_END), SPAN_CAP),
    ]
    for _ in range(20):
        n = int(rng.integers(1, 12))
        cases.append((rng.normal(size=n), rng.normal(size=n), int(rng.integers(1, 5))))
    return cases


def check_span_decoder(fn):
    """Exercise 11.4: the learner's `fn(start_logits, end_logits, max_answer_tokens)` must
    return the best `(start, end)` with start ≤ end and end − start + 1 ≤ max_answer_tokens,
    as `course_lib.chapters.ch11_question_answering.best_span` does (every position allowed).

    Args:
        fn: the learner's function.

    Example:
    ```python
    check_span_decoder(lambda s, e, cap: (int(np.argmax(s)), int(np.argmax(e))))  # Not yet
    ```
    """
    if not callable(fn):
        return _wrong(f"expected a function, got {fn!r}.",
                      "define `my_best_span(start_logits, end_logits, max_answer_tokens)`.")
    for start, end, cap in _cases():
        want = qa.best_span(start, end, np.ones(len(start), bool), cap)[:2]
        try:
            got = fn(start.copy(), end.copy(), cap)
        except Exception as error:  # the learner's code: report any failure as a hint
            return _wrong(f"your function raised {type(error).__name__}: {error}.",
                          "test it on the exercise's six logits first.")
        if got is None:
            return _wrong("your function returned None.", "return a pair (start, end).")
        try:
            got = tuple(int(v) for v in got)
        except (TypeError, ValueError):
            return _wrong(f"expected a pair (start, end), got {got!r}.", "return two ints.")
        if got == want:
            continue
        shown = f"start {np.round(start, 2).tolist()}, end {np.round(end, 2).tolist()}, cap {cap}"
        if len(got) == 2 and got[1] < got[0]:
            return _wrong(f"for {shown} you return {got}, which ends before it starts.",
                          "only consider pairs with start ≤ end.")
        if len(got) == 2 and got[1] - got[0] + 1 > cap:
            return _wrong(f"for {shown} you return {got}, longer than the cap.",
                          "only consider pairs with end − start + 1 ≤ max_answer_tokens.")
        return _wrong(f"for {shown} you return {got}; the best valid pair is {want}.",
                      "maximise start[i] + end[j] over the valid pairs (i, j).")
    return _ok(f"your decoder agrees with `qa.best_span` on all {len(_cases())} cases.")
