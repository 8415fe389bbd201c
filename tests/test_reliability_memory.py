"""Memory (issue #12, item 7): an estimate before training, and a warning when it will not fit."""

from __future__ import annotations

import warnings

import pytest

from course_lib import memory
from course_lib.gpt import GPTConfig
from course_lib.memory import (
    InsufficientMemoryWarning,
    check_memory,
    estimate_training_memory,
    format_bytes,
)

TINY = GPTConfig(vocab_size=11, context_length=8, num_layers=2, num_heads=2, width=16)
B, T, C, H, V = 4, 8, 16, 2, 11


def test_tiny_config_by_hand():
    e = estimate_training_memory(TINY, batch_size=B)
    p = TINY.num_parameters()
    assert p == 6896 and e["num_parameters"] == p
    assert e["parameters"] == 4 * p == 27584
    assert e["gradients"] == 4 * p
    assert e["optimizer_state"] == 8 * p  # AdamW: two float32 moments per weight
    assert e["weight_copies"] == 0
    # Per block, float32: 16 (B, T, C) tensors and the (B, H, T, T) attention probabilities.
    assert e["attention_per_layer"] == 4 * B * H * T * T == 2048
    assert e["activations_per_layer"] == 4 * 16 * B * T * C + 2048 == 34816
    # Head: final LayerNorm input and output, float32 logits and cross-entropy probabilities.
    assert e["head"] == 4 * B * T * C * 2 + 2 * 4 * B * T * V == 6912
    assert e["activations"] == 2 * 34816 + 6912 == 76544
    assert e["total"] == 4 * 27584 + 76544 == 186880


def test_mixed_precision_dropout_and_optimizer_change_the_right_parts():
    mixed = estimate_training_memory(TINY, B, mixed_precision="mixed_bfloat16")
    # Weights, gradients and moments stay float32; 16-bit copies of the weights are added.
    assert mixed["parameters"] == 27584 and mixed["weight_copies"] == 2 * 6896
    # 16 (B, T, C) tensors at 2 bytes; the softmax stays float32 and gains a 16-bit copy.
    assert mixed["attention_per_layer"] == (4 + 2) * B * H * T * T == 3072
    assert mixed["activations_per_layer"] == 2 * 16 * B * T * C + 3072 == 19456
    # Final LayerNorm input in 16 bits, its output, the logits and the loss in float32.
    assert mixed["head"] == 2 * B * T * C + 4 * B * T * C + 8 * B * T * V == 5888

    dropout = GPTConfig(**{**TINY.to_dict(), "dropout": 0.1})
    d = estimate_training_memory(dropout, B)
    assert d["activations_per_layer"] == 4 * 18 * B * T * C + (4 + 4) * B * H * T * T
    assert d["head"] == 6912 + 4 * B * T * C

    assert estimate_training_memory(TINY, B, optimizer="sgd")["optimizer_state"] == 0
    assert estimate_training_memory(TINY, B, optimizer="lion")["optimizer_state"] == 4 * 6896


def test_activations_scale_with_batch_and_attention_with_context_squared():
    one = estimate_training_memory(TINY, 1)
    eight = estimate_training_memory(TINY, 8)
    assert eight["activations"] == 8 * one["activations"]
    assert eight["parameters"] == one["parameters"]
    long = GPTConfig(**{**TINY.to_dict(), "context_length": 4 * T})
    assert (
        estimate_training_memory(long, 1)["attention_per_layer"] == 16 * one["attention_per_layer"]
    )


def test_known_configurations_order_of_magnitude():
    cpu = estimate_training_memory(GPTConfig.nanogpt_cpu(65), 12)
    gpu = estimate_training_memory(GPTConfig.nanogpt_gpu(65), 64)
    assert 30 * 2**20 < cpu["total"] < 60 * 2**20  # tens of MiB: any laptop
    assert 3 * 2**30 < gpu["total"] < 6 * 2**30  # a few GiB: a GPU's job
    assert gpu["activations"] > 0.9 * gpu["total"]  # small models: activations dominate


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_size=0), "batch_size must be a positive int"),
        (dict(batch_size=2.0), "batch_size must be a positive int"),
        (dict(batch_size=2, mixed_precision="fp8"), "mixed_precision must be None"),
        (dict(batch_size=2, optimizer="adagrad"), "unknown optimizer 'adagrad'; use one of"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        estimate_training_memory(TINY, **kwargs)


def test_fitting_run_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_memory(TINY, B, available_bytes=10**6)
    assert report["fits"] and report["available"] == 10**6 and report["total"] == 186880


def test_too_big_a_batch_warns_with_a_batch_that_fits():
    # The fixed part is 16·6896 = 110336 bytes (weights, gradients, two moments) and each
    # sequence adds 76544 / 4 = 19136 bytes, so 200_000 bytes fit 4 sequences, not 8.
    with pytest.warns(InsufficientMemoryWarning) as record:
        report = check_memory(TINY, 8, available_bytes=200_000)
    assert not report["fits"]
    message = str(record[0].message)
    assert "with batch_size 8 needs about" in message
    assert "but only 195.31 KiB is available (given)" in message
    assert "Use batch_size <= 4" in message and "COURSE_PROFILE=cpu or smoke" in message
    assert check_memory(TINY, 4, available_bytes=200_000)["fits"]


def test_model_too_big_for_any_batch_says_so():
    with pytest.warns(
        InsufficientMemoryWarning, match="Even batch_size 1 does not fit: use a smaller model"
    ):
        check_memory(TINY, 1, available_bytes=50_000)


def test_huge_config_warns_against_this_machine():
    # GPT-3 175B's shape: about 2.8 TB of weights, gradients and moments alone.
    huge = GPTConfig(
        vocab_size=50257, context_length=2048, num_layers=96, num_heads=96, width=12288
    )
    with pytest.warns(InsufficientMemoryWarning, match=r"needs about [\d.]+ TiB"):
        report = check_memory(huge, 8)
    assert "RAM" in report["available_source"] or "GPU" in report["available_source"]
    assert 0 < report["available"] < report["total"]


def test_available_memory_prefers_the_gpu(monkeypatch):
    monkeypatch.setattr(memory, "_gpu_memory", lambda: (123, "GPU:0 (test)"))
    assert memory.available_memory() == (123, "GPU:0 (test)")
    monkeypatch.setattr(memory, "_gpu_memory", lambda: None)
    free, source = memory.available_memory()
    assert source == "host RAM (available)" and free > 0


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.50 KiB"
    assert format_bytes(3 * 2**30) == "3.00 GiB"
    assert format_bytes(5 * 2**40) == "5.00 TiB"
