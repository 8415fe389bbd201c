"""The benchmarks run end to end (at a size that measures nothing) and report what they promise."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_char_gpt_benchmark_smoke(tmp_path):
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/char_gpt.py", "--profile", "smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = json.loads(proc.stdout.strip().splitlines()[-1])
    saved = json.loads(out.read_text())
    assert printed == saved
    for key in ("parameters", "iterations", "tokens_per_sec", "wall_sec", "train_loss",
                "val_loss", "peak_rss_mb"):
        assert key in printed, key
    assert printed["iterations"] == 6
    assert printed["parameters"] > 0 and printed["tokens_per_sec"] > 0
    # 65 characters: a fresh model's loss is near ln(65) = 4.17, and a few steps barely move it.
    assert printed["val_loss"] == pytest.approx(4.17, abs=0.3)


def test_char_gpt_reports_the_whole_process_and_mfu(tmp_path):
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/char_gpt.py", "--profile", "smoke", "--out", str(out),
         "--peak-tflops", "2.0"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    parts = r["breakdown"]
    # The parts add up to the process (within rounding): nothing is hidden outside them.
    named = sum(v for k, v in parts.items() if k != "cores_busy_in_fit")
    assert named == pytest.approx(r["process_wall_sec"], abs=0.5)
    assert r["process_wall_sec"] > r["wall_sec"] > 0
    assert 0 < r["cores_busy"] <= os.cpu_count()
    # MFU = the course's FLOP count of a step at the median step time, over the given peak:
    # 1 block, width 16, vocab 65, T 16, B 4 -> 3 x forward.
    from course_lib.chapters.ch13_challenges import gpt_training_flops
    from course_lib.gpt import GPTConfig

    flops = gpt_training_flops(GPTConfig(65, 16, 1, 2, 16), 16 * 4)
    assert r["training_flops_per_step"] == flops
    achieved = flops / (r["median_step_ms"] / 1000) / 1e12
    assert r["mfu"] == pytest.approx(achieved / 2.0, rel=0.02)
    assert "model FLOPs utilisation" in proc.stdout


def test_pair_alternates_and_parses_nanogpt(tmp_path):
    # A stand-in for a nanoGPT checkout: prints what train.py prints, in its format.
    (tmp_path / "data" / "shakespeare_char").mkdir(parents=True)
    (tmp_path / "data" / "shakespeare_char" / "train.bin").write_bytes(b"\0\0")
    (tmp_path / "train.py").write_text(
        "print('iter 1: loss 4.1000, time 50.00ms, mfu -100.00%')\n"
        "print('iter 2: loss 4.0000, time 70.00ms, mfu 0.01%')\n"
        "print('step 2000: train loss 1.7600, val loss 1.8857')\n"
    )
    out = tmp_path / "pair.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/pair.py", "--nanogpt", str(tmp_path), "--nanogpt-python",
         sys.executable, "--rounds", "1", "--course-args", "--profile smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["runs"]["nanogpt"][0]["val_loss"] == 1.8857
    assert r["runs"]["nanogpt"][0]["median_step_ms"] == 60.0
    assert r["runs"]["course"][0]["breakdown"]["imports"] > 0
    assert r["wall_speedup_vs_nanogpt"] == pytest.approx(
        r["median"]["nanogpt"]["wall_sec"] / r["median"]["course"]["wall_sec"], abs=0.01)
    # A checkout without prepared data is refused with what to do.
    (tmp_path / "data" / "shakespeare_char" / "train.bin").unlink()
    proc = subprocess.run(
        [sys.executable, "benchmarks/pair.py", "--nanogpt", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode != 0 and "prepare.py" in proc.stderr
