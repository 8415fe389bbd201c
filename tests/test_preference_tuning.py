"""course_lib.chapters.ch16_preference_tuning: the DPO loss against hand computations, the
sequence log-probabilities against NumPy, and the Keras objective against the formula."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.chapters import ch16_preference_tuning as pt
from course_lib.gpt import GPT, GPTConfig


def test_dpo_loss_equals_hand_computations():
    # z = 0.1 * ((-10 + 11) - (-12 + 11)) = 0.2; -log sigma(0.2) = log(1 + e^-0.2)
    assert float(pt.dpo_loss(-10.0, -12.0, -11.0, -11.0, beta=0.1)) == pytest.approx(
        math.log1p(math.exp(-0.2)), rel=1e-6)
    assert float(pt.dpo_loss(-10.0, -12.0, -11.0, -11.0, beta=0.1)) == pytest.approx(0.598139,
                                                                                     abs=1e-6)
    # Policy = reference: z = 0 and the loss is log 2, whatever the answers.
    assert float(pt.dpo_loss(-3.0, -7.0, -3.0, -7.0, beta=0.5)) == pytest.approx(math.log(2))
    # A mean over pairs, and finite for huge margins either way.
    pc, pr = np.array([-1.0, -1000.0]), np.array([-1000.0, -1.0])
    loss = float(pt.dpo_loss(pc, pr, np.zeros(2) - 5, np.zeros(2) - 5, beta=1.0))
    assert math.isfinite(loss) and loss == pytest.approx((0.0 + 999.0) / 2, abs=1e-3)
    with pytest.raises(ValueError, match="beta"):
        pt.dpo_loss(-1.0, -2.0, -1.0, -2.0, beta=0.0)


def tiny():
    keras.utils.set_random_seed(0)
    return GPT(GPTConfig(vocab_size=23, context_length=16, num_layers=1, num_heads=2, width=8))


def test_sequence_log_probs_matches_numpy():
    model = tiny()
    rng = np.random.default_rng(0)
    inputs = rng.integers(0, 23, (3, 10)).astype("int32")
    targets = rng.integers(0, 23, (3, 10)).astype("int32")
    weights = (rng.random((3, 10)) < 0.5).astype("float32")
    got = keras.ops.convert_to_numpy(pt.sequence_log_probs(model, inputs, targets, weights))
    logits = keras.ops.convert_to_numpy(model(inputs)).astype("float64")
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    want = (np.take_along_axis(log_p, targets[..., None], -1)[..., 0] * weights).sum(-1)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_objective_with_binary_cross_entropy_is_the_dpo_loss_and_training_lowers_it():
    policy, reference = tiny(), tiny()
    rng = np.random.default_rng(1)
    b, t = 2, 8
    batch = {"inputs": rng.integers(0, 23, (2 * b, t)).astype("int32"),
             "targets": rng.integers(0, 23, (2 * b, t)).astype("int32"),
             "weights": np.concatenate([np.zeros((2 * b, 3)), np.ones((2 * b, t - 3))],
                                       1).astype("float32")}
    batch["reference"] = keras.ops.convert_to_numpy(pt.sequence_log_probs(
        reference, batch["inputs"], batch["targets"], batch["weights"]))
    objective = pt.DPOObjective(policy, beta=0.1)
    z = keras.ops.convert_to_numpy(objective(batch))
    np.testing.assert_allclose(z, 0.0, atol=1e-5)  # same weights: policy = reference
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    log_p = keras.ops.convert_to_numpy(pt.sequence_log_probs(
        policy, batch["inputs"], batch["targets"], batch["weights"]))
    # Move the policy, then compare the objective's loss with the formula.
    policy.embedding.token_embedding.embeddings.assign(
        keras.ops.convert_to_numpy(policy.embedding.token_embedding.embeddings) * 1.5)
    z = keras.ops.convert_to_numpy(objective(batch))
    log_p = keras.ops.convert_to_numpy(pt.sequence_log_probs(
        policy, batch["inputs"], batch["targets"], batch["weights"]))
    formula = float(pt.dpo_loss(log_p[:b], log_p[b:], batch["reference"][:b],
                                batch["reference"][b:], beta=0.1))
    assert float(bce(np.ones(b), z)) == pytest.approx(formula, rel=1e-5)
    assert np.abs(z).max() > 1e-4  # the comparison is not 0 == 0
    objective.compile(keras.optimizers.Adam(1e-2), loss=bce)
    before = float(bce(np.ones(b), objective(batch)))
    # One batch of pairs is 2B rows but B labels, so it is fed whole, as the chapter does.
    data = tf.data.Dataset.from_tensors((batch, np.ones(b, "float32"))).repeat(5)
    objective.fit(data, epochs=1, verbose=0)
    assert float(bce(np.ones(b), objective(batch))) < before
    with pytest.raises(ValueError, match="beta"):
        pt.DPOObjective(policy, beta=-1.0)
