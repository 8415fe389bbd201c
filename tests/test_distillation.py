"""Chapter 13's knowledge distillation (course_lib.chapters.ch13_challenges): the loss against a
NumPy hand computation and Keras's KL divergence, its limits (T = 1, alpha = 0), its gradient,
and one distillation step with the course Trainer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.chapters import ch13_challenges as dist
from course_lib.gpt import GPT, GPTConfig
from course_lib.training import LMBatches, TrainConfig, Trainer


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


RNG = np.random.default_rng(0)
TEACHER = RNG.normal(0, 2, (2, 3, 7))
STUDENT = RNG.normal(0, 2, (2, 3, 7))
LABELS = RNG.integers(0, 7, (2, 3))


def by_hand(t, s, y, temperature, alpha):
    p, q = softmax(t / temperature), softmax(s / temperature)
    kl = np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=-1))
    ce = np.mean(-np.log(np.take_along_axis(softmax(s), y[..., None], axis=-1)))
    return alpha * temperature**2 * kl + (1 - alpha) * ce


@pytest.mark.parametrize("temperature,alpha", [(1.0, 0.5), (2.0, 0.5), (4.0, 0.9), (3.0, 0.0)])
def test_loss_matches_hand_computation(temperature, alpha):
    ours = float(dist.distillation_loss(TEACHER, STUDENT, LABELS, temperature, alpha))
    assert ours == pytest.approx(by_hand(TEACHER, STUDENT, LABELS, temperature, alpha), rel=1e-5)


def test_kl_matches_keras_and_t1_reduces_to_soft_cross_entropy():
    ref = keras.losses.KLDivergence(reduction=None)(softmax(TEACHER / 2), softmax(STUDENT / 2))
    ours = dist.kl_divergence(TEACHER, STUDENT, temperature=2.0)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6)
    # T = 1, alpha = 1: loss = soft CE − teacher entropy (a constant in the student).
    entropy = np.mean(-np.sum(softmax(TEACHER) * np.log(softmax(TEACHER)), axis=-1))
    soft_ce = float(np.mean(dist.soft_cross_entropy(TEACHER, STUDENT)))
    loss = float(dist.distillation_loss(TEACHER, STUDENT, LABELS, temperature=1.0, alpha=1.0))
    assert loss == pytest.approx(soft_ce - entropy, rel=1e-5)
    # Control: the KL of a distribution with itself is 0, with another it is not.
    assert float(np.max(np.abs(dist.kl_divergence(TEACHER, TEACHER)))) < 1e-6
    assert float(np.min(dist.kl_divergence(TEACHER, STUDENT))) > 1e-3


def test_soft_gradient_is_student_minus_teacher_probabilities():
    # d/dz_s of T²·KL(softmax(t/T) || softmax(z_s/T)) = T·(q − p), per position.
    t, s = tf.constant(TEACHER[0, :1], tf.float32), tf.Variable(STUDENT[0, :1], dtype=tf.float32)
    temperature = 3.0
    with tf.GradientTape() as tape:
        loss = dist.distillation_loss(t, s, LABELS[0, :1], temperature=temperature, alpha=1.0)
    grad = tape.gradient(loss, s).numpy()
    expected = temperature * (softmax(STUDENT[0, :1] / temperature) - softmax(TEACHER[0, :1] / 3))
    np.testing.assert_allclose(grad, expected, rtol=1e-4, atol=1e-6)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="temperature"):
        dist.distillation_loss(TEACHER, STUDENT, LABELS, temperature=0.0)
    with pytest.raises(ValueError, match="alpha"):
        dist.distillation_loss(TEACHER, STUDENT, LABELS, alpha=1.5)
    with pytest.raises(ValueError, match="vocabulary"):
        dist.Distiller(GPT(GPTConfig(11, 8, 1, 2, 16)), GPT(GPTConfig(12, 8, 1, 2, 16)))


def test_distiller_trains_only_the_student_and_evaluates_with_cross_entropy():
    keras.utils.set_random_seed(0)
    teacher = GPT(GPTConfig(11, 8, 1, 2, 16))
    student = GPT(GPTConfig(11, 8, 1, 2, 8))
    teacher_before = [w.copy() for w in teacher.get_weights()]
    student_before = [w.copy() for w in student.get_weights()]
    distiller = dist.Distiller(student, teacher, temperature=2.0, alpha=0.5)
    tokens = np.random.default_rng(0).integers(0, 11, 500)
    config = TrainConfig(max_steps=3, eval_interval=3, eval_batches=1, warmup_steps=1,
                         jit_compile=False, verbose=0)
    history = Trainer(distiller, config).fit(LMBatches(tokens, 8, 4), LMBatches(tokens, 8, 4, 1))
    for a, b in zip(teacher_before, teacher.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(student_before, student.get_weights(),
                                                      strict=True))
    # The validation loss is the student's plain cross-entropy on the same batch.
    x, y = next(iter(LMBatches(tokens, 8, 4, 1)(start_step=0, num_steps=1)))
    ce = float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(
        y, student(x, training=False), from_logits=True)))
    assert history[-1]["val_loss"] == pytest.approx(ce, rel=1e-5)
