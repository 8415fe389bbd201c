"""course_lib.chapters.ch12_tools: the GPT's logits recomputed in a subprocess under a chosen backend."""

import numpy as np
import pytest
from keras import ops

from course_lib.chapters import ch12_tools as backends
from course_lib.gpt import GPT, GPTConfig
from course_lib.reproducibility import seed_everything

CONFIG = GPTConfig(vocab_size=11, context_length=8, num_layers=1, num_heads=2, width=16)


@pytest.fixture(scope="module")
def model_and_ids():
    seed_everything(0)
    model = GPT(CONFIG)
    ids = np.random.default_rng(0).integers(0, CONFIG.vocab_size, size=(2, 8))
    return model, ids


def test_tensorflow_subprocess_reproduces_logits_exactly(model_and_ids):
    model, ids = model_and_ids
    reference = ops.convert_to_numpy(model(ids, training=False))
    result = backends.run_gpt_under_backend("tensorflow", model.config, model, ids)
    assert result.ok, result.message
    assert "tensorflow" in result.message
    assert result.logits.shape == (2, 8, CONFIG.vocab_size)
    assert result.max_abs_diff(reference) == 0.0
    # Control: a model with other weights differs, so equality above is not vacuous.
    seed_everything(1)
    other = ops.convert_to_numpy(GPT(CONFIG)(ids, training=False))
    assert result.max_abs_diff(other) > 1e-3


def test_missing_backend_is_skipped_with_install_hint(model_and_ids, monkeypatch):
    model, ids = model_and_ids
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda name: None)
    result = backends.run_gpt_under_backend("jax", model.config, model, ids)
    assert result.status == "skipped" and not result.ok
    assert "jax is not installed" in result.message and "pip install" in result.message
    assert np.isnan(result.max_abs_diff(np.zeros((2, 8, 11))))
    assert result.describe().strip().startswith("jax: skipped")
    unknown = backends.run_gpt_under_backend("mxnet", model.config, model, ids)
    assert unknown.status == "skipped" and "tensorflow, jax, torch" in unknown.message


def test_weights_round_trip_and_mismatch_message(model_and_ids):
    model, ids = model_and_ids
    weights = backends.export_weights(model)
    assert len(weights) == len(model.weights)
    assert list(weights)[0] == "000:embedding/token_embedding/embeddings"
    seed_everything(2)
    copy = GPT(CONFIG)
    assert not np.allclose(ops.convert_to_numpy(copy(ids)), ops.convert_to_numpy(model(ids)))
    backends.import_weights(copy, weights)
    np.testing.assert_array_equal(ops.convert_to_numpy(copy(ids)), ops.convert_to_numpy(model(ids)))
    wider = GPT(GPTConfig(11, 8, 1, 2, 32))
    with pytest.raises(ValueError, match="configs differ"):
        backends.import_weights(wider, weights)
    deeper = GPT(GPTConfig(11, 8, 2, 2, 16))
    with pytest.raises(ValueError, match="same GPTConfig"):
        backends.import_weights(deeper, weights)
