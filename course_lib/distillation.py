"""Knowledge distillation: a small student model learns from a large teacher's probabilities.

Hinton, Vinyals and Dean (2015, "Distilling the Knowledge in a Neural Network"): the teacher's
full next-token distribution says more than the one correct token does ("after 'thou' the
next word is probably 'art', possibly 'hast', hardly 'the'"). The student is trained on a mix
of two losses:

    loss = α · T² · KL(softmax(z_teacher / T) ‖ softmax(z_student / T))
           + (1 − α) · CE(labels, softmax(z_student))

The temperature T > 1 softens both distributions, so the small probabilities of the teacher
(its "dark knowledge") carry weight; the factor T² keeps the soft term's gradients the same
size whatever T (they scale as 1/T²). With α = 0 this is ordinary training; with α = 1 and
T = 1 it is cross-entropy against the teacher's probabilities (minus the teacher's entropy,
a constant).

Example:

>>> teacher = np.array([[2.0, 0.5, -1.0]])
>>> student = np.array([[1.0, 1.0, 0.0]])
>>> round(float(distillation_loss(teacher, student, np.array([0]), temperature=2.0,
...                               alpha=1.0)), 3)
0.358
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["soft_cross_entropy", "kl_divergence", "distillation_loss", "Distiller"]


def _check(temperature, alpha):
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}; 1 means no softening")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}; it weighs the soft loss")


def soft_cross_entropy(teacher_logits, student_logits, temperature=1.0):
    """Cross-entropy of the student against the teacher's softened probabilities, per position.

    Args:
        teacher_logits: ``(..., V)``.
        student_logits: ``(..., V)``.
        temperature: T; both sets of logits are divided by it.

    Returns:
        ``(...)``: −Σ_v p_teacher(v) · log p_student(v).

    Example:

    >>> float(soft_cross_entropy(np.zeros((1, 4)), np.zeros((1, 4)))[0])  # log 4
    1.3862943649291992
    """
    _check(temperature, 0.0)
    p = ops.softmax(ops.cast(teacher_logits, "float32") / temperature, axis=-1)
    log_q = ops.log_softmax(ops.cast(student_logits, "float32") / temperature, axis=-1)
    return -ops.sum(p * log_q, axis=-1)


def kl_divergence(teacher_logits, student_logits, temperature=1.0):
    """KL(p_teacher ‖ p_student) of the softened distributions, per position.

    Args:
        teacher_logits: ``(..., V)``.
        student_logits: ``(..., V)``.
        temperature: T.

    Returns:
        ``(...)``: Σ_v p_teacher(v) · (log p_teacher(v) − log p_student(v)), ≥ 0.

    Example:

    >>> float(kl_divergence(np.array([[1.0, 2.0]]), np.array([[1.0, 2.0]]))[0])
    0.0
    """
    _check(temperature, 0.0)
    log_p = ops.log_softmax(ops.cast(teacher_logits, "float32") / temperature, axis=-1)
    log_q = ops.log_softmax(ops.cast(student_logits, "float32") / temperature, axis=-1)
    return ops.sum(ops.exp(log_p) * (log_p - log_q), axis=-1)


def distillation_loss(teacher_logits, student_logits, labels, temperature=2.0, alpha=0.5):
    """Hinton et al.'s loss, averaged over every position: α·T²·KL + (1 − α)·CE.

    Args:
        teacher_logits: ``(..., V)`` (e.g. ``(B, T, V)`` for a language model).
        student_logits: ``(..., V)``, the same shape.
        labels: ``(...)`` integer targets (the next tokens).
        temperature: T > 0 for the soft term; the hard term always uses T = 1.
        alpha: weight of the soft term in [0, 1].

    Returns:
        A scalar tensor.

    Example:

    >>> z = np.array([[3.0, 0.0, 0.0]])
    >>> round(float(distillation_loss(z, z, np.array([0]), alpha=0.0)), 4)  # CE only
    0.0949
    """
    _check(temperature, alpha)
    student_logits = ops.cast(student_logits, "float32")
    hard = ops.mean(
        keras.losses.sparse_categorical_crossentropy(labels, student_logits, from_logits=True)
    )
    if alpha == 0.0:
        return hard
    soft = ops.mean(kl_divergence(teacher_logits, student_logits, temperature))
    return alpha * temperature**2 * soft + (1.0 - alpha) * hard


@keras.saving.register_keras_serializable(package="course_lib")
class Distiller(keras.Model):
    """Wraps a student and a frozen teacher; training it trains the student by distillation.

    Calling the distiller calls the student. Its ``compute_loss`` runs the teacher on the same
    input (inference mode, no gradient) and returns :func:`distillation_loss` during training;
    during evaluation it returns the student's plain cross-entropy, so validation losses are
    comparable with a student trained from scratch. Because only ``compute_loss`` is
    overridden, ``fit``, ``train_on_batch`` and the course ``Trainer`` work unchanged.

    Args:
        student: the model being trained (e.g. a small ``course_lib.gpt.GPT``).
        teacher: a trained model with the same vocabulary; it is frozen.
        temperature: T of the soft term.
        alpha: weight of the soft term.
        **kwargs: passed to ``keras.Model``.

    Example:

    >>> distiller = Distiller(student, teacher, temperature=2.0, alpha=0.5)  # doctest: +SKIP
    >>> history = Trainer(distiller, TrainConfig(max_steps=400)).fit(train, val)  # doctest: +SKIP
    """

    def __init__(self, student, teacher, temperature=2.0, alpha=0.5, **kwargs):
        super().__init__(**kwargs)
        _check(temperature, alpha)
        t_vocab = getattr(getattr(teacher, "config", None), "vocab_size", None)
        s_vocab = getattr(getattr(student, "config", None), "vocab_size", None)
        if t_vocab is not None and s_vocab is not None and t_vocab != s_vocab:
            raise ValueError(
                f"teacher vocabulary {t_vocab} != student vocabulary {s_vocab}; distillation "
                "compares distributions over the same tokens, so use the teacher's tokenizer"
            )
        self.student = student
        self.teacher = teacher
        self.teacher.trainable = False
        self.temperature = float(temperature)
        self.alpha = float(alpha)

    @property
    def config(self):
        """The student's configuration (the ``Trainer`` checks ids and memory against it)."""
        return self.student.config

    def call(self, x, training=None):
        return self.student(x, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not training:
            return distillation_loss(None, y_pred, y, alpha=0.0)
        teacher_logits = ops.stop_gradient(self.teacher(x, training=False))  # (B, T, V)
        return distillation_loss(teacher_logits, y_pred, y, self.temperature, self.alpha)
