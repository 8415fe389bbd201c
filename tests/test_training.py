"""Tests of course_lib.training: schedule, optimizer, trainer, checkpoints and resume."""

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from course_lib.gpt import GPT, GPTConfig
from course_lib.training import (
    CheckpointManager,
    LMBatches,
    NonFiniteLossError,
    TrainConfig,
    Trainer,
    WarmupCosineSchedule,
    history_table,
    make_optimizer,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(vocab_size=11, context_length=8, num_layers=2, num_heads=2, width=16)


def nanogpt_lr(it, lr=1e-3, min_lr=1e-4, warmup=100, decay=2000):
    # nanoGPT train.py get_lr, verbatim logic.
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay:
        return min_lr
    ratio = (it - warmup) / (decay - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


@pytest.mark.parametrize("step", [0, 1, 50, 99, 100, 101, 777, 1999, 2000, 2500])
def test_schedule_matches_nanogpt(step):
    sched = WarmupCosineSchedule(1e-3, 1e-4, 100, 2000)
    assert float(sched(step)) == pytest.approx(nanogpt_lr(step), rel=1e-5)


def test_schedule_round_trips_config():
    sched = WarmupCosineSchedule(3e-4, 3e-5, 10, 50)
    again = WarmupCosineSchedule.from_config(sched.get_config())
    assert float(again(25)) == pytest.approx(float(sched(25)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(max_steps=10, warmup_steps=10), "warmup_steps"),
        (dict(max_steps=0), "max_steps"),
        (dict(learning_rate=1e-4, min_learning_rate=1e-3), "min_learning_rate"),
        (dict(mixed_precision="float8"), "mixed_precision"),
        (dict(jit_compile="sometimes"), "jit_compile"),
    ],
)
def test_train_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def _tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    return GPT(GPTConfig(**TINY))


def _periodic_tokens(n=3000):
    # A sequence a model can learn in a few steps: 0 1 2 ... 10 0 1 2 ...
    return np.arange(n, dtype=np.int32) % 11


def test_weight_decay_only_on_matrices():
    model = _tiny_model()
    model(np.zeros((1, 8), dtype="int32"))
    opt = make_optimizer(model, TrainConfig(max_steps=10, warmup_steps=1))
    decayed = [v for v in model.trainable_variables if opt._use_weight_decay(v)]
    assert decayed and {v.name for v in decayed} == {"kernel", "embeddings"}
    kept = {v.name for v in model.trainable_variables if not opt._use_weight_decay(v)}
    assert kept == {"bias", "gamma", "beta"}


class Interrupt(Exception):
    pass


def _fit(model, steps, tmp=None, eval_interval=2, interrupt_at=None, **cfg):
    cfg.setdefault("jit_compile", False)  # XLA compiles cost seconds; one test covers them
    config = TrainConfig(max_steps=steps, eval_interval=eval_interval, eval_batches=2,
                         warmup_steps=1, learning_rate=1e-2, min_learning_rate=1e-3,
                         verbose=0, **cfg)
    trainer = Trainer(model, config, checkpoint_dir=tmp)
    tokens = _periodic_tokens()
    losses = []
    trainer_on_step = trainer._train_steps

    def record(loss, seconds):
        if interrupt_at is not None and trainer.step + 1 == interrupt_at:
            raise Interrupt  # as if the process were killed before this step finished
        losses.append(loss)
        on_step(loss, seconds)

    def spy(data, start, count, on_step_):
        nonlocal on_step
        on_step = on_step_
        return trainer_on_step(data, start, count, record)

    on_step = None

    trainer._train_steps = spy
    history = trainer.fit(LMBatches(tokens, 8, 4, seed=3), LMBatches(tokens, 8, 4, seed=4))
    return trainer, history, losses


def test_trainer_learns_and_keeps_history():
    trainer, history, losses = _fit(_tiny_model(), 30, eval_interval=10, jit_compile=True)
    assert [r["step"] for r in history] == [10, 20, 30]
    assert losses[0] == pytest.approx(math.log(11), abs=0.3)  # a fresh model is ~uniform
    assert history[-1]["val_loss"] < 0.5 * losses[0]
    assert history[-1]["lr"] == pytest.approx(1e-3, rel=1e-3)  # decayed to the floor
    assert "val_loss" in history_table(history)
    assert trainer.median_step_seconds() > 0


def test_resume_equals_uninterrupted_run(tmp_path):
    _, _, full = _fit(_tiny_model(seed=5), 8, eval_interval=2)
    with pytest.raises(Interrupt):
        _fit(_tiny_model(seed=5), 8, tmp=tmp_path, eval_interval=2, interrupt_at=6)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["step"] == 4 and (tmp_path / state["checkpoint"]).exists()
    # A new process would build a fresh model (with other random weights) and resume.
    trainer, history, second = _fit(_tiny_model(seed=99), 8, tmp=tmp_path, eval_interval=2)
    assert trainer.step == 8 and len(second) == 4
    np.testing.assert_allclose(second, full[4:], rtol=1e-5, atol=1e-6)
    assert [r["step"] for r in history] == [2, 4, 6, 8]


def test_checkpoint_save_is_atomic(tmp_path, monkeypatch):
    model = _tiny_model()
    _fit(model, 2, tmp=tmp_path, eval_interval=2)
    before = (tmp_path / "state.json").read_text()
    manager = CheckpointManager(tmp_path)

    def broken_save(path, *a, **k):
        Path(path).write_bytes(b"half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        manager.save(model, 4, {"history": []})
    assert (tmp_path / "state.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-000002.keras", "state.json"]


def test_damaged_checkpoint_gives_clear_error(tmp_path):
    _fit(_tiny_model(), 2, tmp=tmp_path, eval_interval=2)
    (tmp_path / "ckpt-000002.keras").write_bytes(b"not a keras file")
    with pytest.raises(RuntimeError, match="delete the folder to start over"):
        _fit(_tiny_model(), 4, tmp=tmp_path, eval_interval=2)


def test_non_finite_loss_names_the_step():
    inputs = keras.Input((8,), dtype="int32")
    logits = keras.layers.Dense(11)(keras.layers.Embedding(11, 4)(inputs))
    nan_logits = keras.layers.Lambda(lambda t: t * float("nan"))(logits)
    model = keras.Model(inputs, nan_logits)
    with pytest.raises(NonFiniteLossError, match="at step 1"):
        _fit(model, 4)


def test_mixed_precision_trains_with_float32_logits():
    try:
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
        model = _tiny_model()
        _, history, losses = _fit(model, 6, mixed_precision="mixed_bfloat16")
        assert model(np.zeros((1, 8), "int32")).dtype == "float32"
        assert all(np.isfinite(losses)) and history[-1]["val_loss"] < losses[0]
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


DISTRIBUTED = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from course_lib.gpt import GPT, GPTConfig
    from course_lib.training import LMBatches, TrainConfig, Trainer
    tokens = np.arange(3000, dtype=np.int32) % 11
    # No clipping: Keras clips each replica's share of the gradient before the all-reduce,
    # which is looser than clipping the whole gradient on one device.
    config = TrainConfig(max_steps=4, eval_interval=2, eval_batches=1, warmup_steps=1,
                         learning_rate=1e-3, min_learning_rate=1e-4, grad_clip=0.0, verbose=0)
    out = {}
    for name in ("single", "mirrored"):
        keras.utils.set_random_seed(0)
        strategy = (tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]) if name == "mirrored"
                    else tf.distribute.get_strategy())
        with strategy.scope():
            model = GPT(GPTConfig(vocab_size=11, context_length=8, num_layers=1,
                                  num_heads=2, width=16))
            model(np.zeros((1, 8), "int32"))
            history = Trainer(model, config).fit(LMBatches(tokens, 8, 4),
                                                 LMBatches(tokens, 8, 4, seed=1))
        out[name] = [[h["train_loss"] for h in history] + [history[-1]["val_loss"]],
                     strategy.num_replicas_in_sync]
    print(json.dumps(out))
    """
)


def test_mirrored_strategy_on_two_logical_cpus_matches_one_device():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["mirrored"][1] == 2 and out["single"][1] == 1
    np.testing.assert_allclose(out["mirrored"][0], out["single"][0], rtol=2e-4)


def test_out_of_range_token_ids_are_refused_before_training():
    from course_lib.model_io import VocabularyMismatchError

    tokens = np.arange(3000, dtype=np.int32) % 12  # id 11 has no row in an 11-token model
    trainer = Trainer(_tiny_model(), TrainConfig(max_steps=2, warmup_steps=1, verbose=0))
    with pytest.raises(VocabularyMismatchError, match="vocab_size is 11"):
        trainer.fit(LMBatches(tokens, 8, 4))


def test_only_dead_writers_temporary_files_are_removed(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead, alive = int(gone.stdout), os.getppid()  # a finished process; pytest's parent
    (tmp_path / f".ckpt-000004.keras.{dead}.ab12_x.keras").write_bytes(b"half")
    (tmp_path / f".state.json.{dead}.q9z8.tmp").write_text("{")
    live = [tmp_path / f".ckpt-000006.keras.{alive}.k3j2.keras",
            tmp_path / f".state.json.{alive}.u7v6.tmp"]
    for path in live:  # another trainer, still saving into the same folder
        path.write_text("in progress")
    (tmp_path / ".notes").write_text("not ours")
    CheckpointManager(tmp_path)
    assert sorted(tmp_path.iterdir()) == sorted(live + [tmp_path / ".notes"])


@pytest.mark.parametrize("name", ["../outside.keras", "/etc/passwd", "ckpt-1.keras", 7, None])
def test_state_naming_anything_but_a_checkpoint_file_is_refused(tmp_path, name):
    (tmp_path / "state.json").write_text(json.dumps({"step": 2, "checkpoint": name}))
    with pytest.raises(RuntimeError, match="not a checkpoint file of this folder"):
        CheckpointManager(tmp_path).latest()
