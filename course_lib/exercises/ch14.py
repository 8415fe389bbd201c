"""Self-checks for the exercises of chapter 14 (the FAQ, answered with evidence).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from
`course_lib.chapters.ch14_faq`, so an exercise and the chapter can never disagree.

Example:

>>> check_uniform_loss(4.174)
✅ Correct: ln 65 = 4.174 nats: a model that knows nothing spreads its bet evenly over 65 characters.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.chapters import ch14_faq as faq
from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong

__all__ = [
    "VOCAB_SIZE",
    "FLOPS_MODEL",
    "RUN",
    "LOSS_CURVES",
    "UNIGRAM_ENTROPY",
    "check_uniform_loss",
    "check_training_flops",
    "check_training_minutes",
    "check_shuffled_labels_curve",
]

VOCAB_SIZE = 65  # Tiny Shakespeare's characters
# Exercise 2: chapter 06's model and run.
FLOPS_MODEL = {"parameters": 809_856, "steps": 2_000, "batch_size": 12, "context_length": 64}
# Exercise 3: a planned run, and the throughput measured on a short trial of it.
RUN = {"steps": 5_000, "batch_size": 64, "context_length": 256, "tokens_per_second": 20_000}
# Exercise 4: four training-loss curves of a character model (V = 65), one value every 25 steps.
_steps = np.arange(12)
UNIGRAM_ENTROPY = 3.30
LOSS_CURVES = {
    "A": [round(float(v), 2) for v in 4.17 * np.exp(-_steps / 1.5) + 0.01],
    "B": [round(float(v), 2) for v in 1.9 + 2.27 * np.exp(-_steps / 3)],
    "C": [round(float(v), 2) for v in UNIGRAM_ENTROPY + 0.87 * np.exp(-_steps / 1.2)],
    "D": [4.17, 4.18, 4.17, 4.18, 4.17, 4.17, 4.18, 4.17, 4.17, 4.18, 4.17, 4.17],
}


def _close(value, expected, rel=0.01):
    return math.isclose(value, expected, rel_tol=rel)


def check_uniform_loss(answer):
    """Exercise 14.1: the cross-entropy (nats per token) of a uniform guess over `VOCAB_SIZE`.

    Args:
        answer: the learner's loss.

    Example:

    >>> check_uniform_loss(6.02)
    ❌ Not yet: 6.02 is log2(65), in bits. Hint: Keras's cross-entropy uses the natural log (nats).
    False
    """
    value = as_number(answer, "the loss")
    if value is None:
        return False
    expected = math.log(VOCAB_SIZE)
    if _close(value, expected, 0.002):
        return _ok(f"ln {VOCAB_SIZE} = {expected:.3f} nats: a model that knows nothing spreads its "
                   f"bet evenly over {VOCAB_SIZE} characters.")
    if _close(value, math.log2(VOCAB_SIZE), 0.002):
        return _wrong(f"{value:g} is log2({VOCAB_SIZE}), in bits.",
                      "Keras's cross-entropy uses the natural log (nats).")
    if _close(value, 1 / VOCAB_SIZE, 0.01):
        return _wrong(f"{value:g} is the probability of each token, not the loss.",
                      "the loss is -ln(probability of the right token).")
    if _close(value, VOCAB_SIZE, 0.001):
        return _wrong(f"{VOCAB_SIZE} is the perplexity of a uniform guess.",
                      "the loss is the log of the perplexity.")
    return _wrong(f"{value:g} is not the uniform-guess loss.",
                  "each token gets probability 1/V; the loss is -ln(1/V).")


def check_training_flops(answer):
    """Exercise 14.2: training FLOPs of the run in `FLOPS_MODEL` by the 6·N·D rule.

    Args:
        answer: the learner's FLOP count.

    Example:

    >>> check_training_flops(2 * 809_856 * 1_536_000)
    ❌ Not yet: 2.49e+12 counts the forward pass only (2·N·D). Hint: the backward pass costs about twice the forward: 6·N·D in all.
    False
    """
    value = as_number(answer, "the FLOP count")
    if value is None:
        return False
    m = FLOPS_MODEL
    d = m["steps"] * m["batch_size"] * m["context_length"]
    expected = faq.training_flops(m["parameters"], d)
    if _close(value, expected):
        return _ok(f"6 x {m['parameters']:,} x {d:,} tokens = {expected:.3g} FLOPs.")
    if _close(value, expected / 3):
        return _wrong(f"{value:.3g} counts the forward pass only (2·N·D).",
                      "the backward pass costs about twice the forward: 6·N·D in all.")
    if _close(value, expected / m["context_length"]):
        return _wrong(f"{value:.3g} counts sequences, not tokens.",
                      "D = steps x batch size x context length.")
    if _close(value, expected / (m["batch_size"] * m["context_length"])):
        return _wrong(f"{value:.3g} uses the number of steps as D.",
                      "each step trains on batch size x context length tokens.")
    return _wrong(f"{value:.3g} is not 6·N·D.",
                  "N = parameters; D = steps x batch size x context length; multiply 6·N·D.")


def check_training_minutes(answer):
    """Exercise 14.3: how many minutes the run in `RUN` takes at its measured throughput.

    Args:
        answer: the learner's estimate, in minutes.

    Example:

    >>> check_training_minutes(4096)
    ❌ Not yet: 4096 is the time in seconds. Hint: divide by 60.
    False
    """
    value = as_number(answer, "the minutes")
    if value is None:
        return False
    r = RUN
    d = r["steps"] * r["batch_size"] * r["context_length"]
    est = faq.estimate_training(num_tokens=d, tokens_per_second=r["tokens_per_second"])
    minutes = est.seconds / 60
    if _close(value, minutes):
        return _ok(f"{d:,} tokens / {r['tokens_per_second']:,} tokens/s = {est.seconds:,.0f} s "
                   f"= {minutes:.1f} min.")
    if _close(value, est.seconds):
        return _wrong(f"{value:g} is the time in seconds.", "divide by 60.")
    if _close(value, minutes / r["context_length"]) or _close(value, minutes / r["batch_size"]):
        return _wrong(f"{value:g} minutes leaves out part of the tokens.",
                      "tokens per step = batch size x context length.")
    if _close(value, minutes / 60):
        return _wrong(f"{value:g} is the time in hours.", "multiply by 60.")
    return _wrong(f"{value:g} minutes is not the estimate.",
                  "tokens = steps x batch x context; seconds = tokens / (tokens per second).")


def check_shuffled_labels_curve(answer):
    """Exercise 14.4: which of `LOSS_CURVES` comes from a run whose targets were shuffled?

    Args:
        answer: a letter, ``"A"`` to ``"D"``.

    Example:

    >>> check_shuffled_labels_curve("D")
    ❌ Not yet: D never leaves ln 65 = 4.17: nothing was learned at all (a learning rate of ~0, or no gradient reaching the weights). Hint: shuffled targets still let the model learn which characters are frequent: look for the curve that stops at the unigram entropy.
    False
    """
    if not isinstance(answer, str) or answer.strip().upper() not in LOSS_CURVES:
        return _wrong(f"expected one of the letters {', '.join(LOSS_CURVES)}, got {answer!r}.",
                      'write it like "B".')
    letter = answer.strip().upper()
    verdicts = {k: faq.diagnose_loss(v, VOCAB_SIZE, unigram=UNIGRAM_ENTROPY).verdict
                for k, v in LOSS_CURVES.items()}
    verdict = verdicts[letter]
    hint = ("shuffled targets still let the model learn which characters are frequent: look "
            "for the curve that stops at the unigram entropy.")
    if verdict == "frequencies only":
        return _ok(f"{letter} flattens at the unigram entropy {UNIGRAM_ENTROPY}: the model "
                   "learned character frequencies, and nothing links inputs to targets.")
    if verdict == "too good":
        return _wrong(f"{letter} falls to almost 0: the targets leak into the inputs "
                      "(no shift), the opposite problem.", hint)
    if verdict == "stuck at uniform":
        return _wrong(f"{letter} never leaves ln 65 = 4.17: nothing was learned at all (a "
                      "learning rate of ~0, or no gradient reaching the weights).", hint)
    return _wrong(f"{letter} goes below the unigram entropy, so its model uses context: a "
                  "healthy run.", hint)
