"""Self-checks for the exercises of chapter 04 (attention).

Each ``check_*`` function takes the learner's answer, compares it with a value it computes
itself, prints a verdict (what is right, or what is wrong and a hint) and returns True or
False. Nothing here reveals the answer in its message.

Example:

>>> check_dot_product_std(8.0)
✅ Correct: the dot product of two 64-dimensional unit-variance vectors has standard deviation 8.0 = √64.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.exercises.checks import as_array, is_number, verdict

__all__ = [
    "ATTENTION_Q",
    "ATTENTION_K",
    "MASK_IDS",
    "check_attention_weights",
    "check_dot_product_std",
    "check_padded_causal_mask",
]


ATTENTION_Q = np.array([[1.0, 0.0], [0.0, 2.0]])  # 2 queries, d_k = 2
ATTENTION_K = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 1.0]])  # 3 keys


def check_attention_weights(weights) -> bool:
    """Checks softmax(Q Kᵀ / √d_k) for ``ATTENTION_Q`` and ``ATTENTION_K`` (shape (2, 3)).

    Args:
        weights: the learner's (2, 3) matrix.

    Example:

    >>> check_attention_weights(np.full((2, 3), 1 / 3))  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    w = as_array(weights, "weights")
    if w is None:
        return False
    logits = ATTENTION_Q @ ATTENTION_K.T / math.sqrt(ATTENTION_Q.shape[1])
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    if w.shape != want.shape:
        return verdict(False, "", f"the weights have shape {w.shape}; there is one row per "
                        "query and one column per key: (2, 3).")
    if np.allclose(w, want, atol=1e-4):
        return verdict(True, "each row sums to 1 and matches softmax(QKᵀ/√2).", "")
    if not np.allclose(w.sum(1), 1, atol=1e-4):
        return verdict(False, "", "each row of attention weights must sum to 1: apply the "
                        "softmax along the keys (axis=-1).")
    unscaled = np.exp(logits * math.sqrt(2))
    unscaled /= unscaled.sum(1, keepdims=True)
    if np.allclose(w, unscaled, atol=1e-4):
        return verdict(False, "", "close: you forgot to divide the scores by √d_k = √2.")
    return verdict(False, "", "the rows sum to 1 but the values differ. Hint: scores = Q @ K.T "
                    "/ sqrt(2), then a softmax over each row.")


def check_dot_product_std(value) -> bool:
    """Checks the standard deviation of q·k when q and k have 64 independent entries of mean 0
    and variance 1.

    Args:
        value: the learner's number.

    Example:

    >>> check_dot_product_std(64)  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    want = math.sqrt(64)
    if not is_number(value):
        return verdict(False, "", f"give a number, got {value!r}.")
    if abs(value - want) < 1e-6:
        return verdict(True, f"the dot product of two 64-dimensional unit-variance vectors "
                        f"has standard deviation {want} = √64.", "")
    if abs(value - 64) < 1e-6:
        return verdict(False, "", "64 is the variance; the question asks for the standard "
                        "deviation.")
    return verdict(False, "", "Hint: q·k is a sum of 64 independent products qᵢkᵢ, each with "
                    "mean 0 and variance 1; variances of independent terms add up.")


MASK_IDS = np.array([5, 9, 2, 0, 0])  # a padded sequence; 0 is the padding id


def check_padded_causal_mask(mask) -> bool:
    """Checks the (5, 5) boolean mask for ``MASK_IDS`` that is causal AND hides padding keys:
    ``mask[i, j]`` is True when query i may attend to key j.

    Args:
        mask: the learner's (5, 5) array of booleans (or 0/1).

    Example:

    >>> check_padded_causal_mask(np.ones((5, 5), bool))  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    m = as_array(mask, "mask")
    if m is None:
        return False
    n = len(MASK_IDS)
    causal = np.tril(np.ones((n, n), bool))
    keys = MASK_IDS != 0
    want = causal & keys[None, :]
    if m.shape != (n, n):
        return verdict(False, "", f"the mask has shape {m.shape}; it needs one row per query "
                        f"and one column per key: ({n}, {n}).")
    m = m.astype(bool)
    if np.array_equal(m, want):
        return verdict(True, "query i sees keys j ≤ i that are not padding.", "")
    if np.array_equal(m, causal):
        return verdict(False, "", "this is the causal mask alone; also hide the padding keys "
                        "(columns where the id is 0).")
    if np.array_equal(m, np.broadcast_to(keys[None, :], (n, n))):
        return verdict(False, "", "this is the padding mask alone; also hide the future "
                        "(keys j > i).")
    if np.array_equal(m, want.T):
        return verdict(False, "", "rows are queries and columns keys: transpose your mask.")
    return verdict(False, "", "Hint: combine np.tril(np.ones((5, 5), bool)) with "
                    "(MASK_IDS != 0)[None, :] using &.")


