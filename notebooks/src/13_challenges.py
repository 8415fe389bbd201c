# %% [markdown]
# # 13 · Challenges and trends, measured
#
# *Mirrors §8 of the source document (挑战与未来发展, "challenges and future development").*
#
# The document names the hard problems of large language models: they need enormous compute
# and memory, they are too big for many devices, they learn the biases of their data, they are
# hard to interpret and to control, and they are being pushed into medicine, education and
# finance. This chapter turns each claim into a small experiment you can run on a laptop:
#
# 1. **Scale and compute**: count the FLOPs of the course GPT layer by layer (and check the
#    count against the program TensorFlow compiles), the 6·N·D rule, the memory of weights,
#    gradients and optimizer state per precision, mixed precision on this machine, and a
#    **mini scaling-law study**: five GPT sizes trained identically, with a fitted power law.
# 2. **Smaller models**: **knowledge distillation** of chapter 06's GPT into a model 7.5 times
#    smaller, and **int8 quantization** with Keras's quantization API.
# 3. **Bias**: the **WEAT** association test on GloVe vectors (effect size and permutation
#    p-value), and a **template probe** of a sentiment classifier trained here.
# 4. **Interpretability and control**: attention maps, **integrated gradients** for a
#    classifier's decision (with a completeness check), and steering generation (temperature,
#    banned tokens, constrained beginnings).
# 5. **Wider applications**: medicine, education and finance, with what the experiments above
#    say about the risks.
#
# **Before you run it:** time: smoke ~1 min · cpu ~6 min (2 cores) · gpu ~5 min (estimated); memory: peak ~1.9 GB at cpu; data: `tinyshakespeare` (1.1 MB), `glove` (8.5 MB), `rt-polarity` (1.2 MB) (downloaded once, verified by SHA-256), and chapter 06's model in `notebooks/artifacts/`.

# %%
# NBVAL_IGNORE_OUTPUT
import tempfile
import warnings
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import tensorflow as tf
from IPython.display import Markdown, display

import course_lib
from course_lib.data import load_glove, load_rt_polarity, load_tiny_shakespeare
from course_lib.exercises import ch13 as ex
from course_lib.gpt import GPT, GPTConfig
from course_lib.layers import MultiHeadAttention
from course_lib.lm_data import split_tokens
from course_lib.memory import format_bytes
from course_lib.model_io import load_model
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything
from course_lib.tokenizers import CharTokenizer
from course_lib.tooling.results import record_key_figures, save_json
from course_lib.training import LMBatches, TrainConfig, Trainer

tf.get_logger().setLevel("ERROR")  # several models retrace Keras's train step: expected here
SEED = seed_everything(13)
profile = active_profile()
print(f"seed {SEED}, profile {profile} ({profile.source}), Keras {keras.__version__}")

# %% [markdown]
# This chapter writes its own tools: the FLOP and memory counts, the power-law fit, the
# distillation loss, the WEAT test and integrated gradients each appear in the open where the
# chapter explains them. The cells that define them are also saved as
# `course_lib.chapters.ch13_challenges`, which the tests and the exercises import. The folded
# cell below holds that module's docstring (a map of what the chapter builds) and its imports.

# %% [export] fold
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

# %% [markdown]
# All sizes live in this cell, with the reason for each. The `smoke` profile (the test suite)
# shrinks everything so the notebook runs in about a minute; its numbers mean nothing. The
# stored outputs come from the `cpu` profile.

# %%
JIT = profile.pick(smoke=False, cpu=True, gpu=True)  # XLA: compile once, faster steps
CONTEXT = profile.pick(smoke=32, cpu=64, gpu=128)  # characters per training window
BATCH = profile.pick(smoke=4, cpu=16, gpu=64)  # windows per step
EVAL_BATCHES = profile.pick(smoke=1, cpu=10, gpu=20)  # validation batches per evaluation
# Part 1: five sizes (layers, heads, width), from 20 thousand to 0.8 million parameters, all
# trained for the same steps on the same batches: only the size changes.
SCALING_SIZES = profile.pick(
    smoke=[(1, 2, 16), (1, 2, 24), (1, 2, 32)],
    cpu=[(1, 2, 32), (2, 2, 48), (2, 4, 64), (3, 4, 96), (4, 4, 128)],
    gpu=[(2, 4, 64), (4, 4, 128), (4, 6, 192), (6, 6, 288), (6, 6, 384)],
)
SCALING_STEPS = profile.pick(smoke=4, cpu=250, gpu=2000)  # the same for every size
MIXED_STEPS = profile.pick(smoke=2, cpu=12, gpu=50)  # timed steps per precision
TIMING_REPEATS = profile.pick(smoke=1, cpu=10, gpu=20)  # timed forward passes per model
# Part 2: distillation into a student of about 0.1 million parameters (the teacher: 0.8 M).
STUDENT = profile.pick(smoke=(1, 2, 16), cpu=(2, 2, 64), gpu=(2, 4, 128))
DISTILL_STEPS = profile.pick(smoke=4, cpu=300, gpu=3000)
TEMPERATURE = 2.0  # softens the teacher's distribution; Hinton et al. used 2-20
ALPHA = 0.5  # weight of the soft (teacher) term against the hard (true next token) term
# Part 3: the sentiment classifier on rt-polarity, with frozen GloVe vectors.
MAX_WORDS = 48  # words per review kept (99% of rt-polarity's sentences are shorter)
CLASSIFIER_EPOCHS = profile.pick(smoke=1, cpu=4, gpu=6)
PERMUTATIONS = 20_000  # WEAT and probe p-values: enough for an exact test of 8 + 8 words
# Part 4: integrated gradients path steps, and generated characters per sample.
IG_STEPS = 200  # trapezoid intervals; the completeness gap shrinks as 1/steps²
GEN_CHARS = profile.pick(smoke=20, cpu=120, gpu=200)


def train_config(steps):
    """nanoGPT's schedule (warm-up, cosine decay from 1e-3 to 1e-4) at this chapter's sizes."""
    return TrainConfig(max_steps=steps, warmup_steps=max(1, steps // 20),
                       eval_interval=steps, eval_batches=EVAL_BATCHES, jit_compile=JIT, verbose=0)


# %% [markdown]
# ## 1. Scale and compute
#
# ### 1.1 How many FLOPs does a GPT need?
#
# A matrix product of an (m × k) by a (k × n) matrix takes m·n·k multiplications and as many
# additions: 2·m·n·k floating-point operations (FLOPs). Almost all of a Transformer's work is
# such products. For one sequence of T tokens through the course GPT (width C, vocabulary V,
# N blocks):
#
# | matmul | FLOPs | why |
# |---|---|---|
# | query, key, value projections | 3 · 2·T·C² | three C×C matrices applied to T tokens |
# | attention scores Q·Kᵀ | 2·T²·C | every token against every token, all heads together |
# | weighted sum of values | 2·T²·C | the same shape again |
# | output projection | 2·T·C² | one more C×C |
# | MLP (C → 4C → C) | 16·T·C² | two matrices of 4C² |
# | output head | 2·T·C·V | logits for every token |
#
# Per block that is 24·T·C² + 4·T²·C. The parameters of a block are about 12·C², so the forward
# pass costs about **2 FLOPs per parameter per token**, plus the attention term 4·T²·C, which
# only matters when T is comparable with 6·C. The backward pass costs about twice the forward
# (a gradient for the weights and one for the activations), hence the rule of thumb of Kaplan et
# al. (2020): **training costs C ≈ 6·N·D FLOPs** for N parameters and D tokens.
#
# `gpt_forward_flops` below is that table in code, one entry per matmul and block (each line
# notes the shapes multiplied; B is the batch); `gpt_training_flops` triples it for the
# backward pass, and `training_flops` is the 6·N·D rule. `non_embedding_parameters` is the N
# Kaplan et al. count: their fits leave out the embedding tables, which cost no FLOPs.

# %% [export]
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

# %% [markdown]
# To check the count, we ask TensorFlow for the program it compiles (XLA's HLO) and add up the
# cost of every matrix product in it, forward and training step. `hlo_matmul_flops` reads that
# from the program's text; it is plumbing (a regular expression over HLO), folded below.

# %% [export] fold
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

# %%
# NBVAL_CHECK_OUTPUT
check_config = GPTConfig(vocab_size=65, context_length=64, num_layers=2, num_heads=4, width=64)
keras.utils.set_random_seed(0)
check_model = GPT(check_config)
ids = np.zeros((2, 64), "int32")
ours = gpt_forward_flops(check_config, batch_size=2)["total"]
hlo_forward, _ = hlo_matmul_flops(lambda x: check_model(x, training=False), ids)


def train_step_grads(x, y):
    with tf.GradientTape() as tape:
        logits = check_model(x, training=True)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
    return tape.gradient(loss, check_model.trainable_variables)


hlo_train, _ = hlo_matmul_flops(train_step_grads, ids, ids)
n_params = check_config.num_parameters()
tokens = ids.size
print(f"config: {check_config.num_layers} blocks, width {check_config.width}, T = 64, "
      f"{n_params:,} parameters; batch of 2 sequences = {tokens} tokens")
print(f"forward FLOPs, course_lib count: {ours:,}")
print(f"forward FLOPs, XLA program:      {hlo_forward:,}  (equal: {ours == hlo_forward})")
print(f"training step (forward + backward), XLA program: {hlo_train:,} "
      f"= {hlo_train / hlo_forward:.2f} x forward")
print(f"6·N·D = {training_flops(n_params, tokens):,.0f} "
      f"({training_flops(n_params, tokens) / hlo_train:.2f} x the XLA count)")

# %% [markdown]
# The layer-by-layer count equals the compiled program's exactly, and the training step is
# exactly 3× the forward pass: for every matmul of the forward pass the backward pass does two
# of the same size, one for the gradient of the weights and one for the gradient of the
# activations. (The embedding lookups, the only layers that need no input gradient, are not
# matmuls.) And 6·N·D is close but not equal. It charges 6 FLOPs per token to every entry of
# the embedding tables too, which cost nothing but a lookup, and it leaves out the
# T²-attention; for a model of 0.1 million parameters those two effects are 10% of the total.
# For GPT-3-size models (C = 12,288) both vanish into a rounding error, which is why the rule
# is good for large models.
#
# Where does the compute go? The table below splits chapter 06's model (nanoGPT's CPU
# configuration) by matmul kind.

# %%
# NBVAL_CHECK_OUTPUT
cpu_config = GPTConfig.nanogpt_cpu(65)
flops = gpt_forward_flops(cpu_config)
kinds = {}
for name, value in flops.items():
    if name != "total":
        kinds[name.split("/")[-1]] = kinds.get(name.split("/")[-1], 0) + value
print(f"nanoGPT-CPU ({cpu_config.num_parameters():,} parameters), one sequence of 64 characters:")
for kind, value in kinds.items():
    print(f"  {kind:<18} {value / 1e6:7.2f} MFLOPs  {value / flops['total']:6.1%}")
print(f"  {'total':<18} {flops['total'] / 1e6:7.2f} MFLOPs = "
      f"{flops['total'] / 64 / cpu_config.num_parameters():.2f} FLOPs per parameter per token")

# %% [markdown]
# The MLP takes about 60% of the work and the four attention projections 30%; the two
# T²-sized attention products are under 8% at T = 64, and grow in share with the context.
# Training chapter 06's model for 2,000 steps of 12 × 64 characters is
# 6 · 0.81 M · 1.5 M ≈ 7.5 · 10¹² FLOPs. For scale: GPT-3 (175 billion parameters, 300 billion
# tokens) took about 3.1 · 10²³, **40 billion times more**.
#
# ### 1.2 Memory: weights, gradients, optimizer state
#
# Before a single activation is stored, training needs for every parameter its weight, its
# gradient and the optimizer's state. AdamW keeps two moving averages per weight (the mean and
# the mean square of the gradients). In float32 that is 4 + 4 + 8 = **16 bytes per
# parameter**. Keras's mixed precision keeps float32 variables and adds a 16-bit copy for the
# matmuls (18 bytes); only pure 16-bit training halves it. In code, one row of bytes per
# precision and a count of optimizer slots:

# %% [export]
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

# %% [markdown]
# We check the formula against the variables Keras actually allocates.

# %%
# NBVAL_CHECK_OUTPUT
optimizer = keras.optimizers.AdamW(learning_rate=1e-3)
optimizer.build(check_model.trainable_variables)
slot_bytes = sum(int(np.prod(v.shape)) * 4 for v in optimizer.variables if v.shape.rank)  # m and v
weight_bytes = sum(int(np.prod(v.shape)) * 4 for v in check_model.trainable_variables)
formula = parameter_memory(n_params, "float32")
print(f"weights: Keras {weight_bytes:,} B, formula {formula['weights']:,} B")
print(f"AdamW state: Keras {slot_bytes:,} B, formula {formula['optimizer_state']:,} B "
      f"(equal: {slot_bytes == formula['optimizer_state']})")
print()
print(f"{'model':<26}{'parameters':>14}" + "".join(f"{p:>16}" for p in PRECISIONS))
for name, p in [("chapter 06 (nanoGPT-CPU)", cpu_config.num_parameters()),
                ("nanoGPT Shakespeare (GPU)", GPTConfig.nanogpt_gpu(65).num_parameters()),
                ("GPT-2 small", 124_000_000), ("a 7B model", 7_000_000_000),
                ("GPT-3", 175_000_000_000)]:
    row = "".join(f"{format_bytes(parameter_memory(p, prec)['total']):>16}"
                  for prec in PRECISIONS)
    print(f"{name:<26}{p:>14,}{row}")

# %% [markdown]
# A 7-billion-parameter model needs 104 GiB for its training state alone in float32, more than
# any single consumer GPU holds, before any activation. That is why large models are trained
# sharded over many accelerators (ZeRO, FSDP), and why adapters such as the LoRA adapters of
# chapter 15 (train a little, freeze the rest) exist. Inference needs only the weights:
# 26 GiB in float32, 13 in 16-bit, 6.5 in int8 (part 2.2).
#
# ### 1.3 Mixed precision on this machine
#
# On a GPU with tensor cores, 16-bit matmuls run several times faster than float32 ones. A CPU
# usually has no such units; bfloat16 may even be slower there, because it is converted back
# and forth. We time the same training steps both ways, and compare with the best rate one
# large matmul reaches here (`measure_matmul_flops_per_second`, a small timer, is folded below).

# %% [export] fold
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

# %%
# NBVAL_IGNORE_OUTPUT
mixed_config = GPTConfig(65, CONTEXT, num_layers=2, num_heads=4,
                         width=profile.pick(smoke=32, cpu=128, gpu=384))
rng = np.random.default_rng(0)
x_time = rng.integers(0, 65, (BATCH, CONTEXT)).astype("int32")
timings = {}
for policy in ("float32", "mixed_bfloat16"):
    keras.utils.set_random_seed(0)
    model = GPT(mixed_config, dtype=policy)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.train_on_batch(x_time, x_time)  # builds the optimizer and traces the step
    start = time.perf_counter()
    for _ in range(MIXED_STEPS):
        loss = model.train_on_batch(x_time, x_time)
    timings[policy] = (time.perf_counter() - start) / MIXED_STEPS
    memory = parameter_memory(mixed_config.num_parameters(), policy)["total"]
    print(f"{policy:<15} {timings[policy] * 1000:7.1f} ms per step, training state "
          f"{format_bytes(memory)}, loss after the steps {float(loss):.3f}")
print(f"bfloat16 / float32 step time on {profile.pick(smoke='this CPU', cpu='this CPU', gpu='this GPU')}: "
      f"{timings['mixed_bfloat16'] / timings['float32']:.2f}")
matmul_peak = measure_matmul_flops_per_second(512)
print(f"a 512 x 512 float32 matmul runs at {matmul_peak / 1e9:.1f} GFLOP/s here")

# %% [markdown]
# Whether bfloat16 helps on a CPU depends on the chip: CPUs with bfloat16 matrix
# instructions (AVX-512 BF16, AMX) run it faster, others convert back and forth and run it
# slower. The stored run's numbers above are for its CPU only (there bfloat16 steps took 0.86
# of the float32 time). On a GPU with tensor cores
# the same switch typically gives 2-3× faster steps and halves the activation memory, which is
# why chapter 00 picks a mixed policy whenever a GPU is present. Either way the training
# *state* grows (18 instead of 16 bytes per parameter): mixed precision saves activation
# memory and time, not optimizer memory.
#
# ### 1.4 A mini scaling-law study
#
# Kaplan et al. (2020) found that a language model's loss falls as a **power law** of its size,
# L(N) = a·N^(−b) + c: a straight line on log-log axes, bending toward a floor c. Here we train
# five GPTs of different sizes on Tiny Shakespeare (one token per character), each for the
# same number of steps on the same batches with the same schedule, so only the size differs.
# Each run also gives a throughput, which tests the FLOP count of 1.1 from the other side: the
# time a run takes should be its FLOPs divided by what the machine sustains.

# %%
# NBVAL_IGNORE_OUTPUT
REPO = Path(course_lib.__file__).resolve().parents[1]
text = load_tiny_shakespeare()
char_tokenizer = CharTokenizer.from_text(text)
V = char_tokenizer.vocab_size
train_ids, val_ids = split_tokens(char_tokenizer.encode(text), 0.9)
train_batches = LMBatches(train_ids, CONTEXT, BATCH, seed=0)
val_batches = LMBatches(val_ids, CONTEXT, BATCH, seed=1)

runs = []
for layers, heads, width in SCALING_SIZES:
    keras.utils.set_random_seed(SEED)
    config = GPTConfig(V, CONTEXT, num_layers=layers, num_heads=heads, width=width)
    model = GPT(config)
    trainer = Trainer(model, train_config(SCALING_STEPS))
    start = time.perf_counter()
    history = trainer.fit(train_batches, val_batches)
    seconds = time.perf_counter() - start
    tokens_trained = SCALING_STEPS * BATCH * CONTEXT
    step_s = trainer.median_step_seconds(skip=min(10, SCALING_STEPS // 2))
    runs.append({
        "layers": layers, "heads": heads, "width": width, "parameters": config.num_parameters(),
        "non_embedding": non_embedding_parameters(config),
        "val_loss": history[-1]["val_loss"], "train_loss": history[-1]["train_loss"],
        "compute_6ND": training_flops(config.num_parameters(), tokens_trained),
        "compute_counted": gpt_training_flops(config, tokens_trained),
        "step_seconds": step_s, "seconds": seconds,
        "achieved_flops": gpt_training_flops(config, BATCH * CONTEXT) / step_s,
    })
    print(f"{layers} x {width:>3} ({config.num_parameters():>7,} parameters): val loss "
          f"{runs[-1]['val_loss']:.3f}, {step_s * 1000:5.1f} ms/step, {seconds:5.1f} s in all")
save_json("ch13_scaling", {"steps": SCALING_STEPS, "batch": BATCH, "context": CONTEXT, "runs": runs})

# %% [markdown]
# **Fitting the power law.** Without a floor, L = a·N^(−b) is a straight line on log-log axes:
# log L = log a − b·log N, an ordinary least-squares line. With a floor c there is no closed
# form, but for a fixed c the rest is again a line fitted to L − c; so `fit_power_law` tries
# c on a grid below the smallest loss, keeps the one whose curve misses the points least (in
# loss units), and refines it by golden-section search. `PowerLaw` is the fitted curve, callable
# like a function.

# %% [export]
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

# %%
# NBVAL_IGNORE_OUTPUT
N = np.array([r["parameters"] for r in runs], float)
L = np.array([r["val_loss"] for r in runs])
C = np.array([r["compute_counted"] for r in runs])
law_n = fit_power_law(N, L)
law_c = fit_power_law(C, L)
law_offset = fit_power_law(N, L, offset=True) if len(N) >= 4 else None

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, x, law, label in [(axes[0], N, law_n, "parameters N"),
                          (axes[1], C, law_c, "training compute C (FLOPs, counted)")]:
    grid = np.geomspace(x.min() / 1.5, x.max() * 1.5, 100)
    ax.loglog(x, L, "o", color="tab:blue", label="trained models")
    ax.loglog(grid, law(grid), "--", color="tab:orange",
              label=f"fit: L = {law.a:.3g}·x^(−{law.b:.3f}), R² = {law.r2:.3f}")
    ax.set_xlabel(label)
    ax.set_ylabel("validation loss (nats per character)")
    ax.legend(fontsize=8)
if law_offset is not None:
    axes[0].loglog(np.geomspace(N.min() / 1.5, N.max() * 1.5, 100),
                   law_offset(np.geomspace(N.min() / 1.5, N.max() * 1.5, 100)), ":",
                   color="tab:green", label=f"with floor: {law_offset}")
    axes[0].legend(fontsize=8)
axes[0].set_title(f"{len(N)} sizes, {SCALING_STEPS} steps each, same data")
axes[1].set_title("the same runs against their compute")
fig.tight_layout()
plt.show()
print(f"loss vs parameters: {law_n} (R² {law_n.r2:.3f})")
print(f"loss vs compute:    L = {law_c.a:.3g}·C^(−{law_c.b:.4f}) (R² {law_c.r2:.3f})")
if law_offset is not None:
    print(f"with an irreducible floor: {law_offset} (R² {law_offset.r2:.3f})")

# %% [markdown]
# Every bigger model reaches a lower validation loss on the same data and steps, and the
# points lie near a straight line on log-log axes. In the stored run (five sizes, 250 steps
# of 16 × 64 characters each) the pure power law is L ≈ 3.92·N^(−0.036) with R² = 0.955, but
# the points bend: the fit with a floor, L ≈ 20·N^(−0.38) + 2.31, follows them much better
# (R² = 0.997 in loss units). Neither exponent is Kaplan et al.'s 0.076, and should not be:
# their models were trained to convergence on billions of tokens, ours for 0.26 million
# tokens, so the floor of 2.31 is not the entropy of Shakespeare but the best any of these
# models can do *in 250 steps*: the curve here is partly a statement about how fast each size
# learns. With five points a fitted floor is only loosely determined; treat it as a reason
# the line must bend, not as a measurement.
#
# **The FLOP count against the clock.** If the count of 1.1 is right, a run's time is its FLOPs
# divided by the rate this machine sustains. The table gives the rate each model reached,
# against the best a single large matmul reaches (1.3).

# %%
# NBVAL_IGNORE_OUTPUT
print(f"{'model':<12}{'parameters':>11}{'6ND/counted':>13}{'ms/step':>9}{'GFLOP/s':>9}{'of matmul peak':>16}")
for r in runs:
    print(f"{r['layers']} x {r['width']:<8}{r['parameters']:>11,}{r['compute_6ND'] / r['compute_counted']:>13.2f}"
          f"{r['step_seconds'] * 1000:>9.1f}{r['achieved_flops'] / 1e9:>9.2f}{r['achieved_flops'] / matmul_peak:>16.1%}")
predicted = runs[-1]["compute_counted"] / runs[0]["compute_counted"]
measured = runs[-1]["step_seconds"] / runs[0]["step_seconds"]
print(f"\nlargest / smallest model: {predicted:.1f}x the FLOPs, {measured:.1f}x the time per step")

# %% [markdown]
# In the stored run the time per step grew with the FLOP count, but more slowly: the largest
# model needs 47× the FLOPs of the smallest per step and took 24× the time. The reason is in
# the last column: the smallest model ran at only 13% of what one large matmul reaches on this
# machine, the other four at 20-26%. Each operation has a fixed cost (launching it, moving its
# data) that a tiny matmul cannot hide, so the smallest models use the hardware worst. Single
# timings also vary with whatever else the machine is doing; rerun the cell to see how much.
# So **FLOPs predict time for models large enough to keep the hardware busy**; in that regime
# (every real LLM) the 6·N·D rule plus the rate the hardware sustains (typically 30-50% of its
# peak on GPUs, the "model FLOPs utilisation") gives the training time.
#
# **Compute-optimal models.** For a fixed compute budget, should one train a bigger model on
# fewer tokens or a smaller one on more? Hoffmann et al. (2022, "Chinchilla") found that N and D
# should grow together, about **20 tokens per parameter**. Our runs saw 0.26 million tokens,
# fewer than even the smallest model (17 thousand parameters) would want. With C = 6·N·D and
# D = 20·N, a budget C gives N = √(C / 120):

# %% [export]
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

# %% [markdown]
# For the budget of our largest run, the rule says:

# %%
# NBVAL_IGNORE_OUTPUT
budget = runs[-1]["compute_6ND"]
n_opt, d_opt = compute_optimal(budget)
print(f"budget of the largest run: {budget:.2e} FLOPs (6·N·D)")
print(f"Chinchilla-optimal: {n_opt:,.0f} parameters on {d_opt:,.0f} tokens "
      f"({d_opt / len(train_ids):.1f} passes over Tiny Shakespeare)")
print(f"our largest run: {runs[-1]['parameters']:,} parameters on "
      f"{SCALING_STEPS * BATCH * CONTEXT:,} tokens")

# %% [markdown]
# The rule prefers a model the size of our 2 × 64 one, trained on 8 times more tokens, to our
# largest model trained briefly. This is the finding that made Chinchilla (70 billion
# parameters, 1.4 trillion tokens) beat the 280-billion-parameter Gopher on the same compute,
# and it changed how LLMs are sized: since 2022, models are trained on far more tokens per
# parameter than before, and smaller models trained longer are also cheaper to serve.
#
# ## 2. Smaller models
#
# ### 2.1 Knowledge distillation
#
# A large model is expensive to serve. **Distillation** (Hinton, Vinyals and Dean, 2015) trains a
# small *student* to imitate a large *teacher*: besides the true next character, the student
# sees the teacher's whole probability distribution, softened by a temperature T,
#
# loss = α · T² · KL(softmax(z_teacher/T) ‖ softmax(z_student/T)) + (1 − α) · CE(true, z_student).
#
# The distribution says more than the label: after "thou ar" the teacher gives "t" 0.9 and "e"
# a little, and that "e" teaches the student something one label never does. The factor T²
# keeps the soft term's gradients as large as the hard term's (they scale as 1/T²). With
# α = 0 this is ordinary training; with α = 1 and T = 1 it is cross-entropy against the
# teacher's probabilities, minus the teacher's entropy (a constant). In code, for logits of any
# shape `(..., V)` (for a language model `(B, T, V)`):

# %% [export]
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

# %% [markdown]
# First, the loss from its formula, by hand in NumPy, against `distillation_loss`:

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
t_logits, s_logits = rng.normal(0, 2, (3, 5)), rng.normal(0, 2, (3, 5))
labels = np.array([0, 3, 1])


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


T, a = 2.0, 0.5
p, q = softmax(t_logits / T), softmax(s_logits / T)
kl = np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=-1))
ce = np.mean(-np.log(softmax(s_logits)[np.arange(3), labels]))
by_hand = a * T**2 * kl + (1 - a) * ce
ours = float(distillation_loss(t_logits, s_logits, labels, temperature=T, alpha=a))
print(f"by hand {by_hand:.6f}, course_lib {ours:.6f}, equal: {abs(by_hand - ours) < 1e-5}")
ref = keras.losses.KLDivergence()(softmax(t_logits / T), softmax(s_logits / T))
print(f"KL term: by hand {kl:.6f}, keras.losses.KLDivergence {float(ref):.6f}, "
      f"equal: {abs(kl - float(ref)) < 1e-5}")
print("T = 1, alpha = 1 equals soft cross-entropy minus the teacher's entropy:",
      abs(float(distillation_loss(t_logits, s_logits, labels, temperature=1.0, alpha=1.0))
          - float(np.mean(soft_cross_entropy(t_logits, s_logits)))
          + np.mean(-np.sum(softmax(t_logits) * np.log(softmax(t_logits)), axis=-1))) < 1e-5)

# %% [markdown]
# The teacher is chapter 06's GPT (0.81 million parameters, trained for 2,000 steps). The
# student has about 0.1 million. We train two students of that size with the same steps,
# batches and schedule: one from scratch on the text alone, one distilled from the teacher.
# `Distiller` wraps student and teacher in one Keras model whose `compute_loss` is the loss
# above, so the course `Trainer` (and `fit`) trains it unchanged. Calling it calls the student;
# the teacher runs frozen beside it. Its validation loss is the student's plain cross-entropy,
# comparable with the other runs.

# %% [export]
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

# %%
# NBVAL_IGNORE_OUTPUT
teacher_path = REPO / "notebooks" / "artifacts" / "shakespeare_gpt.keras"
teacher_tokenizer_path = REPO / "notebooks" / "artifacts" / "shakespeare_char_tokenizer.json"
saved = teacher_path.exists() and teacher_tokenizer_path.exists()
if not profile.is_smoke and saved and CharTokenizer.load(teacher_tokenizer_path).vocabulary == char_tokenizer.vocabulary:
    teacher = load_model(teacher_path, compile=False)
    teacher_source = "chapter 06's model"
else:  # no saved model (or the smoke test): the largest model of the scaling study teaches
    teacher, teacher_source = model, "the largest model of 1.4"
teacher_context = teacher.config.context_length
d_context = min(CONTEXT, teacher_context)
d_train = LMBatches(train_ids, d_context, BATCH, seed=0)
d_val = LMBatches(val_ids, d_context, BATCH, seed=1)


def val_loss(model, batches=d_val, n=EVAL_BATCHES):
    """Mean next-character cross-entropy over n fixed validation batches."""
    losses = [float(ops.mean(keras.losses.sparse_categorical_crossentropy(
        y, model(x, training=False), from_logits=True))) for x, y in batches(start_step=0, num_steps=n)]
    return float(np.mean(losses))


teacher_loss = val_loss(teacher)
layers, heads, width = STUDENT
student_config = GPTConfig(V, d_context, num_layers=layers, num_heads=heads, width=width)
results = {"teacher": (teacher.count_params(), teacher_loss)}
for name in ("student from scratch", "distilled student"):
    keras.utils.set_random_seed(SEED)  # both students start from the same weights
    student = GPT(student_config)
    trained = student if name == "student from scratch" else Distiller(
        student, teacher, temperature=TEMPERATURE, alpha=ALPHA)
    start = time.perf_counter()
    Trainer(trained, train_config(DISTILL_STEPS)).fit(d_train, d_val)
    results[name] = (student.count_params(), val_loss(student))
    print(f"{name}: {DISTILL_STEPS} steps in {time.perf_counter() - start:.0f} s")
    if name == "distilled student":
        distilled = student
print(f"\nteacher: {teacher_source}")
for name, (params, loss) in results.items():
    print(f"{name:<22} {params:>9,} parameters   validation loss {loss:.3f}")
gap_closed = (results["student from scratch"][1] - results["distilled student"][1]) / (
    results["student from scratch"][1] - teacher_loss)

print(f"distillation closes {gap_closed:.0%} of the gap between the scratch student and the teacher")

# %% [markdown]
# In the stored run the distilled student ends a little below the one trained on the text
# alone (2.494 against 2.507 after 300 steps), and both stay far from the teacher (1.913),
# which has 7.5 times the parameters and was trained for 2,000 steps: distillation closed
# only about 2% of the gap. That is an honest result, not a failure of the method. In 300
# steps a 0.1-million-parameter model is limited by how much it can learn per step, not by
# the quality of its targets; the soft targets help most when the student trains long, on
# much more text than it has labels for (the teacher can label any text), and when the
# teacher knows far more than the student could learn alone. That is the regime of
# DistilBERT (Sanh et al., 2019), which keeps 97% of BERT's benchmark score with 40% fewer
# parameters after training on the same 3.3 billion words. Exercise: raise `DISTILL_STEPS`
# and watch the gap between the two students.
#
# ### 2.2 int8 quantization
#
# **Quantization** stores each weight in fewer bits. Keras's `model.quantize("int8")` replaces
# the kernels of `Dense`, `EinsumDense` and `Embedding` layers by int8 values with one float32
# scale per output channel (post-training, no retraining) and computes the matmuls on the
# int8 values. One trap first: our GPT **ties** its output head to the token embedding table
# (it reads the table directly as a matrix). Quantizing the `Embedding` layer turns that table
# into raw int8 numbers, which the head then reads without their scale:

# %%
# NBVAL_IGNORE_OUTPUT
def size_on_disk(model):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        return path.stat().st_size


def weight_bytes(model):
    return sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in model.weights)


naive = GPT.from_config(teacher.get_config())
naive.set_weights(teacher.get_weights())
with warnings.catch_warnings():  # "Layer Dropout does not have a quantize method": expected
    warnings.simplefilter("ignore", UserWarning)
    naive.quantize("int8")
print(f"everything quantized (embedding too): validation loss {val_loss(naive):.2f} "
      f"(float32: {teacher_loss:.3f})")

quantized = GPT.from_config(teacher.get_config())
quantized.set_weights(teacher.get_weights())
# Keep the tied embedding table in float32; every Dense and EinsumDense kernel becomes int8.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    quantized.quantize("int8", filters=lambda layer: not isinstance(layer, keras.layers.Embedding))
int8_loss = val_loss(quantized)
rows = [("float32", teacher, teacher_loss), ("int8 (not the embedding)", quantized, int8_loss)]
for name, m, loss in rows:
    m(x_time[:, :d_context], training=False)  # warm-up
    start = time.perf_counter()
    for _ in range(TIMING_REPEATS):
        m(x_time[:, :d_context], training=False)
    ms = (time.perf_counter() - start) / TIMING_REPEATS * 1000
    print(f"{name:<26} weights {format_bytes(weight_bytes(m)):>10}, file {format_bytes(size_on_disk(m)):>10}, "
          f"validation loss {loss:.4f}, forward {ms:6.1f} ms (eager)")
int8_shrink = weight_bytes(teacher) / weight_bytes(quantized)

# %% [markdown]
# Quantizing everything wrecks the model (a validation loss of about 900, against 4.17 for a
# uniform guess over 65 characters): the lesson is to know what your layers do before you
# quantize them. Quantizing the matmul kernels only leaves the validation loss unchanged to
# three decimals (1.9130 against 1.9132 in the stored run), while the weights shrink 3.6×
# (3.09 MiB to 0.86 MiB; the file 3.2×), not 4×: the embedding table stays float32, and every
# kernel gains a float32 scale per output channel. On a large model, where the matmul kernels
# are nearly all the weights, int8 comes close to 4× smaller than float32 (and int4 to 8×),
# which is what lets a 7-billion-parameter model run on one consumer GPU. Speed is another
# matter: on this CPU the int8 forward pass was *slower* (the weights are dequantized on the
# fly, eagerly); the gains need kernels made for int8, as on recent GPUs.
#
# ## 3. Bias
#
# ### 3.1 WEAT: associations in word vectors
#
# Caliskan, Bryson and Narayanan (2017) showed that word vectors learned from web text
# reproduce the associations of the Implicit Association Test. Their **WEAT** compares two
# sets of target words X, Y (say, flowers and insects) with two sets of attribute words A, B
# (pleasant and unpleasant), in cosine similarity:
#
# - the association of one word: s(w, A, B) = mean_a cos(w, a) − mean_b cos(w, b);
# - the test statistic: S(X, Y, A, B) = Σ_x s(x, A, B) − Σ_y s(y, A, B);
# - the **effect size** d = (mean_x s(x) − mean_y s(y)) / std_{w ∈ X ∪ Y} s(w), the gap in mean
#   association in units of its spread (Cohen's d; 0.8 counts as large, 2 is the maximum for
#   sets of equal size).
#
# With unit-length vectors every cosine is a dot product, so one matrix product gives the
# association of every word at once:

# %% [export]
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

# %% [markdown]
# How surprising is a given d? The **p-value** is a permutation test: over all ways (or many
# random ways) to split X ∪ Y into two sets of the sizes of X and Y, the share whose statistic
# is at least the observed one. It says how surprising the association would be if the target
# words were exchangeable; with eight words a side there are 12,870 splits, so p cannot go
# below 1/12,870. Only the sum of one side changes between splits (S = 2·Σ_side − Σ_all), so
# each split costs one sum.

# %% [export]
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

# %% [markdown]
# First the formulas, by hand, on four 2-d vectors:

# %%
# NBVAL_CHECK_OUTPUT
Xs = np.array([[1.0, 0.2], [0.9, 0.1]])
Ys = np.array([[0.1, 1.0], [0.3, 0.8]])
As = np.array([[1.0, 0.0]])
Bs = np.array([[0.0, 1.0]])
cos = lambda u, v: u @ v / np.linalg.norm(u) / np.linalg.norm(v)  # noqa: E731
s = [cos(w, As[0]) - cos(w, Bs[0]) for w in [*Xs, *Ys]]
d_hand = (np.mean(s[:2]) - np.mean(s[2:])) / np.std(s, ddof=1)
print(f"effect size by hand {d_hand:.4f}, course_lib {weat_effect_size(Xs, Ys, As, Bs):.4f}")
r = weat_test(Xs, Ys, As, Bs)
print(f"exact test over {r.permutations} splits: p = {r.p_value:.4f} (1/6: the observed split is "
      f"the most extreme of the 6)")
rng = np.random.default_rng(0)
noise = weat_test(rng.normal(size=(8, 50)), rng.normal(size=(8, 50)),
                  rng.normal(size=(8, 50)), rng.normal(size=(8, 50)), permutations=PERMUTATIONS)
print(f"random vectors (control): d = {noise.effect_size:.2f}, p = {noise.p_value:.3f}")

# %% [markdown]
# Now three of Caliskan et al.'s tests on the registry's GloVe vectors (the 20,000 most frequent
# words of GloVe 6B, 50 dimensions). Words missing from the 20,000 are left out (and listed);
# the tests keep their original word lists otherwise. The lists of the paper, and a small
# helper that looks words up in a vocabulary, are in the folded cell below.

# %% [export] fold
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

# %%
# NBVAL_CHECK_OUTPUT
glove_words, glove_vectors = load_glove()
glove_index = {w: i for i, w in enumerate(glove_words)}
W = WEAT_WORDS
WEAT_TESTS = {  # name: (X, Y, A, B)
    "flowers vs insects, pleasant vs unpleasant (WEAT 1)":
        (W["flowers"], W["insects"], W["pleasant"], W["unpleasant"]),
    "male vs female names, career vs family (WEAT 6)":
        (W["male_names"], W["female_names"], W["career"], W["family"]),
    "European- vs African-American male names, pleasant vs unpleasant (WEAT 3)":
        (W["european_american_male_names"], W["african_american_male_names"], W["pleasant"],
         W["unpleasant"]),
}
weat_results = {}
for name, lists in WEAT_TESTS.items():
    (X, xw, xm), (Y, yw, ym), (A, aw, am), (B, bw, bm) = [
        lookup_vectors(words, glove_index, glove_vectors) for words in lists]
    r = weat_test(X, Y, A, B, permutations=PERMUTATIONS, seed=0)
    weat_results[name] = r
    print(f"{name}\n  {len(xw)} + {len(yw)} targets, {len(aw)} + {len(bw)} attributes; "
          f"effect size d = {r.effect_size:.2f}, p = {r.p_value:.4f} "
          f"({'exact' if r.exact else f'{r.permutations:,} random splits'})")
    missing = xm + ym + am + bm
    print(f"  not among the 20,000 words: {', '.join(missing) if missing else 'none'}")

# %% [markdown]
# Two of the three associations of the 2017 paper are clear in these vectors, learned from
# Wikipedia and newswire text: male names sit closer to career words and female names to
# family words (d = 1.71, the largest possible with 8 + 8 words is 2; no split of the 16
# names out of 12,870 is more extreme, p = 0.0001), and the European-American names of the
# test closer to pleasant words than the African-American ones (d = 1.16, p = 0.005).
# Caliskan et al. report 1.81 and 1.41 on the larger 300-d Common Crawl vectors. The
# flowers-and-insects test is weak here (d = 0.53, p = 0.15), and the reason is visible above:
# only 7 flowers and 10 insects are among the 20,000 most frequent words, and a permutation
# test with so few words has little power. A missing effect in a small test is not evidence of
# no effect.
#
# Note also what the lists lost: 18 of 25 African-American names are too rare for the
# vocabulary, against 2 of 25 European-American ones. The data a model learns from represents
# some groups far less than others, which is a bias of its own.
#
# The vectors are not "wrong" about the text: these associations *are* in the text, and a
# model that learns from it learns them. The question is what a system built on the vectors
# then does with them.
#
# ### 3.2 A template probe of a sentiment classifier
#
# To see bias travel downstream, we train a sentiment classifier on rt-polarity (10,662 movie
# review sentences; Pang and Lee, 2005) on top of the **frozen** GloVe vectors: one
# self-attention layer over the words, mean pooling, and a logistic output. Names hardly occur
# in the reviews, but every name has a GloVe vector, so the classifier has an opinion about
# each (the experiment of Speer, 2017, "How to make a racist AI without really trying").

# %%
# NBVAL_IGNORE_OUTPUT
texts, labels = load_rt_polarity()
order = np.random.default_rng(SEED).permutation(len(texts))
n_test = len(texts) // 10
test_idx, train_idx = order[:n_test], order[n_test:]
if profile.is_smoke:
    train_idx = train_idx[:1000]
vectorizer = keras.layers.TextVectorization(
    standardize="lower", split="whitespace", output_sequence_length=MAX_WORDS,
    vocabulary=glove_words)  # index 0: padding, 1: out of vocabulary, 2.. GloVe's words
table = np.concatenate([np.zeros((2, glove_vectors.shape[1]), "float32"), glove_vectors])
word_embedding = keras.layers.Embedding(len(table), table.shape[1], trainable=False, name="glove")
word_embedding.build((None,))
word_embedding.set_weights([table])

# The classifier after the embedding, as its own model, so that integrated gradients (part 4)
# can differentiate with respect to the word vectors.
emb_in = keras.Input((MAX_WORDS, table.shape[1]), name="word_vectors")
mask_in = keras.Input((MAX_WORDS,), name="mask")  # 1.0 for words, 0.0 for padding
keras.utils.set_random_seed(SEED)
attended, attention = MultiHeadAttention(num_heads=2, key_dim=16, name="attention")(
    emb_in, attention_mask=ops.cast(mask_in[:, None, None, :], "bool"), return_attention_scores=True)
h = keras.layers.LayerNormalization()(emb_in + attended)  # (B, T, 50)
h = keras.layers.Dense(64, activation="gelu")(h)  # (B, T, 64)
pooled = ops.sum(h * mask_in[:, :, None], axis=1) / ops.maximum(ops.sum(mask_in, axis=1, keepdims=True), 1.0)
logit = keras.layers.Dense(1)(keras.layers.Dropout(0.2)(pooled))[:, 0]  # (B,)
head = keras.Model([emb_in, mask_in], [logit, attention], name="head")

ids_in = keras.Input((MAX_WORDS,), dtype="int64", name="word_ids")
classifier = keras.Model(ids_in, head([word_embedding(ids_in), ops.cast(ids_in > 0, "float32")])[0])
classifier.compile(optimizer=keras.optimizers.Adam(1e-3),
                   loss=keras.losses.BinaryCrossentropy(from_logits=True),
                   metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
x_all = vectorizer(np.array(texts)).numpy()
start = time.perf_counter()
classifier.fit(x_all[train_idx], labels[train_idx].astype("float32"), epochs=CLASSIFIER_EPOCHS,
               batch_size=64, verbose=0)
test_loss, test_accuracy = classifier.evaluate(x_all[test_idx], labels[test_idx].astype("float32"), verbose=0)
print(f"{classifier.count_params() - table.size:,} trainable parameters, {CLASSIFIER_EPOCHS} epochs "
      f"in {time.perf_counter() - start:.0f} s; test accuracy {test_accuracy:.3f} on {n_test:,} sentences")


def p_positive(sentences):
    return np.asarray(keras.ops.sigmoid(classifier(vectorizer(np.array(sentences)), training=False)))

# %% [markdown]
# A test accuracy of 0.70 is what frozen 50-d vectors and a few epochs allow on this data set
# (on chapter 08's test split of the same data set, its classifiers trained end to end reach
# 73-77%, and TF-IDF with logistic regression 78%). Now the probe: neutral sentences with a
# name in them, the same sentences for every name, and the classifier's probability that the
# sentence is positive. Since nothing but the name changes, any difference between the groups
# is the model's. The p-value shuffles the names between the groups: how often would a random
# split of these same names give a gap this large?

# %% [export]
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

# %% [markdown]
# The names are the GloVe-known names of WEAT 3 and WEAT 6 above.

# %%
# NBVAL_IGNORE_OUTPUT
TEMPLATES = ["{} is in this movie .", "the film stars {} .", "{} wrote the script .",
             "i watched it with {} .", "{} plays the lead role ."]
known = lambda words: [w for w in words if w in glove_index]  # noqa: E731
name_groups = {
    "European-American male names": known(W["european_american_male_names"]),
    "African-American male names": known(W["african_american_male_names"]),
    "male names (WEAT 6)": known(W["male_names"]),
    "female names (WEAT 6)": known(W["female_names"]),
}
probes = {}
for pair in [("European-American male names", "African-American male names"),
             ("male names (WEAT 6)", "female names (WEAT 6)")]:
    probe = template_probe(p_positive, TEMPLATES, {g: name_groups[g] for g in pair},
                           permutations=PERMUTATIONS, seed=0)
    probes[pair] = probe
    for g in pair:
        per_name = probe.scores[g].mean(axis=1)
        best, worst = np.argmax(per_name), np.argmin(per_name)
        print(f"{g:<32} mean P(positive) {probe.group_means[g]:.3f}  (highest: "
              f"{name_groups[g][best]} {per_name[best]:.3f}, lowest: {name_groups[g][worst]} {per_name[worst]:.3f})")
    print(f"  gap {probe.gap:.3f}, permutation p = {probe.p_value:.3f}\n")
race_probe = probes[("European-American male names", "African-American male names")]

# %% [markdown]
# Nothing in these sentences is positive or negative, yet in the stored run the probability
# of "positive" ranges from 0.42 to 0.79 depending on the name alone. Between the groups: the
# European-American names score 0.074 higher on average than the African-American ones
# (permutation p = 0.03), and the female names 0.118 higher than the male ones (p = 0.008).
# The classifier never saw most of these names in a review; it read their GloVe vectors,
# which carry the associations 3.1 measured, and turned them into sentiment. The gender gap
# points the "other" way (female names score more positive), a reminder that a probe measures
# what a model does, which need not follow the direction one expects. With 7 to 23 names a
# group and 5 templates this is a small audit: a real one uses hundreds of names and
# templates, and a model whose scores change with a name in a neutral sentence should not be
# scoring texts about people. Remedies (debiasing the vectors, counterfactual data
# augmentation, auditing every release with probes like this one) each reduce the measured
# gap without proving it is gone.
#
# ## 4. Interpretability and control
#
# ### 4.1 Which words did the decision rest on?
#
# **Integrated gradients** (Sundararajan et al., 2017) explain one prediction f(x) by
# attributing it to the input features: move the input along a straight line from a baseline
# x′ (here: all word vectors zero, "no words") to x, average the gradient along the way, and
# multiply by x − x′. Summing each word's 50 attributions gives one number per word. The
# method's **completeness** property is a check we can run: the attributions must add up to
# f(x) − f(x′). **Gradient × input** (one gradient at x, no path) is cheaper and not complete.
#
# In formulas, for feature i: IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂f(x′ + α(x − x′))/∂x_i dα. The
# integral is a mean of gradients at points along the path; the code evaluates them in batches
# (one `tf.GradientTape` per batch of path points) and weights them by the trapezoidal rule,
# which is exact for a quadratic f and converges as 1/steps² for a smooth one.

# %% [export]
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

# %% [markdown]
# The function to explain is the classifier's logit as a function of the sentence's word
# vectors `(T, 50)`, with the sentence's padding mask held fixed.

# %%
# NBVAL_IGNORE_OUTPUT
def score(batch_emb):  # (S, T, 50) word vectors -> (S,) logits, for the sentence's mask
    batch_emb = tf.convert_to_tensor(batch_emb, tf.float32)
    return head([batch_emb, tf.tile(mask, [tf.shape(batch_emb)[0], 1])], training=False)[0]


# Of three review-like sentences, explain the one whose score moves furthest from the baseline:
# IG explains f(x) − f(x'), so a sentence scored like the empty input has little to explain.
candidates = ["the acting is wonderful but the plot is a boring mess .",
              "a wonderful , moving and beautifully acted film .",
              "a boring , predictable mess with nothing to say ."]
moved = []
for sentence in candidates:
    mask = (vectorizer(np.array([sentence])).numpy() > 0).astype("float32")
    emb = word_embedding(vectorizer(np.array([sentence]))).numpy()[0]  # (T, 50)
    moved.append(abs(float(score(emb[None])[0]) - float(score(np.zeros_like(emb)[None])[0])))
sentence = candidates[int(np.argmax(moved))]
ids = vectorizer(np.array([sentence])).numpy()
mask = (ids > 0).astype("float32")
emb = word_embedding(ids).numpy()[0]  # (T, 50)
words = sentence.split()

attributions = integrated_gradients(score, emb, steps=IG_STEPS)
per_word = attributions.sum(axis=1)[:len(words)]
saliency = gradient_x_input(score, emb).sum(axis=1)[:len(words)]
gap, delta = completeness_gap(score, emb, attributions)
logit_x = float(score(emb[None])[0])
print(f"{sentence!r}\nf(x) = logit {logit_x:.3f} (P(positive) = {1 / (1 + np.exp(-logit_x)):.3f}), "
      f"f(x') = {logit_x - delta:.3f} for the baseline (all word vectors zero)")
fig, ax = plt.subplots(figsize=(10, 2.8))
pos = np.arange(len(words))
ax.bar(pos - 0.2, per_word, 0.4, label="integrated gradients", color=np.where(per_word > 0, "tab:green", "tab:red"))
ax.bar(pos + 0.2, saliency, 0.4, label="gradient × input", color="tab:gray")
ax.axhline(0, color="black", lw=0.5)
ax.set_xticks(pos, words)
ax.set_ylabel("contribution to the logit")
ax.set_title("Which words pushed the prediction up (positive) or down (negative)")
ax.legend(fontsize=8)
plt.show()
for steps in (4, 16, 64, IG_STEPS):
    a = integrated_gradients(score, emb, steps=steps)
    print(f"{steps:>4} path steps: completeness gap {completeness_gap(score, emb, a)[0]:.2e}")

# %%
# NBVAL_CHECK_OUTPUT
print(f"completeness: |sum of attributions - (f(x) - f(x'))| < 1% of |f(x) - f(x')| + 0.001: "
      f"{gap < 0.01 * abs(delta) + 1e-3}")
print("gradient x input is not complete (gap > 1%):",
      abs(saliency.sum() - delta) > 0.01 * abs(delta))

# %% [markdown]
# The classifier explains the positive review the way a reader would: "wonderful" and
# "beautifully" carry most of the decision, "film" and the commas a little, and "acted"
# pulls slightly the other way. Gradient × input points the same way for the strong words
# but gives the others the wrong sign and its total is not the change in the output;
# integrated gradients' total is, to within the numerical error of the path integral, which
# falls about 20-fold for each 4-fold increase in steps (the table above the check: the
# trapezoid rule's 1/steps²).
#
# **Attention maps** are the other common window into a Transformer: the weights each word
# gives the others. Here is the classifier's attention for the same sentence, and the attention
# of chapter 06's GPT over a line of verse (each row: where one position looks; the causal mask
# leaves the upper triangle empty). The classifier returns its attention weights already; for
# the GPT, `gpt_attention_maps` runs the model's blocks by hand and asks each attention layer
# for its weights, returning the logits too, so we can check that it computes exactly what the
# model does.

# %% [export]
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

# %% [markdown]
# The two maps side by side:

# %%
# NBVAL_IGNORE_OUTPUT
_, att = head([emb[None], mask], training=False)  # (1, H, T, T)
line = "ROMEO:\nBut soft, what light through yonder window breaks?"
line_ids = char_tokenizer.encode(line)[None, -teacher_context:]
gpt_maps, gpt_logits = gpt_attention_maps(teacher, line_ids)
fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
n = len(words)
axes[0].imshow(ops.convert_to_numpy(att)[0].mean(axis=0)[:n, :n], cmap="viridis")
axes[0].set_xticks(range(n), words, rotation=90)
axes[0].set_yticks(range(n), words)
axes[0].set_title("classifier: attention, mean of 2 heads")
chars = [c if c != "\n" else "⏎" for c in line[-line_ids.shape[1]:]]
for ax, layer in zip(axes[1:], (0, len(gpt_maps) - 1), strict=True):
    ax.imshow(gpt_maps[layer, 0].mean(axis=0), cmap="viridis")
    ax.set_xticks(range(len(chars)), chars, fontsize=6)
    ax.set_yticks(range(len(chars)), chars, fontsize=6)
    ax.set_title(f"GPT block {layer}: mean of {gpt_maps.shape[2]} heads")
fig.tight_layout()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
print("GPT attention maps: the logits of the hand-run blocks equal model(ids):",
      bool(np.allclose(gpt_logits, ops.convert_to_numpy(teacher(line_ids)), atol=1e-4)))
print("every row sums to 1:", bool(np.allclose(gpt_maps.sum(axis=-1), 1.0, atol=1e-5)))
print("causal (nothing above the diagonal):",
      bool(np.all(np.triu(gpt_maps, k=1) < 1e-6)))

# %% [markdown]
# Attention maps are easy to read and easy to over-read. Both of the classifier's heads (left)
# send most of every word's attention to "wonderful" and "beautifully", the same words
# integrated gradients singled out. The GPT's first block (middle) looks at the current and
# the previous few characters (the bright band along the diagonal: it is assembling the
# current word); its last block (right) spreads further back. But attention says where
# information *may* flow, not what the model does with it: Jain and Wallace (2019, "Attention
# is not Explanation") found that very different attention weights often give the same
# predictions. Attribution methods with a property you can check, like completeness, are the
# safer evidence.
#
# ### 4.2 Controlling what a model generates
#
# Chapter 09 showed temperature and nucleus sampling. Two more controls act directly on the
# logits: **banning** tokens (their logits become −∞, so they are never drawn) and
# **constraining** the beginning of the output to one of a set of allowed sequences (at each
# step every token that leaves all of them is banned). Both are masks added to the logits:

# %% [export]
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

# %% [markdown]
# `controlled_generate` samples one token at a time: it adds the ban mask to the logits,
# masks everything the constraint does not allow, then calls `generation.sample_next`, so
# temperature, top-k and top-p act on the allowed tokens only. It runs the model through a
# compiled forward function, folded first (plumbing: one `tf.function`, traced once).

# %% [export] fold
def _compiled_forward(model):
    """model(ids, training=False), as one TensorFlow graph when the backend is TensorFlow."""

    def forward(ids):
        return model(ids, training=False)

    return tf.function(forward) if keras.backend.backend() == "tensorflow" else forward

# %% [export]
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

# %% [markdown]
# Below: the same prompt at three temperatures, then a lipogram (no letter e, as in Perec's
# novel *La Disparition*), then a reply forced to begin with one of two speakers' names.

# %%
# NBVAL_IGNORE_OUTPUT
prompt = "KING HENRY:\nWhat say"
prompt_ids = char_tokenizer.encode(prompt)
for t in (0.5, 1.0, 1.5):
    out = controlled_generate(teacher, prompt_ids, GEN_CHARS, temperature=t, seed=SEED)
    print(f"--- temperature {t} ---\n{prompt}{char_tokenizer.decode(out)}\n")
banned = [int(i) for i in char_tokenizer.encode("eE")]
lipogram = controlled_generate(teacher, prompt_ids, GEN_CHARS, banned_ids=banned,
                               temperature=0.8, seed=SEED)
print(f"--- banned: e, E ---\n{prompt}{char_tokenizer.decode(lipogram)}\n")
speakers = ["ROMEO:", "JULIET:"]
constraint = PrefixConstraint([char_tokenizer.encode(s) for s in speakers])
forced = controlled_generate(teacher, char_tokenizer.encode("\n\n"), GEN_CHARS,
                             constraint=constraint, temperature=0.8, seed=SEED)
print(f"--- must begin with {' or '.join(speakers)} ---\n{char_tokenizer.decode(forced)}")

# %%
# NBVAL_CHECK_OUTPUT
print("lipogram: no e or E in the output:", not set(banned) & set(lipogram))
print("constrained: the output begins with an allowed name:",
      any(char_tokenizer.decode(forced).startswith(s) for s in speakers))

# %% [markdown]
# Low temperature gives safe, repetitive text; high temperature invents words. The ban is
# absolute (the check above), and the model works around it: it picks words without an e
# where it can, and elsewhere misspells them. That is the strength and the weakness of logit
# masking: it guarantees what the output will *not* contain, but it cannot make the model
# know a good alternative. Constrained beginnings are how structured output works in practice
# (JSON that parses, a label from a fixed set): the grammar decides which tokens are allowed,
# the model only chooses among them.
#
# ## 5. Wider applications, and the risks the experiments expose
#
# The document expects LLMs in medicine, education and finance. Each experiment above is a
# small version of a problem these fields have met:
#
# - **Medicine.** Med-PaLM 2 answered US medical-licensing-style questions at expert level
#   (Singhal et al., 2023, *Nature* 620; 2025, *Nature Medicine*), yet Omiye et al. (2023,
#   *npj Digital Medicine* 6:195) found four commercial LLMs repeating debunked race-based
#   medicine when asked about kidney function or pain. That is 3.1 and 3.2 at full scale:
#   associations in the training text surface in answers about people. Interpretability (4.1)
#   is what a clinician would need to check *why*, and today's tools give attributions for a
#   classifier's decision far more reliably than for a free-text answer.
# - **Education.** Kasneci et al. (2023, *Learning and Individual Differences* 103) list
#   personalised tutoring and feedback among the opportunities, and among the risks, answers
#   that sound right and are wrong, and bias in grading. A tutor's errors are hard to catch
#   for exactly the learner it is for; constrained generation (4.2) and retrieval of vetted
#   material narrow what it may say, and the template probe (3.2) is how to check that
#   feedback does not depend on a student's name.
# - **Finance.** BloombergGPT (Wu et al., 2023, arXiv:2303.17564), a 50-billion-parameter model
#   trained on financial and general text, shows the cost side: about 1.3 million GPU hours,
#   the 6·N·D arithmetic of 1.1 at the scale of a bank. Smaller distilled or quantized models
#   (part 2) are what most institutions can afford to run privately, with the quality loss
#   part 2 measured, which has to be weighed against decisions where errors cost money and
#   fair-lending rules forbid the group differences of 3.2.
#
# In all three, the honest summary of this chapter applies: every property that matters
# (compute, size, bias, the reasons for an output) can be *measured*, and should be, before a
# model is trusted with a decision.
#
# ## Key figures and closing note

# %% [record]
# NBVAL_IGNORE_OUTPUT
flowers = weat_results[list(weat_results)[0]]
gender = weat_results[list(weat_results)[1]]
race = weat_results[list(weat_results)[2]]
record_key_figures("13", {
    "scaling exponent b (L vs N)": law_n.b,
    "scaling fit R2": law_n.r2,
    "largest scaling model val loss": runs[-1]["val_loss"],
    "teacher val loss": teacher_loss,
    "student scratch val loss": results["student from scratch"][1],
    "distilled student val loss": results["distilled student"][1],
    "int8 val loss": int8_loss,
    "int8 weight shrink": int8_shrink,
    "scaling floor c (L vs N)": law_offset.c if law_offset is not None else float("nan"),
    "WEAT flowers/insects d": flowers.effect_size,
    "WEAT career/family d": gender.effect_size,
    "WEAT EA/AA names pleasant d": race.effect_size,
    "classifier test accuracy": float(test_accuracy),
    "name probe gap (EA-AA)": race_probe.gap,
    "IG completeness gap": gap,
})
display(Markdown(
    f"**Closing note.** Over {len(runs)} sizes trained for {SCALING_STEPS} steps, the validation loss "
    f"followed **L ≈ {law_n.a:.3g}·N^(−{law_n.b:.3f})** (R² = {law_n.r2:.3f}); the FLOP count matched the "
    f"compiled program exactly. Distillation took a {results['distilled student'][0]:,}-parameter student "
    f"from {results['student from scratch'][1]:.3f} (scratch) to {results['distilled student'][1]:.3f} "
    f"(teacher: {teacher_loss:.3f}); int8 shrank the weights {int8_shrink:.1f}× for a validation loss of "
    f"{int8_loss:.4f}. In GloVe, male names sit closer to career words than female names do "
    f"(WEAT **d = {gender.effect_size:.2f}**, p = {gender.p_value:.4f}) and European-American names "
    f"closer to pleasant words than African-American ones (d = {race.effect_size:.2f}, "
    f"p = {race.p_value:.4f}); flowers vs insects, with only the few words the vocabulary has, "
    f"gives d = {flowers.effect_size:.2f} (p = {flowers.p_value:.2f}). A classifier built on those "
    f"vectors scores the same neutral sentences differently by name (gap "
    f"{race_probe.gap:.3f}, p = {race_probe.p_value:.3f})."))

# %% [markdown]
# **What a laptop run can and cannot show.** These are small models trained for minutes, so the
# numbers are about mechanisms, not about frontier systems: the scaling exponent of a 250-step
# study is not Kaplan's, the distilled student is a 0.1-million-parameter model, and a probe
# with a dozen names detects only large effects. What carries over is the method: count the
# compute before you spend it, measure what compression costs, test the associations a model
# has learned, and check that an explanation explains.
#
# ## Exercises
#
# **Exercise 1 (warm-up).** Using the 6·N·D rule, how many FLOPs does it take to train a model
# of `ex.EX1_PARAMETERS` parameters on `ex.EX1_TOKENS` tokens? Give the number (e.g. `1.5e18`).

# %%
print(f"N = {ex.EX1_PARAMETERS:,} parameters, D = {ex.EX1_TOKENS:,} tokens")
answer_flops = None  # your answer
ex.check_training_flops(answer_flops)

# %% [markdown]
# **Exercise 2.** How many bytes of memory do the weights, gradients and AdamW state of a model
# with `ex.EX2_PARAMETERS` parameters take under Keras's `mixed_bfloat16` policy (float32
# variables plus a 16-bit copy)? Activations not included.

# %%
print(f"P = {ex.EX2_PARAMETERS:,} parameters")
answer_bytes = None  # your answer, in bytes
ex.check_mixed_memory(answer_bytes)

# %% [markdown]
# **Exercise 3.** The teacher's logits for one position are `ex.EX3_TEACHER`. At temperature
# T = `ex.EX3_TEMPERATURE`, what probability does the softened teacher give the *least* likely
# token? (Compare with T = 1: this is the "dark knowledge" temperature brings out.)

# %%
print("teacher logits:", ex.EX3_TEACHER, " T =", ex.EX3_TEMPERATURE)
answer_soft_probability = None  # your answer
ex.check_soft_probability(answer_soft_probability)

# %% [markdown]
# **Exercise 4.** Compute the WEAT effect size d for the 2-d vectors `ex.EX4_X`, `ex.EX4_Y`
# (targets) and `ex.EX4_A`, `ex.EX4_B` (attributes), with the formula of 3.1 (sample standard
# deviation). Use NumPy, not the `weat_effect_size` of 3.1.

# %%
answer_effect_size = None  # your answer
ex.check_weat_effect_size(answer_effect_size)

# %% [markdown]
# **Exercise 5 (harder).** Write `my_integrated_gradients(grad_f, x, steps)` for a function
# whose gradient you are given as a NumPy function `grad_f(x)`, with the baseline 0 and the
# midpoint rule (α = (k + 0.5)/steps for k = 0 … steps − 1). The check runs it on
# f(x) = Σ sin(x_i)·x_i and tests completeness and the values.

# %%
def my_integrated_gradients(grad_f, x, steps=50):
    """Integrated gradients of f at x with baseline 0, by the midpoint rule."""
    return None  # your code


ex.check_integrated_gradients(my_integrated_gradients)
