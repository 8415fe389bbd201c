"""Looking inside a model, and steering what it generates.

- **Integrated gradients** (Sundararajan, Taly and Yan, 2017, "Axiomatic Attribution for Deep
  Networks"): the attribution of input feature i is (x_i − x'_i) times the gradient averaged
  along the straight path from a baseline x' to the input x. Its *completeness* axiom says the
  attributions add up to f(x) − f(x'), which is a check any implementation can run on itself:
  the gap shrinks as the number of path steps grows. For text, x is the sequence of token
  embeddings and summing each token's row gives one score per token.
- **Gradient × input**: the first-order version (one gradient, no path); cheap, not complete.
- **Attention maps** of the course GPT: the softmax weights of every head in every block.
- **Controlled generation**: banning tokens by setting their logits to −∞ before sampling, and
  constraining the output to begin with one of a set of allowed sequences.

Gradients are taken with ``tf.GradientTape`` (the course runs Keras on TensorFlow).

Example:

>>> f = lambda x: ops.sum(x ** 2, axis=(1, 2))  # f(x) = Σ x²
>>> x = np.ones((2, 3), "float32")
>>> attributions = integrated_gradients(f, x, steps=8)
>>> round(float(attributions.sum()), 4)  # f(x) − f(0) = 6
6.0
"""

from __future__ import annotations

import numpy as np
from keras import ops

from course_lib.generation import sample_next

__all__ = [
    "integrated_gradients",
    "gradient_x_input",
    "completeness_gap",
    "gpt_attention_maps",
    "banned_token_mask",
    "PrefixConstraint",
    "controlled_generate",
]


def _gradients(f, batch):
    """Gradient of Σ f(batch) with respect to batch; f maps (S, ...) to scores (S,)."""
    import tensorflow as tf

    batch = tf.convert_to_tensor(batch, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        scores = f(batch)
        total = tf.reduce_sum(scores)
    return tape.gradient(total, batch).numpy(), np.asarray(scores, dtype=np.float64)


def integrated_gradients(f, x, baseline=None, steps=50, batch_size=64):
    """Integrated gradients of the score ``f`` at input ``x``.

    The path integral ∫₀¹ ∂f(x' + α(x − x'))/∂x dα is computed with the trapezoidal rule over
    ``steps`` intervals (``steps + 1`` points), which is exact for a quadratic f and converges
    as 1/steps² for a smooth one.

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
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] = 0.5 / steps  # trapezoid: half weight at both ends
    total = np.zeros(x.shape, dtype=np.float64)
    for start in range(0, steps + 1, batch_size):
        a = alphas[start : start + batch_size]
        path = baseline[None] + a.reshape((-1,) + (1,) * x.ndim) * (x - baseline)[None]
        grads, _ = _gradients(f, path)
        w = weights[start : start + batch_size].reshape((-1,) + (1,) * x.ndim)
        total += (w * grads).sum(axis=0)
    return (x - baseline).astype(np.float64) * total


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
    grads, _ = _gradients(f, x[None])
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
    scores = np.asarray(f(np.stack([x, baseline])), dtype=np.float64)
    delta = float(scores[0] - scores[1])
    return float(abs(np.sum(attributions) - delta)), delta


def gpt_attention_maps(model, token_ids):
    """The attention weights of every head of every block of a course GPT.

    Runs the model's blocks by hand, asking each attention layer for its weights, so the result
    is exactly what the model computes (the logits returned match ``model(token_ids)``).

    Args:
        model: a ``course_lib.gpt.GPT``.
        token_ids: ``(B, T)`` ids, T ≤ context_length.

    Returns:
        ``(maps, logits)``: maps as a NumPy array ``(N, B, H, T, T)`` (row t: how much position
        t attends to each position ≤ t) and the logits ``(B, T, V)``.

    Example:

    >>> maps, _ = gpt_attention_maps(model, ids[None])  # doctest: +SKIP
    >>> maps.shape  # (layers, 1, heads, T, T)  # doctest: +SKIP
    """
    token_ids = ops.convert_to_tensor(np.asarray(token_ids, dtype="int32"))
    x = model.embedding(token_ids)  # (B, T, C)
    maps = []
    for block in model.blocks:
        attended, weights = block.attention(
            block.attention_norm(x),
            use_causal_mask=block.causal,
            training=False,
            return_attention_scores=True,
        )  # (B, T, C), (B, H, T, T)
        x = x + attended
        x = x + block.mlp_out(block.mlp_in(block.mlp_norm(x)))  # (B, T, C)
        maps.append(ops.convert_to_numpy(ops.cast(weights, "float32")))
    return np.stack(maps), ops.convert_to_numpy(model._logits(x))


def banned_token_mask(vocab_size, banned_ids):
    """An additive logit mask: 0 for allowed tokens, −∞ for banned ones.

    Args:
        vocab_size: V.
        banned_ids: ids the model must never emit.

    Example:

    >>> banned_token_mask(4, [1, 3]).tolist()
    [0.0, -inf, 0.0, -inf]
    """
    mask = np.zeros(vocab_size, dtype=np.float64)
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


def _padded_forward(model):
    """model(ids, training=False), as one TensorFlow graph when the backend is TensorFlow."""
    import keras

    def forward(ids):
        return model(ids, training=False)

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(forward)
    return forward


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
    steered outputs), adds the banned-token mask to the logits, masks everything the constraint does
    not allow, then calls ``generation.sample_next``: so temperature, top-k and top-p act on
    the allowed tokens only.

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
    mask = banned_token_mask(vocab, banned_ids)
    rng = np.random.default_rng(seed)
    window = [int(t) for t in prompt_ids]
    if not window:
        raise ValueError("prompt_ids is empty; pass at least one token id")
    forward = _padded_forward(model)
    new = []
    for _ in range(max_new_tokens):
        recent = window[-length:]
        # A causal model's logits at position t ignore everything after t, so padding the
        # window to the full context keeps one input shape: the function is traced once.
        ids = np.zeros((1, length), dtype="int32")
        ids[0, : len(recent)] = recent
        logits = ops.convert_to_numpy(forward(ids))[0, len(recent) - 1].astype(np.float64)
        logits = logits + mask
        allowed = constraint.allowed(new) if constraint is not None else None
        if allowed is not None:
            keep = np.full(vocab, -np.inf)
            keep[allowed] = 0.0
            logits = logits + keep
        if not np.isfinite(logits).any():
            raise ValueError("the constraint allows only banned tokens; nothing can be emitted")
        token = sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, rng=rng)
        new.append(token)
        window.append(token)
    return new
