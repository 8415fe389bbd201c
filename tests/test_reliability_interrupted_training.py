"""Interrupted training loses nothing (issue #12, item 4), with a real process and SIGKILL.

A training process is killed with SIGKILL, if possible while it is writing a checkpoint (the
worst moment). Then: no half-written file carries a checkpoint's final name, ``state.json``
parses and names a complete checkpoint, and a second process resumes from it and reaches the
same losses as an uninterrupted run with the same seed. ``tests/test_training.py`` checks the
same logic inside one process; this test checks it against a real kill.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
STEPS = 10  # the killed run would go this far; the resumed and reference runs do

# argv: mode, checkpoint dir, seconds to sleep per batch, steps, a file to wait for.
# mode "victim": train with checkpoints (slowly, to be killed). mode "resume": first train an
# uninterrupted reference run without checkpoints (while the victim runs), then wait for the
# go file and resume from the victim's checkpoints. One process for both saves a TensorFlow
# start-up; the reference cannot leak into the resume, which restores weights, optimizer state
# and step, and draws its batches as a function of the step.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    import numpy as np
    from course_lib.gpt import GPT, GPTConfig
    from course_lib.reproducibility import seed_everything
    from course_lib.training import CheckpointManager, LMBatches, TrainConfig, Trainer

    mode, ckpt_dir, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    STEPS, go_file = int(sys.argv[4]), sys.argv[5]


    class Slow:
        # The same batches as LMBatches, handed out slowly so the test can kill mid-run.
        def __init__(self, inner):
            self.inner, self.tokens_per_step = inner, inner.tokens_per_step

        def __call__(self, start_step, num_steps):
            for batch in self.inner(start_step=start_step, num_steps=num_steps):
                time.sleep(delay)
                yield batch


    def run(checkpoint_dir):
        seed_everything(7)
        tokens = np.random.default_rng(0).integers(0, 13, 4000)
        model = GPT(GPTConfig(vocab_size=13, context_length=16, num_layers=1, num_heads=2,
                              width=32))
        # eval_interval=1 without validation data logs every step's own loss in the history,
        # which the checkpoint's state.json carries across the restart.
        config = TrainConfig(max_steps=STEPS, learning_rate=1e-2, min_learning_rate=1e-3,
                             warmup_steps=2, eval_interval=1, checkpoint_interval=2,
                             keep_checkpoints=2, jit_compile=False, verbose=0)
        trainer = Trainer(model, config, checkpoint_dir=checkpoint_dir)
        data = LMBatches(tokens, 16, 4, seed=3)
        history = trainer.fit(Slow(data) if delay else data)
        return [row["train_loss"] for row in history]


    if mode == "victim":
        run(ckpt_dir)
    else:
        reference = run(None)
        while not os.path.exists(go_file):
            time.sleep(0.05)
        state = CheckpointManager(ckpt_dir).latest()
        print(json.dumps({"reference": reference, "resumed_from": state and state["step"],
                          "resumed": run(ckpt_dir)}))
    """
)


def _start(mode, ckpt_dir, delay, go_file=""):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, mode, str(ckpt_dir), str(delay), str(STEPS), go_file],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc, timeout=180):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _saved_step(ckpt_dir: Path) -> int:
    try:
        return json.loads((ckpt_dir / "state.json").read_text())["step"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def _kill_mid_run(proc, ckpt_dir: Path, deadline_s=90.0) -> bool:
    """Waits for a checkpoint at step >= 4, then kills; returns True if killed mid-save."""
    start = time.monotonic()
    while _saved_step(ckpt_dir) < 4:
        assert proc.poll() is None, "the training process ended early: " + proc.stderr.read()
        assert time.monotonic() - start < deadline_s, "no checkpoint at step >= 4 in time"
        time.sleep(0.02)
    # Try to land the kill while the next checkpoint is being written (its temporary file
    # exists); after the one after that, kill anyway.
    mid_save = False
    while _saved_step(ckpt_dir) < 8 and proc.poll() is None:
        if any(p.name.startswith(".ckpt-") for p in ckpt_dir.iterdir()):
            mid_save = True
            break
        time.sleep(0.002)
    assert proc.poll() is None, "the training process finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return mid_save


@pytest.fixture
def processes():
    """Started processes; any still running at teardown (a failed test) are killed."""
    started = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_sigkilled_training_resumes_to_the_same_losses(tmp_path, processes):
    ckpt_dir = tmp_path / "ckpt"
    go = tmp_path / "go"
    # Both processes start at once and import TensorFlow side by side.
    victim = _start("victim", ckpt_dir, 0.15)
    resumer = _start("resume", ckpt_dir, 0, go_file=str(go))
    processes.extend([victim, resumer])
    mid_save = _kill_mid_run(victim, ckpt_dir)

    # What the kill left behind.
    names = sorted(p.name for p in ckpt_dir.iterdir())
    state = json.loads((ckpt_dir / "state.json").read_text())  # parses: written atomically
    saved = state["step"]
    assert saved >= 4 and saved % 2 == 0 and state["checkpoint"] in names
    finals = [n for n in names if n.startswith("ckpt-")]
    for name in finals:  # every file under a final name is a complete archive
        with zipfile.ZipFile(ckpt_dir / name) as archive:
            assert archive.testzip() is None
            assert {"config.json", "model.weights.h5"} <= set(archive.namelist())
    leftovers = [n for n in names if n not in finals and n != "state.json"]
    # A kill during a save can leave only a hidden temporary file, never a final name.
    assert all(n.startswith(".ckpt-") or n.startswith(".state.json.") for n in leftovers)
    assert [row["step"] for row in state["history"]] == list(range(1, saved + 1))

    go.touch()
    out = _finish(resumer)
    expected, resumed = out["reference"], out["resumed"]
    assert out["resumed_from"] == saved
    assert len(resumed) == len(expected) == STEPS
    # The steps before the kill come from the checkpoint; those after it were recomputed.
    np.testing.assert_allclose(resumed[:saved], expected[:saved], rtol=1e-6)
    np.testing.assert_allclose(resumed[saved:], expected[saved:], rtol=1e-5, atol=1e-6)
    assert expected[-1] < expected[0]  # the run learned something, so the losses differ
    final_state = json.loads((ckpt_dir / "state.json").read_text())
    assert final_state["step"] == STEPS
    print(f"killed at saved step {saved}, mid-save: {mid_save}, leftovers: {leftovers}")


@pytest.mark.parametrize("content", [b"", b'{"step": 4, "checkp'])
def test_a_damaged_state_file_says_what_to_do(tmp_path, content):
    # A state.json cut short (by a disk error, or an editor) stops the resume with advice.
    from course_lib.training import CheckpointManager

    (tmp_path / "state.json").write_bytes(content)
    with pytest.raises(RuntimeError, match="delete the checkpoint folder to start over"):
        CheckpointManager(tmp_path).latest()
