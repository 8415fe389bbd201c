"""The chapter 06-07 exercise checks accept the right answer and explain the usual wrong ones."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from course_lib.exercises import ch06, ch07

# One name for the checks of these chapters, as the tests were written before the split.
ex = SimpleNamespace(**{**vars(ch06), **vars(ch07)})


def _run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


def stable_ce(logits, labels):
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return -logp[np.arange(len(labels)), labels]


def naive_ce(logits, labels):
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return -np.log(p[np.arange(len(labels)), labels])


def clipped_ce(logits, labels):
    z = logits - logits.max(-1, keepdims=True)
    p = np.clip(np.exp(z) / np.exp(z).sum(-1, keepdims=True), 1e-7, 1.0)
    return -np.log(p[np.arange(len(labels)), labels])


def mean_ce(logits, labels):
    return stable_ce(logits, labels).mean()


LR = 1e-4 + 0.5 * (1 + math.cos(math.pi * 1400 / 1900)) * 9e-4


@pytest.mark.parametrize(
    ("check", "right", "wrong", "hint"),
    [
        (ex.check_initial_loss, math.log(50_257), math.log2(50_257), "bits"),
        (ex.check_initial_loss, math.log(50_257), 1 / 50_257, "probability"),
        (ex.check_cross_entropy_function, stable_ce, naive_ce, "not finite"),
        (ex.check_cross_entropy_function, stable_ce, clipped_ce, "do not clip"),
        (ex.check_cross_entropy_function, stable_ce, mean_ce, "mean"),
        (ex.check_cross_entropy_function, stable_ce, lambda z, y: -stable_ce(z, y), "sign"),
        (ex.check_learning_rate, LR, 0.5 * (1 + math.cos(math.pi * 1400 / 1900)) * 1e-3, "to 0"),
        (ex.check_learning_rate, LR, 1e-3, "past warm-up"),
        (ex.check_word_perplexity, math.exp(6.6), math.exp(1.2), "per-character"),
        (ex.check_word_perplexity, math.exp(6.6), 6.6, "nats"),
        (ex.check_f1, 2 / 3, 0.675, "harmonic"),
        (ex.check_f1, 2 / 3, 0.97, "accuracy"),
        (ex.check_f1, 2 / 3, 66.67, "percentage"),
        (ex.check_modified_precision, 0.75, 1.0, "clip"),
        (ex.check_brevity_penalty, math.exp(-0.5), math.exp(1 - 4 / 6), "r/c"),
        (ex.check_brevity_penalty, math.exp(-0.5), 1.0, "c = 4 < r = 6"),
    ],
)
def test_right_and_wrong_answers(check, right, wrong, hint, capsys):
    ok, out = _run(check, right, capsys)
    assert ok is True and out.startswith("✅ Correct")
    ok, out = _run(check, wrong, capsys)
    assert ok is False and out.startswith("❌ Not yet") and hint in out


@pytest.mark.parametrize(
    "check",
    [
        ex.check_initial_loss,
        ex.check_learning_rate,
        ex.check_word_perplexity,
        ex.check_f1,
        ex.check_modified_precision,
        ex.check_brevity_penalty,
    ],
)
def test_unanswered_exercise_asks_for_a_value(check, capsys):
    ok, out = _run(check, None, capsys)
    assert ok is False and "replace the `None`" in out
    ok, out = _run(check, "0.5", capsys)
    assert ok is False and "expected a number" in out


def test_cross_entropy_check_survives_a_crashing_function(capsys):
    def broken(logits, labels):
        raise IndexError("oops")

    ok, out = _run(ex.check_cross_entropy_function, broken, capsys)
    assert ok is False and "IndexError" in out
    ok, out = _run(ex.check_cross_entropy_function, 3.0, capsys)
    assert ok is False and "function" in out


def test_expected_values_come_from_the_library():
    assert ex.expected_learning_rate() == pytest.approx(LR, rel=1e-5)
