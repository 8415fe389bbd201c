"""Self-checking exercises for chapters 03 (data preparation), 04 (attention) and 05 (the
Transformer and the choice of model).

Each ``check_*`` function takes the learner's answer, compares it with a value it computes
itself, prints a verdict (what is right, or what is wrong and a hint) and returns True or
False. Nothing here reveals the answer in its message.

Example:

>>> from course_lib.exercises_ch03_05 import check_dot_product_std
>>> check_dot_product_std(8.0)
✅ Correct: the dot product of two 64-dimensional unit-variance vectors has standard deviation 8.0 = √64.
True
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib.cleaning import jaccard, shingles

__all__ = [
    "JACCARD_PAIR",
    "BPE_CORPUS",
    "ATTENTION_Q",
    "ATTENTION_K",
    "MASK_IDS",
    "check_clean_review",
    "check_jaccard",
    "check_first_bpe_merge",
    "check_attention_weights",
    "check_dot_product_std",
    "check_padded_causal_mask",
    "check_block_parameters",
    "check_receptive_field",
    "check_sinusoid_value",
]


def _verdict(ok: bool, right: str, wrong: str) -> bool:
    # The same marks as course_lib.exercise_checks, so every chapter's verdicts look alike.
    print(("✅ Correct: " + right) if ok else ("❌ Not yet: " + wrong))
    return ok


def _as_array(value, name):
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        print(f"❌ Not yet: {name} should be numbers (a list, NumPy array or tensor), got "
              f"{type(value).__name__}.")
        return None


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# Chapter 03
# ---------------------------------------------------------------------------------------------

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
        return _verdict(False, "", f"pass your function itself (got {type(fn).__name__}).")
    for raw, want in _REVIEW_CASES:
        try:
            got = fn(raw)
        except Exception as exc:  # the learner's code may raise anything
            return _verdict(False, "", f"your function raised {type(exc).__name__}: {exc} on "
                            f"{raw!r}.")
        if got != want:
            hint = "Hint: strip tags first, then html.unescape, lowercase, ' '.join(t.split())."
            return _verdict(False, "", f"for {raw!r} you return {got!r}, expected {want!r}. "
                            + hint)
    return _verdict(True, f"all {len(_REVIEW_CASES)} test reviews come out clean.", "")


JACCARD_PAIR = ("Do you like football?", "do you like the NFL?")


def check_jaccard(value) -> bool:
    """Checks the Jaccard similarity of the 3-character shingle sets of ``JACCARD_PAIR``
    (lower-cased, punctuation dropped, as ``course_lib.cleaning.shingles`` does).

    Args:
        value: the learner's number.

    Example:

    >>> check_jaccard(1.0)  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    a, b = (shingles(t, n=3) for t in JACCARD_PAIR)
    want = jaccard(a, b)
    if not _is_number(value):
        return _verdict(False, "", f"give a number between 0 and 1, got {value!r}.")
    if abs(value - want) < 1e-6:
        return _verdict(True, f"{len(a & b)} shared shingles out of {len(a | b)} distinct ones: "
                        f"J = {want:.4f}.", "")
    if not 0 <= value <= 1:
        return _verdict(False, "", "a Jaccard similarity lies between 0 and 1.")
    return _verdict(False, "", f"{value:.4f} is not it. Hint: J = |A ∩ B| / |A ∪ B| with "
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
        return _verdict(False, "", f"write the merge as 'left right' (one space), got {merge!r}.")
    if merge == want:
        return _verdict(True, f"'{want}' is the most frequent adjacent pair (ties broken by "
                        "sort order).", "")
    return _verdict(False, "", f"{merge!r} is not the first merge. Hint: count every adjacent "
                    "pair of symbols in every pre-tokenized word (with its Ġ), take the "
                    "largest count, and among equal counts the pair that sorts first.")


# ---------------------------------------------------------------------------------------------
# Chapter 04
# ---------------------------------------------------------------------------------------------

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
    w = _as_array(weights, "weights")
    if w is None:
        return False
    logits = ATTENTION_Q @ ATTENTION_K.T / math.sqrt(ATTENTION_Q.shape[1])
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    if w.shape != want.shape:
        return _verdict(False, "", f"the weights have shape {w.shape}; there is one row per "
                        "query and one column per key: (2, 3).")
    if np.allclose(w, want, atol=1e-4):
        return _verdict(True, "each row sums to 1 and matches softmax(QKᵀ/√2).", "")
    if not np.allclose(w.sum(1), 1, atol=1e-4):
        return _verdict(False, "", "each row of attention weights must sum to 1: apply the "
                        "softmax along the keys (axis=-1).")
    unscaled = np.exp(logits * math.sqrt(2))
    unscaled /= unscaled.sum(1, keepdims=True)
    if np.allclose(w, unscaled, atol=1e-4):
        return _verdict(False, "", "close: you forgot to divide the scores by √d_k = √2.")
    return _verdict(False, "", "the rows sum to 1 but the values differ. Hint: scores = Q @ K.T "
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
    if not _is_number(value):
        return _verdict(False, "", f"give a number, got {value!r}.")
    if abs(value - want) < 1e-6:
        return _verdict(True, f"the dot product of two 64-dimensional unit-variance vectors "
                        f"has standard deviation {want} = √64.", "")
    if abs(value - 64) < 1e-6:
        return _verdict(False, "", "64 is the variance; the question asks for the standard "
                        "deviation.")
    return _verdict(False, "", "Hint: q·k is a sum of 64 independent products qᵢkᵢ, each with "
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
    m = _as_array(mask, "mask")
    if m is None:
        return False
    n = len(MASK_IDS)
    causal = np.tril(np.ones((n, n), bool))
    keys = MASK_IDS != 0
    want = causal & keys[None, :]
    if m.shape != (n, n):
        return _verdict(False, "", f"the mask has shape {m.shape}; it needs one row per query "
                        f"and one column per key: ({n}, {n}).")
    m = m.astype(bool)
    if np.array_equal(m, want):
        return _verdict(True, "query i sees keys j ≤ i that are not padding.", "")
    if np.array_equal(m, causal):
        return _verdict(False, "", "this is the causal mask alone; also hide the padding keys "
                        "(columns where the id is 0).")
    if np.array_equal(m, np.broadcast_to(keys[None, :], (n, n))):
        return _verdict(False, "", "this is the padding mask alone; also hide the future "
                        "(keys j > i).")
    if np.array_equal(m, want.T):
        return _verdict(False, "", "rows are queries and columns keys: transpose your mask.")
    return _verdict(False, "", "Hint: combine np.tril(np.ones((5, 5), bool)) with "
                    "(MASK_IDS != 0)[None, :] using &.")


# ---------------------------------------------------------------------------------------------
# Chapter 05
# ---------------------------------------------------------------------------------------------


def check_block_parameters(value) -> bool:
    """Checks the number of trainable parameters of one ``TransformerBlock(width=64,
    num_heads=4)`` (MLP ratio 4, with biases).

    Args:
        value: the learner's integer.

    Example:

    >>> check_block_parameters(4 * 64 * 64)  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    c = 64
    attention = 4 * (c * c + c)
    mlp = c * 4 * c + 4 * c + 4 * c * c + c
    norms = 2 * 2 * c
    want = attention + mlp + norms
    if not _is_number(value) or int(value) != value:
        return _verdict(False, "", f"give a whole number, got {value!r}.")
    if value == want:
        return _verdict(True, f"{attention:,} (attention) + {mlp:,} (MLP) + {norms} "
                        f"(2 LayerNorms) = {want:,} = 12C² + 13C.", "")
    if value == attention + mlp:
        return _verdict(False, "", "almost: the two LayerNorms have a scale and a shift each.")
    if value == 12 * c * c:
        return _verdict(False, "", "that counts the matrices only; add the biases and the "
                        "LayerNorm parameters.")
    return _verdict(False, "", "Hint: query, key, value and output are C×C with C biases each; "
                    "the MLP is C→4C→C with biases; each LayerNorm has 2C.")


def check_receptive_field(value) -> bool:
    """Checks how many tokens one output of a causal CNN sees with 6 layers of kernel size 2
    and dilations 1, 2, 4, 8, 16, 32.

    Args:
        value: the learner's integer.

    Example:

    >>> check_receptive_field(7)  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    want = 1 + (2 - 1) * sum(2**i for i in range(6))
    if not _is_number(value):
        return _verdict(False, "", f"give a whole number, got {value!r}.")
    if value == want:
        return _verdict(True, f"each layer adds (kernel − 1) × dilation tokens: "
                        f"1 + 1 + 2 + 4 + 8 + 16 + 32 = {want}.", "")
    if value == 7:
        return _verdict(False, "", "that is the field without dilation; dilation d makes a "
                        "layer skip d − 1 tokens between its inputs.")
    return _verdict(False, "", "Hint: start from 1 (the token itself) and add (kernel_size − 1) "
                    "× dilation for every layer.")


def check_sinusoid_value(value) -> bool:
    """Checks the sinusoidal position encoding PE[position=5, dimension=2] for width 8 and
    wavelength base 10000 (sine on even dimensions, cosine on odd ones).

    Args:
        value: the learner's number.

    Example:

    >>> check_sinusoid_value(0.0)  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    want = math.sin(5 / 10000 ** (2 / 8))
    if not _is_number(value):
        return _verdict(False, "", f"give a number, got {value!r}.")
    if abs(value - want) < 1e-4:
        return _verdict(True, f"sin(5 / 10000^(2/8)) = sin(0.5) = {want:.4f}.", "")
    if abs(value - math.cos(5 / 10000 ** (2 / 8))) < 1e-4:
        return _verdict(False, "", "even dimensions use the sine, odd ones the cosine.")
    return _verdict(False, "", "Hint: dimension 2i = 2 has i = 1 and frequency "
                    "1 / 10000^(2i/C) with C = 8.")
