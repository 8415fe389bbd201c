"""course_lib.layers against the formula in NumPy and against Keras / KerasHub layers."""

import keras
import keras_hub
import numpy as np
import pytest

from course_lib.layers import (
    MultiHeadAttention,
    PositionEmbedding,
    SinusoidalPositionEncoding,
    TokenAndPositionEmbedding,
    TransformerBlock,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)

TOL = 1e-5
B, T, C, H = 2, 7, 16, 4
D = C // H


def max_diff(a, b):
    diff = float(np.max(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))
    print(f"max |diff| = {diff:.3g}")  # visible with pytest -s
    return diff


@pytest.fixture
def rng():
    keras.utils.set_random_seed(0)
    return np.random.default_rng(0)


def numpy_attention(q, k, v, mask=None):
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        logits = np.where(mask, logits, -np.inf)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return weights @ v, weights


def test_scaled_dot_product_attention_matches_numpy(rng):
    q, k, v = (rng.normal(size=(B, H, T, D)).astype("float32") for _ in range(3))
    mask = np.tril(np.ones((T, T), bool))
    expected_out, expected_weights = numpy_attention(q, k, v, mask)
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    assert max_diff(out, expected_out) < TOL
    assert max_diff(weights, expected_weights) < TOL
    # A wrong (all-True) mask must give a visibly different answer.
    wrong, _ = scaled_dot_product_attention(q, k, v, mask=np.ones((T, T), bool))
    assert max_diff(wrong, expected_out) > 1e-2


def test_scaled_dot_product_attention_cross_lengths_and_value_dim(rng):
    q = rng.normal(size=(B, 3, D)).astype("float32")
    k = rng.normal(size=(B, 5, D)).astype("float32")
    v = rng.normal(size=(B, 5, 6)).astype("float32")
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == (B, 3, 6) and weights.shape == (B, 3, 5)
    assert max_diff(out, numpy_attention(q, k, v)[0]) < TOL


def test_attention_softmax_runs_in_float32_under_bfloat16(rng):
    q, k, v = (keras.ops.cast(rng.normal(size=(1, 2, 5, 8)), "bfloat16") for _ in range(3))
    out, weights = scaled_dot_product_attention(q, k, v, mask=causal_mask(5))
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    sums = keras.ops.convert_to_numpy(keras.ops.sum(keras.ops.cast(weights, "float32"), -1))
    assert np.allclose(sums, 1.0, atol=1e-2)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(keras.ops.cast(out, "float32"))))


def test_masks():
    expected = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    np.testing.assert_array_equal(causal_mask(2, 4), expected)
    np.testing.assert_array_equal(causal_mask(3), np.tril(np.ones((3, 3), bool)))
    np.testing.assert_array_equal(causal_mask(1, 4, start_index=1), [[1, 1, 0, 0]])
    mask = padding_mask(np.array([[5, 6, 0], [0, 1, 2]]), pad_id=0)
    assert mask.shape == (2, 1, 1, 3)
    np.testing.assert_array_equal(np.asarray(mask)[:, 0, 0], [[1, 1, 0], [0, 1, 1]])


def build_pair(x):
    ref = keras.layers.MultiHeadAttention(num_heads=H, key_dim=D)
    ref(x, x)
    ours = MultiHeadAttention(num_heads=H, key_dim=D)
    ours(x)
    ours.set_weights_from_keras(ref)
    return ours, ref


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_matches_keras(rng, causal):
    x = rng.normal(size=(B, T, C)).astype("float32")
    ours, ref = build_pair(x)
    expected = ref(x, x, use_causal_mask=causal)
    assert max_diff(ours(x, use_causal_mask=causal), expected) < TOL
    assert max_diff(ours(x, use_causal_mask=not causal), expected) > 1e-3


def test_multi_head_attention_padding_mask_matches_keras(rng):
    x = rng.normal(size=(B, T, C)).astype("float32")
    ids = np.array([[3, 4, 5, 6, 7, 0, 0], [3, 4, 5, 6, 7, 8, 9]])
    ours, ref = build_pair(x)
    keys_mask = ids != 0  # (B, T)
    expected = ref(x, x, attention_mask=keys_mask[:, None, :], use_causal_mask=True)
    got = ours(x, attention_mask=padding_mask(ids, 0), use_causal_mask=True)
    assert max_diff(got, expected) < TOL
    # The (B, Tq, Tk) layout of keras.layers.MultiHeadAttention is accepted too.
    full = np.broadcast_to(keys_mask[:, None, :], (B, T, T))
    assert max_diff(ours(x, attention_mask=full, use_causal_mask=True), expected) < TOL
    assert max_diff(ours(x, use_causal_mask=True)[0], expected[0]) > 1e-3  # mask matters


def test_multi_head_attention_copies_weights_to_keras(rng):
    x = rng.normal(size=(B, T, C)).astype("float32")
    ours = MultiHeadAttention(num_heads=H, key_dim=D)
    ours(x)
    ref = keras.layers.MultiHeadAttention(num_heads=H, key_dim=D)
    ref(x, x)
    assert max_diff(ours(x), ref(x, x)) > 1e-3  # independent initialisations
    ours.copy_weights_to_keras(ref)
    assert max_diff(ours(x), ref(x, x)) < TOL


def test_cached_attention_equals_uncached_position_by_position(rng):
    x = rng.normal(size=(B, T, C)).astype("float32")
    mha = MultiHeadAttention(num_heads=H, key_dim=D)
    full = np.asarray(mha(x, use_causal_mask=True))
    t_max = T + 2  # spare slots at the end must stay invisible
    cache = np.zeros((B, 2, H, t_max, D), "float32")
    out, cache = mha(x[:, :3], use_causal_mask=True, cache=cache, cache_index=0)  # prefill
    assert max_diff(out, full[:, :3]) < TOL
    for t in range(3, T):
        out, cache = mha(x[:, t : t + 1], use_causal_mask=True, cache=cache, cache_index=t)
        assert max_diff(out[:, 0], full[:, t]) < TOL
    # Stale values in slots beyond the current position must not leak in.
    stale = np.asarray(cache).copy()
    stale[:, :, :, 5:] = 100.0
    out, _ = mha(x[:, 4:5], use_causal_mask=True, cache=stale, cache_index=4)
    assert max_diff(out[:, 0], full[:, 4]) < TOL
    with pytest.raises(ValueError, match="cache_index"):
        mha(x[:, :1], cache=stale)


def test_token_and_position_embedding_matches_keras_hub(rng):
    ids = rng.integers(0, 11, size=(B, 5))
    ref = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size=11, sequence_length=8, embedding_dim=C
    )
    ref(ids)
    ours = TokenAndPositionEmbedding(vocab_size=11, max_length=8, width=C)
    ours(ids)
    ours.token_embedding.embeddings.assign(ref.token_embedding.embeddings)
    ours.position_embedding.embeddings.assign(ref.position_embedding.position_embeddings)
    assert max_diff(ours(ids), ref(ids)) < TOL
    assert max_diff(ours(ids, start_index=3), ref(ids, start_index=3)) < TOL
    assert max_diff(ours(ids, start_index=3), ref(ids)) > 1e-3
    with pytest.raises(ValueError, match="exceed max_length 8"):
        ours(ids, start_index=4)


def numpy_sinusoid(t, c, start=0, wavelength=10000.0):
    pos = np.arange(start, start + t)[:, None]
    i = np.arange(c)[None, :]
    angle = pos / wavelength ** (2 * (i // 2) / c)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle))


def test_sinusoidal_position_encoding_matches_keras_hub_and_formula():
    x = np.zeros((B, 50, C), "float32")
    ours = SinusoidalPositionEncoding()
    # KerasHub 0.32 names this layer SinePositionEncoding; same interleaved sin/cos convention.
    ref = keras_hub.layers.SinePositionEncoding()
    assert max_diff(ours(x), ref(x)) < TOL
    assert max_diff(ours(x, start_index=7), ref(x, start_index=7)) < TOL
    assert max_diff(ours(x)[0], numpy_sinusoid(50, C)) < TOL
    assert max_diff(ours(x, start_index=7)[0], numpy_sinusoid(50, C, start=7)) < TOL
    swapped = numpy_sinusoid(50, C)[:, np.r_[0:C:2, 1:C:2]]  # the [sin | cos] layout
    assert max_diff(ours(x)[0], swapped) > 1e-1


def copy_decoder_weights(block, decoder):
    block.attention.set_weights_from_keras(decoder._self_attention_layer)
    block.attention_norm.set_weights(decoder._self_attention_layer_norm.get_weights())
    block.mlp_norm.set_weights(decoder._feedforward_layer_norm.get_weights())
    block.mlp_in.set_weights(decoder._feedforward_intermediate_dense.get_weights())
    block.mlp_out.set_weights(decoder._feedforward_output_dense.get_weights())


def test_transformer_block_matches_keras_hub_decoder(rng):
    x = rng.normal(size=(B, T, C)).astype("float32")
    decoder = keras_hub.layers.TransformerDecoder(
        intermediate_dim=4 * C,
        num_heads=H,
        activation="gelu",
        layer_norm_epsilon=1e-5,
        normalize_first=True,
        bias_initializer="random_normal",  # non-zero biases, so a missed copy shows
    )
    expected = decoder(x)  # causal by default, no cross-attention
    block = TransformerBlock(width=C, num_heads=H)
    block(x)
    copy_decoder_weights(block, decoder)
    assert max_diff(block(x), expected) < TOL
    assert max_diff(decoder(x, use_causal_mask=False), expected) > 1e-3  # causality matters


def test_transformer_block_cache_matches_uncached(rng):
    x = rng.normal(size=(B, T, C)).astype("float32")
    block = TransformerBlock(width=C, num_heads=H)
    full = np.asarray(block(x))
    cache = np.zeros((B, 2, H, T, D), "float32")
    out, cache = block(x[:, :4], cache=cache, cache_index=0)
    assert max_diff(out, full[:, :4]) < TOL
    for t in range(4, T):
        out, cache = block(x[:, t : t + 1], cache=cache, cache_index=t)
        assert max_diff(out[:, 0], full[:, t]) < TOL


def test_config_validation_messages():
    with pytest.raises(ValueError, match="width 130 is not divisible by num_heads 4.*e.g. 128"):
        TransformerBlock(width=130, num_heads=4)
    with pytest.raises(ValueError, match="num_heads must be a positive int"):
        MultiHeadAttention(num_heads=0, key_dim=4)
    with pytest.raises(ValueError, match="dropout must be in"):
        MultiHeadAttention(num_heads=2, key_dim=4, dropout=1.0)


@pytest.mark.parametrize(
    "make, inputs",
    [
        (lambda: MultiHeadAttention(H, D, dropout=0.1, use_bias=False), "x"),
        (lambda: PositionEmbedding(8, C), "x"),
        (lambda: SinusoidalPositionEncoding(max_wavelength=500), "x"),
        (lambda: TokenAndPositionEmbedding(11, 8, C), "ids"),
        (lambda: TransformerBlock(C, H, mlp_ratio=2, use_bias=False), "x"),
    ],
)
def test_layers_serialize(rng, make, inputs):
    x = rng.normal(size=(B, 5, C)).astype("float32")
    ids = rng.integers(0, 11, size=(B, 5))
    data = {"x": x, "ids": ids}[inputs]
    layer = make()
    out = layer(data)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert restored.get_config() == layer.get_config()
    restored(data)
    restored.set_weights(layer.get_weights())
    assert max_diff(restored(data), out) == 0.0
