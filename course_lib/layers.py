"""Attention, position embeddings and the pre-norm Transformer block, written out in `keras.ops`.

Everything here is backend-neutral (only `keras.ops`) and serializable. Shapes use
B = batch, T = time (sequence length), C = width, H = heads, D = width per head.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from course_lib.config import check_dropout, check_positive_int

# Masked logits get this value before the softmax. It is applied after the cast to float32, where
# -1e9 is representable and exp(-1e9 - max) underflows to exactly 0; float16 would overflow it.
_MASKED_LOGIT = -1e9


def default_initializer(stddev=0.02):
    """The weight initializer of GPT-2 and nanoGPT: a normal distribution with std 0.02.

    Example:
    ```python
    keras.layers.Dense(8, kernel_initializer=default_initializer())
    ```
    """
    return keras.initializers.RandomNormal(mean=0.0, stddev=stddev)


def clone_initializer(initializer):
    """A fresh copy of an initializer, for one more layer.

    An unseeded Keras initializer draws its seed once, so sharing one instance between layers
    would give every layer the same weights; a copy made from its config draws a new seed.

    Example:
    ```python
    init = default_initializer()
    a, b = clone_initializer(init), clone_initializer(init)  # different weights
    ```
    """
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())


def _attention_weights(q, k, mask=None):
    # Scale q before the product (as keras.layers.MultiHeadAttention does): the logits then stay
    # small enough for float16, and the product is the same.
    q = q * ops.cast(1.0 / math.sqrt(q.shape[-1]), q.dtype)
    logits = ops.matmul(q, ops.swapaxes(k, -1, -2))  # (..., Tq, Tk)
    # The softmax runs in float32 even under mixed precision: exp() of bfloat16 logits loses
    # most of the probability mass resolution that sampling and the loss depend on.
    logits = ops.cast(logits, "float32")
    if mask is not None:
        logits = ops.where(ops.cast(mask, "bool"), logits, _MASKED_LOGIT)
    return ops.cast(ops.softmax(logits, axis=-1), q.dtype)


def scaled_dot_product_attention(q, k, v, mask=None):
    """Scaled dot-product attention, softmax(Q Kᵀ / √d_k) V, from the formula.

    Args:
        q: queries, shape `(..., Tq, d)`.
        k: keys, shape `(..., Tk, d)`.
        v: values, shape `(..., Tk, dv)`.
        mask: optional boolean (or 0/1) tensor broadcastable to `(..., Tq, Tk)`; True/1 means the
            query may attend to that key. A row with no allowed key gets uniform weights.

    Returns:
        `(out, weights)`: `out` has shape `(..., Tq, dv)`, `weights` `(..., Tq, Tk)`. The softmax
        is computed in float32 and cast back to `q.dtype`.

    Example:
    ```python
    q = k = v = keras.random.normal((2, 4, 5, 8))  # (B, H, T, D)
    out, weights = scaled_dot_product_attention(q, k, v, mask=causal_mask(5))
    ```
    """
    weights = _attention_weights(q, k, mask)  # (..., Tq, Tk)
    return ops.matmul(weights, v), weights  # (..., Tq, dv)


def causal_mask(t_q, t_k=None, start_index=None):
    """Lower-triangular boolean mask: query i may attend to keys at positions ≤ its own.

    Args:
        t_q: number of queries.
        t_k: number of keys; defaults to `t_q`.
        start_index: absolute position of the first query (an int or a scalar int tensor).
            Defaults to `t_k - t_q`, i.e. the queries are the last `t_q` positions of the keys,
            which is the layout of cached decoding.

    Returns:
        A boolean tensor of shape `(t_q, t_k)`.

    Example:
    ```python
    causal_mask(2, 4)  # [[T, T, T, F], [T, T, T, T]]
    ```
    """
    t_k = t_q if t_k is None else t_k
    if start_index is None:
        start_index = t_k - t_q
    query_positions = ops.arange(t_q, dtype="int32") + ops.cast(start_index, "int32")  # (Tq,)
    key_positions = ops.arange(t_k, dtype="int32")  # (Tk,)
    return key_positions[None, :] <= query_positions[:, None]  # (Tq, Tk)


def padding_mask(token_ids, pad_id):
    """Attention mask that hides padding keys.

    Args:
        token_ids: integer tensor `(B, T)`.
        pad_id: the id used for padding.

    Returns:
        A boolean tensor `(B, 1, 1, T)`, broadcastable to attention logits `(B, H, Tq, T)`.

    Example:
    ```python
    padding_mask(np.array([[5, 6, 0]]), pad_id=0)  # shape (1, 1, 1, 3)
    ```
    """
    return ops.not_equal(token_ids, pad_id)[:, None, None, :]  # (B, 1, 1, T)


@keras.saving.register_keras_serializable(package="course_lib")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with an optional key/value cache.

    The query, key and value projections have kernels shaped `(C, H, D)` and the output
    projection `(H, D, C)`, the same layout as `keras.layers.MultiHeadAttention`, so weights copy
    across with `set_weights_from_keras` / `copy_weights_to_keras`.

    Args:
        num_heads: number of heads H.
        key_dim: size of each head D (also used for values).
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        kernel_initializer: initializer of the query/key/value kernels.
        output_kernel_initializer: initializer of the output kernel; defaults to
            `kernel_initializer` (GPT scales it down, see `course_lib.gpt`).
        bias_initializer: initializer of the biases.
        **kwargs: passed to `keras.layers.Layer` (`name`, `dtype`, ...).

    Example:
    ```python
    mha = MultiHeadAttention(num_heads=4, key_dim=8)
    x = keras.random.normal((2, 10, 32))  # (B, T, C)
    y = mha(x, use_causal_mask=True)  # (2, 10, 32)
    ```
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        dropout=0.0,
        use_bias=True,
        kernel_initializer=None,
        output_kernel_initializer=None,
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("num_heads", num_heads)
        check_positive_int("key_dim", key_dim)
        check_dropout(dropout)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer or default_initializer())
        self.output_kernel_initializer = keras.initializers.get(
            output_kernel_initializer or self.kernel_initializer
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self._output_width = None

    def _projection(self, equation, output_shape, bias_axes, initializer, name):
        return keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=clone_initializer(initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        h, d = self.num_heads, self.key_dim
        self._output_width = query_shape[-1]
        self.query_dense = self._projection(
            "btc,chd->bthd", (None, h, d), "hd", self.kernel_initializer, "query"
        )
        self.key_dense = self._projection(
            "btc,chd->bthd", (None, h, d), "hd", self.kernel_initializer, "key"
        )
        self.value_dense = self._projection(
            "btc,chd->bthd", (None, h, d), "hd", self.kernel_initializer, "value"
        )
        self.output_dense = self._projection(
            "bthd,hdc->btc",
            (None, self._output_width),
            "c",
            self.output_kernel_initializer,
            "attention_output",
        )
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        self.output_dense.build((query_shape[0], query_shape[1], h, d))

    def call(
        self,
        query,
        value=None,
        key=None,
        attention_mask=None,
        use_causal_mask=False,
        training=None,
        return_attention_scores=False,
        cache=None,
        cache_index=None,
    ):
        """Attends from `query` to `key`/`value` (self-attention when both are omitted).

        Args:
            query: `(B, Tq, C)`.
            value: `(B, Tk, C)`; defaults to `query`.
            key: `(B, Tk, C)`; defaults to `value`.
            attention_mask: boolean, broadcastable to `(B, H, Tq, Tk)`; a 3-D `(B, Tq, Tk)` mask
                (the `keras.layers.MultiHeadAttention` layout) is accepted too. True = attend.
            use_causal_mask: also apply `causal_mask`.
            training: enables dropout on the attention weights.
            return_attention_scores: also return the weights `(B, H, Tq, Tk)`.
            cache: `(B, 2, H, T_max, D)`, this layer's keys (index 0) and values (index 1).
            cache_index: int or scalar int tensor, where the new keys/values are written; the
                queries then see cache positions `< cache_index + Tq` only.

        Returns:
            `out (B, Tq, C)`, then the weights if asked for, then the updated cache if given.
        """
        value = query if value is None else value
        key = value if key is None else key
        q = ops.transpose(self.query_dense(query), (0, 2, 1, 3))  # (B, H, Tq, D)
        k = ops.transpose(self.key_dense(key), (0, 2, 1, 3))  # (B, H, Tk, D)
        v = ops.transpose(self.value_dense(value), (0, 2, 1, 3))  # (B, H, Tk, D)
        t_q = ops.shape(q)[2]

        mask = None
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")
            if len(mask.shape) == 3:
                mask = mask[:, None, :, :]  # (B, 1, Tq, Tk)
        if cache is not None:
            if cache_index is None:
                raise ValueError("cache_index is required with cache: pass where to write k/v")
            start = [0, 0, cache_index, 0]
            k = ops.slice_update(cache[:, 0], start, ops.cast(k, cache.dtype))  # (B, H, T_max, D)
            v = ops.slice_update(cache[:, 1], start, ops.cast(v, cache.dtype))  # (B, H, T_max, D)
            cache = ops.stack([k, v], axis=1)  # (B, 2, H, T_max, D)
            # Slots at or after cache_index + Tq hold zeros or stale keys from an earlier window:
            # the causal mask with this offset hides them (and, without causality, still hides
            # the slots that were never written).
            t_max = ops.shape(k)[2]
            if use_causal_mask:
                written = causal_mask(t_q, t_max, start_index=cache_index)  # (Tq, T_max)
            else:
                end = ops.cast(cache_index, "int32") + t_q
                written = (ops.arange(t_max, dtype="int32") < end)[None, :]  # (1, T_max)
            mask = written if mask is None else ops.logical_and(mask, written)
        elif use_causal_mask:
            causal = causal_mask(t_q, ops.shape(k)[2])  # (Tq, Tk)
            mask = causal if mask is None else ops.logical_and(mask, causal)

        weights = _attention_weights(q, k, mask)  # (B, H, Tq, Tk)
        out = ops.matmul(self.dropout_layer(weights, training=training), v)  # (B, H, Tq, D)
        out = self.output_dense(ops.transpose(out, (0, 2, 1, 3)))  # (B, Tq, C)

        results = (out,)
        if return_attention_scores:
            results += (weights,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def _pairs(self, keras_mha):
        return [
            (self.query_dense, keras_mha._query_dense),
            (self.key_dense, keras_mha._key_dense),
            (self.value_dense, keras_mha._value_dense),
            (self.output_dense, keras_mha._output_dense),
        ]

    def set_weights_from_keras(self, keras_mha):
        """Copies the weights of a built `keras.layers.MultiHeadAttention` into this layer.

        Args:
            keras_mha: a built `keras.layers.MultiHeadAttention` (or subclass) with the same
                num_heads, key_dim, use_bias and widths.

        Example:
        ```python
        ref = keras.layers.MultiHeadAttention(num_heads=4, key_dim=8)
        ref(x, x)
        mha = MultiHeadAttention(4, 8)
        mha(x)
        mha.set_weights_from_keras(ref)
        ```
        """
        for ours, theirs in self._pairs(keras_mha):
            ours.set_weights(theirs.get_weights())

    def copy_weights_to_keras(self, keras_mha):
        """Copies this layer's weights into a built `keras.layers.MultiHeadAttention`.

        Args:
            keras_mha: the target layer, built with the same shapes.

        Example:
        ```python
        mha.copy_weights_to_keras(ref)
        ```
        """
        for ours, theirs in self._pairs(keras_mha):
            theirs.set_weights(ours.get_weights())

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "output_kernel_initializer": keras.initializers.serialize(
                    self.output_kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class PositionEmbedding(keras.layers.Layer):
    """Learned absolute position embedding: one trainable vector per position.

    Args:
        max_length: number of positions the table holds (the model's context length).
        width: size of each vector C.
        initializer: initializer of the `(max_length, width)` table.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(B, T, C)` embedded tokens; only their shape is used.
        start_index: absolute position of the first token (int or scalar int tensor), for cached
            decoding.

    Example:
    ```python
    layer = PositionEmbedding(max_length=64, width=32)
    layer(keras.ops.zeros((2, 10, 32)), start_index=5)  # rows 5..14 of the table
    ```
    """

    def __init__(self, max_length, width, initializer=None, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("max_length", max_length), ("width", width)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{arg} must be a positive int, got {value!r}")
        self.max_length = max_length
        self.width = width
        self.initializer = keras.initializers.get(initializer or default_initializer())

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.max_length, self.width),
            initializer=clone_initializer(self.initializer),
            name="embeddings",
        )

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)  # (B, T, C)
        t = shape[-2]
        if (
            isinstance(start_index, int)
            and isinstance(t, int)
            and start_index + t > self.max_length
        ):
            raise ValueError(
                f"positions {start_index}..{start_index + t - 1} exceed max_length "
                f"{self.max_length}; crop the input to at most {self.max_length} tokens"
            )
        # A gather, not a slice: XLA needs a slice's start as a compile-time constant and would
        # recompile the cached decoding step for every new position.
        positions = ops.arange(t, dtype="int32") + ops.cast(start_index, "int32")  # (T,)
        return ops.broadcast_to(ops.take(self.embeddings, positions, axis=0), shape)  # (B, T, C)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_length": self.max_length,
                "width": self.width,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Fixed sinusoidal position encoding of Vaswani et al. (2017); no weights.

    PE[p, 2i] = sin(p / w^(2i/C)) and PE[p, 2i+1] = cos(p / w^(2i/C)), with w = max_wavelength:
    sine and cosine interleaved along the width, the same convention as
    `keras_hub.layers.SinePositionEncoding` (not the concatenated [sin | cos] layout some code
    uses). Computed in float32, then cast to the compute dtype.

    Args:
        max_wavelength: the w above.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        inputs: `(B, T, C)` embedded tokens; only their shape is used.
        start_index: absolute position of the first token.

    Example:
    ```python
    pe = SinusoidalPositionEncoding()(keras.ops.zeros((1, 50, 16)))  # (1, 50, 16)
    ```
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if max_wavelength <= 1:
            raise ValueError(f"max_wavelength must be > 1, got {max_wavelength}")
        self.max_wavelength = max_wavelength

    def call(self, inputs, start_index=0):
        shape = ops.shape(inputs)  # (B, T, C)
        t, c = shape[-2], shape[-1]
        positions = ops.cast(ops.arange(t, dtype="int32") + start_index, "float32")  # (T,)
        dims = ops.arange(c, dtype="int32")  # (C,)
        # Pairs (2i, 2i+1) share the frequency 1 / w^(2i/C).
        rates = ops.power(
            ops.cast(1.0 / self.max_wavelength, "float32"),
            ops.cast(2 * (dims // 2), "float32") / float(c),
        )  # (C,)
        angles = positions[:, None] * rates[None, :]  # (T, C)
        encoding = ops.where(dims % 2 == 0, ops.sin(angles), ops.cos(angles))  # (T, C)
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype), shape)  # (B, T, C)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding plus learned position embedding (the maths of
    `keras_hub.layers.TokenAndPositionEmbedding`).

    Args:
        vocab_size: number of token ids V.
        max_length: number of positions (context length).
        width: embedding size C.
        embeddings_initializer: initializer of both tables.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        token_ids: `(B, T)` integer ids.
        start_index: absolute position of the first token, for cached decoding.

    Example:
    ```python
    embed = TokenAndPositionEmbedding(vocab_size=65, max_length=64, width=32)
    x = embed(np.array([[1, 2, 3]]))  # (1, 3, 32)
    ```
    """

    def __init__(self, vocab_size, max_length, width, embeddings_initializer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(vocab_size, int) or vocab_size < 1:
            raise ValueError(f"vocab_size must be a positive int, got {vocab_size!r}")
        self.vocab_size = vocab_size
        self.max_length = max_length
        self.width = width
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer or default_initializer()
        )
        self.token_embedding = keras.layers.Embedding(
            vocab_size,
            width,
            embeddings_initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            max_length,
            width,
            initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="position_embedding",
        )

    def build(self, input_shape):
        self.token_embedding.build(input_shape)
        self.position_embedding.build(tuple(input_shape) + (self.width,))

    def call(self, token_ids, start_index=0):
        tokens = self.token_embedding(token_ids)  # (B, T, C)
        return tokens + self.position_embedding(tokens, start_index=start_index)  # (B, T, C)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.width,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "max_length": self.max_length,
                "width": self.width,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class TransformerBlock(keras.layers.Layer):
    """Pre-norm Transformer block (GPT-2 / nanoGPT layout), with optional cross-attention.

    x = x + Dropout(SelfAttention(LayerNorm(x)));
    [x = x + Dropout(CrossAttention(query=LayerNorm(x), key=value=encoder_output))];
    x = x + Dropout(MLP(LayerNorm(x))), where MLP = Dense(mlp_ratio·C, GELU) → Dense(C).

    Without cross-attention this is the block of a GPT (causal) or of a BERT-style encoder
    (``causal=False``); with it, the decoder block of an encoder-decoder, where each target
    position also reads the whole source sentence. It equals
    ``keras_hub.layers.TransformerDecoder(normalize_first=True, activation="gelu")``, which
    likewise adds cross-attention only for an encoder sequence.

    Args:
        width: model width C.
        num_heads: attention heads H; must divide `width`.
        mlp_ratio: hidden size of the MLP as a multiple of `width`.
        dropout: rate for the attention weights and every residual branch.
        layer_norm_epsilon: epsilon of the LayerNorms.
        use_bias: biases in the Dense layers and LayerNorms (nanoGPT's `bias`).
        causal: apply the causal mask in self-attention.
        cross_attention: add the cross-attention sub-layer; `call` then needs `encoder_output`.
        kernel_initializer: initializer of the attention and MLP kernels.
        output_kernel_initializer: initializer of the kernels that write into the residual
            stream (attention outputs, second MLP Dense); defaults to `kernel_initializer`.
        **kwargs: passed to `keras.layers.Layer`.

    Example:
    ```python
    block = TransformerBlock(width=32, num_heads=4)
    y = block(keras.random.normal((2, 10, 32)))  # (2, 10, 32)
    decoder = TransformerBlock(width=32, num_heads=4, cross_attention=True)
    y = decoder(keras.random.normal((2, 7, 32)), keras.random.normal((2, 9, 32)))  # (2, 7, 32)
    ```
    """

    def __init__(
        self,
        width,
        num_heads,
        mlp_ratio=4,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        use_bias=True,
        causal=True,
        cross_attention=False,
        kernel_initializer=None,
        output_kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for arg, value in (("width", width), ("num_heads", num_heads), ("mlp_ratio", mlp_ratio)):
            check_positive_int(arg, value)
        if width % num_heads:
            raise ValueError(
                f"width {width} is not divisible by num_heads {num_heads}; choose a width that "
                f"is a multiple of {num_heads}, e.g. {max(1, width // num_heads) * num_heads}"
            )
        check_dropout(dropout)
        self.width = int(width)
        self.num_heads = int(num_heads)
        self.mlp_ratio = int(mlp_ratio)
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.use_bias = use_bias
        self.causal = causal
        self.has_cross_attention = bool(cross_attention)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or default_initializer())
        self.output_kernel_initializer = keras.initializers.get(
            output_kernel_initializer or self.kernel_initializer
        )
        policy = self.dtype_policy

        def norm(name):
            return keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, center=use_bias, dtype=policy, name=name
            )

        def attention(name):
            return MultiHeadAttention(
                num_heads,
                width // num_heads,
                dropout=dropout,
                use_bias=use_bias,
                kernel_initializer=clone_initializer(self.kernel_initializer),
                output_kernel_initializer=clone_initializer(self.output_kernel_initializer),
                dtype=policy,
                name=name,
            )

        # Unseeded sub-layers draw their seeds in the order they are made; this order keeps the
        # weights (and dropout masks) of a seeded model the same as in earlier course versions.
        self.attention_norm = norm("attention_norm")
        self.attention = attention("attention")
        if self.has_cross_attention:
            self.cross_attention_norm = norm("cross_attention_norm")
            self.cross_attention = attention("cross_attention")
        else:
            self.attention_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.mlp_norm = norm("mlp_norm")
        self.mlp_in = keras.layers.Dense(
            mlp_ratio * width,
            activation="gelu",  # exact erf GELU, as nanoGPT's nn.GELU()
            use_bias=use_bias,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=policy,
            name="mlp_in",
        )
        self.mlp_out = keras.layers.Dense(
            width,
            use_bias=use_bias,
            kernel_initializer=clone_initializer(self.output_kernel_initializer),
            dtype=policy,
            name="mlp_out",
        )
        if self.has_cross_attention:
            self.attention_dropout = keras.layers.Dropout(dropout, dtype=policy)
            self.cross_attention_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.mlp_dropout = keras.layers.Dropout(dropout, dtype=policy)

    def build(self, x_shape, encoder_output_shape=None):
        self.attention_norm.build(x_shape)
        self.attention.build(x_shape)
        if self.has_cross_attention:
            self.cross_attention_norm.build(x_shape)
            self.cross_attention.build(x_shape, encoder_output_shape or x_shape)
        self.mlp_norm.build(x_shape)
        self.mlp_in.build(x_shape)
        self.mlp_out.build(tuple(x_shape[:-1]) + (self.mlp_ratio * self.width,))
        self.built = True

    def call(
        self,
        x,
        encoder_output=None,
        attention_mask=None,
        cross_attention_mask=None,
        training=None,
        cache=None,
        cache_index=None,
        return_attention_scores=False,
    ):
        """Runs the block on `x (B, T, C)`.

        Args:
            x: `(B, T, C)`.
            encoder_output: `(B, S, C)` source vectors; required with cross-attention, refused
                without it.
            attention_mask: optional extra self-attention mask, broadcastable to
                `(B, H, T, Tk)` (e.g. padding keys); the causal mask is added when `causal`.
            cross_attention_mask: mask on source keys, broadcastable to `(B, H, T, S)`.
            training: enables dropout.
            cache: `(B, 2, H, T_max, D)` key/value cache of the self-attention, or None.
            cache_index: where the new keys/values go in the cache.
            return_attention_scores: also return the attention weights.

        Returns:
            `(B, T, C)`; `((B, T, C), new_cache)` when `cache` is given; with
            `return_attention_scores`, `((B, T, C), {"self": (B, H, T, Tk)[, "cross":
            (B, H, T, S)]})`.
        """
        if self.has_cross_attention != (encoder_output is not None):
            raise ValueError(
                "this block was built with cross_attention=True: pass encoder_output (B, S, C)"
                if self.has_cross_attention else
                "this block has no cross-attention: build it with cross_attention=True to "
                "pass encoder_output"
            )
        if cache is not None and return_attention_scores:
            raise ValueError("return_attention_scores is not available with a cache")
        weights = {}
        attended = self.attention(
            self.attention_norm(x),
            attention_mask=attention_mask,
            use_causal_mask=self.causal,
            training=training,
            cache=cache,
            cache_index=cache_index,
            return_attention_scores=return_attention_scores,
        )
        if cache is not None:
            attended, cache = attended
        elif return_attention_scores:
            attended, weights["self"] = attended
        x = x + self.attention_dropout(attended, training=training)  # (B, T, C)
        if self.has_cross_attention:
            read = self.cross_attention(
                self.cross_attention_norm(x),
                value=encoder_output,  # (B, S, C): keys and values come from the source
                attention_mask=cross_attention_mask,
                training=training,
                return_attention_scores=return_attention_scores,
            )
            if return_attention_scores:
                read, weights["cross"] = read
            x = x + self.cross_attention_dropout(read, training=training)  # (B, T, C)
        h = self.mlp_out(self.mlp_in(self.mlp_norm(x)))  # (B, T, 4C) -> (B, T, C)
        x = x + self.mlp_dropout(h, training=training)  # (B, T, C)
        if cache is not None:
            return x, cache
        return (x, weights) if return_attention_scores else x

    def compute_output_shape(self, x_shape, encoder_output_shape=None):
        return x_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "width": self.width,
                "num_heads": self.num_heads,
                "mlp_ratio": self.mlp_ratio,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "use_bias": self.use_bias,
                "causal": self.causal,
                "cross_attention": self.has_cross_attention,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "output_kernel_initializer": keras.initializers.serialize(
                    self.output_kernel_initializer
                ),
            }
        )
        return config
