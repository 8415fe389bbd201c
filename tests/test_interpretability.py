"""Chapter 13's interpretability and control (course_lib.chapters.ch13_challenges): integrated
gradients against closed forms and its completeness on a small Keras model, gradient × input,
GPT attention maps, and controlled generation."""

import keras
import numpy as np
import pytest
from keras import ops

from course_lib.chapters import ch13_challenges as interp
from course_lib.gpt import GPT, GPTConfig


def test_integrated_gradients_closed_forms():
    x = np.array([0.5, -1.0, 2.0], "float32")
    # Linear f: IG = w · (x − x') exactly, with any number of steps.
    w = np.array([1.0, 2.0, -3.0], "float32")
    np.testing.assert_allclose(interp.integrated_gradients(lambda b: ops.sum(b * w, axis=1), x,
                                                           steps=1), w * x, rtol=1e-6)
    # Separable f = Σ x_i³: IG_i = x_i³ (f_i(x_i) − f_i(0)); trapezoid error ~ 1/steps².
    ig = interp.integrated_gradients(lambda b: ops.sum(b**3, axis=1), x, steps=200)
    np.testing.assert_allclose(ig, x**3, atol=1e-3)
    # Control: gradient × input is 3x³ here, not x³.
    np.testing.assert_allclose(interp.gradient_x_input(lambda b: ops.sum(b**3, axis=1), x),
                               3 * x**3, rtol=1e-5)
    baseline = np.ones(3, "float32")
    ig_b = interp.integrated_gradients(lambda b: ops.sum(b**3, axis=1), x, baseline, steps=200)
    np.testing.assert_allclose(ig_b, x**3 - 1, atol=1e-3)


def test_completeness_on_a_small_model_improves_with_steps():
    keras.utils.set_random_seed(0)
    init = keras.initializers.RandomNormal(stddev=0.7, seed=0)  # a clearly nonlinear model
    model = keras.Sequential([keras.Input((6, 4)), keras.layers.Flatten(),
                              keras.layers.Dense(8, activation="tanh", kernel_initializer=init),
                              keras.layers.Dense(1, kernel_initializer=init)])

    def f(b):
        return model(b)[:, 0]

    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    gaps = []
    for steps in (2, 8, 64):
        gap, delta = interp.completeness_gap(f, x, interp.integrated_gradients(f, x, steps=steps))
        gaps.append(gap)
    assert gaps[2] < 1e-3 * max(1.0, abs(delta)) and gaps[0] > gaps[1] > gaps[2]
    assert abs(delta) > 1e-2  # the check is not trivial: the output does change
    with pytest.raises(ValueError, match="baseline"):
        interp.integrated_gradients(f, x, np.zeros((3, 4)))


def test_gpt_attention_maps():
    keras.utils.set_random_seed(0)
    model = GPT(GPTConfig(vocab_size=11, context_length=8, num_layers=2, num_heads=2, width=16))
    ids = np.array([[1, 2, 3, 4, 5, 6]], "int32")
    maps, logits = interp.gpt_attention_maps(model, ids)
    assert maps.shape == (2, 1, 2, 6, 6)
    np.testing.assert_allclose(logits, ops.convert_to_numpy(model(ids)), atol=1e-5)
    np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(maps, 1) == 0)
    # Same weights as the attention layer itself returns.
    x = model.embedding(ids)
    _, w0 = model.blocks[0].attention(model.blocks[0].attention_norm(x), use_causal_mask=True,
                                      return_attention_scores=True)
    np.testing.assert_allclose(maps[0], ops.convert_to_numpy(w0), atol=1e-6)


def test_banned_tokens_and_prefix_constraint():
    assert interp.banned_token_mask(3, [2]).tolist() == [0.0, 0.0, -np.inf]
    with pytest.raises(ValueError, match="every token"):
        interp.banned_token_mask(2, [0, 1])
    c = interp.PrefixConstraint([[1, 2, 3], [1, 4], [5]])
    assert c.allowed([]) == [1, 5] and c.allowed([1]) == [2, 4] and c.allowed([1, 2]) == [3]
    assert c.allowed([1, 4]) is None and c.allowed([5, 9]) is None

    keras.utils.set_random_seed(0)
    model = GPT(GPTConfig(vocab_size=6, context_length=8, num_layers=1, num_heads=2, width=16))
    free = interp.controlled_generate(model, [0], 12, temperature=1.5, seed=0)
    banned = interp.controlled_generate(model, [0], 12, banned_ids=[1, 2], temperature=1.5,
                                        seed=0)
    assert not {1, 2} & set(banned) and {1, 2} & set(free)  # control: unbanned, they do occur
    forced = interp.controlled_generate(model, [0], 10, constraint=c, temperature=1.5, seed=1)
    assert forced[:3] == [1, 2, 3] or forced[:2] == [1, 4] or forced[:1] == [5]
    # Greedy generation over more than the context agrees with argmax of the plain model.
    greedy = interp.controlled_generate(model, [0, 3], 10, temperature=0)
    window = [0, 3]
    for token in greedy:
        logits = ops.convert_to_numpy(model(np.array([window[-8:]], "int32")))[0, -1]
        assert token == int(np.argmax(logits))
        window.append(token)
