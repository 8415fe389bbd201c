"""Recurrent (LSTM, GRU) and convolutional (1-D CNN) models to compare with the Transformer.

Language models map token ids `(B, T)` to float32 next-token logits `(B, T, V)`, like
`course_lib.gpt.GPT`, so the same `Trainer`, loss and data train all of them:

- `RNNLanguageModel`: embedding → stacked LSTM or GRU → output layer. Causal by construction:
  the state at position t has only read tokens ≤ t.
- `CNNLanguageModel`: embedding → stacked causal, dilated 1-D convolutions with residual
  connections (a WaveNet/TCN layout) → output layer. Position t sees a fixed window of
  `receptive_field(kernel_size, num_layers)` tokens ending at t.

Classifiers map token ids `(B, T)` (padded with `pad_id`) to float32 logits
`(B, num_classes)`:

- `RNNClassifier`: embedding → (bidirectional) LSTM/GRU → last state → output layer.
- `CNNClassifier`: Kim (2014): parallel convolutions of several widths, max-pooled over time.

`count_parameters`, `width_for_budget` and `build_language_model` size every kind to the same
parameter budget, so a comparison is about the architecture, not the size.

Example:

>>> from course_lib.baselines import build_language_model
>>> model = build_language_model("lstm", vocab_size=65, budget=100_000, context_length=64)
>>> abs(model.count_params() - 100_000) < 2_000
True
"""

from __future__ import annotations

import keras
from keras import ops

from course_lib.config import check_dropout, check_positive_int
from course_lib.gpt import GPT, GPTConfig

__all__ = [
    "KINDS",
    "RNNLanguageModel",
    "CNNLanguageModel",
    "RNNClassifier",
    "CNNClassifier",
    "receptive_field",
    "layers_for_context",
    "count_parameters",
    "width_for_budget",
    "build_language_model",
]

KINDS = ("transformer", "lstm", "gru", "cnn")
_CELLS = ("lstm", "gru")


def _check_cell(cell):
    if cell not in _CELLS:
        raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")


def _rnn_layer(cell, width, dropout, return_sequences, name, policy):
    layer = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    return layer(
        width, return_sequences=return_sequences, dropout=dropout, dtype=policy, name=name
    )


def _rnn_parameters(cell, input_dim, width):
    if cell == "lstm":  # four gates, each with input and recurrent kernels and a bias
        return 4 * (input_dim * width + width * width + width)
    # Keras GRU (reset_after=True, the cuDNN layout): three gates, two biases each
    return 3 * (input_dim * width + width * width + 2 * width)


# ---------------------------------------------------------------------------------------------
# Language models
# ---------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="course_lib")
class RNNLanguageModel(keras.Model):
    """A recurrent character/word language model: embedding → N × LSTM or GRU → logits.

    Args:
        vocab_size: number of token ids V.
        width: embedding size and recurrent state size.
        num_layers: stacked recurrent layers.
        cell: `"lstm"` or `"gru"`.
        dropout: dropout on each recurrent layer's inputs.
        **kwargs: passed to `keras.Model`.

    Call arguments:
        token_ids: `(B, T)` int ids.
        training: enables dropout.

    Returns:
        float32 logits `(B, T, V)`: position t predicts token t + 1.

    Example:
    ```python
    model = RNNLanguageModel(vocab_size=65, width=128, cell="gru")
    logits = model(np.zeros((2, 64), "int32"))  # (2, 64, 65)
    ```
    """

    def __init__(self, vocab_size, width, num_layers=1, cell="lstm", dropout=0.0, **kwargs):
        for name, value in (("vocab_size", vocab_size), ("width", width),
                            ("num_layers", num_layers)):
            check_positive_int(name, value)
        _check_cell(cell)
        check_dropout(dropout)
        super().__init__(**kwargs)
        self.vocab_size, self.width, self.num_layers = int(vocab_size), int(width), num_layers
        self.cell, self.dropout = cell, dropout
        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(vocab_size, width, dtype=policy, name="embedding")
        self.rnns = [
            _rnn_layer(cell, width, dropout, True, f"{cell}_{i}", policy)
            for i in range(num_layers)
        ]
        self.head = keras.layers.Dense(vocab_size, dtype="float32", name="head")
        self.build((None, None))

    def build(self, input_shape):
        if self.built:
            return
        self.embedding.build((None, None))
        for rnn in self.rnns:
            rnn.build((None, None, self.width))
        self.head.build((None, None, self.width))
        self.built = True

    def call(self, token_ids, training=None):
        x = self.embedding(token_ids)  # (B, T, W)
        for rnn in self.rnns:
            x = rnn(x, training=training)  # (B, T, W)
        return self.head(ops.cast(x, "float32"))  # (B, T, V)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "width": self.width,
                "num_layers": self.num_layers,
                "cell": self.cell,
                "dropout": self.dropout,
            }
        )
        return config


def receptive_field(kernel_size, num_layers):
    """How many tokens one output of a stack of causal convolutions sees, when layer i
    (0-based) has dilation 2^i: 1 + (kernel_size - 1) · (2^num_layers - 1).

    Args:
        kernel_size: width of every convolution.
        num_layers: stacked convolutions.

    Example:

    >>> receptive_field(3, 5)
    63
    """
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("num_layers", num_layers)
    return 1 + (kernel_size - 1) * (2**num_layers - 1)


def layers_for_context(context_length, kernel_size=3):
    """The fewest dilated layers whose receptive field covers `context_length - 1` earlier
    tokens, so the last position of a window can see its first token.

    Example:

    >>> layers_for_context(64, kernel_size=3)
    5
    """
    check_positive_int("context_length", context_length)
    if kernel_size < 2:
        raise ValueError(f"kernel_size must be at least 2 to grow the window, got {kernel_size}")
    n = 1
    while receptive_field(kernel_size, n) < context_length - 1:
        n += 1
    return n


@keras.saving.register_keras_serializable(package="course_lib")
class CNNLanguageModel(keras.Model):
    """A convolutional language model: embedding → N residual causal dilated Conv1D → logits.

    Block i: x = x + Conv1D(LayerNorm(x), kernel_size, dilation 2^i, causal padding, GELU).
    Causal padding pads on the left only, so position t never sees tokens after t; doubling
    dilations grow the window exponentially with depth (see `receptive_field`). Every
    position is computed in parallel, as in a Transformer, but the window is fixed.

    Args:
        vocab_size: number of token ids V.
        width: embedding size and channels of every convolution.
        num_layers: convolution blocks.
        kernel_size: width of every convolution.
        dropout: dropout on each block's output.
        **kwargs: passed to `keras.Model`.

    Call arguments:
        token_ids: `(B, T)` int ids.
        training: enables dropout.

    Returns:
        float32 logits `(B, T, V)`.

    Example:
    ```python
    model = CNNLanguageModel(vocab_size=65, width=96, num_layers=5)
    logits = model(np.zeros((2, 64), "int32"))  # (2, 64, 65); window of 63 tokens
    ```
    """

    def __init__(self, vocab_size, width, num_layers=5, kernel_size=3, dropout=0.0, **kwargs):
        for name, value in (("vocab_size", vocab_size), ("width", width),
                            ("num_layers", num_layers), ("kernel_size", kernel_size)):
            check_positive_int(name, value)
        check_dropout(dropout)
        super().__init__(**kwargs)
        self.vocab_size, self.width, self.num_layers = int(vocab_size), int(width), num_layers
        self.kernel_size, self.dropout = kernel_size, dropout
        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(vocab_size, width, dtype=policy, name="embedding")
        self.norms = [
            keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name=f"norm_{i}")
            for i in range(num_layers)
        ]
        self.convs = [
            keras.layers.Conv1D(
                width,
                kernel_size,
                padding="causal",
                dilation_rate=2**i,
                activation="gelu",
                dtype=policy,
                name=f"conv_{i}",
            )
            for i in range(num_layers)
        ]
        self.dropouts = [keras.layers.Dropout(dropout, dtype=policy) for _ in range(num_layers)]
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=1e-5, dtype=policy, name="final_norm"
        )
        self.head = keras.layers.Dense(vocab_size, dtype="float32", name="head")
        self.build((None, None))

    @property
    def receptive_field(self):
        """Tokens each output position sees (itself included)."""
        return receptive_field(self.kernel_size, self.num_layers)

    def build(self, input_shape):
        if self.built:
            return
        shape = (None, None, self.width)
        self.embedding.build((None, None))
        for norm, conv in zip(self.norms, self.convs, strict=True):
            norm.build(shape)
            conv.build(shape)
        self.final_norm.build(shape)
        self.head.build(shape)
        self.built = True

    def call(self, token_ids, training=None):
        x = self.embedding(token_ids)  # (B, T, W)
        for norm, conv, drop in zip(self.norms, self.convs, self.dropouts, strict=True):
            x = x + drop(conv(norm(x)), training=training)  # (B, T, W)
        return self.head(ops.cast(self.final_norm(x), "float32"))  # (B, T, V)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "width": self.width,
                "num_layers": self.num_layers,
                "kernel_size": self.kernel_size,
                "dropout": self.dropout,
            }
        )
        return config


# ---------------------------------------------------------------------------------------------
# Classifiers
# ---------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="course_lib")
class RNNClassifier(keras.Model):
    """Sequence classifier: embedding → (bidirectional) LSTM/GRU → final state → logits.

    Padding positions are masked, so the recurrent layer skips them and the final state is
    the one after the last real token.

    Args:
        vocab_size: number of token ids.
        num_classes: number of labels.
        width: embedding size and state size (per direction).
        num_layers: stacked recurrent layers.
        cell: `"lstm"` or `"gru"`.
        bidirectional: read the text in both directions and concatenate the final states.
        dropout: dropout on the recurrent inputs and before the output layer.
        pad_id: the padding id.
        **kwargs: passed to `keras.Model`.

    Example:
    ```python
    model = RNNClassifier(vocab_size=5000, num_classes=2, width=64)
    logits = model(np.array([[12, 7, 99, 0, 0]]))  # (1, 2)
    ```
    """

    def __init__(self, vocab_size, num_classes, width, num_layers=1, cell="lstm",
                 bidirectional=True, dropout=0.0, pad_id=0, **kwargs):
        for name, value in (("vocab_size", vocab_size), ("num_classes", num_classes),
                            ("width", width), ("num_layers", num_layers)):
            check_positive_int(name, value)
        _check_cell(cell)
        check_dropout(dropout)
        super().__init__(**kwargs)
        self.vocab_size, self.num_classes, self.width = int(vocab_size), int(num_classes), width
        self.num_layers, self.cell, self.bidirectional = num_layers, cell, bidirectional
        self.dropout, self.pad_id = dropout, pad_id
        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(vocab_size, width, dtype=policy, name="embedding")
        self.rnns = []
        for i in range(num_layers):
            layer = _rnn_layer(cell, width, dropout, i < num_layers - 1, f"{cell}_{i}", policy)
            if bidirectional:
                layer = keras.layers.Bidirectional(layer, dtype=policy, name=f"bi_{cell}_{i}")
            self.rnns.append(layer)
        self.head_dropout = keras.layers.Dropout(dropout)
        self.head = keras.layers.Dense(num_classes, dtype="float32", name="head")
        self.build((None, None))

    def build(self, input_shape):
        if self.built:
            return
        self.embedding.build((None, None))
        features = self.width * (2 if self.bidirectional else 1)
        in_width = self.width
        for rnn in self.rnns:
            rnn.build((None, None, in_width))
            in_width = features
        self.head.build((None, features))
        self.built = True

    def call(self, token_ids, training=None):
        token_ids = ops.convert_to_tensor(token_ids)
        mask = ops.not_equal(token_ids, self.pad_id)  # (B, T)
        x = self.embedding(token_ids)
        for rnn in self.rnns:
            x = rnn(x, mask=mask, training=training)
        x = self.head_dropout(x, training=training)  # (B, features): the final state
        return self.head(ops.cast(x, "float32"))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "num_classes": self.num_classes,
                "width": self.width,
                "num_layers": self.num_layers,
                "cell": self.cell,
                "bidirectional": self.bidirectional,
                "dropout": self.dropout,
                "pad_id": self.pad_id,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class CNNClassifier(keras.Model):
    """Kim (2014) convolutional sentence classifier.

    Embedding → one Conv1D (ReLU) per kernel size → max over time (padding excluded) →
    concatenate → dropout → logits. Each filter is an n-gram detector; max pooling asks "does
    this n-gram pattern occur anywhere in the sentence?".

    Args:
        vocab_size: number of token ids.
        num_classes: number of labels.
        width: embedding size.
        filters: filters per kernel size.
        kernel_sizes: the n-gram widths, e.g. `(3, 4, 5)`.
        dropout: dropout before the output layer.
        pad_id: the padding id.
        **kwargs: passed to `keras.Model`.

    Example:
    ```python
    model = CNNClassifier(vocab_size=5000, num_classes=2, width=64, filters=50)
    logits = model(np.array([[12, 7, 99, 0, 0]]))  # (1, 2)
    ```
    """

    def __init__(self, vocab_size, num_classes, width, filters=100, kernel_sizes=(3, 4, 5),
                 dropout=0.0, pad_id=0, **kwargs):
        for name, value in (("vocab_size", vocab_size), ("num_classes", num_classes),
                            ("width", width), ("filters", filters)):
            check_positive_int(name, value)
        kernel_sizes = tuple(int(k) for k in kernel_sizes)
        if not kernel_sizes or min(kernel_sizes) < 1:
            raise ValueError(f"kernel_sizes must be positive ints, got {kernel_sizes!r}")
        check_dropout(dropout)
        super().__init__(**kwargs)
        self.vocab_size, self.num_classes, self.width = int(vocab_size), int(num_classes), width
        self.filters, self.kernel_sizes = filters, kernel_sizes
        self.dropout, self.pad_id = dropout, pad_id
        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(vocab_size, width, dtype=policy, name="embedding")
        self.convs = [
            keras.layers.Conv1D(filters, k, padding="same", activation="relu", dtype=policy,
                                name=f"conv_{k}")
            for k in kernel_sizes
        ]
        self.head_dropout = keras.layers.Dropout(dropout)
        self.head = keras.layers.Dense(num_classes, dtype="float32", name="head")
        self.build((None, None))

    def build(self, input_shape):
        if self.built:
            return
        self.embedding.build((None, None))
        for conv in self.convs:
            conv.build((None, None, self.width))
        self.head.build((None, self.filters * len(self.convs)))
        self.built = True

    def call(self, token_ids, training=None):
        token_ids = ops.convert_to_tensor(token_ids)
        keep = ops.not_equal(token_ids, self.pad_id)[:, :, None]  # (B, T, 1)
        x = self.embedding(token_ids)  # (B, T, W)
        pooled = []
        for conv in self.convs:
            h = ops.cast(conv(x), "float32")  # (B, T, F), ReLU so >= 0
            # Padding positions get -1 so they never win the max; ReLU outputs are >= 0.
            pooled.append(ops.max(ops.where(keep, h, -1.0), axis=1))  # (B, F)
        features = self.head_dropout(ops.concatenate(pooled, axis=-1), training=training)
        return self.head(features)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "num_classes": self.num_classes,
                "width": self.width,
                "filters": self.filters,
                "kernel_sizes": list(self.kernel_sizes),
                "dropout": self.dropout,
                "pad_id": self.pad_id,
            }
        )
        return config


# ---------------------------------------------------------------------------------------------
# Parameter budgets
# ---------------------------------------------------------------------------------------------


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")


def count_parameters(kind, vocab_size, width, num_layers=None, *, context_length=64,
                     kernel_size=3):
    """Trainable parameters of a language model of `kind`, from the formula.

    Equals `build_language_model(...).count_params()` for the same sizes.

    Args:
        kind: `"transformer"` (`course_lib.gpt.GPT`, tied embeddings), `"lstm"`, `"gru"`
            or `"cnn"`.
        vocab_size: V.
        width: model width.
        num_layers: layers; defaults to 2 (transformer), 1 (lstm, gru) or enough dilated
            layers to cover `context_length` (cnn).
        context_length: the transformer's position table size; the cnn's default depth.
        kernel_size: the cnn's convolution width.

    Example:

    >>> count_parameters("lstm", vocab_size=65, width=128)
    148289
    """
    _check_kind(kind)
    num_layers = _default_layers(kind, num_layers, context_length, kernel_size)
    v, w = vocab_size, width
    if kind == "transformer":
        return GPTConfig(v, context_length, num_layers, _heads_for(w), w).num_parameters()
    head = w * v + v
    if kind in _CELLS:
        return v * w + num_layers * _rnn_parameters(kind, w, w) + head
    block = 2 * w + kernel_size * w * w + w  # LayerNorm + conv kernel and bias
    return v * w + num_layers * block + 2 * w + head


def _default_layers(kind, num_layers, context_length, kernel_size):
    if num_layers is not None:
        check_positive_int("num_layers", num_layers)
        return num_layers
    if kind == "transformer":
        return 2
    if kind == "cnn":
        return layers_for_context(context_length, kernel_size)
    return 1


def _heads_for(width):
    # Transformer widths are multiples of 4, so 4 heads always divide them.
    return 4


def _width_step(kind):
    return 4 if kind == "transformer" else 1


def width_for_budget(kind, vocab_size, budget, num_layers=None, *, context_length=64,
                     kernel_size=3):
    """The width whose parameter count is closest to `budget` (transformer widths are
    multiples of 4, so its 4 heads divide them).

    Args:
        kind, vocab_size, num_layers, context_length, kernel_size: as in `count_parameters`.
        budget: the wanted number of parameters.

    Returns:
        `(width, parameters)`.

    Example:

    >>> width_for_budget("gru", vocab_size=65, budget=100_000)
    (118, 99657)
    """
    _check_kind(kind)
    check_positive_int("budget", budget)
    step = _width_step(kind)
    best = None
    width = step
    while True:
        n = count_parameters(kind, vocab_size, width, num_layers,
                             context_length=context_length, kernel_size=kernel_size)
        if best is None or abs(n - budget) < abs(best[1] - budget):
            best = (width, n)
        if n > budget:
            break
        width += step
    if best[1] > 2 * budget:
        raise ValueError(
            f"the smallest {kind} model ({best[1]:,} parameters at width {best[0]}) is more "
            f"than twice the budget {budget:,}; raise the budget or use fewer layers"
        )
    return best


def build_language_model(kind, vocab_size, budget, context_length, num_layers=None, *,
                         kernel_size=3, dropout=0.0, name=None):
    """A language model of `kind` with about `budget` parameters.

    Args:
        kind: `"transformer"`, `"lstm"`, `"gru"` or `"cnn"`.
        vocab_size: V.
        budget: the wanted number of parameters.
        context_length: the training window (the transformer's position table; the cnn's
            depth covers it).
        num_layers: layers; defaults as in `count_parameters`.
        kernel_size: the cnn's convolution width.
        dropout: dropout rate.
        name: the model's name; defaults to `kind`.

    Returns:
        A built Keras model mapping `(B, T)` ids to float32 logits `(B, T, V)`.

    Example:

    >>> model = build_language_model("cnn", 65, 100_000, context_length=64)
    >>> model.receptive_field
    63
    """
    _check_kind(kind)
    num_layers = _default_layers(kind, num_layers, context_length, kernel_size)
    width, _ = width_for_budget(kind, vocab_size, budget, num_layers,
                                context_length=context_length, kernel_size=kernel_size)
    name = name or kind
    if kind == "transformer":
        config = GPTConfig(vocab_size, context_length, num_layers, _heads_for(width), width,
                           dropout=dropout)
        return GPT(config, name=name)
    if kind in _CELLS:
        return RNNLanguageModel(vocab_size, width, num_layers, cell=kind, dropout=dropout,
                                name=name)
    return CNNLanguageModel(vocab_size, width, num_layers, kernel_size=kernel_size,
                            dropout=dropout, name=name)
