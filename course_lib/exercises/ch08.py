"""Self-checks for the exercises of chapter 08 (text classification).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from the
course library (keras-hub's WordPiece tokenizer, `course_lib.metrics`,
`course_lib.encoder.TransformerClassifier`), so an exercise and the chapter can never disagree.

Example:

>>> check_f1(0.762)
✅ Correct: precision 0.667, recall 0.889, F1 = 2·TP / (2·TP + FP + FN) = 0.762.
True
"""

from __future__ import annotations

import math

import keras
import keras_hub
import numpy as np

from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong
from course_lib.metrics import accuracy, f1_score

__all__ = [
    "TOY_VOCABULARY",
    "TOY_WORD",
    "MLM_PROBABILITIES",
    "MLM_WEIGHTS",
    "CONFUSION",
    "check_pieces",
    "check_mlm_loss",
    "check_f1",
    "check_mean_pool",
]

# Exercise 1: a toy WordPiece vocabulary and a word to split with it.
TOY_VOCABULARY = ["[PAD]", "[UNK]", "un", "unbeliev", "believ", "##believ", "##able", "##ab",
                  "##le", "##ly", "able"]
TOY_WORD = "unbelievably"
# Exercise 2: the probability the model gave the TRUE token at each of P = 4 masked slots of
# one sentence, and the mask weights (the generator pads to P with weight 0).
MLM_PROBABILITIES = [0.5, 0.25, 0.9, 0.01]
MLM_WEIGHTS = [1.0, 1.0, 0.0, 0.0]
# Exercise 3: a test set's confusion counts, positive class = 1.
CONFUSION = {"tp": 40, "fp": 20, "fn": 5, "tn": 35}


def _toy_pieces(word=TOY_WORD, vocabulary=None):
    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=list(vocabulary or TOY_VOCABULARY), oov_token="[UNK]", lowercase=True
    )
    vocab = list(vocabulary or TOY_VOCABULARY)
    return [vocab[i] for i in np.asarray(tokenizer(word)).tolist()]


def check_pieces(answer):
    """Exercise 08.1: the WordPiece pieces of `TOY_WORD` with `TOY_VOCABULARY`.

    WordPiece splits greedily: the longest vocabulary entry that starts the word, then the
    longest `##` entry that continues it, and so on.

    Args:
        answer: the learner's list of strings, e.g. `["un", "##believ", ...]`.

    Example:

    >>> check_pieces(["un", "##believ", "##ab", "##ly"])
    ❌ Not yet: "un" is not the longest entry that starts the word. Hint: WordPiece takes the longest match first: look for a longer entry beginning with "un".
    False
    """
    if not isinstance(answer, (list, tuple)) or not all(isinstance(p, str) for p in answer):
        return _wrong(
            f"expected a list of strings, got {answer!r}.",
            'write the pieces as a list, e.g. ["un", "##believ"].',
        )
    expected = _toy_pieces()
    answer = [p.strip() for p in answer]
    if answer == expected:
        return _ok(f"{TOY_WORD!r} → {expected}: longest match first, then '##' continuations.")
    if "".join(p.removeprefix("##") for p in answer) != TOY_WORD:
        return _wrong(
            f"the pieces {answer} do not spell {TOY_WORD!r} when joined (without '##').",
            "every letter of the word must be in exactly one piece.",
        )
    if any(p not in TOY_VOCABULARY for p in answer):
        missing = [p for p in answer if p not in TOY_VOCABULARY]
        return _wrong(
            f"{missing} {'is' if len(missing) == 1 else 'are'} not in the vocabulary.",
            "pieces after the first need the '##' prefix and must be vocabulary entries.",
        )
    if answer and answer[0] == "un":
        return _wrong(
            '"un" is not the longest entry that starts the word.',
            'WordPiece takes the longest match first: look for a longer entry beginning with '
            '"un".',
        )
    return _wrong(
        f"{answer} is a valid split, but not the greedy one.",
        "at each step take the longest vocabulary entry that matches; do not look ahead.",
    )


def check_mlm_loss(answer):
    """Exercise 08.2: the MLM loss of one sentence from `MLM_PROBABILITIES` and `MLM_WEIGHTS`.

    Args:
        answer: the learner's loss (natural log).

    Example:

    >>> check_mlm_loss(1.04)
    ✅ Correct: (−ln 0.5 − ln 0.25) / 2 = 1.040; the two padding slots (weight 0) do not count.
    True
    """
    value = as_number(answer, "the MLM loss")
    if value is None:
        return False
    p, w = np.asarray(MLM_PROBABILITIES), np.asarray(MLM_WEIGHTS)
    nll = -np.log(p)
    expected = float((nll * w).sum() / w.sum())
    if math.isclose(value, expected, abs_tol=2e-3):
        return _ok(
            f"(−ln 0.5 − ln 0.25) / 2 = {expected:.3f}; the two padding slots (weight 0) do not "
            "count."
        )
    if math.isclose(value, float(nll.mean()), abs_tol=2e-3):
        return _wrong(
            "that averages all four slots, the padding ones too.",
            "multiply each slot by its weight before summing.",
        )
    if math.isclose(value, float((nll * w).sum() / len(w)), abs_tol=2e-3):
        return _wrong(
            "you divided by all 4 slots.", "divide by the number of real masked tokens (Σ w)."
        )
    if math.isclose(value, float((nll * w).sum()), abs_tol=2e-3):
        return _wrong("that is the sum.", "the loss is the mean over the real masked tokens.")
    if math.isclose(value, expected / math.log(2), abs_tol=2e-3) or math.isclose(
        value, float(-(np.log10(p) * w).sum() / w.sum()), abs_tol=2e-3
    ):
        return _wrong("wrong logarithm.", "cross-entropy losses use the natural log (ln).")
    return _wrong(
        f"{value:.3f} is not the loss.",
        "take −ln p for each masked slot with weight 1 and average them.",
    )


def check_f1(answer):
    """Exercise 08.3: the F1 of the positive class from `CONFUSION`.

    Args:
        answer: the learner's F1, a fraction in [0, 1].

    Example:

    >>> check_f1(0.5)
    ❌ Not yet: 0.500 is not the F1. Hint: precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = their harmonic mean.
    False
    """
    value = as_number(answer, "the F1")
    if value is None:
        return False
    c = CONFUSION
    y_true = np.array([1] * c["tp"] + [0] * c["fp"] + [1] * c["fn"] + [0] * c["tn"])
    y_pred = np.array([1] * c["tp"] + [1] * c["fp"] + [0] * c["fn"] + [0] * c["tn"])
    expected = f1_score(y_true, y_pred)
    precision = c["tp"] / (c["tp"] + c["fp"])
    recall = c["tp"] / (c["tp"] + c["fn"])
    if math.isclose(value, expected, abs_tol=2e-3):
        return _ok(
            f"precision {precision:.3f}, recall {recall:.3f}, F1 = 2·TP / (2·TP + FP + FN) = "
            f"{expected:.3f}."
        )
    if value > 1.0 and math.isclose(value / 100, expected, abs_tol=2e-3):
        return _wrong("that is a percentage.", "give F1 as a fraction between 0 and 1.")
    if math.isclose(value, accuracy(y_true, y_pred), abs_tol=2e-3):
        return _wrong(
            "that is the accuracy, (TP + TN) / all.",
            "F1 ignores the true negatives: compute precision and recall from TP, FP, FN.",
        )
    for name, part in (("precision", precision), ("recall", recall)):
        if math.isclose(value, part, abs_tol=2e-3):
            return _wrong(f"that is the {name} alone.",
                          "F1 is the harmonic mean of precision and recall.")
    if math.isclose(value, (precision + recall) / 2, abs_tol=2e-3):
        return _wrong("that is the arithmetic mean of precision and recall.",
                      "F1 is the harmonic mean: 2·P·R / (P + R).")
    return _wrong(
        f"{value:.3f} is not the F1.",
        "precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = their harmonic mean.",
    )


def check_mean_pool(fn):
    """Exercise 08.4: a masked mean pooling function `fn(vectors, keep) -> (B, C)`.

    Compared against `TransformerClassifier.pool` (mean pooling) on random vectors with
    padding. Padding positions must not count, neither in the sum nor in the count.

    Args:
        fn: the learner's function of `vectors (B, T, C)` and `keep (B, T)` booleans.

    Example:

    >>> check_mean_pool(lambda v, k: v.mean(axis=1))
    ❌ Not yet: your pooling averages the padding positions too. Hint: multiply by keep (as floats) and divide by the number of real tokens per row.
    False
    """
    from course_lib.encoder import EncoderConfig, TransformerClassifier

    if not callable(fn):
        return _wrong(f"expected a function, got {fn!r}.", "define mean_pool(vectors, keep).")
    rng = np.random.default_rng(8)
    vectors = rng.normal(size=(3, 5, 4)).astype("float32")
    keep = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    model = TransformerClassifier(EncoderConfig(10, 8, num_layers=1, num_heads=1, width=4),
                                  num_classes=2, pooling="mean")
    expected = keras.ops.convert_to_numpy(model.pool(vectors, keep))
    try:
        got = np.asarray(keras.ops.convert_to_numpy(fn(vectors, keep)), dtype="float64")
    except Exception as error:  # noqa: BLE001 - report any error in the learner's code
        return _wrong(f"your function raised {type(error).__name__}: {error}.",
                      "test it on small arrays first; keep is boolean, cast it to float.")
    if got is None or got.shape != expected.shape:
        return _wrong(
            f"expected an output of shape {expected.shape} (B, C), got "
            f"{None if got is None else got.shape}.",
            "average over the time axis (axis=1).",
        )
    if np.allclose(got, expected, atol=1e-5):
        return _ok("padding positions are left out of both the sum and the count.")
    if np.allclose(got, vectors.mean(axis=1), atol=1e-5):
        return _wrong(
            "your pooling averages the padding positions too.",
            "multiply by keep (as floats) and divide by the number of real tokens per row.",
        )
    if np.allclose(got, (vectors * keep[:, :, None]).sum(1) / vectors.shape[1], atol=1e-5):
        return _wrong(
            "the sum skips padding, but you divide by T.",
            "divide by the number of real tokens in each row: keep.sum(axis=1).",
        )
    return _wrong("the pooled vectors differ from the masked mean.",
                  "pooled[b] = Σ_t keep[b, t]·vectors[b, t] / Σ_t keep[b, t].")
