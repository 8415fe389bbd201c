"""course_lib.chapters.ch12_tools: the GPT's logits recomputed in a subprocess under a chosen backend."""

import json

import numpy as np
import pytest
import tensorflow as tf
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


def test_tensorflow_subprocess_reproduces_logits(model_and_ids):
    model, ids = model_and_ids
    reference = ops.convert_to_numpy(model(ids, training=False))
    result = backends.run_gpt_under_backend("tensorflow", model.config, model, ids)
    assert result.ok, result.message
    assert "tensorflow" in result.message
    assert result.logits.shape == (2, 8, CONFIG.vocab_size)
    # oneDNN's CPU kernels may sum in another order in another process: the last bit of a
    # float32 may differ, nothing more.
    assert result.max_abs_diff(reference) < 1e-6
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


def test_max_abs_diff_and_describe_by_hand():
    logits = np.array([[[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]]], dtype=np.float32)  # (1, 2, 3)
    result = backends.BackendResult("jax", "ok", logits=logits, message="Keras on jax", seconds=2.25)
    reference = np.array([[[1.0, 2.5, 3.0], [0.0, -1.0, 2.75]]])
    # |2 - 2.5| = 0.5 and |4 - 2.75| = 1.25: the largest is 1.25.
    assert result.max_abs_diff(reference) == 1.25
    assert result.max_abs_diff(logits) == 0.0
    assert result.describe(reference) == (
        "       jax: ok (Keras on jax, 2.2 s), max |diff| from this process 1.25e+00")
    with pytest.raises(ValueError, match="same token ids"):
        result.max_abs_diff(np.zeros((1, 3, 3)))


def test_worker_computes_the_models_logits_in_this_process(model_and_ids, tmp_path):
    model, ids = model_and_ids
    (tmp_path / "config.json").write_text(json.dumps(model.config.to_dict()))
    np.savez(tmp_path / "weights.npz", **backends.export_weights(model))
    np.save(tmp_path / "token_ids.npy", ids.astype(np.int32))
    backends.backend_worker(tmp_path)
    logits = np.load(tmp_path / "logits.npy")
    np.testing.assert_array_equal(logits, ops.convert_to_numpy(model(ids, training=False)))
    info = json.loads((tmp_path / "info.json").read_text())
    assert info == {"backend": "tensorflow", "version": tf.__version__,
                    "keras": backends.keras.__version__}


def test_child_backend_comes_from_the_argument_not_the_parents_environment(
        model_and_ids, monkeypatch):
    model, ids = model_and_ids
    # The parent's own KERAS_BACKEND names a backend that is not installed; the child must get
    # "tensorflow" in its environment before it imports Keras, or it fails.
    monkeypatch.setenv("KERAS_BACKEND", "jax" if not backends.backend_installed("jax") else "torch")
    result = backends.run_gpt_under_backend("tensorflow", model.config, model, ids)
    assert result.ok, result.message
    assert result.message.endswith(f"on tensorflow {tf.__version__}")
    assert result.max_abs_diff(ops.convert_to_numpy(model(ids, training=False))) < 1e-6
    assert result.seconds > 0


def test_a_crash_in_the_child_is_reported_with_its_last_line(model_and_ids):
    model, ids = model_and_ids
    wider = GPTConfig(11, 8, 1, 2, 32)  # weights of width 16 do not fit a width-32 model
    result = backends.run_gpt_under_backend("tensorflow", wider, model, ids)
    assert result.status == "failed" and not result.ok and result.logits is None
    assert "configs differ" in result.message
    assert np.isnan(result.max_abs_diff(np.zeros((2, 8, 11))))
