"""course_lib.gpt: configuration, shapes, parameter count, causality, saving, mixed precision,
and the key/value-cached forward."""

import math

import keras
import numpy as np
import pytest

from course_lib.gpt import GPT, GPTConfig, decay_variable_names, no_decay_variables
from course_lib.model_io import load_model

TINY = dict(vocab_size=11, context_length=8, num_layers=2, num_heads=2, width=16)


def max_diff(a, b):
    diff = float(np.max(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))
    print(f"max |diff| = {diff:.3g}")  # visible with pytest -s
    return diff


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return GPT(GPTConfig(**TINY))


@pytest.fixture
def ids():
    return np.random.default_rng(0).integers(0, TINY["vocab_size"], size=(3, 8)).astype("int32")


def test_logits_shape_and_dtype(model, ids):
    logits = model(ids)
    assert tuple(logits.shape) == (3, 8, 11)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert tuple(model(ids[:, :5]).shape) == (3, 5, 11)  # shorter than the context is fine


@pytest.mark.parametrize(
    "overrides", [{}, {"use_bias": False}, {"tie_embeddings": False}, {"num_layers": 3}]
)
def test_parameter_count_formula(overrides):
    config = GPTConfig(**{**TINY, **overrides})
    assert GPT(config).count_params() == config.num_parameters()


def test_presets():
    cpu, gpu = GPTConfig.nanogpt_cpu(65), GPTConfig.nanogpt_gpu(65)
    assert (cpu.context_length, cpu.num_layers, cpu.num_heads, cpu.width, cpu.dropout) == (
        64,
        4,
        4,
        128,
        0.0,
    )
    assert (gpu.context_length, gpu.num_layers, gpu.num_heads, gpu.width, gpu.dropout) == (
        256,
        6,
        6,
        384,
        0.2,
    )
    assert GPTConfig.from_dict(gpu.to_dict()) == gpu


def test_config_validation_messages():
    bad = {**TINY, "width": 130, "num_heads": 4}
    with pytest.raises(
        ValueError,
        match="width 130 is not divisible by num_heads 4; choose a width that is a multiple "
        "of 4, e.g. 128",
    ):
        GPTConfig(**bad)
    with pytest.raises(ValueError, match="num_layers must be a positive int, got 0"):
        GPTConfig(**{**TINY, "num_layers": 0})
    with pytest.raises(ValueError, match="vocab_size must be a positive int"):
        GPTConfig(**{**TINY, "vocab_size": 11.0})
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        GPTConfig(**{**TINY, "dropout": 1.0})


def test_too_long_input_raises(model):
    with pytest.raises(
        ValueError,
        match="sequence length 9 exceeds the model's context_length 8; "
        "crop the input to the last 8 tokens",
    ):
        model(np.zeros((1, 9), "int32"))


def test_causality(model, ids):
    logits = np.asarray(model(ids))
    for t in range(7):
        changed = ids.copy()
        changed[:, t + 1] = (changed[:, t + 1] + 1) % TINY["vocab_size"]
        new = np.asarray(model(changed))
        assert max_diff(new[:, : t + 1], logits[:, : t + 1]) == 0.0
        assert max_diff(new[:, t + 1], logits[:, t + 1]) > 0.0


def test_initial_loss_is_log_vocab(model, ids):
    targets = np.roll(ids, -1, axis=1)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(targets, model(ids))
    assert abs(float(loss) - math.log(TINY["vocab_size"])) < 0.1


def test_nanogpt_initialisation():
    keras.utils.set_random_seed(1)
    model = GPT(GPTConfig(vocab_size=500, context_length=64, num_layers=2, num_heads=4, width=64))
    block = model.blocks[0]
    assert np.std(np.asarray(model.embedding.token_embedding.embeddings)) == pytest.approx(
        0.02, rel=0.05
    )
    assert np.std(np.asarray(block.mlp_in.kernel)) == pytest.approx(0.02, rel=0.05)
    residual_std = 0.02 / math.sqrt(2 * 2)
    assert np.std(np.asarray(block.mlp_out.kernel)) == pytest.approx(residual_std, rel=0.05)
    assert np.std(np.asarray(block.attention.output_dense.kernel)) == pytest.approx(
        residual_std, rel=0.1
    )
    assert not np.any(np.asarray(block.mlp_in.bias))
    # Each layer draws its own weights (unseeded initializers must not be shared).
    assert max_diff(model.blocks[0].mlp_in.kernel, model.blocks[1].mlp_in.kernel) > 1e-3


def test_save_and_load_keras_file(model, ids, tmp_path):
    path = tmp_path / "gpt.keras"
    model.save(path)
    restored = load_model(path)
    assert isinstance(restored, GPT)
    assert restored.config == model.config
    assert max_diff(restored(ids), model(ids)) == 0.0
    assert GPT.from_config(model.get_config()).config == model.config


def test_mixed_precision_keeps_float32_logits(ids):
    previous = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy("mixed_bfloat16")
        model = GPT(GPTConfig(**TINY))
        assert model.blocks[0].compute_dtype == "bfloat16"
        logits = model(ids)
        assert keras.backend.standardize_dtype(logits.dtype) == "float32"
        assert np.all(np.isfinite(np.asarray(logits)))
        cached, _ = model.call_with_cache(ids, model.init_cache(3), 0)
        assert keras.backend.standardize_dtype(cached.dtype) == "float32"
    finally:
        keras.config.set_dtype_policy(previous)


def test_cached_forward_equals_uncached(model, ids):
    full = np.asarray(model(ids))
    cache = model.init_cache(batch_size=3)
    assert tuple(cache.shape) == (2, 3, 2, 2, 8, 8)  # (N, B, 2, H, T_max, D)
    logits, cache = model.call_with_cache(ids[:, :3], cache, 0)  # prefill
    assert max_diff(logits, full[:, :3]) < 1e-5
    for t in range(3, 8):
        logits, cache = model.call_with_cache(ids[:, t : t + 1], cache, t)
        assert max_diff(logits[:, 0], full[:, t]) < 1e-5
    with pytest.raises(ValueError, match="exceed the model's context_length 8"):
        model.call_with_cache(ids[:, :2], cache, 7)
    with pytest.raises(ValueError, match="max_length 9"):
        model.init_cache(1, 9)


def test_weight_decay_exclusion(model):
    excluded = no_decay_variables(model)
    assert {v.name for v in excluded} == {"bias", "gamma", "beta"}
    excluded_paths = {v.path for v in excluded}
    decayed = [v for v in model.trainable_variables if v.path not in excluded_paths]
    assert {v.name for v in decayed} == {"kernel", "embeddings"}
    assert len(decayed) + len(excluded) == len(model.trainable_variables)
    assert decay_variable_names(model) == ["beta", "bias", "gamma"]
    optimizer = keras.optimizers.AdamW(weight_decay=0.1)
    optimizer.exclude_from_weight_decay(var_names=decay_variable_names(model))
    uses_decay = {v.path: optimizer._use_weight_decay(v) for v in model.trainable_variables}
    assert uses_decay == {
        v.path: v.name in ("kernel", "embeddings") for v in model.trainable_variables
    }


def test_chapter_05_gpt_equals_the_library_gpt_with_copied_weights():
    from course_lib.chapters.ch05_transformer import MiniGPT, copy_weights_from

    keras.utils.set_random_seed(3)
    config = GPTConfig(vocab_size=13, context_length=8, num_layers=2, num_heads=2, width=16)
    library = GPT(config)
    tokens = np.random.default_rng(0).integers(0, 13, size=(2, 8))
    mini = MiniGPT(13, 8, 2, 2, 16)
    mini(tokens)
    assert mini.count_params() == library.count_params() == config.num_parameters()
    before = np.abs(np.asarray(mini(tokens)) - np.asarray(library(tokens))).max()
    copy_weights_from(mini, library)
    after = np.abs(np.asarray(mini(tokens)) - np.asarray(library(tokens))).max()
    assert before > 1e-2 and after < 1e-5
    # The mask is what makes it causal: the last token changes no earlier logit.
    changed = tokens.copy()
    changed[:, -1] = (changed[:, -1] + 1) % 13
    assert np.abs(np.asarray(mini(changed))[:, :-1] - np.asarray(mini(tokens))[:, :-1]).max() == 0


def test_hidden_states_are_what_the_tied_head_reads(model, ids):
    h = keras.ops.convert_to_numpy(model.hidden_states(ids))  # (B, T, C)
    assert h.shape == (*ids.shape, model.config.width) and h.dtype == np.float32
    table = keras.ops.convert_to_numpy(model.embedding.token_embedding.embeddings)
    np.testing.assert_allclose(h @ table.T, keras.ops.convert_to_numpy(model(ids)), atol=1e-5)
    # Causal: changing the last token leaves every earlier position's state unchanged.
    changed = np.array(ids)
    changed[:, -1] = (changed[:, -1] + 1) % model.config.vocab_size
    h2 = keras.ops.convert_to_numpy(model.hidden_states(changed))
    np.testing.assert_allclose(h2[:, :-1], h[:, :-1], atol=1e-6)
    assert not np.allclose(h2[:, -1], h[:, -1])
