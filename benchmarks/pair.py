"""Paired, whole-process comparison of the course benchmark with nanoGPT's README CPU command.

Runs the two programs alternately on one machine (A, B, A, B, ...), each as a fresh process
timed from start to exit the way a user feels it: wall seconds, CPU seconds (user + system, all
threads) and peak memory, plus each run's final validation loss. Alternating spreads any drift
in the machine's speed over both programs; the load average before each run is recorded, and
the runs are only comparable when it stays well below the core count.

nanoGPT is not part of the course: clone it (https://github.com/karpathy/nanoGPT), install
PyTorch in an environment of its own, and run its ``data/shakespeare_char/prepare.py`` once.

    python benchmarks/pair.py --nanogpt ~/nanoGPT --nanogpt-python ~/nanoGPT/venv/bin/python
    python benchmarks/pair.py --rounds 3 --nanogpt ...   # three runs of each

Writes ``benchmarks/results/pair_cpu.json`` and prints a table. Both programs train the same
model (4 layers, 4 heads, width 128, context 64, batch 12, 2,000 steps, no dropout) on the
same 90/10 split of Tiny Shakespeare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# nanoGPT's README, "I only have a macbook" section, with --device=cpu.
NANOGPT_ARGS = [
    "train.py", "config/train_shakespeare_char.py", "--device=cpu", "--compile=False",
    "--eval_iters=20", "--log_interval=1", "--block_size=64", "--batch_size=12", "--n_layer=4",
    "--n_head=4", "--n_embd=128", "--max_iters=2000", "--lr_decay_iters=2000", "--dropout=0.0",
]


def timed_process(cmd, cwd, env=None) -> dict:
    """Runs ``cmd`` to completion: its wall time, CPU seconds (all threads) and peak RSS."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        # wait4 gives this child's own resource use (RUSAGE_CHILDREN would mix the runs).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{stderr[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall_sec": round(wall, 1),
        "cpu_sec": round(cpu, 1),
        "cores_busy": round(cpu / wall, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
        "load_before": round(load, 2),
        "stdout": stdout,
    }


def course_run(python: str, extra: list[str]) -> dict:
    out = RESULTS / "pair_course_last.json"
    run = timed_process([python, "benchmarks/char_gpt.py", "--out", str(out), *extra], ROOT)
    result = json.loads(out.read_text())
    run.update(val_loss=result["val_loss"], median_step_ms=result["median_step_ms"],
               breakdown=result.get("breakdown"))
    return run


def nanogpt_run(python: str, folder: Path) -> dict:
    run = timed_process([python, *NANOGPT_ARGS], folder)
    # "step 2000: train loss 1.7616, val loss 1.8863"
    evals = re.findall(r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)", run["stdout"])
    if not evals or int(evals[-1][0]) != 2000:
        raise RuntimeError("nanoGPT's output has no evaluation at step 2000:\n"
                           + run["stdout"][-2000:])
    iters = [float(ms) for ms in re.findall(r"iter \d+: loss [\d.]+, time ([\d.]+)ms",
                                             run["stdout"])]
    run.update(val_loss=float(evals[-1][2]), median_step_ms=round(statistics.median(iters), 1))
    return run


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nanogpt", type=Path, required=True, help="a nanoGPT checkout, data prepared")
    p.add_argument("--nanogpt-python", default="python", help="a Python with PyTorch")
    p.add_argument("--python", default=sys.executable, help="the course's Python")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--course-args", default="", help="extra arguments for char_gpt.py")
    p.add_argument("--out", type=Path, default=RESULTS / "pair_cpu.json")
    args = p.parse_args(argv)
    if not (args.nanogpt / "data" / "shakespeare_char" / "train.bin").exists():
        sys.exit(f"{args.nanogpt} has no data/shakespeare_char/train.bin: run nanoGPT's "
                 "data/shakespeare_char/prepare.py there first.")
    runs = {"course": [], "nanogpt": []}
    for i in range(args.rounds):
        for name in ("course", "nanogpt"):
            run = (course_run(args.python, args.course_args.split()) if name == "course"
                   else nanogpt_run(args.nanogpt_python, args.nanogpt))
            run.pop("stdout")
            runs[name].append(run)
            print(f"round {i + 1} {name:>8}: wall {run['wall_sec']:6.1f} s  cpu "
                  f"{run['cpu_sec']:6.1f} s  cores {run['cores_busy']:.2f}  val "
                  f"{run['val_loss']:.4f}  step {run['median_step_ms']} ms  load "
                  f"{run['load_before']}", flush=True)
    summary = {
        name: {key: round(statistics.median(r[key] for r in rs), 4 if key == "val_loss" else 1)
               for key in ("wall_sec", "cpu_sec", "cores_busy", "val_loss", "median_step_ms",
                           "peak_rss_mib")}
        for name, rs in runs.items()
    }
    speedup = summary["nanogpt"]["wall_sec"] / summary["course"]["wall_sec"]
    record = {
        "benchmark": "pair_char_gpt_cpu",
        "order": "course, nanogpt alternating",
        "rounds": args.rounds,
        "course_args": args.course_args,
        "nanogpt_command": " ".join(NANOGPT_ARGS),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "runs": runs,
        "median": summary,
        "wall_speedup_vs_nanogpt": round(speedup, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"\n{'':>8} {'wall s':>8} {'CPU s':>8} {'cores':>6} {'val loss':>9} {'step ms':>8}")
    for name, s in summary.items():
        print(f"{name:>8} {s['wall_sec']:8.1f} {s['cpu_sec']:8.1f} {s['cores_busy']:6.2f} "
              f"{s['val_loss']:9.4f} {s['median_step_ms']:8.1f}")
    print(f"whole-process speed-up of the course over nanoGPT: {speedup:.2f}x")
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
