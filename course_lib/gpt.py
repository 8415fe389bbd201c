"""The GPT configuration and model: token + position embedding, N pre-norm blocks, LM head.

A Keras 3 port of nanoGPT's `model.py`. Shapes: B = batch, T = time, C = width, V = vocab,
H = heads, D = C / H, N = layers.
"""

from __future__ import annotations

import dataclasses
import math

import keras
from keras import ops

from course_lib.config import ConfigMixin
from course_lib.layers import TokenAndPositionEmbedding, TransformerBlock
from course_lib.model_io import ConfigSerialization


@dataclasses.dataclass
class GPTConfig(ConfigMixin):
    """Hyper-parameters of a `GPT`.

    Args:
        vocab_size: number of token ids V.
        context_length: the longest sequence the model reads (nanoGPT's `block_size`).
        num_layers: number of Transformer blocks N.
        num_heads: attention heads per block H; must divide `width`.
        width: model width C (nanoGPT's `n_embd`).
        dropout: dropout rate after the embedding, on the attention weights and on each
            residual branch; 0.0 disables it.
        use_bias: biases in Dense layers and LayerNorms.
        tie_embeddings: reuse the token embedding matrix as the output projection.
        layer_norm_epsilon: epsilon of every LayerNorm.

    Example:
    ```python
    config = GPTConfig.nanogpt_cpu(vocab_size=65)
    config.num_parameters()  # 809_856
    ```
    """

    vocab_size: int
    context_length: int
    num_layers: int
    num_heads: int
    width: int
    dropout: float = 0.0
    use_bias: bool = True
    tie_embeddings: bool = True
    layer_norm_epsilon: float = 1e-5

    def __post_init__(self):
        self.check_transformer_fields(
            ("vocab_size", "context_length", "num_layers", "num_heads", "width")
        )

    def num_parameters(self):
        """Number of trainable parameters, from the formula (equals `GPT.count_params()`).

        Per block: two LayerNorms, four C×C attention projections, the C→4C→C MLP.
        """
        c, b = self.width, int(self.use_bias)
        layer_norm = c * (1 + b)  # gamma (+ beta)
        attention = 4 * (c * c + b * c)  # query, key, value, output
        mlp = (c * 4 * c + b * 4 * c) + (4 * c * c + b * c)
        block = 2 * layer_norm + attention + mlp
        embeddings = self.vocab_size * c + self.context_length * c
        head = 0 if self.tie_embeddings else self.vocab_size * c
        return embeddings + self.num_layers * block + layer_norm + head

    @classmethod
    def nanogpt_cpu(cls, vocab_size):
        """The small character model that trains on a laptop CPU in minutes.

        Args:
            vocab_size: the tokenizer's vocabulary size.

        Example:
        ```python
        GPTConfig.nanogpt_cpu(65)  # context 64, 4 layers, 4 heads, width 128
        ```
        """
        return cls(vocab_size, context_length=64, num_layers=4, num_heads=4, width=128)

    @classmethod
    def nanogpt_gpu(cls, vocab_size):
        """nanoGPT's Shakespeare-char model (10_770_816 parameters for V = 65; a GPU trains it).

        Args:
            vocab_size: the tokenizer's vocabulary size.

        Example:
        ```python
        GPTConfig.nanogpt_gpu(65)  # context 256, 6 layers, 6 heads, width 384, dropout 0.2
        ```
        """
        return cls(
            vocab_size, context_length=256, num_layers=6, num_heads=6, width=384, dropout=0.2
        )


@keras.saving.register_keras_serializable(package="course_lib")
class GPT(ConfigSerialization, keras.Model):
    """A decoder-only Transformer language model (GPT-2 layout, nanoGPT initialisation).

    Token ids `(B, T)` → logits `(B, T, V)` in float32, also under a mixed-precision policy.
    The model is built on construction, so `summary()` and `count_params()` work at once.

    Initialisation follows nanoGPT: every kernel and embedding ~ N(0, 0.02), biases 0, and the
    two projections that write into the residual stream (attention output, second MLP Dense)
    ~ N(0, 0.02 / √(2N)), so the residual stream's variance does not grow with depth.

    Args:
        config: a `GPTConfig` (or its dict).
        **kwargs: passed to `keras.Model` (`name`, `dtype`, ...).

    Example:
    ```python
    model = GPT(GPTConfig(vocab_size=65, context_length=64, num_layers=4, num_heads=4,
                          width=128))
    logits = model(np.zeros((2, 64), "int32"))  # (2, 64, 65) float32
    ```
    """

    config_class = GPTConfig  # what from_config rebuilds

    def __init__(self, config, **kwargs):
        config = self.coerce_config(config)
        super().__init__(**kwargs)
        self.config = config
        init = keras.initializers.RandomNormal(stddev=0.02)
        residual_init = keras.initializers.RandomNormal(
            stddev=0.02 / math.sqrt(2 * config.num_layers)
        )
        policy = self.dtype_policy
        self.embedding = TokenAndPositionEmbedding(
            config.vocab_size,
            config.context_length,
            config.width,
            embeddings_initializer=init,
            dtype=policy,
            name="embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(
            config.dropout, dtype=policy, name="embedding_dropout"
        )
        self.blocks = [
            TransformerBlock(
                config.width,
                config.num_heads,
                dropout=config.dropout,
                layer_norm_epsilon=config.layer_norm_epsilon,
                use_bias=config.use_bias,
                causal=True,
                kernel_initializer=init,
                output_kernel_initializer=residual_init,
                dtype=policy,
                name=f"block_{i}",
            )
            for i in range(config.num_layers)
        ]
        # float32 from here on: the logits feed a softmax over V classes, where bfloat16's
        # 8-bit mantissa would blur the small differences between likely tokens.
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=config.layer_norm_epsilon,
            center=config.use_bias,
            dtype="float32",
            name="final_norm",
        )
        self.lm_head = None
        if not config.tie_embeddings:
            self.lm_head = keras.layers.Dense(
                config.vocab_size,
                use_bias=False,
                kernel_initializer=init,
                dtype="float32",
                name="lm_head",
            )
        self.build((None, config.context_length))

    def build(self, input_shape):
        if self.built:  # built in __init__; load_model calls build again
            return
        c = self.config.width
        self.embedding.build((None, None))
        for block in self.blocks:
            block.build((None, None, c))
        self.final_norm.build((None, None, c))
        if self.lm_head is not None:
            self.lm_head.build((None, None, c))

    def _check_length(self, t, start=0):
        limit = self.config.context_length
        if isinstance(t, int) and isinstance(start, int) and start + t > limit:
            if start:
                raise ValueError(
                    f"positions {start}..{start + t - 1} exceed the model's context_length "
                    f"{limit}; re-prefill the cache with the last tokens that fit"
                )
            raise ValueError(
                f"sequence length {t} exceeds the model's context_length {limit}; crop the "
                f"input to the last {limit} tokens"
            )

    def _logits(self, x):
        x = self.final_norm(x)  # (B, T, C) float32
        if self.lm_head is not None:
            return self.lm_head(x)  # (B, T, V)
        # Tied head: logits = x Eᵀ. Under mixed precision E is read through Keras's autocast
        # (bfloat16-rounded, as with PyTorch autocast); the product is float32.
        table = ops.cast(self.embedding.token_embedding.embeddings, "float32")  # (V, C)
        return ops.matmul(x, ops.transpose(table))  # (B, T, V)

    def call(self, token_ids, training=None):
        """Maps token ids `(B, T)`, T ≤ context_length, to float32 logits `(B, T, V)`."""
        return self._logits(self._blocks(token_ids, training))

    def _blocks(self, token_ids, training):
        self._check_length(token_ids.shape[1])
        x = self.embedding(token_ids)  # (B, T, C)
        x = self.embedding_dropout(x, training=training)
        for block in self.blocks:
            x = block(x, training=training)  # (B, T, C)
        return x

    def hidden_states(self, token_ids, training=None):
        """The last block's output after the final LayerNorm: float32 `(B, T, C)`.

        This is what the language-model head reads; a task head (a classifier, a span scorer)
        put on a pretrained model reads it instead of the logits. Position t depends only on
        tokens 0..t (causal attention).

        Args:
            token_ids: `(B, T)` integer ids, T ≤ context_length.
            training: enables dropout.

        Example:
        ```python
        h = model.hidden_states(np.zeros((2, 16), "int32"))  # (2, 16, C)
        ```
        """
        return self.final_norm(self._blocks(token_ids, training))  # (B, T, C)

    def init_cache(self, batch_size, max_length=None):
        """An empty key/value cache for `call_with_cache`.

        Args:
            batch_size: B.
            max_length: cache length T_max; defaults to (and may not exceed) context_length.

        Returns:
            Zeros of shape `(N, B, 2, H, T_max, D)` in the model's compute dtype.

        Example:
        ```python
        cache = model.init_cache(1)
        ```
        """
        limit = self.config.context_length
        max_length = limit if max_length is None else max_length
        if not 1 <= max_length <= limit:
            raise ValueError(
                f"max_length {max_length} must be in [1, context_length {limit}]: positions "
                f"beyond the context have no learned embedding"
            )
        c = self.config
        shape = (c.num_layers, batch_size, 2, c.num_heads, max_length, c.head_dim)
        return ops.zeros(shape, dtype=self.compute_dtype)

    def call_with_cache(self, token_ids, cache, cache_index):
        """Forward pass over new tokens only, reusing the cached keys/values of earlier ones.

        Inference only (no dropout). The new tokens sit at absolute positions
        `cache_index .. cache_index + T - 1`; their keys and values are written there.

        Args:
            token_ids: `(B, T)` new token ids (T = prompt length for a prefill, 1 per step).
            cache: `(N, B, 2, H, T_max, D)` from `init_cache` or a previous call.
            cache_index: int or scalar int tensor, the position of `token_ids[:, 0]`.

        Returns:
            `(logits, new_cache)`: float32 logits `(B, T, V)` and the updated cache.

        Example:
        ```python
        cache = model.init_cache(1)
        logits, cache = model.call_with_cache(prompt_ids, cache, 0)  # prefill
        logits, cache = model.call_with_cache(next_id[:, None], cache, prompt_len)
        ```
        """
        self._check_length(token_ids.shape[1], cache_index)
        x = self.embedding(token_ids, start_index=cache_index)  # (B, T, C)
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, layer_cache = block(x, training=False, cache=cache[i], cache_index=cache_index)
            new_cache.append(layer_cache)  # (B, 2, H, T_max, D)
        return self._logits(x), ops.stack(new_cache)  # (B, T, V), (N, B, 2, H, T_max, D)


# The matrices of matmuls and lookups: nanoGPT decays these and nothing else.
_DECAYED_VARIABLE_NAMES = ("kernel", "embeddings")


def no_decay_variables(model):
    """The trainable variables that should not get weight decay: biases and LayerNorm gamma and
    beta, as in nanoGPT. Kernels and embedding tables are decayed.

    Selected by role, not by rank: the attention biases here are `(H, D)` matrices. Pulling a
    bias or a LayerNorm gain toward zero does not regularise; it only fights the normalisation.

    Args:
        model: a built Keras model.

    Returns:
        A list of variables, for `optimizer.exclude_from_weight_decay(var_list=...)`.

    Example:
    ```python
    optimizer = keras.optimizers.AdamW(weight_decay=0.1)
    optimizer.exclude_from_weight_decay(var_list=no_decay_variables(model))
    ```
    """
    return [v for v in model.trainable_variables if v.name not in _DECAYED_VARIABLE_NAMES]


def decay_variable_names(model):
    """Names of the variables that should NOT get weight decay, for
    `optimizer.exclude_from_weight_decay(var_names=...)`.

    Keras matches `var_names` as substrings of each variable's short `name` ("bias", "gamma",
    "kernel", ...), not of its path, so this returns the short names of `no_decay_variables`,
    after checking that no decayed variable (kernel or embedding table) contains one.

    Args:
        model: a built Keras model.

    Returns:
        A sorted list of names, e.g. `["beta", "bias", "gamma"]`.

    Example:
    ```python
    optimizer.exclude_from_weight_decay(var_names=decay_variable_names(model))
    ```
    """
    excluded = sorted({v.name for v in no_decay_variables(model)})
    for v in model.trainable_variables:
        if v.name in _DECAYED_VARIABLE_NAMES and any(name in v.name for name in excluded):
            raise ValueError(
                f"variable {v.path} would be excluded by name although it should be decayed; "
                f"use exclude_from_weight_decay(var_list=no_decay_variables(model)) instead"
            )
    return excluded
