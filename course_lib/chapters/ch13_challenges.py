# Generated from notebooks/src/13_challenges.py (notebooks/13_challenges.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Challenges of large language models, measured: compute, smaller models, bias, interpretability.

Written in ``notebooks/13_challenges.ipynb`` (chapter 13). Its parts, by section of the chapter:

- **Compute and memory** (1.1-1.3): :func:`training_flops` (C ≈ 6·N·D, Kaplan et al., 2020),
  :func:`gpt_forward_flops` and :func:`gpt_training_flops` (the course GPT, matmul by matmul),
  :func:`non_embedding_parameters`, :func:`hlo_matmul_flops` (the same count read from the XLA
  program TensorFlow compiles), :func:`parameter_memory` with :data:`PRECISIONS` (weights,
  gradients and optimizer state per parameter), :func:`measure_matmul_flops_per_second`.
- **Scaling laws** (1.4): :func:`fit_power_law` returns a :class:`PowerLaw`
  L(N) = a·N^(−b) + c; :func:`compute_optimal` is Chinchilla's rule (Hoffmann et al., 2022).
- **Knowledge distillation** (2.1; Hinton, Vinyals and Dean, 2015):
  :func:`soft_cross_entropy`, :func:`kl_divergence`, :func:`distillation_loss`, and
  :class:`Distiller`, a Keras model that trains a student with the course ``Trainer``.
- **Bias** (3.1-3.2): the WEAT test of Caliskan, Bryson and Narayanan (2017)
  (:func:`association`, :func:`weat_statistic`, :func:`weat_effect_size`, :func:`weat_test`
  with its :class:`WEATResult`, the paper's word lists :data:`WEAT_WORDS`,
  :func:`lookup_vectors`), and :func:`template_probe` (:class:`ProbeResult`) for a model's
  scores of the same sentences with different names.
- **Interpretability and control** (4.1-4.2): :func:`integrated_gradients` (Sundararajan,
  Taly and Yan, 2017), :func:`gradient_x_input`, :func:`completeness_gap`,
  :func:`gpt_attention_maps`; :func:`banned_token_mask`, :class:`PrefixConstraint` and
  :func:`controlled_generate`.

FLOPs are those of matrix multiplications, a multiply-add counted as 2; element-wise work is
a few percent at these widths and is left out, as in the papers. Gradients are taken with
``tf.GradientTape``: the course runs Keras on TensorFlow.

Example:

>>> from course_lib.gpt import GPTConfig
>>> config = GPTConfig(vocab_size=65, context_length=64, num_layers=4, num_heads=4, width=128)
>>> training_flops(config.num_parameters(), 1_000_000) / 1e12  # TFLOPs for a million tokens
4.859136
>>> teacher, student = np.array([[2.0, 0.5, -1.0]]), np.array([[1.0, 1.0, 0.0]])
>>> round(float(distillation_loss(teacher, student, np.array([0]), alpha=1.0)), 3)
0.358
>>> f = lambda x: ops.sum(x ** 2, axis=(1, 2))  # f(x) = Σ x²
>>> round(float(integrated_gradients(f, np.ones((2, 3), "float32"), steps=8).sum()), 4)
6.0
"""

import dataclasses
import itertools
import math
import re
import time

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from course_lib.generation import sample_next


def gpt_forward_flops(config, sequence_length=None, batch_size=1):
    """Forward-pass FLOPs of the course GPT, matmul by matmul (the table of 1.1).

    Per block 24·T·C² + 4·T²·C, plus 2·T·C·V for the output head; embedding lookups cost no
    FLOPs. The causal mask discards half of the T×T scores, but the full matrix is computed,
    so it is counted in full.

    Args:
        config: a ``course_lib.gpt.GPTConfig``.
        sequence_length: T; defaults to ``config.context_length``.
        batch_size: sequences B; every count is multiplied by it.

    Returns:
        A dict: ``"block_0/attention_qkv"``, ``"block_0/attention_scores"``,
        ``"block_0/attention_values"``, ``"block_0/attention_output"``, ``"block_0/mlp"``, …,
        ``"lm_head"`` and ``"total"``.

    Example:

    >>> from course_lib.gpt import GPTConfig
    >>> gpt_forward_flops(GPTConfig(11, 8, 1, 2, 16))["total"]
    56064
    """
    t = config.context_length if sequence_length is None else int(sequence_length)
    if t < 1 or t > config.context_length:
        raise ValueError(
            f"sequence_length must be in [1, context_length {config.context_length}], got {t}"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    b, c, v = batch_size, config.width, config.vocab_size
    counts = {}
    for i in range(config.num_layers):
        counts[f"block_{i}/attention_qkv"] = b * 3 * 2 * t * c * c  # (B·T, C) @ (C, C), 3 times
        # Per head (B, T, C/H) @ (B, C/H, T); over the H heads that is T·T·C multiply-adds.
        counts[f"block_{i}/attention_scores"] = b * 2 * t * t * c
        counts[f"block_{i}/attention_values"] = b * 2 * t * t * c  # (B, H, T, T) @ (B, H, T, C/H)
        counts[f"block_{i}/attention_output"] = b * 2 * t * c * c  # (B·T, C) @ (C, C)
        counts[f"block_{i}/mlp"] = b * 2 * (2 * t * c * 4 * c)  # (B·T, C) @ (C, 4C) @ (4C, C)
    counts["lm_head"] = b * 2 * t * c * v  # (B·T, C) @ (C, V)
    counts["total"] = sum(counts.values())
    return counts


def gpt_training_flops(config, num_tokens, sequence_length=None):
    """Training FLOPs from the layer count: 3 × forward (the backward pass costs two forwards).

    Args:
        config: a ``course_lib.gpt.GPTConfig``.
        num_tokens: tokens trained on.
        sequence_length: T of each training window; defaults to ``config.context_length``.

    Returns:
        FLOPs as a float.

    Example:

    >>> from course_lib.gpt import GPTConfig
    >>> gpt_training_flops(GPTConfig(11, 8, 1, 2, 16), 8)
    168192.0
    """
    t = config.context_length if sequence_length is None else int(sequence_length)
    per_token = gpt_forward_flops(config, t)["total"] / t
    return 3.0 * per_token * float(num_tokens)


def training_flops(num_parameters, num_tokens):
    """The 6·N·D estimate of the FLOPs needed to train on ``num_tokens`` tokens.

    Args:
        num_parameters: N. Kaplan et al. count non-embedding parameters; for the course's
            small models the embeddings matter, see :func:`gpt_training_flops`.
        num_tokens: D, tokens processed in training (steps × batch × context).

    Returns:
        6·N·D as a float.

    Example:

    >>> training_flops(1e6, 1e9) == 6e15
    True
    """
    if num_parameters < 0 or num_tokens < 0:
        raise ValueError(
            f"num_parameters and num_tokens must be >= 0, got {num_parameters}, {num_tokens}"
        )
    return 6.0 * float(num_parameters) * float(num_tokens)


def non_embedding_parameters(config):
    """Parameters outside the token and position embeddings (Kaplan et al.'s N).

    Args:
        config: a ``course_lib.gpt.GPTConfig``.

    Example:

    >>> from course_lib.gpt import GPTConfig
    >>> non_embedding_parameters(GPTConfig(65, 64, 4, 4, 128))
    793344
    """
    c = config.width
    head = 0 if config.tie_embeddings else config.vocab_size * c
    return config.num_parameters() - config.vocab_size * c - config.context_length * c - head


# `%name = f32[2,8,16]{2,1,0} dot(f32[2,8,16]{2,1,0} %a, f32[16,16]{1,0} %b), lhs_contracting_dims={2}`
_DOT = re.compile(
    r"=\s*\w+\[(?P<out>[\d,]*)\][^ ]*\s+dot\(\s*\w+\[(?P<lhs>[\d,]*)\].*?"
    r"lhs_contracting_dims=\{(?P<contract>[\d,]*)\}"
)
_OP_NAME = re.compile(r'op_name="(?P<name>[^"]+)"')


def _dims(text):
    return [int(d) for d in text.split(",") if d]


def hlo_matmul_flops(fn, *args):
    """Counts the matmul FLOPs of ``fn(*args)`` in the XLA program TensorFlow compiles for it.

    An independent check of :func:`gpt_forward_flops`: TensorFlow lowers every matmul and
    einsum to an HLO ``dot``; each costs 2 × (elements of its output) × (size of the contracted
    dimensions). TensorFlow backend only.

    Args:
        fn: a function of tensors (e.g. ``lambda x: model(x, training=False)``).
        *args: example arguments; shapes must be static.

    Returns:
        ``(total, per_op)``: the total FLOPs and a dict TensorFlow op name -> FLOPs.

    Example:

    >>> total, per_op = hlo_matmul_flops(lambda a, b: a @ b, np.ones((2, 3), "float32"),
    ...                                  np.ones((3, 4), "float32"))
    >>> total
    48
    """
    compiled = tf.function(fn, jit_compile=True)
    hlo = compiled.experimental_get_compiler_ir(*args)(stage="hlo")
    total, per_op = 0, {}
    for line in hlo.splitlines():
        match = _DOT.search(line)
        if match is None:
            continue
        out, lhs = _dims(match["out"]), _dims(match["lhs"])
        contracted = math.prod(lhs[d] for d in _dims(match["contract"]))
        flops = 2 * math.prod(out) * contracted
        name = _OP_NAME.search(line)
        key = name["name"] if name else line.split("=")[0].strip()
        per_op[key] = per_op.get(key, 0) + flops
        total += flops
    return total, per_op


# Bytes per parameter: (weights, gradients, bytes per optimizer slot, extra weight copies).
PRECISIONS = {
    # Everything float32: Keras's default.
    "float32": (4, 4, 4, 0),
    # Keras mixed precision: float32 variables (and so float32 gradients and optimizer state),
    # plus the 16-bit copy each layer casts its weights to every step.
    "mixed_bfloat16": (4, 4, 4, 2),
    "mixed_float16": (4, 4, 4, 2),
    # Pure 16-bit training: variables, gradients and slots all in bfloat16 (cheap, lossy).
    "bfloat16": (2, 2, 2, 0),
}
_SLOTS = {"adamw": 2, "adam": 2, "momentum": 1, "sgd": 0}  # moment estimates kept per weight


def parameter_memory(num_parameters, precision="float32", optimizer="adamw"):
    """Memory that training needs per model, before activations: weights, gradients, optimizer.

    AdamW keeps two moments per weight (m and v), so with float32 everything a parameter costs
    4 (weight) + 4 (gradient) + 8 (moments) = 16 bytes. Keras's mixed precision keeps float32
    variables and adds a 16-bit copy (18 bytes); pure bfloat16 halves everything (8 bytes).
    Activations come on top and grow with the batch (``course_lib.memory``).

    Args:
        num_parameters: P.
        precision: one of ``PRECISIONS``.
        optimizer: ``"adamw"``/``"adam"`` (2 slots), ``"momentum"`` (1) or ``"sgd"`` (0).

    Returns:
        A dict of byte counts: ``weights``, ``gradients``, ``optimizer_state``,
        ``weight_copies``, ``total``, and ``bytes_per_parameter``.

    Example:

    >>> parameter_memory(1_000_000)["total"]
    16000000
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if optimizer not in _SLOTS:
        raise ValueError(f"optimizer must be one of {', '.join(_SLOTS)}, got {optimizer!r}")
    if num_parameters < 0:
        raise ValueError(f"num_parameters must be >= 0, got {num_parameters}")
    w, g, slot, copy = PRECISIONS[precision]
    p = int(num_parameters)
    parts = {
        "weights": w * p,
        "gradients": g * p,
        "optimizer_state": _SLOTS[optimizer] * slot * p,
        "weight_copies": copy * p,
    }
    total = sum(parts.values())
    return {**parts, "total": total, "bytes_per_parameter": total // p if p else 0}


def measure_matmul_flops_per_second(size=512, repeats=10, dtype="float32"):
    """What this machine achieves on one square matmul, in FLOP/s (the best of ``repeats``).

    The yardstick for a model's throughput: a training step is mostly matmuls, but smaller and
    more varied ones, so a model reaches a fraction of this.

    Args:
        size: the matrices are ``size × size``.
        repeats: timed repetitions after one warm-up; the fastest counts.
        dtype: ``"float32"`` or ``"bfloat16"``.

    Returns:
        FLOP/s as a float.

    Example:

    >>> measure_matmul_flops_per_second(64, repeats=2) > 0
    True
    """
    rng = np.random.default_rng(0)
    a = ops.convert_to_tensor(rng.normal(size=(size, size)).astype("float32"), dtype=dtype)
    b = ops.convert_to_tensor(rng.normal(size=(size, size)).astype("float32"), dtype=dtype)
    ops.convert_to_numpy(ops.matmul(a, b))  # warm-up: kernels and threads start here
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ops.convert_to_numpy(ops.matmul(a, b))
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best


@dataclasses.dataclass(frozen=True)
class PowerLaw:
    """L(x) = a·x^(−b) + c, the fitted curve of :func:`fit_power_law`.

    Args:
        a: scale.
        b: exponent (positive: the loss falls with x).
        c: the irreducible loss (0 for a pure power law).
        r2: the coefficient of determination: of log L for a pure power law, of L with c.

    Example:

    >>> float(PowerLaw(a=10.0, b=0.5, c=1.0)(100.0))
    2.0
    """

    a: float
    b: float
    c: float = 0.0
    r2: float = float("nan")

    def __call__(self, x):
        return self.a * np.power(np.asarray(x, dtype=np.float64), -self.b) + self.c

    def __str__(self):
        offset = f" + {self.c:.3f}" if self.c else ""
        return f"L = {self.a:.3g}·N^(−{self.b:.3f}){offset}"


def _log_linear(x, y):
    """Least squares of log y = log a − b·log x; returns (a, b, residual sum of squares, r2)."""
    lx, ly = np.log(x), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    pred = intercept + slope * lx
    rss = float(np.sum((ly - pred) ** 2))
    tss = float(np.sum((ly - ly.mean()) ** 2))
    return float(np.exp(intercept)), float(-slope), rss, 1.0 - rss / tss if tss else 1.0


def fit_power_law(x, y, *, offset=False):
    """Fits L = a·x^(−b) (a straight line on log-log axes), or with ``offset`` L = a·x^(−b) + c.

    Four or five points pin down two parameters well and three only loosely: report c with
    care.

    Args:
        x: positive sizes (parameters or FLOPs).
        y: positive losses, one per x.
        offset: also fit the irreducible loss c.

    Returns:
        A :class:`PowerLaw`.

    Example:

    >>> n = np.array([1e4, 1e5, 1e6])
    >>> fit_power_law(n, 5.0 * n ** -0.1).b
    0.1
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D and of equal length, got {x.shape} and {y.shape}")
    need = 4 if offset else 2
    if len(x) < need:
        raise ValueError(f"need at least {need} points to fit {'3' if offset else '2'} parameters")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("x and y must be positive (they are read on log axes)")
    if not offset:
        a, b, _, r2 = _log_linear(x, y)
        return PowerLaw(round(a, 12), round(b, 12), 0.0, r2)

    def rss(c):
        # Squared error in loss units: log-space errors of y − c are not comparable across c
        # (they blow up as c nears min y).
        a, b, _, _ = _log_linear(x, y - c)
        return float(np.sum((a * x**-b + c - y) ** 2))

    top = float(y.min()) * (1 - 1e-9)
    grid = np.linspace(0.0, top, 400, endpoint=False)
    best = int(np.argmin([rss(c) for c in grid]))
    lo = grid[max(best - 1, 0)]
    hi = grid[best + 1] if best + 1 < len(grid) else top
    golden = (math.sqrt(5) - 1) / 2
    for _ in range(100):  # golden-section search on the bracket around the best grid point
        m1, m2 = hi - golden * (hi - lo), lo + golden * (hi - lo)
        if rss(m1) < rss(m2):
            hi = m2
        else:
            lo = m1
    c = (lo + hi) / 2
    a, b, _, _ = _log_linear(x, y - c)
    r2 = 1.0 - rss(c) / float(np.sum((y - y.mean()) ** 2))
    return PowerLaw(a, b, c, r2)


def compute_optimal(compute_flops, tokens_per_parameter=20.0):
    """The Chinchilla rule: the model size and token count that spend a compute budget best.

    Hoffmann et al. (2022) found that loss is lowest for a fixed C = 6·N·D when N and D grow
    together, with about 20 tokens per parameter. Then N = √(C / (6·20)) and D = 20·N.

    Args:
        compute_flops: the training budget C in FLOPs.
        tokens_per_parameter: D / N at the optimum (20 in the paper).

    Returns:
        ``(num_parameters, num_tokens)`` as floats.

    Example:

    >>> n, d = compute_optimal(6 * 20 * 1e12)
    >>> round(n), round(d)
    (1000000, 20000000)
    """
    if compute_flops <= 0 or tokens_per_parameter <= 0:
        raise ValueError("compute_flops and tokens_per_parameter must be positive")
    n = math.sqrt(compute_flops / (6.0 * tokens_per_parameter))
    return n, tokens_per_parameter * n


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
    p = ops.softmax(ops.cast(teacher_logits, "float32") / temperature, axis=-1)  # (..., V)
    log_q = ops.log_softmax(ops.cast(student_logits, "float32") / temperature, axis=-1)  # (..., V)
    return -ops.sum(p * log_q, axis=-1)  # (...)


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
    log_p = ops.log_softmax(ops.cast(teacher_logits, "float32") / temperature, axis=-1)  # (..., V)
    log_q = ops.log_softmax(ops.cast(student_logits, "float32") / temperature, axis=-1)  # (..., V)
    return ops.sum(ops.exp(log_p) * (log_p - log_q), axis=-1)  # (...)


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
    student_logits = ops.cast(student_logits, "float32")  # (..., V)
    hard = ops.mean(  # ()
        keras.losses.sparse_categorical_crossentropy(labels, student_logits, from_logits=True)
    )
    if alpha == 0.0:
        return hard
    soft = ops.mean(kl_divergence(teacher_logits, student_logits, temperature))  # ()
    return alpha * temperature**2 * soft + (1.0 - alpha) * hard


@keras.saving.register_keras_serializable(package="course_lib")
class Distiller(keras.Model):
    """Wraps a student and a frozen teacher; training it trains the student by distillation.

    ``compute_loss`` runs the teacher on the same input (inference mode, no gradient) and
    returns :func:`distillation_loss` during training; during evaluation it returns the
    student's plain cross-entropy, so validation losses are comparable with a student trained
    from scratch.

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
        return self.student(x, training=training)  # (B, T, V)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not training:
            return distillation_loss(None, y_pred, y, alpha=0.0)
        teacher_logits = ops.stop_gradient(self.teacher(x, training=False))  # (B, T, V)
        return distillation_loss(teacher_logits, y_pred, y, self.temperature, self.alpha)


def _unit(m):
    m = np.atleast_2d(np.asarray(m, dtype=np.float64))  # (n, D)
    norms = np.linalg.norm(m, axis=1, keepdims=True)  # (n, 1)
    if (norms == 0).any():
        raise ValueError("a word vector is all zeros; cosine similarity is undefined for it")
    return m / norms


def _associations(W, A, B):
    """s(w, A, B) for each row of W."""
    W, A, B = _unit(W), _unit(A), _unit(B)  # (nW, D), (nA, D), (nB, D)
    return (W @ A.T).mean(axis=1) - (W @ B.T).mean(axis=1)  # (nW, nA), (nW, nB) -> (nW,)


def association(w, A, B):
    """s(w, A, B): how much closer the vector w is to the attributes A than to B (cosines).

    Args:
        w: one vector ``(D,)``.
        A: attribute vectors ``(nA, D)``.
        B: attribute vectors ``(nB, D)``.

    Returns:
        A float in [−2, 2].

    Example:

    >>> association(np.array([1.0, 0.0]), np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    1.0
    """
    return float(_associations(w, A, B)[0])


def weat_statistic(X, Y, A, B):
    """S(X, Y, A, B) = Σ_x s(x, A, B) − Σ_y s(y, A, B).

    Args:
        X, Y: target vectors ``(nX, D)`` and ``(nY, D)``.
        A, B: attribute vectors.

    Example:

    >>> I = np.eye(2)
    >>> weat_statistic(I[:1], I[1:], I[:1], I[1:])
    2.0
    """
    return float(_associations(X, A, B).sum() - _associations(Y, A, B).sum())


def weat_effect_size(X, Y, A, B):
    """Caliskan et al.'s effect size d: the gap in mean association in units of its spread.

    The standard deviation is the sample one (ddof = 1) over the associations of all target
    words, as in the original code. |d| of 0.2, 0.5 and 0.8 are Cohen's small, medium and
    large; the maximum is 2 for equal-size sets.

    Args:
        X, Y: target vectors.
        A, B: attribute vectors.

    Returns:
        d as a float.

    Example:

    >>> X = np.array([[1.0, 0.2], [1.0, 0.1]]); Y = np.array([[0.2, 1.0], [0.1, 1.0]])
    >>> round(weat_effect_size(X, Y, np.eye(2)[:1], np.eye(2)[1:]), 3)
    1.728
    """
    sx, sy = _associations(X, A, B), _associations(Y, A, B)  # (nX,), (nY,)
    spread = np.concatenate([sx, sy]).std(ddof=1)
    if spread == 0:
        raise ValueError("every target word has the same association; d is undefined")
    return float((sx.mean() - sy.mean()) / spread)


@dataclasses.dataclass(frozen=True)
class WEATResult:
    """The outcome of :func:`weat_test`.

    Args:
        effect_size: Cohen's d.
        statistic: S(X, Y, A, B).
        p_value: one-sided permutation p-value, P(S_perm ≥ S).
        permutations: partitions evaluated.
        exact: True when every partition was enumerated.
    """

    effect_size: float
    statistic: float
    p_value: float
    permutations: int
    exact: bool


def weat_test(X, Y, A, B, *, permutations=10_000, seed=0):
    """WEAT: effect size and one-sided permutation p-value.

    When X ∪ Y has at most ``permutations`` equal-size splits, every one is enumerated (an
    exact test, the observed split included); otherwise ``permutations`` random splits are
    drawn and p = (1 + #{S_perm ≥ S}) / (1 + permutations), which is never 0.

    Args:
        X, Y: target vectors.
        A, B: attribute vectors.
        permutations: the most partitions to evaluate.
        seed: seed of the random partitions.

    Returns:
        A :class:`WEATResult`.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> r = weat_test(rng.normal(size=(4, 5)), rng.normal(size=(4, 5)),
    ...               rng.normal(size=(3, 5)), rng.normal(size=(3, 5)))
    >>> r.exact, r.permutations
    (True, 70)
    """
    X, Y = np.atleast_2d(X), np.atleast_2d(Y)
    s = _associations(np.concatenate([X, Y]), A, B)  # (n,): every target word's association
    n, nx = len(s), len(X)
    observed = s[:nx].sum() - s[nx:].sum()
    total = s.sum()
    tol = 1e-12 * max(1.0, abs(observed))  # ties with the observed split count as "as large"
    if math.comb(n, nx) <= permutations:
        sums = np.array([s[list(idx)].sum() for idx in itertools.combinations(range(n), nx)])
        stats = 2 * sums - total  # (C(n, nx),)
        p = float(np.mean(stats >= observed - tol))
        count, exact = len(stats), True
    else:
        rng = np.random.default_rng(seed)
        keys = rng.random((permutations, n))
        chosen = np.argsort(keys, axis=1)[:, :nx]  # (permutations, nx): a random subset per row
        stats = 2 * s[chosen].sum(axis=1) - total  # (permutations,)
        p = float((1 + np.sum(stats >= observed - tol)) / (1 + permutations))
        count, exact = permutations, False
    return WEATResult(weat_effect_size(X, Y, A, B), float(observed), p, count, exact)


# Word lists of Caliskan et al. (2017), supplementary material: WEAT 1 (flowers, insects,
# pleasant, unpleasant), WEAT 3 (European- and African-American male names; it pairs them
# with the same pleasant/unpleasant lists here) and WEAT 6 (names, career, family).
WEAT_WORDS = {
    "flowers": "aster clover hyacinth marigold poppy azalea crocus iris orchid rose bluebell "
    "daffodil lilac pansy tulip buttercup daisy lily peony violet carnation gladiola magnolia "
    "petunia zinnia".split(),
    "insects": "ant caterpillar flea locust spider bedbug centipede fly maggot tarantula bee "
    "cockroach gnat mosquito termite beetle cricket hornet moth wasp blackfly dragonfly horsefly "
    "roach weevil".split(),
    "pleasant": "caress freedom health love peace cheer friend heaven loyal pleasure diamond "
    "gentle honest lucky rainbow diploma gift honor miracle sunrise family happy laughter "
    "paradise vacation".split(),
    "unpleasant": "abuse crash filth murder sickness accident death grief poison stink assault "
    "disaster hatred pollute tragedy divorce jail poverty ugly cancer kill rotten vomit agony "
    "prison".split(),
    "european_american_male_names": "adam chip harry josh roger alan frank ian justin ryan "
    "andrew fred jack matthew stephen brad greg jed paul todd brandon hank jonathan peter "
    "wilbur".split(),
    "african_american_male_names": "alonzo jamel lerone percell theo alphonse jerome leroy "
    "rasaan torrance darnell lamar lionel rashaun tyree deion lamont malik terrence tyrone "
    "everol lavon marcellus terryl wardell".split(),
    "male_names": "john paul mike kevin steve greg jeff bill".split(),
    "female_names": "amy joan lisa sarah diana kate ann donna".split(),
    "career": "executive management professional corporation salary office business "
    "career".split(),
    "family": "home parents children family cousins marriage wedding relatives".split(),
}


def lookup_vectors(words, vocabulary, vectors):
    """The rows of ``vectors`` for ``words``, skipping words outside the vocabulary.

    Args:
        words: the words wanted.
        vocabulary: a list of words (row order of ``vectors``) or a dict word -> row.
        vectors: ``(V, D)``.

    Returns:
        ``(matrix, found, missing)``: the vectors of the found words, and both word lists.

    Example:

    >>> m, found, missing = lookup_vectors(["a", "zz"], ["a", "b"], np.eye(2))
    >>> found, missing
    (['a'], ['zz'])
    """
    index = vocabulary if isinstance(vocabulary, dict) else {w: i for i, w in enumerate(vocabulary)}
    found = [w for w in words if w in index]
    missing = [w for w in words if w not in index]
    rows = np.asarray(vectors)[[index[w] for w in found]] if found else np.zeros((0, 0))
    return rows, found, missing


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """The outcome of :func:`template_probe`.

    Args:
        scores: ``{group: array (names, templates)}`` of model scores.
        group_means: ``{group: mean score}``.
        gap: largest minus smallest group mean.
        p_value: permutation p-value of the gap over the names' group labels (each name's
            mean score over the templates is one observation).
    """

    scores: dict
    group_means: dict
    gap: float
    p_value: float


def template_probe(score_fn, templates, groups, *, permutations=10_000, seed=0):
    """Scores every template filled with every word of every group, and compares the groups.

    Args:
        score_fn: a function list[str] -> array of scores (e.g. a classifier's P(positive)).
        templates: sentences with one ``{}`` where the word goes.
        groups: ``{group name: [words]}``; two or more groups.
        permutations: random relabellings of names for the p-value of the gap.
        seed: seed of those relabellings.

    Returns:
        A :class:`ProbeResult`.

    Example:

    >>> r = template_probe(lambda s: np.array([len(x) for x in s], float), ["I am {}."],
    ...                    {"short": ["al", "bo"], "long": ["alexandra", "bartholomew"]})
    >>> r.gap
    8.0
    """
    if len(groups) < 2:
        raise ValueError("give at least two groups of words to compare")
    if not templates or any("{}" not in t for t in templates):
        raise ValueError("every template needs one '{}' where the word goes")
    scores = {}
    for group, words in groups.items():
        if not words:
            raise ValueError(f"group {group!r} is empty")
        sentences = [t.format(w) for w in words for t in templates]
        flat = np.asarray(score_fn(sentences), dtype=np.float64)  # (words · templates,)
        scores[group] = flat.reshape(len(words), len(templates))  # (words, templates)
    means = {g: float(s.mean()) for g, s in scores.items()}
    gap = max(means.values()) - min(means.values())

    # Permutation test: shuffle which group each name belongs to, keep the group sizes.
    per_name = np.concatenate([s.mean(axis=1) for s in scores.values()])  # (all names,)
    sizes = np.cumsum([len(s) for s in scores.values()])[:-1]
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(permutations):
        parts = np.split(rng.permutation(per_name), sizes)
        perm_means = [p.mean() for p in parts]
        hits += (max(perm_means) - min(perm_means)) >= gap - 1e-12
    p = (1 + hits) / (1 + permutations)
    return ProbeResult(scores, means, float(gap), float(p))


def _gradients(f, batch):
    """Gradient of Σ f(batch) with respect to batch; f maps (S, ...) to scores (S,)."""
    batch = tf.convert_to_tensor(batch, dtype=tf.float32)  # (S, *x.shape)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        scores = f(batch)  # (S,)
        total = tf.reduce_sum(scores)  # the points are independent: ∂Σf/∂x_s = ∂f(x_s)/∂x_s
    return tape.gradient(total, batch).numpy(), np.asarray(scores, dtype=np.float64)


def integrated_gradients(f, x, baseline=None, steps=50, batch_size=64):
    """Integrated gradients of the score ``f`` at input ``x``.

    The path integral ∫₀¹ ∂f(x' + α(x − x'))/∂x dα is computed with the trapezoidal rule over
    ``steps`` intervals (``steps + 1`` points).

    Args:
        f: a function from a batch ``(S, *x.shape)`` of float32 inputs to scores ``(S,)``
            (e.g. the logit of a class, computed from token embeddings).
        x: one input, e.g. ``(T, C)`` token embeddings.
        baseline: x' of the same shape; defaults to zeros (the "no information" input).
        steps: intervals along the path.
        batch_size: path points per gradient computation.

    Returns:
        Attributions, a float64 array shaped like ``x``; their sum ≈ f(x) − f(x').

    Example:

    >>> f = lambda b: 3.0 * ops.sum(b, axis=1)  # linear: IG = 3 · (x − x')
    >>> integrated_gradients(f, np.array([1.0, 2.0]), steps=1).tolist()
    [3.0, 6.0]
    """
    x = np.asarray(x, dtype=np.float32)
    baseline = np.zeros_like(x) if baseline is None else np.asarray(baseline, dtype=np.float32)
    if baseline.shape != x.shape:
        raise ValueError(f"baseline shape {baseline.shape} differs from the input's {x.shape}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)  # (steps + 1,)
    weights = np.full(steps + 1, 1.0 / steps)  # (steps + 1,)
    weights[[0, -1]] = 0.5 / steps  # trapezoid: half weight at both ends
    total = np.zeros(x.shape, dtype=np.float64)  # (*x.shape): the weighted sum of gradients
    points = (-1,) + (1,) * x.ndim  # one α (and one weight) per path point, broadcast over x
    for start in range(0, steps + 1, batch_size):
        a = alphas[start : start + batch_size].reshape(points)  # (S, 1, ...)
        path = baseline[None] + a * (x - baseline)[None]  # (S, *x.shape)
        grads, _ = _gradients(f, path)  # (S, *x.shape)
        w = weights[start : start + batch_size].reshape(points)  # (S, 1, ...)
        total += (w * grads).sum(axis=0)
    return (x - baseline).astype(np.float64) * total  # (*x.shape)


def gradient_x_input(f, x):
    """Saliency by gradient × input: x_i · ∂f/∂x_i at x (one gradient, no path).

    Args:
        f: a function from a batch ``(S, *x.shape)`` to scores ``(S,)``.
        x: one input.

    Returns:
        A float64 array shaped like ``x``.

    Example:

    >>> gradient_x_input(lambda b: ops.sum(b**2, axis=1), np.array([1.0, 2.0])).tolist()
    [2.0, 8.0]
    """
    x = np.asarray(x, dtype=np.float32)
    grads, _ = _gradients(f, x[None])  # (1, *x.shape)
    return x.astype(np.float64) * grads[0]


def completeness_gap(f, x, attributions, baseline=None):
    """|Σ attributions − (f(x) − f(x'))|: how far integrated gradients are from complete.

    Args:
        f: the scored function, as for :func:`integrated_gradients`.
        x: the input.
        attributions: from :func:`integrated_gradients`.
        baseline: x' (default zeros).

    Returns:
        ``(gap, f(x) − f(x'))`` as floats.

    Example:

    >>> f = lambda b: ops.sum(b, axis=1)
    >>> completeness_gap(f, np.ones(3), np.ones(3))
    (0.0, 3.0)
    """
    x = np.asarray(x, dtype=np.float32)
    baseline = np.zeros_like(x) if baseline is None else np.asarray(baseline, dtype=np.float32)
    scores = np.asarray(f(np.stack([x, baseline])), dtype=np.float64)  # (2,)
    delta = float(scores[0] - scores[1])
    return float(abs(np.sum(attributions) - delta)), delta


def gpt_attention_maps(model, token_ids):
    """The attention weights of every head of every block of a course GPT.

    Args:
        model: a ``course_lib.gpt.GPT``.
        token_ids: ``(B, T)`` ids, T ≤ context_length.

    Returns:
        ``(maps, logits)``: maps as a NumPy array ``(N, B, H, T, T)`` (row t: how much position
        t attends to each position ≤ t) and the logits ``(B, T, V)``, which match
        ``model(token_ids)``.

    Example:

    >>> maps, _ = gpt_attention_maps(model, ids[None])  # doctest: +SKIP
    >>> maps.shape  # (layers, 1, heads, T, T)  # doctest: +SKIP
    """
    token_ids = ops.convert_to_tensor(np.asarray(token_ids, dtype="int32"))  # (B, T)
    x = model.embedding(token_ids)  # (B, T, C)
    maps = []
    for block in model.blocks:
        attended, weights = block.attention(
            block.attention_norm(x),
            use_causal_mask=block.causal,
            training=False,
            return_attention_scores=True,
        )  # (B, T, C), (B, H, T, T)
        x = x + attended  # (B, T, C)
        x = x + block.mlp_out(block.mlp_in(block.mlp_norm(x)))  # (B, T, C)
        maps.append(ops.convert_to_numpy(ops.cast(weights, "float32")))
    return np.stack(maps), ops.convert_to_numpy(model._logits(x))  # (N, B, H, T, T), (B, T, V)


def banned_token_mask(vocab_size, banned_ids):
    """An additive logit mask: 0 for allowed tokens, −∞ for banned ones.

    Args:
        vocab_size: V.
        banned_ids: ids the model must never emit.

    Example:

    >>> banned_token_mask(4, [1, 3]).tolist()
    [0.0, -inf, 0.0, -inf]
    """
    mask = np.zeros(vocab_size, dtype=np.float64)  # (V,)
    banned = np.asarray(list(banned_ids), dtype=np.int64)
    if banned.size and (banned.min() < 0 or banned.max() >= vocab_size):
        raise ValueError(f"banned ids must lie in [0, {vocab_size})")
    if banned.size == vocab_size and len(set(banned.tolist())) == vocab_size:
        raise ValueError("every token is banned; the model would have nothing to emit")
    mask[banned] = -np.inf
    return mask


class PrefixConstraint:
    """Forces the generated text to begin with one of several allowed token sequences.

    At each step it returns the tokens that keep the output on some allowed sequence (a walk
    down a prefix tree); once an allowed sequence is complete, generation is free.

    Args:
        sequences: allowed beginnings, each a list of token ids.

    Example:

    >>> c = PrefixConstraint([[1, 2], [1, 3], [4]])
    >>> c.allowed([]), c.allowed([1]), c.allowed([1, 2])
    ([1, 4], [2, 3], None)
    """

    def __init__(self, sequences):
        self.sequences = [list(map(int, s)) for s in sequences]
        if not self.sequences or any(not s for s in self.sequences):
            raise ValueError("give at least one allowed sequence, none of them empty")

    def allowed(self, generated):
        """Ids allowed next after ``generated``, or None once the output is unconstrained."""
        generated = list(generated)
        live = [s for s in self.sequences if s[: len(generated)] == generated[: len(s)]]
        if any(len(generated) >= len(s) for s in live):
            return None
        return sorted({s[len(generated)] for s in live})


def _compiled_forward(model):
    """model(ids, training=False), as one TensorFlow graph when the backend is TensorFlow."""

    def forward(ids):
        return model(ids, training=False)

    return tf.function(forward) if keras.backend.backend() == "tensorflow" else forward


def controlled_generate(
    model,
    prompt_ids,
    max_new_tokens,
    *,
    banned_ids=(),
    constraint=None,
    temperature=1.0,
    top_k=None,
    top_p=None,
    seed=None,
):
    """Samples like ``course_lib.generation.generate``, with banned tokens and a prefix rule.

    Each step reads the last ``context_length`` tokens (no key/value cache: this is for short,
    steered outputs).

    Args:
        model: a ``course_lib.gpt.GPT``.
        prompt_ids: the prompt's token ids.
        max_new_tokens: tokens to generate.
        banned_ids: ids that may never be emitted.
        constraint: a :class:`PrefixConstraint` (or anything with ``allowed(generated)``).
        temperature, top_k, top_p: as for ``generation.sample_next``.
        seed: seed of the NumPy generator.

    Returns:
        The new token ids (a list).

    Example:

    >>> ids = controlled_generate(model, [0], 20, banned_ids=[5], seed=0)  # doctest: +SKIP
    """
    vocab, length = model.config.vocab_size, model.config.context_length
    mask = banned_token_mask(vocab, banned_ids)  # (V,)
    rng = np.random.default_rng(seed)
    window = [int(t) for t in prompt_ids]
    if not window:
        raise ValueError("prompt_ids is empty; pass at least one token id")
    forward = _compiled_forward(model)
    new = []
    for _ in range(max_new_tokens):
        recent = window[-length:]
        # A causal model's logits at position t ignore everything after t, so padding the
        # window to the full context keeps one input shape: the function is traced once.
        ids = np.zeros((1, length), dtype="int32")  # (1, T)
        ids[0, : len(recent)] = recent
        logits = ops.convert_to_numpy(forward(ids))  # (1, T, V)
        logits = logits[0, len(recent) - 1].astype(np.float64) + mask  # (V,)
        allowed = constraint.allowed(new) if constraint is not None else None
        if allowed is not None:
            keep = np.full(vocab, -np.inf)  # (V,)
            keep[allowed] = 0.0
            logits = logits + keep
        if not np.isfinite(logits).any():
            raise ValueError("the constraint allows only banned tokens; nothing can be emitted")
        token = sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, rng=rng)
        new.append(token)
        window.append(token)
    return new
