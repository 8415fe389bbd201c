"""How much memory training a GPT needs, estimated before training, and a check against the machine.

Training memory has two parts. The fixed part grows with the number of parameters P: the
float32 weights (4P bytes), their gradients (4P) and the optimizer's state (AdamW keeps two
moments per weight: 8P), plus, under mixed precision, the 16-bit copies of the weights that
Keras casts each step (2P). The other part grows with the batch: the activations each layer
keeps for the backward pass. Shapes: B = batch, T = context, C = width, H = heads,
V = vocabulary, N = layers, a = bytes per activation (4 in float32, 2 under mixed precision).

Per Transformer block (the course's pre-norm GPT-2 block) the backward pass needs

- the block input, both LayerNorm outputs, the attention output and the input of the
  MLP LayerNorm: 5 tensors of B·T·C;
- queries, keys and values: 3·B·T·C;
- the MLP's hidden layer before and after GELU: 2 tensors of 4·B·T·C;
- the attention probabilities, B·H·T² (computed in float32, plus a 16-bit copy under mixed
  precision, plus the dropped-out copy when dropout > 0);
- when dropout > 0, the two residual-branch dropout outputs: 2·B·T·C.

That is 16·B·T·C·a + B·H·T²·(4 + ...) bytes per block. After the last block: the final
LayerNorm's input and float32 output (B·T·C each), the float32 logits (B·T·V) and the
cross-entropy's probabilities (B·T·V). The attention matrices grow with T² and the logits with
V, which is why a long context or a large vocabulary runs out of memory first.

This is an estimate: frameworks free, fuse and keep tensors differently, and allocators round
sizes up. Treat it as the order of magnitude, and the warning as a reason to look before
starting a run, not as a guarantee.

Example:

>>> from course_lib.gpt import GPTConfig
>>> estimate = estimate_training_memory(GPTConfig.nanogpt_cpu(65), batch_size=12)
>>> round(estimate["total"] / 2**20)  # MiB
40
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import warnings
from pathlib import Path

__all__ = [
    "InsufficientMemoryWarning",
    "OPTIMIZER_SLOTS",
    "available_memory",
    "check_memory",
    "estimate_training_memory",
    "format_bytes",
    "machine_description",
]

# float32 state tensors an optimizer keeps per weight.
OPTIMIZER_SLOTS = {"adamw": 2, "adam": 2, "lion": 1, "momentum": 1, "sgd": 0}

_MIXED = {None: 4, "float32": 4, "mixed_bfloat16": 2, "mixed_float16": 2}


class InsufficientMemoryWarning(UserWarning):
    """The estimated training memory exceeds what the machine has available."""


def format_bytes(n: float) -> str:
    """Formats a byte count with a binary unit.

    Args:
        n: a number of bytes.

    Example:

    >>> format_bytes(3 * 2**30)
    '3.00 GiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def estimate_training_memory(
    config, batch_size, *, mixed_precision=None, optimizer="adamw", trainable_parameters=None
):
    """Estimates the memory one training step of a GPT needs, part by part, in bytes.

    Args:
        config: a ``course_lib.gpt.GPTConfig``.
        batch_size: sequences per step B (the global batch on one device).
        mixed_precision: ``None`` (float32), ``"mixed_bfloat16"`` or ``"mixed_float16"``.
            Weights, gradients and optimizer state stay float32 either way; activations
            take 2 bytes, except the attention softmax, the logits and the loss, which the
            course's GPT keeps in float32.
        optimizer: ``"adamw"``/``"adam"`` (two float32 moments per weight), ``"lion"`` or
            ``"momentum"`` (one), ``"sgd"`` (none).
        trainable_parameters: how many weights are trained, when not all are (``None``: all).
            Gradients and optimizer state exist only for these, as with LoRA adapters or a
            frozen body; the frozen weights still take their ``parameters`` bytes, and
            activations are stored either way, because the gradient flows back through them.

    Returns:
        A dict of byte counts (ints): ``parameters``, ``gradients``, ``optimizer_state``,
        ``weight_copies`` (16-bit casts under mixed precision, else 0),
        ``activations_per_layer`` (one Transformer block), ``attention_per_layer`` (its
        attention matrices, included in the previous), ``head`` (final LayerNorm, logits and
        loss), ``activations`` (all layers plus the head) and ``total``; and
        ``num_parameters``, ``trainable_parameters`` and ``batch_size``.

    Example:

    >>> from course_lib.gpt import GPTConfig
    >>> config = GPTConfig(vocab_size=11, context_length=8, num_layers=2, num_heads=2,
    ...                    width=16)
    >>> estimate_training_memory(config, batch_size=4)["activations_per_layer"]
    34816
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if mixed_precision not in _MIXED:
        raise ValueError(
            f"mixed_precision must be None, 'mixed_bfloat16' or 'mixed_float16', got "
            f"{mixed_precision!r}"
        )
    if optimizer not in OPTIMIZER_SLOTS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; use one of {', '.join(OPTIMIZER_SLOTS)} (the "
            "course trains with 'adamw')"
        )
    a = _MIXED[mixed_precision]
    mixed = a == 2
    dropout = config.dropout > 0
    b, t, c, h, v = (
        batch_size,
        config.context_length,
        config.width,
        config.num_heads,
        config.vocab_size,
    )
    p = config.num_parameters()
    if trainable_parameters is None:
        trained = p
    elif (isinstance(trainable_parameters, bool) or not isinstance(trainable_parameters, int)
          or not 0 <= trainable_parameters <= p):
        raise ValueError(
            f"trainable_parameters must be an int between 0 and the model's {p:,} parameters "
            f"(None for all), got {trainable_parameters!r}"
        )
    else:
        trained = trainable_parameters

    btc = b * t * c
    attention_matrix = b * h * t * t  # elements of one (B, H, T, T) tensor
    attention = attention_matrix * (4 + (a if mixed else 0) + (a if dropout else 0))
    per_layer = (16 + (2 if dropout else 0)) * btc * a + attention
    head = btc * a + btc * 4 + 2 * b * t * v * 4 + (btc * a if dropout else 0)
    activations = config.num_layers * per_layer + head

    parts = {
        "parameters": 4 * p,
        "gradients": 4 * trained,
        "optimizer_state": OPTIMIZER_SLOTS[optimizer] * 4 * trained,
        "weight_copies": 2 * p if mixed else 0,
        "activations": activations,
    }
    return {
        **parts,
        "activations_per_layer": per_layer,
        "attention_per_layer": attention,
        "head": head,
        "total": sum(parts.values()),
        "num_parameters": p,
        "trainable_parameters": trained,
        "batch_size": batch_size,
    }


def _gpu_memory():
    """(free bytes, description) of the first GPU TensorFlow sees, or None without one."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    name = "GPU:0"
    try:
        # TensorFlow's allocator reserves most of the card up front, so what is free for this
        # process is the allocator's limit minus what it has handed out, not nvidia-smi's free.
        from tensorflow.python.client import device_lib

        limit = next(
            d.memory_limit for d in device_lib.list_local_devices() if d.device_type == "GPU"
        )
        in_use = tf.config.experimental.get_memory_info(name)["current"]
        return int(limit) - int(in_use), f"{name} (TensorFlow allocator limit minus in use)"
    except Exception:  # an API that moved or a driver that does not answer: ask the driver
        pass
    try:
        import subprocess

        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        return int(out.split()[0]) * 2**20, f"{name} (nvidia-smi free)"
    except Exception:
        return None


def available_memory():
    """The memory a training run can use now, and where the number comes from.

    When TensorFlow sees a GPU, training runs there, so this is the GPU's free memory;
    otherwise it is the host's available RAM (``psutil.virtual_memory().available``).

    Returns:
        ``(bytes, description)``, e.g. ``(12_884_901_888, "host RAM (available)")``.

    Example:

    >>> free, where = available_memory()  # doctest: +SKIP
    """
    gpu = _gpu_memory()
    if gpu is not None:
        return gpu
    import psutil

    return int(psutil.virtual_memory().available), "host RAM (available)"


def _largest_batch(config, available, **kwargs):
    """The largest batch size whose estimate fits in ``available`` bytes (0 if none)."""
    one = estimate_training_memory(config, 1, **kwargs)
    two = estimate_training_memory(config, 2, **kwargs)
    per_sequence = two["total"] - one["total"]  # the estimate is linear in B
    fixed = one["total"] - per_sequence
    return max(0, int((available - fixed) // per_sequence))


def check_memory(
    config, batch_size, available_bytes=None, *, mixed_precision=None, optimizer="adamw"
):
    """Estimates training memory and warns when it exceeds what the machine has.

    Call it before training. The warning names the parts of the estimate and suggests a
    batch size that fits, a shorter context, or a smaller profile.

    Args:
        config: a ``course_lib.gpt.GPTConfig``.
        batch_size: sequences per step.
        available_bytes: memory to compare against; ``None`` asks :func:`available_memory`
            (the GPU's free memory when TensorFlow sees one, else the host's available RAM).
        mixed_precision: as for :func:`estimate_training_memory`.
        optimizer: as for :func:`estimate_training_memory`.

    Returns:
        The estimate dict, with ``available`` (bytes), ``available_source`` and ``fits``
        (bool) added.

    Warns:
        InsufficientMemoryWarning: when the estimated total exceeds the available memory.

    Example:

    >>> from course_lib.gpt import GPTConfig
    >>> report = check_memory(GPTConfig.nanogpt_gpu(65), batch_size=64, available_bytes=2**30)
    ... # doctest: +SKIP
    InsufficientMemoryWarning: Training this GPT (6 layers, ...) with batch_size 64 needs about
    3.89 GiB (...), but only 1.00 GiB is available (given). Use batch_size <= 14, ...
    >>> report["fits"]  # doctest: +SKIP
    False
    """
    kwargs = dict(mixed_precision=mixed_precision, optimizer=optimizer)
    estimate = estimate_training_memory(config, batch_size, **kwargs)
    if available_bytes is None:
        available_bytes, source = available_memory()
    else:
        source = "given"
    estimate.update(
        available=int(available_bytes),
        available_source=source,
        fits=estimate["total"] <= available_bytes,
    )
    if estimate["fits"]:
        return estimate
    parts = ", ".join(
        f"{name.replace('_', ' ')} {format_bytes(estimate[name])}"
        for name in ("parameters", "gradients", "optimizer_state", "weight_copies", "activations")
        if estimate[name]
    )
    largest = _largest_batch(config, available_bytes, **kwargs)
    if largest >= 1:
        advice = (
            f"Use batch_size <= {largest}, a shorter context_length (the attention matrices "
            f"grow with its square), or a smaller profile (COURSE_PROFILE=cpu or smoke)."
        )
    else:
        advice = (
            "Even batch_size 1 does not fit: use a smaller model (fewer layers, a smaller "
            "width or vocabulary) or a smaller profile (COURSE_PROFILE=cpu or smoke)."
        )
    warnings.warn(
        f"Training this GPT ({config.num_layers} layers, width {config.width}, context "
        f"{config.context_length}, vocabulary {config.vocab_size}) with batch_size "
        f"{batch_size} needs about {format_bytes(estimate['total'])} ({parts}), but only "
        f"{format_bytes(available_bytes)} is available ({source}). {advice}",
        InsufficientMemoryWarning,
        stacklevel=2,
    )
    return estimate


def machine_description() -> dict:
    """Cores, RAM, CPU model, GPUs, OS and Python of this machine, for run records (the course
    runner's, the pretraining run's).

    Example:

    >>> sorted(machine_description())[:3]
    ['cores', 'cpu', 'gpus']
    """
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        usable = os.cpu_count() or 1
    try:
        load = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        load = None
    gpus = None
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total",
                                  "--format=csv,noheader"], capture_output=True, text=True,
                                 timeout=20)
            gpus = "; ".join(ln.strip() for ln in out.stdout.splitlines() if ln.strip()) or None
        except (OSError, subprocess.SubprocessError):
            gpus = None
    return {
        "cpu": cpu,
        "gpus": gpus,
        "cores": usable,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        # Other processes slow a run down; the load when it started says how much to trust it.
        "load_avg_1min": load,
    }
