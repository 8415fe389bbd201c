# Generated from notebooks/src/12_tools.py (notebooks/12_tools.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""The course GPT under another Keras backend, written in notebooks/12_tools.ipynb.

Keras 3 runs the same model code on TensorFlow, JAX or PyTorch. The backend is chosen once per
process, by the ``KERAS_BACKEND`` environment variable, before Keras is imported; a notebook
that already runs on TensorFlow cannot switch. So :func:`run_gpt_under_backend` writes the
model's configuration, its weights (plain NumPy arrays, :func:`export_weights`) and the input
ids to a temporary folder, starts a fresh Python process with ``KERAS_BACKEND`` set that runs
:func:`backend_worker` on that folder, and reads back the logits it computed. Identical logits
for identical weights prove that the architecture, the weight transfer and every op the model
uses mean the same thing there.

A backend that is not installed is not an error: the result says so (``status="skipped"``)
with the command that would install it, so a notebook can print a clean message.

Example:

>>> backend_installed("tensorflow")
True
>>> run_gpt_under_backend("no_such_backend", None, None, None).status
'skipped'
"""

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

import course_lib
from course_lib.gpt import GPT

# The backends Keras 3 supports, and the Python package each one needs.
BACKENDS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
INSTALL_HINTS = {
    "tensorflow": "pip install tensorflow",
    "jax": 'pip install "jax[cpu]"',
    "torch": "pip install torch --index-url https://download.pytorch.org/whl/cpu",
}
# The checkout this process imports course_lib from; the child process imports the same one.
_REPO = Path(course_lib.__file__).resolve().parents[1]


@dataclasses.dataclass
class BackendResult:
    """What one backend run returned.

    Attributes:
        backend: the Keras backend name (``"tensorflow"``, ``"jax"``, ``"torch"``).
        status: ``"ok"``, ``"skipped"`` (backend not installed) or ``"failed"``.
        logits: the logits the subprocess computed, ``(B, T, V)`` float32, or ``None``.
        message: a one-line explanation (why it was skipped, the error's last line, or the
            backend version that ran).
        seconds: wall time of the subprocess, start-up and imports included.
    """

    backend: str
    status: str
    logits: np.ndarray | None = None
    message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def max_abs_diff(self, reference) -> float:
        """Largest absolute difference from ``reference`` logits (``nan`` when not ok).

        Args:
            reference: logits of the same shape, e.g. from the model in this process.

        Example:
        ```python
        result.max_abs_diff(ops.convert_to_numpy(model(ids)))  # 0.0 on the same backend
        ```
        """
        if self.logits is None:
            return float("nan")
        reference = np.asarray(reference)
        if reference.shape != self.logits.shape:
            raise ValueError(
                f"reference logits have shape {reference.shape}, the {self.backend} run "
                f"returned {self.logits.shape}; pass the logits of the same token ids"
            )
        return float(np.max(np.abs(reference.astype(np.float64) - self.logits)))

    def describe(self, reference=None) -> str:
        """One line for a report: the verdict, the difference from ``reference``, the time."""
        if not self.ok:
            return f"{self.backend:>10}: {self.status} - {self.message}"
        line = f"{self.backend:>10}: ok ({self.message}, {self.seconds:.1f} s)"
        if reference is not None:
            line += f", max |diff| from this process {self.max_abs_diff(reference):.2e}"
        return line


def backend_installed(backend: str) -> bool:
    """Whether the package a Keras backend needs can be imported here (without importing it).

    Args:
        backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``.

    Example:

    >>> backend_installed("tensorflow")
    True
    """
    package = BACKENDS.get(backend)
    return package is not None and importlib.util.find_spec(package) is not None


def export_weights(model) -> dict[str, np.ndarray]:
    """A model's weights as NumPy arrays, keyed ``"000:block_0/attention/query/kernel"``.

    The number keeps Keras's (deterministic) creation order; the path, without the model's own
    name (``gpt`` or ``gpt_3`` depending on how many models a process built), lets
    :func:`import_weights` say which weight did not fit.

    Args:
        model: a built Keras model.

    Example:
    ```python
    np.savez(path, **export_weights(model))
    ```
    """
    out = {}
    for i, variable in enumerate(model.weights):
        path = variable.path.split("/", 1)[-1]
        out[f"{i:03d}:{path}"] = np.asarray(variable.numpy())
    return out


def import_weights(model, weights: dict[str, np.ndarray]) -> None:
    """Loads weights saved by :func:`export_weights` into a model built from the same config.

    Args:
        model: a built Keras model (any backend).
        weights: the dict :func:`export_weights` returned (or an ``np.load`` of it).

    Example:
    ```python
    import_weights(GPT(config), dict(np.load(path)))
    ```
    """
    keys = sorted(weights, key=lambda k: int(k.split(":", 1)[0]))
    if len(keys) != len(model.weights):
        raise ValueError(
            f"got {len(keys)} weight arrays for a model with {len(model.weights)} weights; "
            "build the model from the same GPTConfig that produced the weights"
        )
    for key, variable in zip(keys, model.weights, strict=True):
        value = np.asarray(weights[key])
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"weight {key.split(':', 1)[1]} has shape {value.shape}, the model expects "
                f"{tuple(variable.shape)} at {variable.path}; the configs differ"
            )
        variable.assign(value)


def backend_worker(folder) -> None:
    """The subprocess side: build the GPT, load the weights, write its logits and versions.

    :func:`run_gpt_under_backend` starts it in a fresh process, with ``KERAS_BACKEND`` set in
    that process's environment (so Keras reads it when this module imports Keras), as
    ``python -c "from course_lib.chapters.ch12_tools import backend_worker;
    backend_worker('<folder>')"``.

    Args:
        folder: the folder holding ``config.json``, ``weights.npz`` and ``token_ids.npy``;
            ``logits.npy`` and ``info.json`` are written there.

    Example:
    ```python
    backend_worker(folder)  # in this process: the same logits, on this process's backend
    ```
    """
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model = GPT(config)
    with np.load(folder / "weights.npz") as data:
        import_weights(model, {k: data[k] for k in data.files})
    ids = np.load(folder / "token_ids.npy")  # (B, T)
    logits = ops.convert_to_numpy(model(ops.convert_to_tensor(ids), training=False))  # (B, T, V)
    np.save(folder / "logits.npy", logits.astype(np.float32))
    backend = keras.backend.backend()
    module = importlib.import_module(BACKENDS.get(backend, backend))
    info = {"backend": backend, "version": getattr(module, "__version__", "?"),
            "keras": keras.__version__}
    (folder / "info.json").write_text(json.dumps(info), encoding="utf-8")


def run_gpt_under_backend(backend, config, weights, token_ids, *, timeout=300.0) -> BackendResult:
    """Computes ``GPT(config)`` logits for ``token_ids`` under ``KERAS_BACKEND=backend``.

    The run happens in a fresh Python process (the only way to change backend), which inherits
    this process's environment except ``KERAS_BACKEND``. A backend that is not installed gives
    ``status="skipped"`` at once; a crash gives ``status="failed"`` with the error's last line.

    Args:
        backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``.
        config: a ``course_lib.gpt.GPTConfig`` (or its dict).
        weights: a built ``GPT`` with those weights, or the dict from :func:`export_weights`.
        token_ids: ``(B, T)`` int token ids, T <= ``config.context_length``.
        timeout: seconds before the subprocess is stopped (it imports a whole framework).

    Returns:
        A :class:`BackendResult`.

    Example:
    ```python
    result = run_gpt_under_backend("torch", model.config, model, ids)
    print(result.describe(reference=ops.convert_to_numpy(model(ids))))
    ```
    """
    if backend not in BACKENDS:
        return BackendResult(
            str(backend), "skipped",
            message=f"unknown backend; Keras 3 supports {', '.join(BACKENDS)}",
        )
    if not backend_installed(backend):
        return BackendResult(
            backend, "skipped",
            message=f"{BACKENDS[backend]} is not installed here (to try it: "
                    f"{INSTALL_HINTS[backend]})",
        )
    if not isinstance(config, dict):
        config = config.to_dict()
    if not isinstance(weights, dict):
        weights = export_weights(weights)
    ids = np.asarray(token_ids, dtype=np.int32)
    if ids.ndim != 2:
        raise ValueError(f"token_ids must be (batch, time), got shape {ids.shape}; add ids[None]")
    with tempfile.TemporaryDirectory(prefix="course_backend_") as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
        np.savez(folder / "weights.npz", **weights)
        np.save(folder / "token_ids.npy", ids)
        env = dict(os.environ, KERAS_BACKEND=backend)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
        # The child's first statement imports this module, and with it Keras, under the
        # KERAS_BACKEND of its environment.
        entry = ("from course_lib.chapters.ch12_tools import backend_worker; "
                 f"backend_worker({str(folder)!r})")
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-c", entry],
                env=env, capture_output=True, text=True, timeout=timeout, check=False,
            )
        except subprocess.TimeoutExpired:
            return BackendResult(backend, "failed", message=f"timed out after {timeout:.0f} s")
        seconds = time.perf_counter() - start
        logits_path = folder / "logits.npy"
        if proc.returncode != 0 or not logits_path.exists():
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            last = lines[-1] if lines else f"exit status {proc.returncode}"
            return BackendResult(backend, "failed", message=last, seconds=seconds)
        info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
        return BackendResult(
            backend, "ok", logits=np.load(logits_path),
            message=f"Keras {info['keras']} on {info['backend']} {info['version']}",
            seconds=seconds,
        )
