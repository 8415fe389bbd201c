"""Input pipelines for language modelling: a token array in, (x, y) windows out.

nanoGPT trains on random windows: pick ``batch_size`` random offsets into the token array,
take ``context_length`` tokens from each as ``x`` and the same window shifted by one as ``y``.
Here the offsets of step ``s`` are a pure function of ``(seed, s)``, drawn with TensorFlow's
stateless random ops. That makes two things free: a resumed run sees exactly the batches the
interrupted run would have seen, and the validation loss is always averaged over the same
batches, so two evaluations are comparable.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["split_tokens", "random_window_dataset", "sequential_window_dataset", "window_batch"]


def split_tokens(tokens, train_fraction: float = 0.9):
    """Splits a token array into a training and a validation part, in order.

    nanoGPT splits Tiny Shakespeare 90/10 by position (no shuffling), so the validation text is
    the play excerpts at the end, never seen in training.

    Args:
        tokens: 1-D array of token ids.
        train_fraction: the share of tokens that goes to training, in (0, 1).

    Returns:
        ``(train_tokens, val_tokens)`` as int32 NumPy arrays.

    Example:

    >>> train, val = split_tokens(np.arange(10), 0.8)
    >>> len(train), len(val)
    (8, 2)
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    tokens = np.asarray(tokens, dtype=np.int32)
    n = int(len(tokens) * train_fraction)
    return tokens[:n], tokens[n:]


def _check_windows(tokens, context_length: int, batch_size: int) -> int:
    if tokens.ndim != 1:
        raise ValueError(f"tokens must be a 1-D array of ids, got shape {tokens.shape}")
    if context_length < 1 or batch_size < 1:
        raise ValueError(
            f"context_length and batch_size must be positive, got {context_length}, {batch_size}"
        )
    n_offsets = len(tokens) - context_length
    if n_offsets < 1:
        raise ValueError(
            f"The token array has {len(tokens)} tokens, too few for one window of "
            f"context_length {context_length} plus its shifted target; use more text or a "
            f"shorter context."
        )
    return n_offsets


def window_batch(tokens, context_length: int, batch_size: int, seed: int, step: int):
    """Returns the (x, y) batch of one step, as the pipeline would, in NumPy.

    Args:
        tokens: 1-D array of token ids.
        context_length: tokens per window (the model's block size).
        batch_size: windows per batch.
        seed: the run's data seed.
        step: the step number; the same (seed, step) always gives the same batch.

    Returns:
        ``(x, y)``, each int32 of shape ``(batch_size, context_length)``; ``y`` is ``x`` shifted
        left by one token.

    Example:

    >>> x, y = window_batch(np.arange(100), 8, 2, seed=0, step=0)
    >>> bool((x[:, 1:] == y[:, :-1]).all())
    True
    """
    tokens = np.asarray(tokens, dtype=np.int32)
    x, y = _gather_windows(tf.constant(tokens), context_length, batch_size, seed, step)
    return x.numpy(), y.numpy()


def _gather_windows(tokens, context_length, batch_size, seed, step):
    n_offsets = tf.shape(tokens, out_type=tf.int64)[0] - context_length
    offsets = tf.random.stateless_uniform(
        [batch_size],
        seed=tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)]),
        minval=0,
        maxval=n_offsets,
        dtype=tf.int64,
    )
    idx = offsets[:, None] + tf.range(context_length + 1, dtype=tf.int64)[None, :]
    window = tf.gather(tokens, idx)  # (B, T + 1)
    return window[:, :-1], window[:, 1:]


def random_window_dataset(
    tokens,
    context_length: int,
    batch_size: int,
    *,
    seed: int = 0,
    start_step: int = 0,
    num_steps: int | None = None,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline of random (x, y) windows, batched and prefetched.

    Each element is one training step's batch; the offsets of step ``s`` depend only on
    ``(seed, s)``, so the windows come in a random order, yet a run resumed at ``start_step``
    sees exactly the batches an uninterrupted run would.

    Args:
        tokens: 1-D array of token ids (kept in memory as one tensor).
        context_length: tokens per window.
        batch_size: windows per batch.
        seed: the data seed.
        start_step: the first step to produce (for resuming).
        num_steps: how many batches; endless when ``None``.

    Returns:
        A dataset of ``(x, y)`` int32 tensors of shape ``(batch_size, context_length)``.

    Example:

    >>> ds = random_window_dataset(np.arange(1000), 16, 4, seed=1, num_steps=2)
    >>> [tuple(x.shape) for x, _ in ds]
    [(4, 16), (4, 16)]
    """
    tokens = np.asarray(tokens, dtype=np.int32)
    _check_windows(tokens, context_length, batch_size)
    table = tf.constant(tokens)
    stop = None if num_steps is None else start_step + num_steps
    steps = (
        tf.data.Dataset.range(start_step, stop)
        if stop is not None
        else (tf.data.Dataset.range(start_step, np.iinfo(np.int64).max))
    )
    ds = steps.map(
        lambda s: _gather_windows(table, context_length, batch_size, seed, s),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def sequential_window_dataset(
    tokens,
    context_length: int,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """Non-overlapping (x, y) windows covering the text once: an epoch, shuffled and batched.

    Use it to evaluate on all of a validation text, or to train by epochs.

    Args:
        tokens: 1-D array of token ids.
        context_length: tokens per window.
        batch_size: windows per batch.
        shuffle: shuffle the windows (with a buffer holding all of them) each epoch.
        seed: the shuffle seed.
        drop_remainder: drop the last, smaller batch (keeps shapes static for XLA).

    Returns:
        A dataset of ``(x, y)`` int32 tensors of shape ``(batch_size, context_length)``.

    Example:

    >>> ds = sequential_window_dataset(np.arange(100), 8, 4, shuffle=False)
    >>> int(ds.cardinality())
    3
    """
    tokens = np.asarray(tokens, dtype=np.int32)
    _check_windows(tokens, context_length, batch_size)
    n_windows = (len(tokens) - 1) // context_length
    x = tokens[: n_windows * context_length].reshape(n_windows, context_length)
    y = tokens[1 : n_windows * context_length + 1].reshape(n_windows, context_length)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(n_windows, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
