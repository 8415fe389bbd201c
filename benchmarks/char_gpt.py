"""Benchmark: a character-level GPT on Tiny Shakespeare, against nanoGPT's published run.

nanoGPT's README trains ``shakespeare_char`` on a CPU with

    --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000
    --lr_decay_iters=2000 --dropout=0.0

(plus the config file's lr 1e-3, min lr 1e-4, 100 warm-up iterations, betas (0.9, 0.99),
weight decay 0.1, clip 1.0), and reports a validation loss of 1.88. This script trains the
course GPT with the same settings and data split, prints progress, then one JSON line with
parameters, iterations, tokens/s, wall seconds, final train and validation loss and peak RSS,
and writes the same to ``benchmarks/results/``.

    python benchmarks/char_gpt.py                      # nanoGPT's CPU configuration
    python benchmarks/char_gpt.py --profile gpu        # nanoGPT's GPU configuration, bf16, MFU
    python benchmarks/char_gpt.py --no-jit --max-iters 300 --tag nojit   # throughput w/o XLA

Tokens per second is measured inside the run: the median time of one optimizer step after the
first 20 (which include XLA compilation), times the tokens in a batch. The wall time covers
the whole training call, evaluations included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

PROCESS_START = time.perf_counter()  # before TensorFlow loads: imports count too

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# nanoGPT's two documented configurations for shakespeare_char.
PROFILES = {
    "cpu": dict(context=64, batch_size=12, layers=4, heads=4, width=128, dropout=0.0,
                max_iters=2000, lr=1e-3, min_lr=1e-4, warmup=100, eval_interval=250,
                eval_iters=20),
    "gpu": dict(context=256, batch_size=64, layers=6, heads=6, width=384, dropout=0.2,
                max_iters=5000, lr=1e-3, min_lr=1e-4, warmup=100, eval_interval=250,
                eval_iters=200),
    # For the test suite: proves the script runs end to end, measures nothing.
    "smoke": dict(context=16, batch_size=4, layers=1, heads=2, width=16, dropout=0.0,
                  max_iters=6, lr=1e-3, min_lr=1e-4, warmup=2, eval_interval=3, eval_iters=2),
}


# Dense bf16 peak TFLOP/s (no sparsity) from the vendors' data sheets, for MFU.
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L4": 121.0, "A10": 125.0,
               "T4": 65.0, "V100": 125.0}


def _gpu() -> dict | None:
    """Name and compute capability of the first GPU TensorFlow sees, or None."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return {"name": details.get("device_name", "GPU"),
            "compute_capability": details.get("compute_capability")}


def _peak_tflops(gpu: dict | None, given: float | None) -> float | None:
    if given is not None:
        return given
    if gpu is None:
        return None
    # Longest key first, so "A100" is not taken for "A10".
    for key in sorted(PEAK_TFLOPS, key=len, reverse=True):
        if key in gpu["name"]:
            return PEAK_TFLOPS[key]
    return None


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return usage.ru_utime + usage.ru_stime


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    for name, typ in [("context", int), ("batch-size", int), ("layers", int), ("heads", int),
                      ("width", int), ("dropout", float), ("max-iters", int), ("lr", float),
                      ("min-lr", float), ("warmup", int), ("eval-interval", int),
                      ("eval-iters", int)]:
        p.add_argument(f"--{name}", type=typ, default=None, help="overrides the profile")
    p.add_argument("--no-jit", action="store_true", help="turn XLA compilation off")
    p.add_argument("--no-onednn", action="store_true",
                   help="turn TensorFlow's oneDNN CPU kernels off (course_lib's default)")
    p.add_argument("--mixed-precision", choices=["mixed_bfloat16", "mixed_float16", "none"],
                   help="default: mixed_bfloat16 on a GPU that supports it (compute capability "
                        "8.0 or newer), else none")
    p.add_argument("--peak-tflops", type=float,
                   help="the device's peak dense TFLOP/s for model FLOPs utilisation (MFU); "
                        "known GPUs are looked up, a CPU has no default")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--checkpoint-dir", type=Path, help="checkpoint here and resume from it")
    p.add_argument("--save-model", type=Path, help="write the trained model (.keras) here")
    p.add_argument("--tag", default="", help="suffix of the result file name")
    p.add_argument("--out", type=Path, help="result JSON path (default benchmarks/results/)")
    args = p.parse_args(argv)
    cfg = dict(PROFILES[args.profile])
    for key in cfg:
        value = getattr(args, key.replace("-", "_"), None)
        if value is not None:
            cfg[key] = value
    return args, cfg


def main(argv=None) -> dict:
    args, cfg = parse_args(argv)
    # oneDNN is TensorFlow's default on x86 CPUs; course_lib switches it off for quiet logs and
    # bit-stable notebook outputs, but it makes this model's training step ~1.5x faster here.
    # The variable is read once, when TensorFlow loads, so it must be set before any import.
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0" if args.no_onednn else "1"
    t_imports = time.perf_counter()
    import keras

    import course_lib  # noqa: F401  (quiets TensorFlow before it loads)
    from course_lib.data import load_tiny_shakespeare
    from course_lib.gpt import GPT, GPTConfig
    from course_lib.lm_data import split_tokens
    from course_lib.reproducibility import seed_everything
    from course_lib.tokenizers import CharTokenizer
    from course_lib.training import LMBatches, TrainConfig, Trainer

    t_imports = time.perf_counter() - t_imports
    from course_lib.chapters.ch13_challenges import gpt_training_flops

    seed_everything(args.seed)
    gpu = _gpu()
    if args.mixed_precision is None:  # bf16 where the device computes in it natively
        capability = (gpu or {}).get("compute_capability") or (0, 0)
        args.mixed_precision = "mixed_bfloat16" if tuple(capability) >= (8, 0) else "none"
    if args.mixed_precision == "none":
        args.mixed_precision = None
    else:
        keras.mixed_precision.set_dtype_policy(args.mixed_precision)
    text = load_tiny_shakespeare()
    tokenizer = CharTokenizer.from_text(text)
    train, val = split_tokens(tokenizer.encode(text), 0.9)  # nanoGPT's 90/10 split

    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, context_length=cfg["context"],
                          num_layers=cfg["layers"], num_heads=cfg["heads"], width=cfg["width"],
                          dropout=cfg["dropout"]))
    train_cfg = TrainConfig(
        max_steps=cfg["max_iters"], learning_rate=cfg["lr"], min_learning_rate=cfg["min_lr"],
        warmup_steps=cfg["warmup"], eval_interval=cfg["eval_interval"],
        eval_batches=cfg["eval_iters"], jit_compile=not args.no_jit,
        mixed_precision=args.mixed_precision,
    )
    trainer = Trainer(model, train_cfg, checkpoint_dir=args.checkpoint_dir)
    train_batches = LMBatches(train, cfg["context"], cfg["batch_size"], seed=args.seed)
    val_batches = LMBatches(val, cfg["context"], cfg["batch_size"], seed=args.seed + 1)
    load_before = os.getloadavg()[0]
    t_setup = time.perf_counter() - PROCESS_START - t_imports
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    history = trainer.fit(train_batches, val_batches)
    wall = time.perf_counter() - t0
    fit_cores = (_cpu_seconds() - cpu0) / wall
    # Like nanoGPT's final estimate_loss: both losses over eval_iters fixed batches.
    final_train = trainer.evaluate(LMBatches(train, cfg["context"], cfg["batch_size"],
                                             seed=args.seed + 2))
    if args.save_model:
        model.save(args.save_model)
    step_s = trainer.median_step_seconds(skip=20)
    first = sum(trainer.step_times[:20])  # the first steps include XLA compilation
    steady = sum(trainer.step_times[20:])
    process = time.perf_counter() - PROCESS_START
    cpu = _cpu_seconds()
    # Model FLOPs utilisation: the course's FLOP count of one training step (3 x forward,
    # matmul by matmul) at the median step time, over the device's peak.
    step_flops = gpt_training_flops(model.config, train_batches.tokens_per_step)
    achieved = step_flops / step_s / 1e12
    peak = _peak_tflops(gpu, args.peak_tflops)
    result = {
        "benchmark": "char_gpt",
        "profile": args.profile,
        "config": cfg,
        "xla": not args.no_jit,
        "onednn": not args.no_onednn,
        "mixed_precision": args.mixed_precision,
        "parameters": int(model.count_params()),
        "iterations": trainer.step,
        # The headline: the whole process, as a user waits for it, and how busy it kept the
        # cores; then tokens/s over the whole training call, evaluations included.
        "process_wall_sec": round(process, 1),
        "process_cpu_sec": round(cpu, 1),
        "cores_busy": round(cpu / process, 2),
        "tokens_per_sec_whole_fit": round(trainer.step * train_batches.tokens_per_step / wall, 1),
        "tokens_per_sec": round(train_batches.tokens_per_step / step_s, 1),
        "median_step_ms": round(step_s * 1000, 2),
        "wall_sec": round(wall, 1),
        "device": gpu["name"] if gpu else f"CPU, {os.cpu_count()} cores",
        "training_flops_per_step": step_flops,
        "achieved_tflops": float(f"{achieved:.4g}"),
        "peak_tflops": peak,
        "mfu": None if peak is None else float(f"{achieved / peak:.4g}"),
        # Where the process's time went (seconds).
        "breakdown": {
            "imports": round(t_imports, 1),
            "data_and_model": round(t_setup, 1),
            "first_20_steps_incl_compile": round(first, 1),
            "steady_steps": round(steady, 1),
            "evaluation": round(trainer.eval_seconds, 1),
            "loop_overhead": round(wall - first - steady - trainer.eval_seconds, 1),
            "after_fit": round(process - t_imports - t_setup - wall, 1),
            "cores_busy_in_fit": round(fit_cores, 2),
        },
        "train_loss": round(final_train, 4),
        "val_loss": round(history[-1]["val_loss"], 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # Other processes on the machine slow the steps: a load average well above 0 before or
        # after the run means the throughput figure understates what the machine can do.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "keras": keras.__version__, "backend": keras.backend.backend()},
    }
    out = args.out or RESULTS / f"char_gpt_{args.profile}{'_' + args.tag if args.tag else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if result["mfu"] is not None:
        print(f"model FLOPs utilisation: {result['mfu']:.1%} ({achieved:.2f} of {peak:g} TFLOP/s "
              f"on {result['device']}, {args.mixed_precision or 'float32'})")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
