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
