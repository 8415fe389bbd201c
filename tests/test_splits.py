"""course_lib.chapters.ch03_data_preparation: exact sizes, stratification, determinism, and sklearn as a reference."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from course_lib.chapters.ch03_data_preparation import (
    allocate,
    balance_table,
    label_balance,
    random_split,
    stratified_split,
)


def test_allocate_sums_and_rounds():
    assert allocate(10, (0.8, 0.1, 0.1)).tolist() == [8, 1, 1]
    assert allocate(7, (0.5, 0.25, 0.25)).tolist() == [3, 2, 2]
    assert allocate(5331, (0.8, 0.1, 0.1)).tolist() == [4265, 533, 533]
    assert allocate(0, (0.5, 0.5)).tolist() == [0, 0]
    with pytest.raises(ValueError, match="sum to 1"):
        allocate(10, (0.8, 0.1))
    with pytest.raises(ValueError, match="at least two splits"):
        allocate(10, (1.0,))


def test_stratified_split_is_a_partition_with_class_shares():
    labels = np.array([0] * 700 + [1] * 250 + [2] * 50)
    train, val, test = stratified_split(labels, (0.8, 0.1, 0.1), seed=3)
    together = np.concatenate([train, val, test])
    assert sorted(together.tolist()) == list(range(1000))
    classes, counts = label_balance(labels, [train, val, test])
    assert classes.tolist() == [0, 1, 2]
    assert counts.tolist() == [[560, 200, 40], [70, 25, 5], [70, 25, 5]]
    # Indices are shuffled, not grouped by label.
    assert not np.all(np.diff(labels[train]) >= 0)


def test_stratified_split_is_deterministic_and_seed_dependent():
    labels = np.repeat(["neg", "pos"], 50)
    a = stratified_split(labels, (0.5, 0.5), seed=0)
    b = stratified_split(labels, (0.5, 0.5), seed=0)
    c = stratified_split(labels, (0.5, 0.5), seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(np.sort(a[0]), np.sort(c[0]))


def test_stratified_beats_random_on_a_rare_class_and_matches_sklearn_shares():
    labels = np.array([1] * 10 + [0] * 990)
    _, _, test = stratified_split(labels, (0.8, 0.1, 0.1), seed=0)
    assert int(labels[test].sum()) == 1  # 10% of the 10 positives
    misses = sum(int(labels[random_split(1000, (0.8, 0.1, 0.1), seed=s)[2]].sum()) == 0
                 for s in range(20))
    assert misses > 0  # an unstratified split leaves the rare class out of the test set
    _, sk_test = train_test_split(np.arange(1000), test_size=0.1, stratify=labels,
                                  random_state=0)
    assert int(labels[sk_test].sum()) == int(labels[test].sum())


def test_random_split_and_balance_table():
    parts = random_split(10, (0.6, 0.2, 0.2), seed=0)
    assert [len(p) for p in parts] == [6, 2, 2]
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))
    table = balance_table([0, 0, 1, 1], [np.array([0, 2]), np.array([1, 3])], ["a", "b"],
                          class_names=["neg", "pos"])
    assert table.splitlines()[0] == "| split | size | neg | pos |"
    assert "| all | 4 | 2 (50.0%) | 2 (50.0%) |" in table
    with pytest.raises(ValueError, match="1 names for 2 splits"):
        balance_table([0, 1], [np.array([0]), np.array([1])], ["a"])
    with pytest.raises(ValueError, match="1-D"):
        stratified_split(np.zeros((2, 2)))
