"""Chapter 13's compute code (course_lib.chapters.ch13_challenges): FLOP counts against a hand
count and the compiled XLA program, memory per parameter against Keras's own variables,
power-law fits against known curves."""

import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.chapters import ch13_challenges as scaling
from course_lib.gpt import GPT, GPTConfig
from course_lib.memory import estimate_training_memory

TINY = GPTConfig(vocab_size=11, context_length=8, num_layers=2, num_heads=2, width=16)


def test_forward_flops_by_hand():
    t, c, v, n = 8, 16, 11, 2
    per_block = 3 * 2 * t * c * c + 2 * t * t * c + 2 * t * t * c + 2 * t * c * c + 16 * t * c * c
    assert per_block == 24 * t * c * c + 4 * t * t * c
    flops = scaling.gpt_forward_flops(TINY)
    assert flops["total"] == n * per_block + 2 * t * c * v == 109_312
    assert flops["block_1/mlp"] == 16 * t * c * c
    assert scaling.gpt_forward_flops(TINY, batch_size=3)["total"] == 3 * flops["total"]
    assert scaling.gpt_forward_flops(TINY, sequence_length=4)["total"] < flops["total"] / 2 + 1
    assert scaling.gpt_training_flops(TINY, 80) == 3 * flops["total"] * 10
    with pytest.raises(ValueError, match="sequence_length"):
        scaling.gpt_forward_flops(TINY, sequence_length=9)


def test_forward_flops_match_the_compiled_program():
    keras.utils.set_random_seed(0)
    model = GPT(TINY)
    ids = np.zeros((2, 8), "int32")
    total, per_op = scaling.hlo_matmul_flops(lambda x: model(x, training=False), ids)
    assert total == scaling.gpt_forward_flops(TINY, batch_size=2)["total"]
    assert len(per_op) == 2 * 8 + 1  # 8 matmuls per block (q, k, v, scores, values, out, 2 MLP)
    # Control: a config with another width gives another count, so the equality is not vacuous.
    other = GPTConfig(11, 8, 2, 2, 32)
    assert scaling.gpt_forward_flops(other, batch_size=2)["total"] != total


def test_hlo_counter_on_plain_matmuls():
    a, b = np.ones((2, 3, 5), "float32"), np.ones((5, 7), "float32")
    assert scaling.hlo_matmul_flops(lambda x, y: tf.matmul(x, y), a, b)[0] == 2 * 2 * 3 * 7 * 5
    assert scaling.hlo_matmul_flops(lambda x: x + 1.0, a)[0] == 0


def test_six_n_d():
    assert scaling.training_flops(1e6, 2e6) == pytest.approx(1.2e13)
    # For a wide model with a short context, 6ND is close to the layer count (embeddings aside).
    wide = GPTConfig(vocab_size=50, context_length=16, num_layers=2, num_heads=4, width=512)
    ratio = scaling.training_flops(scaling.non_embedding_parameters(wide), 16) / (
        scaling.gpt_training_flops(wide, 16))
    assert 0.95 < ratio < 1.0
    with pytest.raises(ValueError):
        scaling.training_flops(-1, 10)


def test_parameter_memory_formula_and_keras_optimizer_state():
    p = TINY.num_parameters()
    fp32 = scaling.parameter_memory(p)
    assert fp32["bytes_per_parameter"] == 16 and fp32["total"] == 16 * p
    assert scaling.parameter_memory(p, "mixed_bfloat16")["total"] == 18 * p
    assert scaling.parameter_memory(p, "bfloat16")["total"] == 8 * p
    assert scaling.parameter_memory(p, optimizer="sgd")["total"] == 8 * p
    # Agrees with course_lib.memory's fixed part...
    est = estimate_training_memory(TINY, 1, mixed_precision="mixed_bfloat16")
    mixed = scaling.parameter_memory(p, "mixed_bfloat16")
    assert est["optimizer_state"] + est["parameters"] + est["gradients"] + est[
        "weight_copies"] == mixed["total"]
    # ...and with the variables Keras's AdamW really allocates (two per weight).
    model = GPT(TINY)
    opt = keras.optimizers.AdamW()
    opt.build(model.trainable_variables)
    slots = sum(int(np.prod(v.shape)) * 4 for v in opt.variables if len(v.shape))
    assert slots == fp32["optimizer_state"]
    with pytest.raises(ValueError, match="precision"):
        scaling.parameter_memory(p, "float8")


def test_power_law_fit_recovers_known_parameters():
    n = np.geomspace(1e4, 1e7, 6)
    pure = scaling.fit_power_law(n, 7.0 * n**-0.12)
    assert pure.a == pytest.approx(7.0) and pure.b == pytest.approx(0.12) and pure.c == 0
    assert pure.r2 == pytest.approx(1.0)
    law = scaling.fit_power_law(n, 20.0 * n**-0.3 + 1.5, offset=True)
    assert law.c == pytest.approx(1.5, abs=1e-3) and law.b == pytest.approx(0.3, abs=1e-3)
    assert law.a == pytest.approx(20.0, rel=1e-2)
    assert law(n) == pytest.approx(20.0 * n**-0.3 + 1.5, rel=1e-4)
    # Control: the pure fit of curved data misses the exponent.
    assert abs(scaling.fit_power_law(n, 20.0 * n**-0.3 + 1.5).b - 0.3) > 0.05
    with pytest.raises(ValueError, match="positive"):
        scaling.fit_power_law([1, 2, 3], [1, 0, 2])


def test_compute_optimal():
    n, d = scaling.compute_optimal(6 * 20 * 4e12)
    assert n == pytest.approx(2e6) and d == pytest.approx(4e7)
    assert scaling.training_flops(n, d) == pytest.approx(6 * 20 * 4e12)


def test_matmul_throughput_is_flops_over_the_fastest_repeat(monkeypatch):
    # A fake clock: three timed repeats of 0.5 s, 0.25 s and 1.0 s; the fastest counts.
    ticks = iter([10.0, 10.5, 20.0, 20.25, 30.0, 31.0])
    monkeypatch.setattr(scaling, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    assert scaling.measure_matmul_flops_per_second(32, repeats=3) == 2 * 32**3 / 0.25 == 262_144.0
    assert next(ticks, "used up") == "used up"  # two clock reads per repeat, none for warm-up
    monkeypatch.undo()
    # On the real clock: any CPU of the last decades does 64x64 matmuls at over 1 MFLOP/s,
    # and none reaches 1 PFLOP/s.
    assert 1e6 < scaling.measure_matmul_flops_per_second(64, repeats=3) < 1e15
