"""One seeding helper for Python, NumPy, TensorFlow and Keras."""

from __future__ import annotations

import random

import numpy as np

DEFAULT_SEED = 1337  # nanoGPT's seed; any fixed value works


def seed_everything(seed: int = DEFAULT_SEED, *, deterministic_ops: bool = False) -> int:
    """Seeds every random number generator the course uses.

    Args:
        seed: the seed for Python's ``random``, NumPy, TensorFlow and Keras.
        deterministic_ops: also ask TensorFlow for deterministic kernels
            (``tf.config.experimental.enable_op_determinism``). Slower on a GPU; on a CPU
            most kernels are deterministic already.

    Returns:
        The seed, so a notebook can print what it used.

    Example:

    >>> seed_everything(42)
    42
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # also seeds TensorFlow's global generator
    if deterministic_ops:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    return seed
