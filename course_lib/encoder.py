"""A BERT-style Transformer encoder, a classifier on top of it, and an encoder-decoder
(sequence-to-sequence) Transformer with cross-attention, all built from `course_lib.layers`.

- `TransformerEncoder`: token (+ position) (+ segment) embeddings, a stack of bidirectional
  `TransformerBlock(causal=False)` with a padding mask, a final LayerNorm. Token ids
  `(B, T)` → contextual vectors `(B, T, C)`. Every token sees every other (non-padding) token,
  which is what BERT's "bidirectional" means.
- `TransformerClassifier`: the encoder plus a pooled classification head (`[CLS]` or mean
  pooling), for sentiment and other sequence labels.
- `Seq2SeqTransformer`: encoder + decoder + output head, for translation and summarization.
  Its decoder blocks are `TransformerBlock(cross_attention=True)`: causal self-attention,
  cross-attention to the encoder output, then the MLP (as
  `keras_hub.layers.TransformerDecoder(normalize_first=True)` with an encoder sequence).

Every model takes a validated config dataclass (`EncoderConfig`, `Seq2SeqConfig`), builds
itself on construction and saves to / loads from `.keras` files. The blocks use the pre-norm
layout of GPT-2 (LayerNorm before each sub-layer, one more at the end), not the post-norm
layout of the original BERT and Transformer papers: it trains without learning-rate tricks.
Shapes: B = batch, T = time, C = width, H = heads, V = vocabulary, N = layers.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
from keras import ops

from course_lib.config import ConfigMixin, check_dropout, check_positive_int
from course_lib.layers import (
    PositionEmbedding,
    SinusoidalPositionEncoding,
    TransformerBlock,
    default_initializer,
)
from course_lib.model_io import ConfigSerialization

__all__ = [
    "EncoderConfig",
    "TransformerEncoder",
    "TransformerClassifier",
    "Seq2SeqConfig",
    "Seq2SeqTransformer",
]

_POSITIONS = ("learned", "sinusoidal", "none")


def _check_common(config, int_fields):
    config.check_transformer_fields(int_fields)
    if config.position not in _POSITIONS:
        raise ValueError(
            f"position must be one of {', '.join(map(repr, _POSITIONS))}, got "
            f"{config.position!r}"
        )
    if isinstance(config.pad_id, bool) or not isinstance(config.pad_id, (int, np.integer)):
        raise ValueError(f"pad_id must be an int, got {config.pad_id!r}")


def _block_parameters(c, mlp_ratio, use_bias, cross_attention=False):
    b = int(use_bias)
    layer_norm = c * (1 + b)
    attention = 4 * (c * c + b * c)  # query, key, value, output projections
    mlp = (c * mlp_ratio * c + b * mlp_ratio * c) + (mlp_ratio * c * c + b * c)
    if cross_attention:
        return 3 * layer_norm + 2 * attention + mlp
    return 2 * layer_norm + attention + mlp


def _residual_init(num_layers):
    # GPT-2: the projections that write into the residual stream are scaled by 1/√(2N), so the
    # stream's variance does not grow with depth.
    return keras.initializers.RandomNormal(stddev=0.02 / math.sqrt(2 * num_layers))


def _make_positions(kind, max_length, width, policy, name):
    if kind == "learned":
        return PositionEmbedding(max_length, width, initializer=default_initializer(), dtype=policy, name=name)
    if kind == "sinusoidal":
        return SinusoidalPositionEncoding(dtype=policy, name=name)
    return None


def _split_inputs(inputs, names):
    """Accepts a dict with `names`, or a tuple/list in that order, or (for one name) a tensor."""
    if isinstance(inputs, dict):
        missing = [n for n in names[:1] if n not in inputs]
        if missing:
            raise ValueError(f"inputs dict lacks {missing[0]!r}; it has {sorted(inputs)}")
        return [inputs.get(n) for n in names]
    if isinstance(inputs, (list, tuple)):
        return list(inputs) + [None] * (len(names) - len(inputs))
    return [inputs] + [None] * (len(names) - 1)


# ---------------------------------------------------------------------------------------------
# Encoder
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class EncoderConfig(ConfigMixin):
    """Hyper-parameters of a `TransformerEncoder` (and of `TransformerClassifier`'s encoder).

    Args:
        vocab_size: number of token ids V.
        max_length: the longest input; the size of the learned position table.
        num_layers: number of encoder blocks N.
        num_heads: attention heads H; must divide `width`.
        width: model width C.
        mlp_ratio: hidden size of each block's MLP as a multiple of `width`.
        dropout: dropout after the embeddings, on attention weights and on residual branches.
        num_segments: number of segment ids (BERT uses 2, sentence A and B); 0 for none.
        pad_id: the padding id; keys holding it are masked out of attention.
        position: `"learned"` (a trained vector per position, as BERT), `"sinusoidal"` (fixed,
            as the original Transformer) or `"none"` (no position information at all).
        layer_norm_epsilon: epsilon of every LayerNorm.
        use_bias: biases in the Dense layers and LayerNorms.

    Example:
    ```python
    config = EncoderConfig(vocab_size=1000, max_length=64, num_layers=2, num_heads=4,
                           width=64)
    config.num_parameters()  # 168_192
    ```
    """

    vocab_size: int
    max_length: int
    num_layers: int = 2
    num_heads: int = 4
    width: int = 128
    mlp_ratio: int = 4
    dropout: float = 0.0
    num_segments: int = 0
    pad_id: int = 0
    position: str = "learned"
    layer_norm_epsilon: float = 1e-5
    use_bias: bool = True

    def __post_init__(self):
        _check_common(
            self, ("vocab_size", "max_length", "num_layers", "num_heads", "width", "mlp_ratio")
        )
        if isinstance(self.num_segments, bool) or not isinstance(self.num_segments, int) or (
            self.num_segments < 0
        ):
            raise ValueError(
                f"num_segments must be an int >= 0, got {self.num_segments!r}; use 2 for "
                "sentence-pair inputs, 0 for none"
            )
        if not 0 <= self.pad_id < self.vocab_size:
            raise ValueError(
                f"pad_id {self.pad_id} is not a token id in [0, vocab_size {self.vocab_size}); "
                "reserve an id for padding (0 is usual)"
            )

    def num_parameters(self):
        """Number of trainable parameters, from the formula (equals `count_params()`).

        Example:
        ```python
        EncoderConfig(1000, 64, width=64).num_parameters()
        ```
        """
        c = self.width
        embeddings = self.vocab_size * c + self.num_segments * c
        if self.position == "learned":
            embeddings += self.max_length * c
        blocks = self.num_layers * _block_parameters(c, self.mlp_ratio, self.use_bias)
        return embeddings + blocks + c * (1 + int(self.use_bias))  # + final LayerNorm


@keras.saving.register_keras_serializable(package="course_lib")
class TransformerEncoder(ConfigSerialization, keras.Model):
    """A BERT-style bidirectional Transformer encoder.

    Embeds the tokens (plus positions, plus segments when `num_segments > 0`), runs N
    `TransformerBlock(causal=False)` whose attention ignores padding keys, and normalises the
    result. Each output vector depends on the whole (unpadded) input, left and right.

    Args:
        config: an `EncoderConfig` (or its dict).
        **kwargs: passed to `keras.Model` (`name`, `dtype`, ...).

    Call arguments:
        inputs: token ids `(B, T)`, or a dict with `"token_ids"` and optionally
            `"segment_ids"` `(B, T)` and `"padding_mask"` `(B, T)` (True = real token; by
            default `token_ids != pad_id`).
        training: enables dropout.

    Returns:
        `(B, T, C)` contextual vectors.

    Example:
    ```python
    encoder = TransformerEncoder(EncoderConfig(vocab_size=100, max_length=16, width=32))
    vectors = encoder(np.array([[5, 6, 7, 0, 0]]))  # (1, 5, 32)
    ```
    """

    config_class = EncoderConfig  # what from_config rebuilds

    def __init__(self, config, **kwargs):
        config = self.coerce_config(config)
        super().__init__(**kwargs)
        self.config = config
        policy = self.dtype_policy
        self.token_embedding = keras.layers.Embedding(
            config.vocab_size,
            config.width,
            embeddings_initializer=default_initializer(),
            dtype=policy,
            name="token_embedding",
        )
        self.position_embedding = _make_positions(
            config.position, config.max_length, config.width, policy, "position_embedding"
        )
        self.segment_embedding = None
        if config.num_segments:
            self.segment_embedding = keras.layers.Embedding(
                config.num_segments,
                config.width,
                embeddings_initializer=default_initializer(),
                dtype=policy,
                name="segment_embedding",
            )
        self.embedding_dropout = keras.layers.Dropout(config.dropout, dtype=policy)
        self.blocks = [
            TransformerBlock(
                config.width,
                config.num_heads,
                mlp_ratio=config.mlp_ratio,
                dropout=config.dropout,
                layer_norm_epsilon=config.layer_norm_epsilon,
                use_bias=config.use_bias,
                causal=False,
                kernel_initializer=default_initializer(),
                output_kernel_initializer=_residual_init(config.num_layers),
                dtype=policy,
                name=f"block_{i}",
            )
            for i in range(config.num_layers)
        ]
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=config.layer_norm_epsilon,
            center=config.use_bias,
            dtype=policy,
            name="final_norm",
        )
        self.build(None)

    def build(self, input_shape=None):
        if self.built:  # built in __init__; load_model calls build again
            return
        c = self.config.width
        self.token_embedding.build((None, None))
        if isinstance(self.position_embedding, PositionEmbedding):
            self.position_embedding.build((None, None, c))
        if self.segment_embedding is not None:
            self.segment_embedding.build((None, None))
        for block in self.blocks:
            block.build((None, None, c))
        self.final_norm.build((None, None, c))
        self.built = True

    def embed(self, token_ids, segment_ids=None, training=None):
        """Token + position (+ segment) embeddings, `(B, T)` → `(B, T, C)`, before the blocks.

        Args:
            token_ids: `(B, T)` int ids, T ≤ max_length.
            segment_ids: `(B, T)` segment ids, or None for segment 0 everywhere.
            training: enables dropout.

        Example:
        ```python
        x = encoder.embed(np.array([[5, 6, 7]]))  # (1, 3, C)
        ```
        """
        t = token_ids.shape[1]
        if isinstance(t, int) and t > self.config.max_length:
            raise ValueError(
                f"sequence length {t} exceeds max_length {self.config.max_length}; truncate "
                f"the input or build the encoder with a larger max_length"
            )
        x = self.token_embedding(token_ids)  # (B, T, C)
        if self.position_embedding is not None:
            x = x + self.position_embedding(x)
        if self.segment_embedding is not None:
            if segment_ids is None:
                segment_ids = ops.zeros_like(token_ids)
            x = x + self.segment_embedding(segment_ids)
        return self.embedding_dropout(x, training=training)

    def call(self, inputs, training=None):
        token_ids, segment_ids, keep = _split_inputs(
            inputs, ("token_ids", "segment_ids", "padding_mask")
        )
        token_ids = ops.convert_to_tensor(token_ids)
        if keep is None:
            keep = ops.not_equal(token_ids, self.config.pad_id)  # (B, T)
        mask = ops.cast(keep, "bool")[:, None, None, :]  # (B, 1, 1, T): hide padding keys
        x = self.embed(token_ids, segment_ids, training=training)
        for block in self.blocks:
            x = block(x, attention_mask=mask, training=training)  # (B, T, C)
        return self.final_norm(x)


_POOLINGS = ("cls", "mean")


@keras.saving.register_keras_serializable(package="course_lib")
class TransformerClassifier(ConfigSerialization, keras.Model):
    """A `TransformerEncoder` with a classification head: the BERT recipe for sentiment,
    topic and other whole-sequence labels.

    The encoder's vectors are pooled into one vector per sequence, either the first position
    (`"cls"`, BERT's `[CLS]` token; the tokenizer must put a special token there) or the mean
    over the non-padding positions (`"mean"`), then mapped to one logit per class.

    Args:
        config: the encoder's `EncoderConfig` (or its dict).
        num_classes: number of labels.
        pooling: `"cls"` or `"mean"`.
        head_dropout: dropout on the pooled vector before the output layer.
        **kwargs: passed to `keras.Model`.

    Call arguments:
        inputs: as `TransformerEncoder`.
        training: enables dropout.

    Returns:
        float32 logits `(B, num_classes)` (use `from_logits=True` in the loss).

    Example:
    ```python
    model = TransformerClassifier(EncoderConfig(vocab_size=1000, max_length=64, width=64),
                                  num_classes=2)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    logits = model(np.array([[2, 17, 9, 0]]))  # (1, 2)
    ```
    """

    config_class = EncoderConfig  # what from_config rebuilds

    def __init__(self, config, num_classes, pooling="mean", head_dropout=0.0, **kwargs):
        config = self.coerce_config(config)
        check_positive_int("num_classes", num_classes)
        if pooling not in _POOLINGS:
            raise ValueError(f"pooling must be 'cls' or 'mean', got {pooling!r}")
        check_dropout(head_dropout, "head_dropout")
        super().__init__(**kwargs)
        self.config = config
        self.num_classes = int(num_classes)
        self.pooling = pooling
        self.head_dropout = head_dropout
        self.encoder = TransformerEncoder(config, dtype=self.dtype_policy, name="encoder")
        self.dropout_layer = keras.layers.Dropout(head_dropout)
        # float32: the logits feed a softmax, as in GPT.
        self.head = keras.layers.Dense(
            self.num_classes, kernel_initializer=default_initializer(), dtype="float32", name="head"
        )
        self.head.build((None, config.width))
        self.built = True

    def pool(self, vectors, keep):
        """Pools the encoder's vectors into one vector per sequence.

        Args:
            vectors: `(B, T, C)` encoder output.
            keep: `(B, T)` booleans, True for real (non-padding) tokens.

        Returns:
            `(B, C)`: the first position (`"cls"`) or the mean over real tokens (`"mean"`).

        Example:
        ```python
        pooled = model.pool(model.encoder(ids), ids != 0)  # (B, C)
        ```
        """
        if self.pooling == "cls":
            return vectors[:, 0, :]
        weights = ops.cast(keep, vectors.dtype)[:, :, None]  # (B, T, 1)
        total = ops.sum(vectors * weights, axis=1)  # (B, C)
        return total / ops.maximum(ops.sum(weights, axis=1), 1.0)

    def call(self, inputs, training=None):
        token_ids, segment_ids, keep = _split_inputs(
            inputs, ("token_ids", "segment_ids", "padding_mask")
        )
        token_ids = ops.convert_to_tensor(token_ids)
        if keep is None:
            keep = ops.not_equal(token_ids, self.config.pad_id)
        vectors = self.encoder(
            {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": keep}
            if segment_ids is not None
            else {"token_ids": token_ids, "padding_mask": keep},
            training=training,
        )
        pooled = self.dropout_layer(self.pool(vectors, keep), training=training)
        return self.head(ops.cast(pooled, "float32"))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "pooling": self.pooling,
                "head_dropout": self.head_dropout,
            }
        )
        return config


# ---------------------------------------------------------------------------------------------
# Decoder with cross-attention
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Seq2SeqConfig(ConfigMixin):
    """Hyper-parameters of a `Seq2SeqTransformer`.

    Args:
        source_vocab_size: number of source token ids.
        target_vocab_size: number of target token ids V.
        source_max_length: the longest source sequence.
        target_max_length: the longest target sequence (decoder input).
        num_encoder_layers: encoder blocks.
        num_decoder_layers: decoder blocks.
        num_heads: attention heads H; must divide `width`.
        width: model width C, shared by encoder and decoder.
        mlp_ratio: MLP hidden size as a multiple of `width`.
        dropout: dropout on embeddings, attention weights and residual branches.
        pad_id: padding id of both vocabularies.
        position: `"learned"`, `"sinusoidal"` or `"none"`, for both sides.
        tie_embeddings: reuse the target embedding matrix as the output projection.
        layer_norm_epsilon: epsilon of every LayerNorm.
        use_bias: biases in Dense layers and LayerNorms.

    Example:
    ```python
    config = Seq2SeqConfig(source_vocab_size=5000, target_vocab_size=5000,
                           source_max_length=32, target_max_length=32, width=128)
    ```
    """

    source_vocab_size: int
    target_vocab_size: int
    source_max_length: int
    target_max_length: int
    num_encoder_layers: int = 2
    num_decoder_layers: int = 2
    num_heads: int = 4
    width: int = 128
    mlp_ratio: int = 4
    dropout: float = 0.0
    pad_id: int = 0
    position: str = "learned"
    tie_embeddings: bool = True
    layer_norm_epsilon: float = 1e-5
    use_bias: bool = True

    def __post_init__(self):
        _check_common(
            self,
            (
                "source_vocab_size",
                "target_vocab_size",
                "source_max_length",
                "target_max_length",
                "num_encoder_layers",
                "num_decoder_layers",
                "num_heads",
                "width",
                "mlp_ratio",
            ),
        )
        if not 0 <= self.pad_id < min(self.source_vocab_size, self.target_vocab_size):
            raise ValueError(
                f"pad_id {self.pad_id} must be a valid id of both vocabularies; reserve the same "
                "id (0 is usual) for padding in source and target"
            )

    def encoder_config(self):
        """The `EncoderConfig` of the source side.

        Example:
        ```python
        Seq2SeqConfig(100, 120, 16, 16, width=32).encoder_config().vocab_size  # 100
        ```
        """
        return EncoderConfig(
            vocab_size=self.source_vocab_size,
            max_length=self.source_max_length,
            num_layers=self.num_encoder_layers,
            num_heads=self.num_heads,
            width=self.width,
            mlp_ratio=self.mlp_ratio,
            dropout=self.dropout,
            pad_id=self.pad_id,
            position=self.position,
            layer_norm_epsilon=self.layer_norm_epsilon,
            use_bias=self.use_bias,
        )

    def num_parameters(self):
        """Number of trainable parameters, from the formula (equals `count_params()`).

        Each decoder block has three LayerNorms, two attentions (self and cross) and the MLP.

        Example:
        ```python
        config = Seq2SeqConfig(100, 120, 16, 16, width=32)
        config.num_parameters() == Seq2SeqTransformer(config).count_params()  # True
        ```
        """
        c, b = self.width, int(self.use_bias)
        decoder = self.target_vocab_size * c
        if self.position == "learned":
            decoder += self.target_max_length * c
        decoder += self.num_decoder_layers * _block_parameters(
            c, self.mlp_ratio, self.use_bias, cross_attention=True
        )
        decoder += c * (1 + b)  # final LayerNorm
        if not self.tie_embeddings:
            decoder += c * self.target_vocab_size + self.target_vocab_size  # Dense with bias
        return self.encoder_config().num_parameters() + decoder


@keras.saving.register_keras_serializable(package="course_lib")
class Seq2SeqTransformer(ConfigSerialization, keras.Model):
    """An encoder-decoder Transformer (Vaswani et al., 2017), pre-norm.

    The encoder reads the source bidirectionally; the decoder reads the target prefix
    causally and the encoder output through cross-attention, and predicts the next target
    token. Training uses teacher forcing: the decoder input is the target shifted right
    (starting with a start token), the label the target itself.

    Args:
        config: a `Seq2SeqConfig` (or its dict).
        **kwargs: passed to `keras.Model`.

    Call arguments:
        inputs: a dict `{"encoder_token_ids": (B, Ts), "decoder_token_ids": (B, Tt)}` or a
            tuple `(source_ids, target_ids)`.
        training: enables dropout.

    Returns:
        float32 logits `(B, Tt, V_target)`.

    Example:
    ```python
    model = Seq2SeqTransformer(Seq2SeqConfig(100, 120, 16, 16, width=32))
    logits = model({"encoder_token_ids": np.array([[5, 6, 0]]),
                    "decoder_token_ids": np.array([[1, 7]])})  # (1, 2, 120)
    ```
    """

    config_class = Seq2SeqConfig  # what from_config rebuilds

    def __init__(self, config, **kwargs):
        config = self.coerce_config(config)
        super().__init__(**kwargs)
        self.config = config
        policy = self.dtype_policy
        self.encoder = TransformerEncoder(config.encoder_config(), dtype=policy, name="encoder")
        self.target_embedding = keras.layers.Embedding(
            config.target_vocab_size,
            config.width,
            embeddings_initializer=default_initializer(),
            dtype=policy,
            name="target_embedding",
        )
        self.target_positions = _make_positions(
            config.position, config.target_max_length, config.width, policy, "target_positions"
        )
        self.embedding_dropout = keras.layers.Dropout(config.dropout, dtype=policy)
        self.decoder_blocks = [
            TransformerBlock(
                config.width,
                config.num_heads,
                cross_attention=True,
                mlp_ratio=config.mlp_ratio,
                dropout=config.dropout,
                layer_norm_epsilon=config.layer_norm_epsilon,
                use_bias=config.use_bias,
                kernel_initializer=default_initializer(),
                output_kernel_initializer=_residual_init(config.num_decoder_layers),
                dtype=policy,
                name=f"decoder_block_{i}",
            )
            for i in range(config.num_decoder_layers)
        ]
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=config.layer_norm_epsilon,
            center=config.use_bias,
            dtype="float32",
            name="final_norm",
        )
        self.lm_head = None
        if not config.tie_embeddings:
            self.lm_head = keras.layers.Dense(
                config.target_vocab_size, kernel_initializer=default_initializer(), dtype="float32",
                name="lm_head",
            )
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        c = self.config.width
        self.target_embedding.build((None, None))
        if isinstance(self.target_positions, PositionEmbedding):
            self.target_positions.build((None, None, c))
        for block in self.decoder_blocks:
            block.build((None, None, c), (None, None, c))
        self.final_norm.build((None, None, c))
        if self.lm_head is not None:
            self.lm_head.build((None, None, c))
        self.built = True

    def encode(self, source_ids, training=None):
        """Source ids `(B, Ts)` → encoder output `(B, Ts, C)`.

        Example:
        ```python
        memory = model.encode(np.array([[5, 6, 0]]))
        ```
        """
        return self.encoder(source_ids, training=training)

    def decode(
        self, target_ids, encoder_output, source_ids, training=None, return_attention_scores=False
    ):
        """Decoder pass: target ids `(B, Tt)` and the encoder output → logits `(B, Tt, V)`.

        Args:
            target_ids: decoder input ids (start token, then the target so far).
            encoder_output: `encode(source_ids)`.
            source_ids: the source ids, to mask source padding in cross-attention.
            training: enables dropout.
            return_attention_scores: also return each decoder block's attention weights,
                a list of `{"self": (B, H, Tt, Tt), "cross": (B, H, Tt, Ts)}`.

        Returns:
            float32 logits, or `(logits, weights)`.

        Example:
        ```python
        logits = model.decode(np.array([[1]]), memory, np.array([[5, 6, 0]]))
        ```
        """
        target_ids = ops.convert_to_tensor(target_ids)
        source_ids = ops.convert_to_tensor(source_ids)
        t = target_ids.shape[1]
        if isinstance(t, int) and t > self.config.target_max_length:
            raise ValueError(
                f"target length {t} exceeds target_max_length {self.config.target_max_length}; "
                "truncate the target or build the model with a larger target_max_length"
            )
        pad = self.config.pad_id
        source_keep = ops.not_equal(source_ids, pad)[:, None, None, :]  # (B, 1, 1, Ts)
        target_keep = ops.not_equal(target_ids, pad)[:, None, None, :]  # (B, 1, 1, Tt)
        x = self.target_embedding(target_ids)  # (B, Tt, C)
        if self.target_positions is not None:
            x = x + self.target_positions(x)
        x = self.embedding_dropout(x, training=training)
        weights = []
        for block in self.decoder_blocks:
            out = block(
                x,
                encoder_output,
                attention_mask=target_keep,
                cross_attention_mask=source_keep,
                training=training,
                return_attention_scores=return_attention_scores,
            )
            if return_attention_scores:
                out, w = out
                weights.append(w)
            x = out
        x = self.final_norm(x)  # float32
        if self.lm_head is not None:
            logits = self.lm_head(x)
        else:
            table = ops.cast(self.target_embedding.embeddings, "float32")  # (V, C)
            logits = ops.matmul(x, ops.transpose(table))  # (B, Tt, V)
        return (logits, weights) if return_attention_scores else logits

    def call(self, inputs, training=None):
        source_ids, target_ids = _split_inputs(
            inputs, ("encoder_token_ids", "decoder_token_ids")
        )
        if target_ids is None:
            raise ValueError(
                "Seq2SeqTransformer needs source and target ids: pass "
                '{"encoder_token_ids": ..., "decoder_token_ids": ...} or (source, target)'
            )
        source_ids = ops.convert_to_tensor(source_ids)
        memory = self.encode(source_ids, training=training)
        return self.decode(target_ids, memory, source_ids, training=training)
