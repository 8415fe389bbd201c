"""Self-checks for the exercises of chapter 10 (translation and summarization).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from the
course library (`course_lib.chapters.ch10_translation_and_summarization`, `course_lib.metrics`), so an exercise and the chapter can
never disagree.

Example:

>>> check_labels([7, 8, 9, 2])
✅ Correct: the labels are the target shifted left by one: [7, 8, 9, 2].
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.chapters import ch10_translation_and_summarization as seq2seq
from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong
from course_lib.metrics import corpus_bleu, rouge

__all__ = [
    "TARGET_IDS",
    "HYPOTHESES",
    "BLEU_HYPOTHESIS",
    "BLEU_REFERENCE",
    "ROUGE_SUMMARY",
    "ROUGE_REFERENCE",
    "CENTRALITY_UNITS",
    "check_labels",
    "check_length_penalty_winner",
    "check_brevity_penalty",
    "check_rouge_1",
    "check_centrality",
]

# Shared inputs, so the notebook shows exactly what each check uses.
START_ID, END_ID, PAD_ID = 1, 2, 0
TARGET_IDS = [START_ID, 7, 8, 9, END_ID, PAD_ID]  # one padded target, as pair_dataset reads it
# Two finished beam hypotheses: (translation, summed log-probability, tokens incl. [END]).
HYPOTHESES = {
    "Sí.": (-1.2, 2),
    "Sí, lo he visto.": (-2.8, 6),
}
BLEU_HYPOTHESIS = "el gato está en la casa ."
BLEU_REFERENCE = "el gato negro está en la casa grande ."
ROUGE_SUMMARY = "#Person1# wants to buy a new car."
ROUGE_REFERENCE = "#Person1# and #Person2# talk about buying a car."
CENTRALITY_UNITS = [
    "#Person1#: Hi, how are you?",
    "#Person2#: I want to book a table for two tonight.",
    "#Person1#: A table for two at eight tonight is free.",
    "#Person2#: Great, book the table at eight, please.",
]


def check_labels(answer):
    """Exercise 10.1: the labels `pair_dataset` makes from `TARGET_IDS` (teacher forcing).

    Args:
        answer: a list of ids.

    Example:

    >>> check_labels([1, 7, 8, 9, 2])
    ❌ Not yet: [1, 7, 8, 9, 2] is the decoder input (without padding). Hint: the labels are what the decoder must predict at each position: the next token.
    False
    """
    try:
        value = [int(x) for x in answer]
    except (TypeError, ValueError):
        return _wrong(f"expected a list of ids, got {answer!r}.", "write it like [3, 4, 5].")
    t = len(TARGET_IDS) - 1
    ds = seq2seq.pair_dataset([[5]], [TARGET_IDS], 1, t, batch_size=1, pad_id=PAD_ID,
                              shuffle=False)
    (inputs, labels), = ds.take(1).as_numpy_iterator()
    labels = labels[0].tolist()
    decoder = inputs["decoder_token_ids"][0].tolist()
    real = [x for x in labels if x != PAD_ID]
    if value in (labels, real):
        return _ok(f"the labels are the target shifted left by one: {real}.")
    if value in (decoder, [x for x in decoder if x != PAD_ID]):
        return _wrong(
            f"{value} is the decoder input (without padding).",
            "the labels are what the decoder must predict at each position: the next token.",
        )
    if value[:1] == [START_ID]:
        return _wrong(f"{value} starts with [START] ({START_ID}).",
                      "nobody predicts the start token; the first label is the first word.")
    if END_ID not in value:
        return _wrong(f"{value} has no [END] ({END_ID}).",
                      "the decoder must learn when to stop, so [END] is a label too.")
    return _wrong(f"{value} is not the label sequence.",
                  "drop the first id of the target, keep the rest.")


def _penalised(alpha):
    return {h: lp / n**alpha for h, (lp, n) in HYPOTHESES.items()}


def check_length_penalty_winner(answer):
    """Exercise 10.2: the hypothesis of `HYPOTHESES` that beam search returns with α = 1.

    Args:
        answer: the translation (a str, one of the keys of `HYPOTHESES`).

    Example:

    >>> check_length_penalty_winner("Sí.")
    ❌ Not yet: "Sí." wins only without a length penalty (α = 0: -1.2 > -2.8). Hint: with α = 1 compare log p / length: -1.2 / 2 against -2.8 / 6.
    False
    """
    if answer not in HYPOTHESES:
        return _wrong(f"{answer!r} is not one of the hypotheses.",
                      f"copy one of {list(HYPOTHESES)}.")
    raw, norm = _penalised(0.0), _penalised(1.0)
    winner = max(norm, key=norm.get)
    if answer == winner:
        detail = ", ".join(f"{h!r}: {s:.3f}" for h, s in norm.items())
        return _ok(f"per token, {detail}; the longer translation is better per token.")
    if answer == max(raw, key=raw.get):
        (lp_a, n_a), (lp_b, n_b) = HYPOTHESES.values()
        return _wrong(
            f'"{answer}" wins only without a length penalty (α = 0: {lp_a} > {lp_b}).',
            f"with α = 1 compare log p / length: {lp_a} / {n_a} against {lp_b} / {n_b}.",
        )
    return _wrong(f'"{answer}" does not win.', "divide each log p by its length and compare.")


def expected_brevity_penalty():
    """BLEU's brevity penalty of `BLEU_HYPOTHESIS` against `BLEU_REFERENCE` (course_lib)."""
    return corpus_bleu([BLEU_HYPOTHESIS], [[BLEU_REFERENCE]]).brevity_penalty


def check_brevity_penalty(answer):
    """Exercise 10.3: BLEU's brevity penalty for `BLEU_HYPOTHESIS` (words split on spaces).

    Args:
        answer: a number in (0, 1].

    Example:

    >>> check_brevity_penalty(7 / 9)
    ❌ Not yet: 0.778 is the length ratio c / r, not the penalty. Hint: BP = exp(1 - r / c) when the hypothesis is shorter (c < r).
    False
    """
    value = as_number(answer, "the brevity penalty")
    if value is None:
        return False
    c, r = len(BLEU_HYPOTHESIS.split()), len(BLEU_REFERENCE.split())
    expected = expected_brevity_penalty()
    if math.isclose(value, expected, abs_tol=1e-3):
        return _ok(f"c = {c}, r = {r}: BP = exp(1 - {r}/{c}) = {expected:.4f}.")
    if math.isclose(value, c / r, abs_tol=1e-3):
        return _wrong(f"{value:.3f} is the length ratio c / r, not the penalty.",
                      "BP = exp(1 - r / c) when the hypothesis is shorter (c < r).")
    if math.isclose(value, math.exp(1 - c / r), abs_tol=1e-3):
        return _wrong(f"{value:.3f} swaps r and c.",
                      "r is the reference length, c the hypothesis length: exp(1 - r / c).")
    if math.isclose(value, 1.0):
        return _wrong("1 is the penalty of a hypothesis at least as long as its reference.",
                      "this hypothesis is shorter, so BLEU penalises it.")
    return _wrong(f"{value:.4f} is not the penalty.",
                  "count the words: c = len(hypothesis.split()), r = len(reference.split()).")


def check_rouge_1(answer):
    """Exercise 10.4: ROUGE-1 F1 of `ROUGE_SUMMARY` against `ROUGE_REFERENCE`.

    Tokens as `rouge_score` makes them: lower case, every run of letters and digits is a token
    ("#Person1#" becomes "person1").

    Args:
        answer: a number in [0, 1].

    Example:

    >>> check_rouge_1(0.5)
    ❌ Not yet: 0.500 is not ROUGE-1 F1. Hint: count the overlapping unigrams, then P = overlap / summary words, R = overlap / reference words, F1 = 2PR / (P + R).
    False
    """
    value = as_number(answer, "ROUGE-1 F1")
    if value is None:
        return False
    score = rouge(ROUGE_SUMMARY, ROUGE_REFERENCE, ("rouge1",))["rouge1"]
    if math.isclose(value, score.fmeasure, abs_tol=2e-3):
        return _ok(f"P = {score.precision:.3f}, R = {score.recall:.3f}, "
                   f"F1 = {score.fmeasure:.3f}.")
    if math.isclose(value, score.precision, abs_tol=2e-3):
        return _wrong(f"{value:.3f} is the precision.", "combine it with the recall: 2PR / (P + R).")
    if math.isclose(value, score.recall, abs_tol=2e-3):
        return _wrong(f"{value:.3f} is the recall.", "combine it with the precision: 2PR / (P + R).")
    return _wrong(
        f"{value:.3f} is not ROUGE-1 F1.",
        "count the overlapping unigrams, then P = overlap / summary words, "
        "R = overlap / reference words, F1 = 2PR / (P + R).",
    )


def check_centrality(fn):
    """Exercise 10.5: a function `units -> scores` giving degree centrality with TF-IDF cosine.

    Compared with `course_lib.chapters.ch10_translation_and_summarization.centrality_scores` on `CENTRALITY_UNITS` and on a second,
    hidden set of units.

    Args:
        fn: the learner's function.

    Example:

    >>> check_centrality(lambda units: [1.0] * len(units))
    ❌ Not yet: scores [1.0, 1.0, 1.0, 1.0] differ from the expected [0.117, 0.68, 0.782, 0.564] (rounded). Hint: build TF-IDF vectors of the units, take cosine similarities, set the diagonal to 0, and sum each row.
    False
    """
    if not callable(fn):
        return _wrong(f"expected a function, got {fn!r}.", "define `def centrality(units): ...`.")
    hidden = ["the cat sat", "the cat ran home", "stocks fell", "a cat sat at home"]
    for units in (CENTRALITY_UNITS, hidden):
        expected = seq2seq.centrality_scores(units)
        try:
            got = np.asarray(fn(list(units)), dtype=np.float64).reshape(-1)
        except Exception as error:  # the learner's code may fail in any way
            return _wrong(f"your function raised {type(error).__name__}: {error}.",
                          "test it on CENTRALITY_UNITS first.")
        if got.shape != expected.shape:
            return _wrong(f"{got.size} scores for {len(units)} units.", "return one score per unit.")
        if not np.allclose(got, expected, atol=1e-6):
            if np.allclose(got, expected + 1.0, atol=1e-6):
                return _wrong("each score includes the unit's similarity to itself (1).",
                              "set the diagonal of the similarity matrix to 0.")
            return _wrong(
                f"scores {np.round(got, 3).tolist()} differ from the expected "
                f"{np.round(expected, 3).tolist()} (rounded).",
                "build TF-IDF vectors of the units, take cosine similarities, set the diagonal "
                "to 0, and sum each row.",
            )
    best = int(np.argmax(seq2seq.centrality_scores(CENTRALITY_UNITS)))
    return _ok(f"your scores match; the most central turn is {CENTRALITY_UNITS[best]!r}.")
