"""Self-checks for the exercises of chapter 05 (the Transformer and the choice of model).

Each ``check_*`` function takes the learner's answer, compares it with a value it computes
itself, prints a verdict (what is right, or what is wrong and a hint) and returns True or
False. Nothing here reveals the answer in its message.

Example:

>>> check_receptive_field(7)
❌ Not yet: that is the field without dilation; dilation d makes a layer skip d − 1 tokens between its inputs.
False
"""

from __future__ import annotations

import math

from course_lib.exercises.checks import is_number, verdict

__all__ = [
    "check_block_parameters",
    "check_receptive_field",
    "check_sinusoid_value",
]


def check_block_parameters(value) -> bool:
    """Checks the number of trainable parameters of one ``TransformerBlock(width=48,
    num_heads=4)`` (MLP ratio 4, with biases).

    Args:
        value: the learner's integer.

    Example:

    >>> check_block_parameters(4 * 48 * 48)  # doctest: +ELLIPSIS
    ❌ Not yet: ...
    False
    """
    c = 48
    attention = 4 * (c * c + c)
    mlp = c * 4 * c + 4 * c + 4 * c * c + c
    norms = 2 * 2 * c
    want = attention + mlp + norms
    if not is_number(value) or int(value) != value:
        return verdict(False, "", f"give a whole number, got {value!r}.")
    if value == want:
        return verdict(True, f"{attention:,} (attention) + {mlp:,} (MLP) + {norms} "
                        f"(2 LayerNorms) = {want:,} = 12C² + 13C.", "")
    if value == attention + mlp:
        return verdict(False, "", "almost: the two LayerNorms have a scale and a shift each.")
    if value == 12 * c * c:
        return verdict(False, "", "that counts the matrices only; add the biases and the "
                        "LayerNorm parameters.")
    return verdict(False, "", "Hint: query, key, value and output are C×C with C biases each; "
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
    if not is_number(value):
        return verdict(False, "", f"give a whole number, got {value!r}.")
    if value == want:
        return verdict(True, f"each layer adds (kernel − 1) × dilation tokens: "
                        f"1 + 1 + 2 + 4 + 8 + 16 + 32 = {want}.", "")
    if value == 7:
        return verdict(False, "", "that is the field without dilation; dilation d makes a "
                        "layer skip d − 1 tokens between its inputs.")
    return verdict(False, "", "Hint: start from 1 (the token itself) and add (kernel_size − 1) "
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
    if not is_number(value):
        return verdict(False, "", f"give a number, got {value!r}.")
    if abs(value - want) < 1e-4:
        return verdict(True, f"sin(5 / 10000^(2/8)) = sin(0.5) = {want:.4f}.", "")
    if abs(value - math.cos(5 / 10000 ** (2 / 8))) < 1e-4:
        return verdict(False, "", "even dimensions use the sine, odd ones the cosine.")
    return verdict(False, "", "Hint: dimension 2i = 2 has i = 1 and frequency "
                    "1 / 10000^(2i/C) with C = 8.")
