"""course_lib.reproducibility.seed_everything: same seed, same numbers, everywhere."""

from __future__ import annotations

import random

import numpy as np
import pytest

from course_lib.reproducibility import DEFAULT_SEED, seed_everything


def _draws():
    import keras
    import tensorflow as tf

    return {
        "random": [random.random() for _ in range(5)],
        "numpy": np.random.rand(5).tolist(),
        "tensorflow": tf.random.uniform((5,)).numpy().tolist(),
        "keras": keras.random.uniform((5,)).numpy().tolist(),
        "keras_init": keras.initializers.GlorotUniform()((3, 3)).numpy().tolist(),
    }


def test_same_seed_gives_identical_draws():
    assert seed_everything(123) == 123
    first = _draws()
    seed_everything(123)
    second = _draws()
    assert first == second


def test_different_seeds_give_different_draws():
    seed_everything(1)
    first = _draws()
    seed_everything(2)
    second = _draws()
    for source in first:
        assert first[source] != second[source], source


def test_default_seed_is_returned():
    assert seed_everything() == DEFAULT_SEED


@pytest.mark.parametrize("bad", [-1, 1.5, "7", None])
def test_bad_seed_is_rejected(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(bad)


def _tiny_fit(seed: int) -> list[float]:
    import keras

    seed_everything(seed)
    x = np.random.rand(64, 4).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 2).astype("float32")
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dropout(0.2),
         keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=True, verbose=0)
    return history.history["loss"]


def test_two_fits_with_the_same_seed_have_identical_losses():
    first = _tiny_fit(7)
    second = _tiny_fit(7)
    assert first == second
    assert _tiny_fit(8) != first  # the seed actually matters
