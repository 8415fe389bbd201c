# Generated from notebooks/src/01_foundations.py (notebooks/01_foundations.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""A two-layer neural network in NumPy, its gradients by hand, and parameter counts.

Written in notebooks/01_foundations.ipynb, which uses it to show what a framework does for
you: the forward pass, the loss, the backward pass derived with the chain rule, a
finite-difference check of those gradients, and formulas for the parameter counts of dense
networks and Transformers.

The network, for a batch X of shape (n, d_in) and integer labels y:

    H = tanh(X W1 + b1)             hidden layer, (n, d_hidden)
    Z = H W2 + b2                   logits, (n, n_classes)
    P = softmax(Z)                  class probabilities
    L = -(1/n) sum_i log P[i, y_i]  mean cross-entropy

Example:

>>> params = init_two_layer(3, 4, 2, seed=0)
>>> X = np.ones((5, 3)); y = np.array([0, 1, 0, 1, 1])
>>> grads = two_layer_gradients(params, X, y)
>>> sorted(grads) == sorted(params)
True
"""

from collections.abc import Callable, Sequence

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def init_two_layer(d_in: int, d_hidden: int, n_classes: int, seed: int = 0) -> dict:
    """Random float64 parameters for the two-layer network.

    Weights are drawn from N(0, 1/fan_in) so the pre-activations start with unit variance
    (tanh is then neither saturated nor linear); biases start at zero.

    Args:
        d_in: number of input features.
        d_hidden: number of hidden units.
        n_classes: number of output classes.
        seed: seed for NumPy's generator.

    Returns:
        ``{"W1": (d_in, d_hidden), "b1": (d_hidden,), "W2": (d_hidden, n_classes),
        "b2": (n_classes,)}``.

    Example:

    >>> {k: v.shape for k, v in init_two_layer(3, 4, 2).items()}
    {'W1': (3, 4), 'b1': (4,), 'W2': (4, 2), 'b2': (2,)}
    """
    for name, v in (("d_in", d_in), ("d_hidden", d_hidden), ("n_classes", n_classes)):
        if not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be a positive int; got {v!r}")
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0.0, 1.0 / np.sqrt(d_in), size=(d_in, d_hidden)),
        "b1": np.zeros(d_hidden),
        "W2": rng.normal(0.0, 1.0 / np.sqrt(d_hidden), size=(d_hidden, n_classes)),
        "b2": np.zeros(n_classes),
    }


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so exp never overflows.

    Args:
        z: logits, one row per example.

    Example:

    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])).round(3).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    z = z - z.max(axis=-1, keepdims=True)  # softmax is unchanged by a shift
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _check_inputs(params: dict, X: np.ndarray) -> None:
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params lacks {missing}; build it with init_two_layer(...)")
    if X.ndim != 2 or X.shape[1] != params["W1"].shape[0]:
        raise ValueError(f"X must be (n, {params['W1'].shape[0]}); got shape {X.shape}")


def two_layer_forward(params: dict, X: np.ndarray) -> dict:
    """The forward pass; returns every intermediate the backward pass needs.

    Args:
        params: the dict from :func:`init_two_layer`.
        X: (n, d_in) inputs.

    Returns:
        ``{"X", "H", "Z", "P"}``: inputs, hidden activations, logits, probabilities.

    Example:

    >>> out = two_layer_forward(init_two_layer(3, 4, 2), np.zeros((1, 3)))
    >>> out["P"].tolist()
    [[0.5, 0.5]]
    """
    _check_inputs(params, X)
    H = np.tanh(X @ params["W1"] + params["b1"])  # (n, d_hidden)
    Z = H @ params["W2"] + params["b2"]  # (n, n_classes)
    return {"X": X, "H": H, "Z": Z, "P": softmax(Z)}  # P: (n, n_classes)


def cross_entropy(P: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy -(1/n) sum log P[i, y_i] of integer labels under probabilities P.

    Args:
        P: (n, classes) probabilities.
        y: (n,) integer labels.

    Example:

    >>> round(cross_entropy(np.array([[0.5, 0.5]]), np.array([1])), 4)
    0.6931
    """
    y = np.asarray(y)
    if y.shape != (P.shape[0],):
        raise ValueError(f"y must have shape ({P.shape[0]},) to match P; got {y.shape}")
    # The tiny floor keeps a probability that underflowed to 0 from giving log(0) = -inf.
    return float(-np.mean(np.log(P[np.arange(len(y)), y] + 1e-300)))


def two_layer_loss(params: dict, X: np.ndarray, y: np.ndarray) -> float:
    """The network's mean cross-entropy on (X, y).

    Args:
        params: the dict from :func:`init_two_layer`.
        X: (n, d_in) inputs.
        y: (n,) integer labels.

    Example:

    >>> round(two_layer_loss(init_two_layer(3, 4, 2), np.zeros((2, 3)), np.array([0, 1])), 4)
    0.6931
    """
    return cross_entropy(two_layer_forward(params, X)["P"], y)


def two_layer_gradients(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """Gradients of the mean cross-entropy, derived by hand with the chain rule.

    Working backwards through the forward pass:

    - dL/dZ  = (P - onehot(y)) / n       (softmax and cross-entropy together)
    - dL/dW2 = H^T dZ,   dL/db2 = sum_rows dZ
    - dL/dH  = dZ W2^T
    - dL/dA  = dH * (1 - H^2)            (tanh'(a) = 1 - tanh(a)^2, A = X W1 + b1)
    - dL/dW1 = X^T dA,   dL/db1 = sum_rows dA

    Args:
        params: the dict from :func:`init_two_layer`.
        X: (n, d_in) inputs.
        y: (n,) integer labels.

    Returns:
        A dict with the same keys and shapes as ``params``.

    Example:

    >>> g = two_layer_gradients(init_two_layer(3, 4, 2), np.ones((2, 3)), np.array([0, 1]))
    >>> g["W1"].shape
    (3, 4)
    """
    cache = two_layer_forward(params, X)
    n = X.shape[0]
    y = np.asarray(y)
    dZ = cache["P"].copy()  # (n, n_classes)
    dZ[np.arange(n), y] -= 1.0  # P - onehot(y)
    dZ /= n
    dH = dZ @ params["W2"].T  # (n, n_classes) @ (n_classes, d_hidden) -> (n, d_hidden)
    dA = dH * (1.0 - cache["H"] ** 2)  # (n, d_hidden)
    return {
        "W1": X.T @ dA,  # (d_in, n) @ (n, d_hidden) -> (d_in, d_hidden)
        "b1": dA.sum(axis=0),  # (d_hidden,)
        "W2": cache["H"].T @ dZ,  # (d_hidden, n) @ (n, n_classes) -> (d_hidden, n_classes)
        "b2": dZ.sum(axis=0),  # (n_classes,)
    }


def finite_difference_gradients(
    loss_fn: Callable[[dict], float], params: dict, eps: float = 1e-6
) -> dict:
    """Numerical gradients by central differences: (L(p + eps) - L(p - eps)) / (2 eps).

    Slow (two loss evaluations per parameter) but needs no calculus, so it is the
    independent check of hand-derived or autodiff gradients. The error is O(eps^2) plus
    rounding of order 1e-16 / eps; eps = 1e-6 balances the two in float64.

    Args:
        loss_fn: maps a params dict to a scalar loss.
        params: dict of float64 arrays (left unchanged on return).
        eps: the step size.

    Returns:
        A dict of gradient arrays shaped like ``params``.

    Example:

    >>> g = finite_difference_gradients(lambda p: float((p["w"] ** 2).sum()), {"w": np.array([3.0])})
    >>> g["w"].round(6).tolist()
    [6.0]
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive; got {eps}")
    grads = {}
    for name, value in params.items():
        if value.dtype != np.float64:
            raise ValueError(
                f"params[{name!r}] is {value.dtype}; use float64 for finite differences"
            )
        g = np.zeros_like(value)
        # Views into the arrays: nudging flat[i] nudges the parameter the loss reads.
        flat, gflat = value.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss_fn(params)
            flat[i] = old - eps
            down = loss_fn(params)
            flat[i] = old
            gflat[i] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def max_relative_error(a: dict, b: dict) -> float:
    """Largest gradient difference, relative to the gradient's size, over two gradient dicts.

    For each array: max |a - b| / max(max |a|, max |b|). Scaling by the whole array (not by
    each entry) keeps tiny entries, where finite differences are mostly rounding noise, from
    dominating. Below about 1e-6 in float64 means "the same gradient"; a wrong derivation
    gives errors of order 1e-2 to 1.

    Args:
        a: gradients, name -> array.
        b: gradients with the same names and shapes.

    Example:

    >>> max_relative_error({"w": np.array([1.0, 2.0])}, {"w": np.array([1.0, 2.002])}) < 1e-3
    True
    """
    if a.keys() != b.keys():
        raise ValueError(f"keys differ: {sorted(a)} vs {sorted(b)}")
    worst = 0.0
    for k in a:
        x, z = np.asarray(a[k], np.float64), np.asarray(b[k], np.float64)
        if x.shape != z.shape:
            raise ValueError(f"{k}: shapes differ, {x.shape} vs {z.shape}")
        scale = max(np.abs(x).max(), np.abs(z).max(), 1e-12)
        worst = max(worst, float(np.abs(x - z).max() / scale))
    return worst


def dense_param_count(layer_sizes: Sequence[int]) -> int:
    """Parameters of a stack of dense layers: sum of (fan_in * fan_out + fan_out).

    Args:
        layer_sizes: widths from input to output, e.g. ``[784, 128, 10]``.

    Example:

    >>> dense_param_count([784, 128, 10])  # 784*128+128 + 128*10+10
    101770
    """
    sizes = list(layer_sizes)
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"layer_sizes needs at least two positive widths; got {sizes}")
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False)))


def transformer_layer_params(d_model: int, d_ff: int | None = None) -> dict:
    """Parameters of one standard Transformer block (GPT-2/GPT-3/BERT layout).

    Attention: Q, K, V and output projections, each d*d weights + d biases. Feed-forward:
    d*d_ff + d_ff, then d_ff*d + d. Two LayerNorms with a scale and a shift each (2d).
    The number of heads does not matter: heads split d_model, they do not add weights.

    Args:
        d_model: the model (residual stream) width.
        d_ff: the feed-forward width; 4 * d_model when ``None``.

    Returns:
        ``{"attention", "feed_forward", "layer_norms", "total"}``.

    Example:

    >>> transformer_layer_params(768)["total"]
    7087872
    """
    d = int(d_model)
    ff = 4 * d if d_ff is None else int(d_ff)
    if d < 1 or ff < 1:
        raise ValueError(f"d_model and d_ff must be positive; got {d_model}, {d_ff}")
    parts = {
        "attention": 4 * (d * d + d),
        "feed_forward": d * ff + ff + ff * d + d,
        "layer_norms": 2 * 2 * d,
    }
    parts["total"] = sum(parts.values())
    return parts


def gpt_param_count(
    n_layers: int, d_model: int, vocab_size: int, context_length: int, d_ff: int | None = None
) -> dict:
    """Parameters of a GPT-style decoder (GPT-2 / GPT-3 layout, tied input/output embedding).

    Token embedding (vocab * d) + learned positions (context * d) + n_layers blocks + a final
    LayerNorm (2d). The output layer reuses the token embedding, so it adds nothing.

    Args:
        n_layers: number of Transformer blocks.
        d_model: model width.
        vocab_size: number of tokens.
        context_length: number of learned positions.
        d_ff: feed-forward width (default 4 * d_model).

    Returns:
        ``{"embeddings", "layers", "final_norm", "total"}``.

    Example:

    >>> gpt_param_count(12, 768, 50257, 1024)["total"]  # GPT-2 small, published 124M
    124439808
    """
    d = int(d_model)
    parts = {
        "embeddings": vocab_size * d + context_length * d,
        "layers": n_layers * transformer_layer_params(d, d_ff)["total"],
        "final_norm": 2 * d,
    }
    parts["total"] = sum(parts.values())
    return parts


def bert_param_count(
    n_layers: int,
    d_model: int,
    vocab_size: int = 30522,
    max_positions: int = 512,
    type_vocab_size: int = 2,
    d_ff: int | None = None,
    pooler: bool = True,
) -> dict:
    """Parameters of a BERT encoder (as released by Google, without the pre-training heads).

    Token + position + segment ("type") embeddings and their LayerNorm, n_layers blocks, and
    the pooler (a d*d dense layer on the [CLS] vector).

    Args:
        n_layers: number of Transformer blocks (12 for base, 24 for large).
        d_model: hidden width (768 base, 1024 large).
        vocab_size: WordPiece vocabulary (30522 for the uncased English models).
        max_positions: learned positions (512).
        type_vocab_size: segment embeddings (2: sentence A / B).
        d_ff: feed-forward width (default 4 * d_model).
        pooler: include the pooler layer.

    Returns:
        ``{"embeddings", "layers", "pooler", "total"}``.

    Example:

    >>> bert_param_count(12, 768)["total"]  # BERT-base, published "110M"
    109482240
    """
    d = int(d_model)
    parts = {
        "embeddings": (vocab_size + max_positions + type_vocab_size) * d + 2 * d,
        "layers": n_layers * transformer_layer_params(d, d_ff)["total"],
        "pooler": (d * d + d) if pooler else 0,
    }
    parts["total"] = sum(parts.values())
    return parts
