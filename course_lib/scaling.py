"""Scale and compute: FLOP counts, training memory per parameter, and power-law fits.

Three rules of thumb from the scaling-law papers, made into functions the course can test:

- **Training compute** C ≈ 6·N·D floating-point operations for N parameters and D training
  tokens (Kaplan et al., 2020, "Scaling Laws for Neural Language Models", §2.1): the forward
  pass costs about 2 FLOPs per parameter per token (one multiply and one add), the backward
  pass twice that. :func:`gpt_forward_flops` counts the forward pass of the course GPT layer by
  layer, including the attention-score matmuls that 6·N·D leaves out; :func:`hlo_matmul_flops`
  counts the same thing independently, from the XLA program TensorFlow compiles.
- **Training memory** before activations: weights, gradients and the optimizer's state, a
  fixed number of bytes per parameter that depends on the precision (16 bytes per parameter
  for float32 weights with AdamW).
- **Scaling laws**: the loss falls as a power law of model size, L(N) = a·N^(−b) + c, where c is
  the loss no model of this family reaches on this data. :func:`fit_power_law` fits it.
  :func:`compute_optimal` applies the Chinchilla rule (Hoffmann et al., 2022): for a compute
  budget, about 20 training tokens per parameter.

Counts are FLOPs of matrix multiplications, with a multiply-add counted as 2; element-wise
work (LayerNorm, GELU, softmax, the residual adds) is a few percent at these widths and is left
out, as in the papers.

Example:

>>> from course_lib.gpt import GPTConfig
>>> config = GPTConfig(vocab_size=65, context_length=64, num_layers=4, num_heads=4, width=128)
>>> training_flops(config.num_parameters(), 1_000_000) / 1e12  # TFLOPs for a million tokens
4.859136
"""

from __future__ import annotations

import dataclasses
import math
import re
import time

import numpy as np

__all__ = [
    "training_flops",
    "gpt_forward_flops",
    "gpt_training_flops",
    "non_embedding_parameters",
    "hlo_matmul_flops",
    "measure_matmul_flops_per_second",
    "PRECISIONS",
    "parameter_memory",
    "PowerLaw",
    "fit_power_law",
    "compute_optimal",
]


def training_flops(num_parameters, num_tokens):
    """The 6·N·D estimate of the FLOPs needed to train on ``num_tokens`` tokens.

    Args:
        num_parameters: N, the model's parameter count (Kaplan et al. use non-embedding
            parameters; for the small models of the course the embeddings matter, see
            :func:`gpt_training_flops`).
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


def gpt_forward_flops(config, sequence_length=None, batch_size=1):
    """Forward-pass FLOPs of the course GPT, matmul by matmul.

    For a sequence of T tokens, width C, vocabulary V and N blocks (2 FLOPs per multiply-add):

    - per block: query, key and value projections 3·2·T·C², attention scores Q·Kᵀ 2·T²·C,
      the weighted sum of values 2·T²·C, the output projection 2·T·C², and the MLP
      2·T·C·4C + 2·T·4C·C = 16·T·C²; in all 24·T·C² + 4·T²·C;
    - the output head (tied or not) 2·T·C·V; the embedding lookups cost no FLOPs.

    The full T×T score matrix is computed even though the causal mask discards half of it, so
    it is counted in full.

    Args:
        config: a ``course_lib.gpt.GPTConfig``.
        sequence_length: T; defaults to ``config.context_length``.
        batch_size: sequences B; every count is multiplied by it.

    Returns:
        A dict: one entry per matmul kind and block (``"block_0/attention_qkv"``,
        ``"block_0/attention_scores"``, ``"block_0/attention_values"``,
        ``"block_0/attention_output"``, ``"block_0/mlp"``, …, ``"lm_head"``) and ``"total"``.

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
        counts[f"block_{i}/attention_qkv"] = b * 3 * 2 * t * c * c
        counts[f"block_{i}/attention_scores"] = b * 2 * t * t * c
        counts[f"block_{i}/attention_values"] = b * 2 * t * t * c
        counts[f"block_{i}/attention_output"] = b * 2 * t * c * c
        counts[f"block_{i}/mlp"] = b * 2 * (2 * t * c * 4 * c)
    counts["lm_head"] = b * 2 * t * c * v
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
    import tensorflow as tf

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
    from keras import ops

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
_SLOTS = {"adamw": 2, "adam": 2, "momentum": 1, "sgd": 0}


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

    Without an offset this is least squares on log L against log x. With one, c is searched
    on [0, min L): for each c the rest is again a log-log line fit to L − c, and the c whose
    curve has the smallest squared error in L wins, refined by golden-section search. Four or
    five points pin down two parameters well and three only loosely: report c with care.

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

    def rss(c):  # squared error of the curve in loss units (log-space errors of y − c
        # are not comparable across c: they blow up as c nears min y)
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
