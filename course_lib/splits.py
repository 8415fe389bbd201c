"""Seeded train/validation/test splits that keep each label's share, and label-balance tables.

A random split of a labelled data set can, by chance, put more of one class in the test set
than in the training set; with rare classes it can leave a class out of a split entirely. A
stratified split shuffles each class separately and cuts it at the same fractions, so every
split has (up to rounding) the label distribution of the whole.

Example:

>>> import numpy as np
>>> from course_lib.splits import stratified_split, label_balance
>>> labels = np.array([0] * 80 + [1] * 20)
>>> train, val, test = stratified_split(labels, (0.8, 0.1, 0.1), seed=0)
>>> [int(labels[s].sum()) for s in (train, val, test)]  # positives per split
[16, 2, 2]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["allocate", "random_split", "stratified_split", "label_balance", "balance_table"]


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    f = np.asarray(fractions, dtype=np.float64)
    if f.ndim != 1 or len(f) < 2:
        raise ValueError(f"fractions must list at least two splits, got {fractions!r}")
    if np.any(f < 0):
        raise ValueError(f"fractions must be non-negative, got {fractions!r}")
    if not np.isclose(f.sum(), 1.0, atol=1e-6):
        raise ValueError(
            f"fractions must sum to 1, got {fractions!r} (sum {f.sum():g}); e.g. (0.8, 0.1, 0.1)"
        )
    return f


def allocate(n: int, fractions: Sequence[float]) -> np.ndarray:
    """Splits the integer ``n`` into parts proportional to ``fractions`` (largest remainder).

    Each part gets ``floor(n * f)``; the items left over go to the parts with the largest
    fractional remainders (ties to the earlier part), so the parts always sum to ``n``.

    Args:
        n: number of items.
        fractions: the shares, summing to 1.

    Returns:
        An ``int64`` array of part sizes.

    Example:

    >>> allocate(10, (0.8, 0.1, 0.1)).tolist(), allocate(7, (0.5, 0.25, 0.25)).tolist()
    ([8, 1, 1], [3, 2, 2])
    """
    f = _check_fractions(fractions)
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    exact = n * f
    sizes = np.floor(exact + 1e-9).astype(np.int64)
    order = np.argsort(-(exact - sizes), kind="stable")
    sizes[order[: n - sizes.sum()]] += 1
    return sizes


def random_split(
    n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Shuffles ``range(n)`` with ``seed`` and cuts it at ``fractions`` (no stratification).

    Args:
        n: number of examples.
        fractions: the shares of each split, summing to 1.
        seed: the shuffle seed; the same seed gives the same split.

    Returns:
        One index array per split.

    Example:

    >>> [len(s) for s in random_split(10, (0.8, 0.2))]
    [8, 2]
    """
    sizes = allocate(n, fractions)
    order = np.random.default_rng(seed).permutation(n)
    return tuple(np.split(order, np.cumsum(sizes)[:-1]))


def stratified_split(
    labels, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Stratified split: each label is shuffled and divided at ``fractions`` on its own.

    Every class is split with ``allocate``, so a class of size m puts ``round(m * f)`` (up to
    one) examples in a split of share f, and no class with at least as many examples as there
    are splits misses a split with a share ≥ 1 / m. The indices of each split are shuffled
    (not grouped by label), so they can feed a training loop directly.

    Args:
        labels: one label per example (ints or strings), shape ``(n,)``.
        fractions: the shares of each split, summing to 1, e.g. ``(0.8, 0.1, 0.1)`` for
            train/validation/test.
        seed: the shuffle seed; the same labels and seed give the same split.

    Returns:
        One ``int64`` index array per split. Together they hold every index exactly once.

    Example:

    >>> train, test = stratified_split(["a", "a", "a", "b", "b", "b"], (2 / 3, 1 / 3), seed=1)
    >>> sorted(train.tolist()), sorted(test.tolist())
    ([0, 1, 3, 5], [2, 4])
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one label per example), got shape {labels.shape}")
    f = _check_fractions(fractions)
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in f]
    for value in np.unique(labels):  # sorted, so the result does not depend on label order
        members = np.flatnonzero(labels == value)
        members = members[rng.permutation(len(members))]
        for k, chunk in enumerate(np.split(members, np.cumsum(allocate(len(members), f))[:-1])):
            parts[k].append(chunk)
    out = []
    for chunks in parts:
        split = np.concatenate(chunks).astype(np.int64) if chunks else np.zeros(0, np.int64)
        out.append(split[rng.permutation(len(split))])
    return tuple(out)


def label_balance(labels, splits: Sequence[np.ndarray], names: Sequence[str] | None = None):
    """Counts each label in each split.

    Args:
        labels: one label per example.
        splits: index arrays, e.g. the output of ``stratified_split``.
        names: a name per split; defaults to train/val/test for three splits.

    Returns:
        ``(classes, counts)``: the sorted label values and an ``int64`` array
        ``(len(splits), len(classes))`` of counts; a dict ``{name: counts_row}`` is easy to
        build from them, and ``balance_table`` prints them.

    Example:

    >>> classes, counts = label_balance([0, 0, 1, 1], [np.array([0, 2]), np.array([1, 3])])
    >>> classes.tolist(), counts.tolist()
    ([0, 1], [[1, 1], [1, 1]])
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    counts = np.zeros((len(splits), len(classes)), dtype=np.int64)
    for k, idx in enumerate(splits):
        values, n = np.unique(labels[np.asarray(idx, dtype=np.int64)], return_counts=True)
        counts[k, np.searchsorted(classes, values)] = n
    return classes, counts


def _default_names(k: int) -> list[str]:
    return ["train", "val", "test"] if k == 3 else [f"split {i}" for i in range(k)]


def balance_table(
    labels, splits: Sequence[np.ndarray], names: Sequence[str] | None = None, class_names=None
) -> str:
    """A Markdown table of label counts and shares per split, with the whole data set first.

    Args:
        labels: one label per example.
        splits: index arrays.
        names: a name per split.
        class_names: display names of the sorted label values, e.g. ``["neg", "pos"]``.

    Example:

    >>> print(balance_table([0, 0, 1, 1], [np.array([0, 2]), np.array([1, 3])], ["a", "b"]))
    | split | size | 0 | 1 |
    |---|---:|---:|---:|
    | all | 4 | 2 (50.0%) | 2 (50.0%) |
    | a | 2 | 1 (50.0%) | 1 (50.0%) |
    | b | 2 | 1 (50.0%) | 1 (50.0%) |
    """
    labels = np.asarray(labels)
    names = list(names) if names is not None else _default_names(len(splits))
    if len(names) != len(splits):
        raise ValueError(f"got {len(names)} names for {len(splits)} splits")
    classes, counts = label_balance(labels, [np.arange(len(labels)), *splits])
    shown = class_names if class_names is not None else [str(c) for c in classes]
    lines = ["| split | size | " + " | ".join(map(str, shown)) + " |",
             "|---|---:|" + "---:|" * len(classes)]
    for name, row in zip(["all", *names], counts, strict=True):
        total = int(row.sum())
        cells = [f"{int(c):,} ({100 * c / max(total, 1):.1f}%)" for c in row]
        lines.append(f"| {name} | {total:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
