"""course_lib.encoder: parameter formulas, masks, bidirectionality, keras-hub equivalence,
serialization and validation."""

import keras
import keras_hub
import numpy as np
import pytest

from course_lib.encoder import (
    EncoderConfig,
    Seq2SeqConfig,
    Seq2SeqTransformer,
    TransformerClassifier,
    TransformerEncoder,
)
from course_lib.generation import sample_batch
from course_lib.layers import TransformerBlock
from course_lib.model_io import load_model

TOL = 1e-5
C, H = 16, 4


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))


@pytest.fixture
def rng():
    keras.utils.set_random_seed(0)
    return np.random.default_rng(0)


def small_config(**kw):
    base = dict(vocab_size=50, max_length=12, num_layers=2, num_heads=H, width=C)
    base.update(kw)
    return EncoderConfig(**base)


@pytest.mark.parametrize("kw", [{}, {"num_segments": 2}, {"position": "sinusoidal"},
                                {"position": "none", "use_bias": False, "mlp_ratio": 2}])
def test_encoder_parameter_formula(rng, kw):
    config = small_config(**kw)
    assert TransformerEncoder(config).count_params() == config.num_parameters()


def test_encoder_parameter_count_by_hand():
    # V·C + L·C + N·(12C² + 13C) + 2C for V=50, L=12, C=16, N=2.
    assert small_config().num_parameters() == 50 * 16 + 12 * 16 + 2 * (12 * 256 + 13 * 16) + 32


def test_encoder_is_bidirectional_and_ignores_padding(rng):
    encoder = TransformerEncoder(small_config())
    ids = np.array([[5, 6, 7, 8, 0, 0]])
    out = np.asarray(encoder(ids))
    changed = ids.copy()
    changed[0, 3] = 9  # change the LAST real token
    assert max_diff(encoder(changed)[0, 0], out[0, 0]) > 1e-3  # position 0 sees the future
    other_pad = np.concatenate([ids[:, :4], np.zeros((1, 5), "int64")], axis=1)
    assert max_diff(encoder(other_pad)[0, :4], out[0, :4]) < TOL  # padding length is invisible
    explicit = encoder({"token_ids": ids, "padding_mask": ids != 0})
    assert max_diff(explicit, out) == 0.0
    no_mask = encoder({"token_ids": ids, "padding_mask": np.ones_like(ids, bool)})
    assert max_diff(no_mask[0, :4], out[0, :4]) > 1e-3  # the mask matters


def test_segments_change_the_output(rng):
    encoder = TransformerEncoder(small_config(num_segments=2))
    ids = np.array([[5, 6, 7, 8]])
    a = encoder({"token_ids": ids, "segment_ids": np.zeros_like(ids)})
    b = encoder({"token_ids": ids, "segment_ids": np.array([[0, 0, 1, 1]])})
    assert max_diff(a, encoder(ids)) == 0.0  # segment 0 is the default
    assert max_diff(a, b) > 1e-3


def test_encoder_block_matches_keras_hub_encoder(rng):
    config = small_config(num_layers=1)
    encoder = TransformerEncoder(config)
    ref = keras_hub.layers.TransformerEncoder(
        intermediate_dim=4 * C, num_heads=H, activation="gelu", layer_norm_epsilon=1e-5,
        normalize_first=True, bias_initializer="random_normal")
    x = rng.normal(size=(2, 6, C)).astype("float32")
    keep = np.array([[1, 1, 1, 1, 0, 0], [1] * 6], bool)
    expected = ref(x, padding_mask=keep)
    block = encoder.blocks[0]
    block.attention.set_weights_from_keras(ref._self_attention_layer)
    block.attention_norm.set_weights(ref._self_attention_layer_norm.get_weights())
    block.mlp_norm.set_weights(ref._feedforward_layer_norm.get_weights())
    block.mlp_in.set_weights(ref._feedforward_intermediate_dense.get_weights())
    block.mlp_out.set_weights(ref._feedforward_output_dense.get_weights())
    got = block(x, attention_mask=keep[:, None, None, :])
    assert max_diff(got, expected) < TOL
    assert max_diff(block(x), expected) > 1e-3


def copy_decoder(block, dec):
    block.attention.set_weights_from_keras(dec._self_attention_layer)
    block.cross_attention.set_weights_from_keras(dec._cross_attention_layer)
    block.attention_norm.set_weights(dec._self_attention_layer_norm.get_weights())
    block.cross_attention_norm.set_weights(dec._cross_attention_layer_norm.get_weights())
    block.mlp_norm.set_weights(dec._feedforward_layer_norm.get_weights())
    block.mlp_in.set_weights(dec._feedforward_intermediate_dense.get_weights())
    block.mlp_out.set_weights(dec._feedforward_output_dense.get_weights())


def test_decoder_block_matches_keras_hub_decoder(rng):
    x = rng.normal(size=(2, 5, C)).astype("float32")
    memory = rng.normal(size=(2, 7, C)).astype("float32")
    target_keep = np.array([[1, 1, 1, 1, 0], [1] * 5], bool)
    source_keep = np.array([[1, 1, 1, 0, 0, 0, 0], [1] * 7], bool)
    dec = keras_hub.layers.TransformerDecoder(
        intermediate_dim=4 * C, num_heads=H, activation="gelu", layer_norm_epsilon=1e-5,
        normalize_first=True, bias_initializer="random_normal")
    expected = dec(x, memory, decoder_padding_mask=target_keep, encoder_padding_mask=source_keep)
    block = TransformerBlock(C, H, cross_attention=True)
    block(x, memory)
    copy_decoder(block, dec)
    got, weights = block(x, memory, attention_mask=target_keep[:, None, None, :],
                         cross_attention_mask=source_keep[:, None, None, :],
                         return_attention_scores=True)
    assert max_diff(got, expected) < TOL
    assert weights["cross"].shape == (2, H, 5, 7) and weights["self"].shape == (2, H, 5, 5)
    cross = np.asarray(weights["cross"])
    assert np.all(cross[0, :, :, 3:] == 0)  # padded source keys get no weight
    assert np.all(np.triu(np.asarray(weights["self"])[1, 0], k=1) == 0)  # causal
    assert max_diff(block(x, memory), expected) > 1e-3  # the masks matter


def test_block_refuses_an_encoder_output_it_cannot_read(rng):
    x = rng.normal(size=(1, 3, C)).astype("float32")
    with pytest.raises(ValueError, match="build it with cross_attention=True"):
        TransformerBlock(C, H)(x, x)
    with pytest.raises(ValueError, match="pass encoder_output"):
        TransformerBlock(C, H, cross_attention=True)(x)
    config = TransformerBlock(C, H, cross_attention=True).get_config()
    assert TransformerBlock.from_config(config).has_cross_attention


def test_seq2seq_parameters_causality_and_decoding(rng):
    config = Seq2SeqConfig(40, 60, 10, 8, num_heads=2, width=C)
    model = Seq2SeqTransformer(config)
    assert model.count_params() == config.num_parameters()
    untied = Seq2SeqConfig(40, 60, 10, 8, num_heads=2, width=C, tie_embeddings=False,
                           position="sinusoidal")
    assert Seq2SeqTransformer(untied).count_params() == untied.num_parameters()
    source = np.array([[5, 6, 7, 0], [8, 9, 10, 11]])
    target = np.array([[1, 12, 13, 14], [1, 15, 16, 17]])
    logits = model({"encoder_token_ids": source, "decoder_token_ids": target})
    assert logits.shape == (2, 4, 60)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert max_diff(model((source, target)), logits) == 0.0
    later = target.copy()
    later[:, 3] = 20  # the last target token cannot change earlier predictions
    assert max_diff(model((source, later))[:, :3], logits[:, :3]) < TOL
    other_source = source.copy()
    other_source[:, 0] = 21  # every target position reads the source
    assert max_diff(model((other_source, target))[:, 0], logits[:, 0]) > 1e-4
    generated = np.array(sample_batch(model, [1], 4, source_ids=source, temperature=0))
    assert generated.shape == (2, 4)
    # Greedy decoding is the argmax of a teacher-forced pass over its own output.
    forced = np.concatenate([np.ones((2, 1), "int32"), generated[:, :-1]], axis=1)
    step_logits = np.asarray(model((source, forced)))
    assert np.array_equal(step_logits.argmax(-1), generated)


def test_greedy_decoding_stops_at_end_id(rng):
    model = Seq2SeqTransformer(Seq2SeqConfig(20, 20, 6, 6, num_heads=2, width=C))
    first = int(np.asarray(model.decode(np.array([[1]]), model.encode(np.array([[3, 4]])),
                                        np.array([[3, 4]])))[0, 0].argmax())
    out = sample_batch(model, [1], 5, source_ids=np.array([[3, 4]]), temperature=0,
                       stop_token=first)
    assert out == [[first]]
    with pytest.raises(ValueError, match="exceeds target_max_length 6"):
        sample_batch(model, [1], 6, source_ids=np.array([[3, 4]]), temperature=0)


@pytest.mark.parametrize("kind", ["encoder", "classifier", "seq2seq"])
def test_models_save_and_load(rng, tmp_path, kind):
    ids = np.array([[5, 6, 7, 0]])
    if kind == "encoder":
        model, x = TransformerEncoder(small_config(num_segments=2, dropout=0.1)), ids
    elif kind == "classifier":
        model, x = TransformerClassifier(small_config(), num_classes=3, pooling="cls"), ids
    else:
        model = Seq2SeqTransformer(Seq2SeqConfig(50, 30, 8, 8, num_heads=2, width=C))
        x = {"encoder_token_ids": ids, "decoder_token_ids": np.array([[1, 2]])}
    path = tmp_path / f"{kind}.keras"
    model.save(path)
    restored = load_model(path)
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()
    assert max_diff(restored(x), model(x)) == 0.0


def test_classifier_pooling(rng):
    config = small_config()
    mean = TransformerClassifier(config, num_classes=2, pooling="mean")
    ids = np.array([[5, 6, 7, 0, 0], [5, 6, 7, 0, 0]])
    assert mean(ids).shape == (2, 2)
    vectors = mean.encoder(ids)
    pooled = np.asarray(mean.pool(vectors, ids != 0))
    assert max_diff(pooled, np.asarray(vectors)[:, :3].mean(1)) < TOL


def test_validation_messages():
    with pytest.raises(ValueError, match="width 30 is not divisible by num_heads 4.*e.g. 32"):
        EncoderConfig(vocab_size=10, max_length=8, width=30)
    with pytest.raises(ValueError, match="position must be one of"):
        EncoderConfig(vocab_size=10, max_length=8, position="rotary")
    with pytest.raises(ValueError, match="pad_id 10 is not a token id"):
        EncoderConfig(vocab_size=10, max_length=8, pad_id=10)
    with pytest.raises(ValueError, match="num_segments must be an int >= 0"):
        EncoderConfig(vocab_size=10, max_length=8, num_segments=-1)
    with pytest.raises(ValueError, match="dropout must be in"):
        Seq2SeqConfig(10, 10, 8, 8, dropout=1.5)
    with pytest.raises(ValueError, match="num_decoder_layers must be a positive int"):
        Seq2SeqConfig(10, 10, 8, 8, num_decoder_layers=0)
    with pytest.raises(ValueError, match="pooling must be"):
        TransformerClassifier(EncoderConfig(10, 8, width=16), num_classes=2, pooling="max")
    encoder = TransformerEncoder(EncoderConfig(10, 4, width=16))
    with pytest.raises(ValueError, match="exceeds max_length 4"):
        encoder(np.ones((1, 5), "int32"))
