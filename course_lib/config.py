"""Model configurations: the checks and methods every config dataclass shares, written once.

The GPT, the encoder and the encoder-decoder each have a dataclass config (``GPTConfig``,
``EncoderConfig``, ``Seq2SeqConfig``) with its own fields. What they share lives here: the
validation of the common Transformer fields with messages that say what to change, the
JSON round trip, and the per-head width.

Example:

>>> check_positive_int("num_layers", 0)
Traceback (most recent call last):
...
ValueError: num_layers must be a positive int, got 0
>>> check_int("beam_width", 2, minimum=1)
2
"""

from __future__ import annotations

import dataclasses
from numbers import Integral, Real

__all__ = [
    "ConfigMixin",
    "check_dropout",
    "check_int",
    "check_positive_int",
    "check_positive_number",
]


def check_int(name: str, value, *, minimum: int = 0) -> int:
    """Returns ``value`` as an int if it is an integer (Python or NumPy, not a bool) of at
    least ``minimum``; raises a ``ValueError`` naming the argument otherwise.

    Args:
        name: the argument's name, for the message.
        value: the value to check.
        minimum: the smallest allowed value.

    Example:

    >>> import numpy as np
    >>> check_int("max_new_tokens", np.int64(5))
    5
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_positive_int(name: str, value) -> int:
    """Like :func:`check_int` with ``minimum=1``, with the message "a positive int".

    Example:

    >>> check_positive_int("width", 128)
    128
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def check_positive_number(name: str, value) -> float:
    """Checks ``value`` is a real number above zero (an int, a float or a NumPy number, not a
    bool) and returns it as a float.

    Example:

    >>> check_positive_number("tokens_per_second", 13_442)
    13442.0
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def check_dropout(dropout, name: str = "dropout") -> float:
    """Checks a dropout rate is in [0, 1).

    Args:
        dropout: the rate.
        name: the argument's name, for the message.

    Example:

    >>> check_dropout(1.0)
    Traceback (most recent call last):
    ...
    ValueError: dropout must be in [0, 1), got 1.0; use 0.0 to disable it
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {dropout}; use 0.0 to disable it")
    return float(dropout)


class ConfigMixin:
    """What the course's Transformer config dataclasses share.

    A config lists its own fields; those named ``width``, ``num_heads``, ``dropout`` and
    ``layer_norm_epsilon`` are checked by :meth:`check_transformer_fields`, which its
    ``__post_init__`` calls with the names of its positive-int fields.

    Example:

    >>> @dataclasses.dataclass
    ... class Tiny(ConfigMixin):
    ...     width: int = 8
    ...     num_heads: int = 3
    ...     dropout: float = 0.0
    ...     layer_norm_epsilon: float = 1e-5
    ...     def __post_init__(self):
    ...         self.check_transformer_fields(("width", "num_heads"))
    >>> Tiny()
    Traceback (most recent call last):
    ...
    ValueError: width 8 is not divisible by num_heads 3; choose a width that is a multiple of 3, e.g. 9
    >>> Tiny(width=6).to_dict()
    {'width': 6, 'num_heads': 3, 'dropout': 0.0, 'layer_norm_epsilon': 1e-05}
    """

    def check_transformer_fields(self, int_fields) -> None:
        """Checks the positive-int fields named, that heads divide the width, the dropout
        rate and the LayerNorm epsilon."""
        for name in int_fields:
            check_positive_int(name, getattr(self, name))
        if self.width % self.num_heads:
            suggestion = max(1, round(self.width / self.num_heads)) * self.num_heads
            raise ValueError(
                f"width {self.width} is not divisible by num_heads {self.num_heads}; choose a "
                f"width that is a multiple of {self.num_heads}, e.g. {suggestion}"
            )
        check_dropout(self.dropout)
        if not self.layer_norm_epsilon > 0:
            raise ValueError(
                f"layer_norm_epsilon must be > 0, got {self.layer_norm_epsilon}; 1e-5 is usual"
            )

    @property
    def head_dim(self) -> int:
        """Width of one attention head D = width // num_heads."""
        return self.width // self.num_heads

    def to_dict(self) -> dict:
        """Returns the fields as a plain dict (JSON-serializable)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, config: dict):
        """Builds a config from :meth:`to_dict` output; unknown keys raise a ``TypeError``."""
        return cls(**config)
