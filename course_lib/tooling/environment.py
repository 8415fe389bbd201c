"""The environment report shown in chapter 00: what this machine can run, and how fast.

Everything a learner (or an instructor reading a bug report) needs to know about a setup in one
table: Python and the platform, CPUs and memory, the versions of the pinned stack, the Keras
backend, the GPUs TensorFlow sees, which mixed-precision policy suits them, whether XLA compiles,
the active run profile and where the course looks for data.

Example:

>>> from course_lib.tooling.environment import environment_report, format_report
>>> print(format_report(environment_report()))  # doctest: +SKIP
Python             3.11.13
...
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

# The distributions the report lists, in the order it lists them (PyPI names).
PACKAGES = (
    "tensorflow",
    "keras",
    "keras-hub",
    "tensorflow-text",
    "numpy",
    "jupyterlab",
    "nbval",
    "scikit-learn",
    "sacrebleu",
    "nltk",
    "matplotlib",
)

DATA_ENV_VAR = "COURSE_DATA_DIR"


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Returns the installed version of each distribution, ``None`` when it is missing.

    Args:
        names: distribution names as on PyPI (e.g. ``"keras-hub"``).

    Returns:
        A dict from each name to its version string, or ``None`` if it is not installed.

    Example:

    >>> package_versions(("keras", "no-such-package-xyz"))["no-such-package-xyz"] is None
    True
    """
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def recommended_policy(
    gpu_compute_capabilities: list[tuple[int, int] | None], *, tpu: bool = False
) -> tuple[bool, str, str]:
    """Chooses the Keras mixed-precision policy that suits the accelerators present.

    ``mixed_bfloat16`` on TPUs, on Ampere or newer GPUs (compute capability 8.0 and up) and on
    CPUs; ``mixed_float16`` on GPUs with compute capability 7.x (Volta, Turing: tensor cores
    but no bfloat16); plain ``float32`` on older GPUs, where mixed precision brings no speed-up.
    With several GPUs the weakest one decides.

    Args:
        gpu_compute_capabilities: one ``(major, minor)`` per visible GPU, ``None`` where
            TensorFlow could not tell; an empty list means no GPU.
        tpu: whether a TPU is attached.

    Returns:
        ``(available, policy, reason)``: whether mixed precision is worth turning on, the
        policy name for ``keras.mixed_precision.set_global_policy``, and a short reason.

    Example:

    >>> recommended_policy([(7, 5)])[1]
    'mixed_float16'
    >>> recommended_policy([(8, 0)])[1]
    'mixed_bfloat16'
    >>> recommended_policy([])[1]
    'mixed_bfloat16'
    """
    if tpu:
        return True, "mixed_bfloat16", "TPU: bfloat16 is native"
    if not gpu_compute_capabilities:
        return (
            True,
            "mixed_bfloat16",
            "CPU: supported; faster only on CPUs with bfloat16 instructions (AVX512-BF16, AMX)",
        )
    known = [cc for cc in gpu_compute_capabilities if cc is not None]
    if not known:
        return False, "float32", "GPU compute capability unknown"
    weakest = min(known)
    label = f"compute capability {weakest[0]}.{weakest[1]}"
    if weakest >= (8, 0):
        return True, "mixed_bfloat16", f"GPU {label} (Ampere or newer): bfloat16 tensor cores"
    if weakest >= (7, 0):
        return True, "mixed_float16", f"GPU {label}: float16 tensor cores, no bfloat16"
    return False, "float32", f"GPU {label}: no tensor cores, mixed precision would not help"


def _gpus() -> list[dict[str, Any]]:
    import tensorflow as tf

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(device)
        except Exception:
            details = {}
        cc = details.get("compute_capability")
        gpus.append(
            {
                "device": device.name,
                "name": details.get("device_name", device.name),
                "compute_capability": tuple(cc) if cc else None,
            }
        )
    return gpus


def _xla_available() -> bool:
    """True when TensorFlow can JIT-compile a tiny function with XLA."""
    import tensorflow as tf

    try:
        fn = tf.function(lambda x: x * 2.0 + 1.0, jit_compile=True)
        return float(fn(tf.constant(1.0))) == 3.0
    except Exception:
        return False


def _ram_gib() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return round(psutil.virtual_memory().total / 2**30, 1)


def _profile() -> dict[str, str]:
    from course_lib.profiles import active_profile

    try:
        p = active_profile()
    except ValueError as err:
        return {"name": "invalid", "source": str(err)}
    return {"name": p.name, "source": p.source}


def environment_report() -> dict[str, Any]:
    """Collects the facts about this machine and installation that the course depends on.

    Imports TensorFlow and Keras (a few seconds the first time) and JIT-compiles one tiny
    function to find out whether XLA works.

    Returns:
        A dict with keys ``python``, ``platform``, ``cpu_count``, ``ram_gib``, ``packages``
        (name to version or ``None``), ``keras_backend``, ``gpus`` (a list of dicts with
        ``device``, ``name``, ``compute_capability``), ``tpu``, ``mixed_precision`` (a dict with
        ``available``, ``policy``, ``reason``), ``xla``, ``profile`` (a dict with ``name`` and
        ``source``) and ``course_data_dir`` (the ``COURSE_DATA_DIR`` value or ``None``).

    Example:

    >>> report = environment_report()
    >>> report["keras_backend"]
    'tensorflow'
    >>> sorted(report["mixed_precision"])
    ['available', 'policy', 'reason']
    """
    import keras
    import tensorflow as tf

    gpus = _gpus()
    try:
        tpu = bool(tf.config.list_physical_devices("TPU"))
    except Exception:
        tpu = False
    available, policy, reason = recommended_policy(
        [g["compute_capability"] for g in gpus], tpu=tpu
    )
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "packages": package_versions(),
        "keras_backend": keras.backend.backend(),
        "gpus": gpus,
        "tpu": tpu,
        "mixed_precision": {"available": available, "policy": policy, "reason": reason},
        "xla": _xla_available(),
        "profile": _profile(),
        "course_data_dir": os.environ.get(DATA_ENV_VAR) or None,
    }


def _rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("Python", str(report.get("python"))),
        ("Platform", str(report.get("platform"))),
        ("CPUs", str(report.get("cpu_count"))),
    ]
    ram = report.get("ram_gib")
    rows.append(("RAM", f"{ram} GiB" if ram is not None else "unknown (psutil missing)"))
    for name, version in report.get("packages", {}).items():
        rows.append((name, version or "not installed"))
    rows.append(("Keras backend", str(report.get("keras_backend"))))
    gpus = report.get("gpus") or []
    if not gpus:
        rows.append(("GPUs", "none visible to TensorFlow"))
    for i, gpu in enumerate(gpus):
        cc = gpu.get("compute_capability")
        cc_text = f"compute capability {cc[0]}.{cc[1]}" if cc else "compute capability unknown"
        rows.append((f"GPU {i}", f"{gpu.get('name')} ({cc_text})"))
    if report.get("tpu"):
        rows.append(("TPU", "yes"))
    mp = report.get("mixed_precision", {})
    mp_text = mp.get("policy", "?") if mp.get("available") else f"not useful ({mp.get('policy')})"
    rows.append(("Mixed precision", f"{mp_text}; {mp.get('reason', '')}".rstrip("; ")))
    rows.append(("XLA", "yes" if report.get("xla") else "no"))
    prof = report.get("profile", {})
    rows.append(("Profile", f"{prof.get('name')} (from {prof.get('source')})"))
    rows.append((DATA_ENV_VAR, report.get("course_data_dir") or "(unset)"))
    return rows


def format_report(report: dict[str, Any]) -> str:
    """Renders a report from :func:`environment_report` as an aligned two-column table.

    Args:
        report: the dict :func:`environment_report` returns (missing keys print as ``None``).

    Returns:
        One line per fact, names left-aligned in a column as wide as the longest name.

    Example:

    >>> print(format_report({"python": "3.11.9", "packages": {"keras": "3.15.1"}}))
    ... # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
    Python ...3.11.9
    ...
    keras ...3.15.1
    ...
    """
    rows = _rows(report)
    width = max(len(name) for name, _ in rows) + 2
    return "\n".join(f"{name:<{width}}{value}" for name, value in rows)
