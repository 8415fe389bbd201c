# %% [markdown]
# # 12 · Tools: frameworks and libraries, and where the course uses them
#
# *Mirrors §7 of the source document (工具和资源推荐, "recommended tools and resources"): Hugging
# Face Transformers, TensorFlow, PyTorch, spaCy and NLTK.*
#
# The document names five tools. This chapter says what each one is for, where this course
# uses it or what takes its place, and then checks the claims that matter in code:
#
# 1. a map of the tools: what they do, which are installed here, what each needs to download;
# 2. the **same computation in raw TensorFlow and in Keras 3** (attention scores, then one
#    training step of the course GPT with `tf.GradientTape`), with identical numbers, and the
#    PyTorch version of the step for comparison;
# 3. the course GPT's forward pass run **under another Keras backend** (`KERAS_BACKEND=jax`,
#    `torch` or `tensorflow`) in a separate process, from the same weights;
# 4. **NLTK** for what it does without downloads (tokenizers, BLEU, n-gram language models),
#    compared with the course's own implementations, and where the two differ;
# 5. a table of what each tool fetches from the network and how the course copes without it.
#
# **Before you run it:** time: smoke ~1 min · cpu ~2 min (2 cores) · gpu ~2 min; memory: peak
# ~1.5 GB at cpu; data: `tinyshakespeare` (1.1 MB) (downloaded once, verified by SHA-256), and
# chapter 06's saved model in `notebooks/artifacts/` (a fresh random model stands in without it).

# %%
# NBVAL_IGNORE_OUTPUT
import importlib.metadata
import importlib.util
import math
from collections import Counter

import keras
import keras_hub
import matplotlib.pyplot as plt
import nltk
import numpy as np
import tensorflow as tf
from IPython.display import Markdown, display
from keras import ops

from course_lib import metrics
from course_lib.data import load_tiny_shakespeare
from course_lib.exercises import ch12 as ex
from course_lib.gpt import GPT, GPTConfig
from course_lib.layers import scaled_dot_product_attention
from course_lib.model_io import load_model
from course_lib.ngram_lm import NGramLM
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything
from course_lib.tokenizers import CharTokenizer
from course_lib.tooling.results import record_key_figures

SEED = seed_everything(12)
profile = active_profile()
print(f"seed {SEED}, profile {profile} ({profile.source}), Keras {keras.__version__} on "
      f"{keras.backend.backend()}")

# %% [markdown]
# The sizes are small everywhere: this chapter compares tools, it does not train. The `cpu`
# profile uses more text for the NLTK comparisons, so the timings mean something.

# %%
NLTK_TRAIN_WORDS = profile.pick(smoke=3_000, cpu=60_000, gpu=60_000)  # NLTK's n-gram model is slow
NLTK_TEST_WORDS = profile.pick(smoke=500, cpu=6_000, gpu=6_000)  # words scored by both models
BLEU_LINES = profile.pick(smoke=50, cpu=1_000, gpu=1_000)  # reference lines for the BLEU check
BACKEND_TOKENS = 64  # one full context window of chapter 06's model
SUBPROCESS_TIMEOUT = 300  # seconds; a fresh process imports a whole framework

# %% [markdown]
# ## 1. The tools, and where each one is in this course
#
# | tool | what it is for | in this course |
# |---|---|---|
# | **TensorFlow** | a tensor library with automatic differentiation, compiled graphs (XLA), input pipelines (`tf.data`), serving | the Keras backend of every chapter; `tf.data` feeds the training loops; TensorFlow Text runs keras-hub's subword tokenizers |
# | **Keras 3** (not in the document; since 2023 it runs on TensorFlow, JAX *or* PyTorch) | layers, models, `fit`, saving; one model code for three backends | every model: `course_lib.gpt`, `course_lib.encoder`, `course_lib.baselines` |
# | **PyTorch** | the other large tensor library; most research code and most published checkpoints | not installed; section 3 runs the course GPT on it when it is, and section 2 shows the same step in PyTorch code |
# | **Hugging Face Transformers** | thousands of pretrained models (BERT, GPT-2, T5, Llama …) with their tokenizers, mostly on PyTorch | not installed; **keras-hub** takes its place: the same architectures and tokenizers, in Keras 3 (chapter 09 checks our samplers against it; chapter 03 trains its WordPiece vocabulary) |
# | **spaCy** | fast production pipelines: tokenization, part-of-speech tags, named entities, dependency parses | not installed; the course's text cleaning (`course_lib.chapters.ch03_data_preparation`) and NLTK's rule-based tokenizers cover what the chapters need |
# | **NLTK** | the classic teaching toolkit: tokenizers, stemmers, corpora, BLEU, n-gram language models | installed; the reference that chapters 03, 07 and 09 check our tokenizers, BLEU and n-gram models against (section 4) |
#
# Which of them does this environment have? The versions come from the installed packages;
# `requirements.txt` pins the ones the course needs.

# %%
# NBVAL_IGNORE_OUTPUT
TOOLS = {  # tool -> (import name, distribution name)
    "TensorFlow": ("tensorflow", "tensorflow"),
    "Keras": ("keras", "keras"),
    "keras-hub": ("keras_hub", "keras-hub"),
    "PyTorch": ("torch", "torch"),
    "JAX": ("jax", "jax"),
    "Hugging Face Transformers": ("transformers", "transformers"),
    "spaCy": ("spacy", "spacy"),
    "NLTK": ("nltk", "nltk"),
    "sacrebleu": ("sacrebleu", "sacrebleu"),
    "scikit-learn": ("sklearn", "scikit-learn"),
}
rows = ["| tool | installed here |", "|---|---|"]
for tool, (module, dist) in TOOLS.items():
    if importlib.util.find_spec(module) is None:
        rows.append(f"| {tool} | no |")
    else:
        rows.append(f"| {tool} | {importlib.metadata.version(dist)} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## 2. The same computation in TensorFlow and in Keras 3
#
# Keras 3 is a layer *above* the tensor libraries: `keras.ops.matmul` calls `tf.matmul` on the
# TensorFlow backend, `jax.numpy.matmul` on JAX and `torch.matmul` on PyTorch. Code written with
# `keras.ops` runs on all three; code that calls `tf.*` directly runs only on TensorFlow. So,
# on TensorFlow, the two must give the same numbers. First the attention scores of chapter 04,
# softmax(QKᵀ/√d), three ways: raw TensorFlow, `keras.ops`, and the course's layer function.

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
q_np = rng.normal(size=(2, 4, 6, 8)).astype("float32")  # (B, H, T, D)
k_np = rng.normal(size=(2, 4, 6, 8)).astype("float32")
v_np = rng.normal(size=(2, 4, 6, 8)).astype("float32")

# Raw TensorFlow: the formula with tf.* calls.
scores_tf = tf.nn.softmax(tf.matmul(q_np, k_np, transpose_b=True) / math.sqrt(8), axis=-1)
# Keras 3: the same formula with backend-neutral ops.
scores_keras = ops.softmax(ops.matmul(q_np, ops.swapaxes(k_np, -1, -2)) / math.sqrt(8), axis=-1)
# The course's layers (chapter 04), which scale q before the product.
_, scores_course = scaled_dot_product_attention(q_np, k_np, v_np)

diff_keras = np.max(np.abs(scores_tf.numpy() - ops.convert_to_numpy(scores_keras)))
diff_course = np.max(np.abs(scores_tf.numpy() - ops.convert_to_numpy(scores_course)))
print("attention weights (2, 4, 6, 6): raw TF vs keras.ops, max |diff| < 1e-6:", diff_keras < 1e-6)
print("attention weights (2, 4, 6, 6): raw TF vs course_lib, max |diff| < 1e-6:", diff_course < 1e-6)
print("control, without the 1/sqrt(d) scale, max |diff| < 1e-6:",
      np.max(np.abs(scores_tf.numpy() - tf.nn.softmax(q_np @ np.swapaxes(k_np, -1, -2)).numpy()))
      < 1e-6)

# %% [markdown]
# Now a whole training step. Chapter 06 lists five steps: forward pass, loss, gradients,
# update, repeat. Keras hides them in `fit` / `train_on_batch`; raw TensorFlow writes them out
# with `tf.GradientTape`, which records the forward pass and differentiates it. We start two
# copies of a small course GPT from the same weights, take one step of plain SGD on the same
# batch both ways, and compare the loss and every updated weight.

# %%
# NBVAL_CHECK_OUTPUT
tiny = GPTConfig(vocab_size=65, context_length=16, num_layers=2, num_heads=2, width=32)
LEARNING_RATE = 0.5  # large, so that the update is big enough to see in the weights
x = np.random.default_rng(1).integers(0, 65, size=(4, 17)).astype("int32")
inputs, targets = x[:, :-1], x[:, 1:]  # targets = inputs shifted by one token

seed_everything(0)
keras_model = GPT(tiny)
tf_model = GPT(tiny)
tf_model.set_weights(keras_model.get_weights())  # identical starting points
before = [w.copy() for w in keras_model.get_weights()]

# Keras 3: compile once, then one step.
keras_model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
keras_loss = float(keras_model.train_on_batch(inputs, targets))

# Raw TensorFlow: forward pass under the tape, loss, gradients, update.
with tf.GradientTape() as tape:
    logits = tf_model(inputs, training=True)  # (B, T, V)
    tf_loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits))
grads = tape.gradient(tf_loss, tf_model.trainable_variables)
for variable, grad in zip(tf_model.trainable_variables, grads, strict=True):
    # An embedding lookup's gradient arrives as tf.IndexedSlices (only the rows used);
    # make it a dense tensor before the update.
    variable.assign_sub(LEARNING_RATE * tf.convert_to_tensor(grad))

weight_diff = max(np.max(np.abs(a - b)) for a, b in
                  zip(keras_model.get_weights(), tf_model.get_weights(), strict=True))
moved = max(np.max(np.abs(a - b)) for a, b in zip(before, tf_model.get_weights(), strict=True))
print(f"loss before the step: Keras {keras_loss:.4f}, TensorFlow {float(tf_loss):.4f}, "
      f"ln V = {math.log(65):.4f}")
print("losses agree to 1e-6:", abs(keras_loss - float(tf_loss)) < 1e-6)
print("every weight after the step agrees to 1e-6:", weight_diff < 1e-6)
print("control, the step moved the weights by more than 1e-3:", moved > 1e-3)

# %% [markdown]
# The numbers agree: `fit` is this loop, with the optimizer's bookkeeping (learning-rate
# schedule, weight decay, gradient clipping, mixed-precision loss scaling) added. The loss
# starts at ln V ≈ 4.17, the loss of a uniform guess, as chapter 06 predicts for a fresh model.
#
# The same step in **PyTorch** looks like this (not run here: PyTorch is not installed). The
# shapes and the order of the five steps are the same; the differences are spelling:
# `loss.backward()` fills each parameter's `.grad` instead of a tape returning the gradients,
# and `cross_entropy` wants the class axis second.
#
# ```python
# import torch
# import torch.nn.functional as F
#
# logits = model(inputs)                                  # (B, T, V)
# loss = F.cross_entropy(logits.transpose(1, 2), targets)  # mean over B·T tokens
# loss.backward()                                          # gradients into p.grad
# with torch.no_grad():
#     for p in model.parameters():
#         p -= learning_rate * p.grad
#         p.grad = None
# ```
#
# ## 3. One model, three backends
#
# A Keras 3 model written with `keras.ops` only should compute the same function on every
# backend. The backend is fixed when Keras is imported, so we cannot switch inside this
# notebook. We can start a fresh Python process with `KERAS_BACKEND` set, build the same GPT
# there, give it our weights and our input, and read back its logits. The code for that is the
# one piece of this chapter that later work imports, so it also becomes a module,
# `course_lib/chapters/ch12_tools.py`.
#
# The folded cell below starts that module: its description and imports (which serve the
# notebook too: `time`, `Path`, `course_lib`), the list of backends with the command that
# installs each, and `BackendResult`, the small record a run returns (its status, the logits,
# a one-line message, the time taken) with `max_abs_diff` and `describe` for the report. Open
# it if you like.

# %% [export] fold
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

# %% [markdown]
# **The weights travel as plain arrays.** A `.keras` file would do, but NumPy arrays say more
# plainly what is transferred: one array per weight, in the order Keras created them (which is
# deterministic for a given configuration), named by their path inside the model. The other
# process builds a GPT from the same configuration and assigns the arrays in that order,
# checking each shape, so a mismatch names the weight that does not fit instead of failing
# somewhere inside a matrix product.

# %% [export]
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

# %% [markdown]
# **The other process.** `backend_worker` is all the child process runs: it reads the folder
# the parent wrote (`config.json`, `weights.npz`, `token_ids.npy`), builds the GPT, loads the
# weights, computes the logits and writes them back with the versions that ran. The child's
# Keras was imported under the child's `KERAS_BACKEND`, so the same lines run on JAX or
# PyTorch there.

# %% [export]
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

# %% [markdown]
# **This process.** `run_gpt_under_backend` writes the folder, starts the child with
# `KERAS_BACKEND` set (and `PYTHONPATH` pointing at this checkout, so it imports the same
# `course_lib`), waits for it, and reads the logits back. A backend that is not installed is
# reported as skipped, with the command that installs it; a crash as failed, with the last
# line of the child's error.

# %% [export]
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

# %% [markdown]
# The model is chapter 06's Shakespeare GPT (a random one of the same size when that file is
# missing). The check that always runs is the TensorFlow backend in a subprocess: it must
# reproduce this process's logits to float32 rounding (a largest difference below 1e-4), which
# proves the mechanism (configuration, weight transfer, input) is faithful. Not exactly: on a
# CPU, TensorFlow's oneDNN kernels may add a matmul's products in another order in another
# process, and the last bits of a float32 can change (logits near 10 carry about 1e-6 of
# rounding each, a little more after four blocks). JAX and PyTorch run when they are
# installed; their kernels sum in their own order, so expect differences of that size too.

# %%
# NBVAL_IGNORE_OUTPUT
REPO = Path(course_lib.__file__).resolve().parents[1]
text = load_tiny_shakespeare()
saved_model = REPO / "notebooks" / "artifacts" / "shakespeare_gpt.keras"
saved_tokenizer = REPO / "notebooks" / "artifacts" / "shakespeare_char_tokenizer.json"
if saved_model.exists() and saved_tokenizer.exists():
    char_tokenizer = CharTokenizer.load(saved_tokenizer)
    shakespeare = load_model(saved_model)
    print(f"chapter 06's model from {saved_model.relative_to(REPO)}")
else:
    char_tokenizer = CharTokenizer.from_text(text)
    seed_everything(6)
    shakespeare = GPT(GPTConfig.nanogpt_cpu(char_tokenizer.vocab_size))
    print("chapter 06's model is missing: a random model of the same size stands in")
ids = char_tokenizer.encode(text[:BACKEND_TOKENS])[None, :]  # (1, T): the play's opening
here = ops.convert_to_numpy(shakespeare(ids, training=False))  # (1, T, V)
print(f"{shakespeare.count_params():,} parameters; logits {here.shape} computed here")

# %%
# NBVAL_CHECK_OUTPUT
tf_run = run_gpt_under_backend("tensorflow", shakespeare.config, shakespeare, ids,
                               timeout=SUBPROCESS_TIMEOUT)
print("TensorFlow backend in a subprocess ran:", tf_run.ok)
print("its logits match this process's to float32 rounding:", tf_run.max_abs_diff(here) < 1e-4)

# %%
# NBVAL_IGNORE_OUTPUT
results = {"tensorflow": tf_run}
for name in ("jax", "torch"):
    results[name] = run_gpt_under_backend(name, shakespeare.config, shakespeare, ids,
                                          timeout=SUBPROCESS_TIMEOUT)
for result in results.values():
    print(result.describe(reference=here))

# %% [markdown]
# When JAX or PyTorch is missing, the line says so and how to install it; nothing else changes.
# A subprocess costs seconds, most of it importing the framework, which is why the course
# trains on one backend and only checks the others.
#
# **What does not carry over between backends.** `keras.ops`, Keras layers and `model.fit`
# do. Direct `tf.*` calls inside a model, `tf.function` decorators and `tf.Variable`s do not;
# `tf.data` pipelines do (Keras converts their batches). That is why the course's model code
# uses `keras.ops` (chapter 04) and keeps TensorFlow to input pipelines and tokenizers.
#
# One more claim worth checking: keras-hub plays the part of Hugging Face Transformers here.
# Its `GPT2Backbone`, built from a configuration (random weights, so nothing is downloaded),
# is the same architecture as the course GPT: at the same sizes it has exactly as many
# parameters.

# %%
# NBVAL_CHECK_OUTPUT
cpu_config = GPTConfig.nanogpt_cpu(65)
gpt2 = keras_hub.models.GPT2Backbone(
    vocabulary_size=65, num_layers=4, num_heads=4, hidden_dim=128, intermediate_dim=512,
    dropout=0.0, max_sequence_length=64)
print(f"keras-hub GPT2Backbone: {gpt2.count_params():,} parameters; course GPT: "
      f"{cpu_config.num_parameters():,}; equal: {gpt2.count_params() == cpu_config.num_parameters()}")

# %% [markdown]
# ## 4. NLTK without downloads
#
# NLTK's code comes with `pip install nltk`; much of its *data* (sentence-splitting models,
# stop-word lists, WordNet, corpora) must be fetched separately with `nltk.download(...)`. The
# most famous function, `nltk.word_tokenize`, needs one of those downloads (the Punkt sentence
# splitter). Does this machine have it?

# %%
# NBVAL_IGNORE_OUTPUT
for resource in ("tokenizers/punkt_tab", "corpora/stopwords", "corpora/wordnet"):
    try:
        nltk.data.find(resource)
        print(f"{resource:>22}: downloaded")
    except LookupError:
        print(f"{resource:>22}: not downloaded (nltk.download('{resource.split('/')[1]}'))")
try:
    print(nltk.word_tokenize("Don't stop, it's fine."))
except LookupError:
    print("nltk.word_tokenize: LookupError, it needs 'punkt_tab'; the tokenizers below do not")

# %% [markdown]
# `word_tokenize` is Punkt sentence splitting followed by the Treebank word tokenizer, which
# is pure regular expressions and needs no data. So are `RegexpTokenizer` and
# `wordpunct_tokenize`. Chapter 03 compares them; here they meet the course's own: the `13a`
# tokenizer of BLEU (`course_lib.metrics.tokenize_13a`) and the word splitter of chapter 09's
# diversity metrics (`course_lib.metrics.word_tokens`, which is `wordpunct_tokenize`).

# %%
# NBVAL_CHECK_OUTPUT
from nltk.tokenize import RegexpTokenizer, TreebankWordTokenizer, wordpunct_tokenize

line = "Don't stop, it's fine: 3.50 each -- isn't it?"
print("treebank   :", TreebankWordTokenizer().tokenize(line))
print("wordpunct  :", wordpunct_tokenize(line))
print("regexp \\w+ :", RegexpTokenizer(r"\w+").tokenize(line))
print("BLEU 13a   :", metrics.tokenize_13a(line).split())
lines = [ln for ln in text.split("\n") if ln.strip()][:2000]
print("course word_tokens == NLTK wordpunct_tokenize on 2,000 lines:",
      all(metrics.word_tokens(ln) == wordpunct_tokenize(ln) for ln in lines))

# %% [markdown]
# Four tokenizers, four answers: Treebank splits "Don't" into "Do" + "n't" (the Penn Treebank
# convention that parsers expect), `wordpunct` splits at every change between letters and
# punctuation, `\w+` drops punctuation, and `13a` keeps "3.50" whole and splits "Don't" at
# the apostrophe. BLEU scores depend on which one you use, which is why sacrebleu fixes it.
#
# **BLEU.** Chapter 07 checks `course_lib.metrics.corpus_bleu` against sacrebleu and NLTK. We
# make a "system" by dropping one word from each of many lines of Shakespeare and score it
# with both. NLTK's `corpus_bleu` returns 0–1 and does no smoothing; ours, with
# `smooth="none"`, returns 0–100.

# %%
# NBVAL_CHECK_OUTPUT
from nltk.translate.bleu_score import corpus_bleu as nltk_corpus_bleu

bleu_rng = np.random.default_rng(3)
references = [ln.strip() for ln in text.split("\n") if len(ln.split()) >= 6][:BLEU_LINES]
hypotheses = []
for ref in references:
    words = ref.split()
    del words[bleu_rng.integers(len(words))]  # the system forgets one word per line
    hypotheses.append(" ".join(words))
ours = metrics.corpus_bleu(hypotheses, references, smooth="none").score
theirs = 100 * nltk_corpus_bleu([[r.split()] for r in references], [h.split() for h in hypotheses])
print(f"lines of 6+ words: course_lib and NLTK x 100 agree to 1e-9: {abs(ours - theirs) < 1e-9}")
mixed_hyps = ["the cat sat on the mat today", "a dog ran in the park", "he is here"]
mixed_refs = ["the cat sat on a mat", "the dog ran in the big park", "he was here"]
ours_mixed = metrics.corpus_bleu(mixed_hyps, mixed_refs, smooth="none").score
nltk_mixed = 100 * nltk_corpus_bleu([[r.split()] for r in mixed_refs], [h.split() for h in mixed_hyps])
print(f"with one 3-word hypothesis: course_lib {ours_mixed:.2f}, NLTK {nltk_mixed:.2f}")

# %% [markdown]
# On lines long enough to have 4-grams, the two agree to the last digit. Add one hypothesis
# of three words and they part: it has no 4-gram at all. sacrebleu (and the course) add 0
# matches out of 0 4-grams to the corpus totals; NLTK divides each sentence's counts by
# `max(1, count)`, so it adds 0 matches out of **1**, which lowers the pooled 4-gram precision
# and the score. Neither is "right"; it is a convention, and a reason to report which BLEU you
# used (sacrebleu prints a signature for exactly this).
#
# **n-gram language models.** `nltk.lm` has maximum-likelihood, Laplace, Lidstone and
# Kneser-Ney models over words. Chapter 07 checks the course's `NGramLM` against NLTK's
# Lidstone on characters; here a word bigram model with Laplace smoothing (add one) on Tiny
# Shakespeare, both given the same vocabulary, and the time each takes.

# %%
# NBVAL_IGNORE_OUTPUT
from nltk.lm import Laplace
from nltk.util import everygrams, ngrams

treebank = TreebankWordTokenizer()
all_words = [w.lower() for ln in text.split("\n") for w in treebank.tokenize(ln)]
train_words = all_words[:NLTK_TRAIN_WORDS]
test_words = all_words[NLTK_TRAIN_WORDS:NLTK_TRAIN_WORDS + NLTK_TEST_WORDS]
vocab = sorted(set(train_words) | set(test_words))  # a closed vocabulary: no unknown words

start = time.perf_counter()
nltk_lm = Laplace(2)
nltk_lm.fit([list(everygrams(train_words, max_len=2))], vocabulary_text=vocab)
nltk_ppl = nltk_lm.perplexity(list(ngrams(test_words, 2)))
nltk_seconds = time.perf_counter() - start

word_id = {w: i for i, w in enumerate(vocab)}
start = time.perf_counter()
# NLTK adds an <UNK> entry to the vocabulary; ours gets the same size so the smoothing matches.
course_lm = NGramLM(2, len(nltk_lm.vocab), k=1.0).fit([word_id[w] for w in train_words])
course_ppl = course_lm.perplexity([word_id[w] for w in test_words])
course_seconds = time.perf_counter() - start
print(f"{len(train_words):,} training words, {len(test_words):,} test words, "
      f"vocabulary {len(nltk_lm.vocab):,}")
print(f"NLTK Laplace bigram:   perplexity {nltk_ppl:8.2f} in {nltk_seconds:6.2f} s")
print(f"course NGramLM (k = 1): perplexity {course_ppl:8.2f} in {course_seconds:6.2f} s "
      f"({nltk_seconds / course_seconds:.0f}x faster)")

# %%
# NBVAL_CHECK_OUTPUT
print("word bigram perplexities agree to 1e-9:", math.isclose(nltk_ppl, course_ppl, rel_tol=1e-9))
print("control, add-0.5 instead of add-1 differs:",
      not math.isclose(NGramLM(2, len(nltk_lm.vocab), k=0.5).fit(
          [word_id[w] for w in train_words]).perplexity([word_id[w] for w in test_words]),
          nltk_ppl, rel_tol=1e-3))

# %% [markdown]
# Same numbers, different speed: NLTK counts n-grams in Python dictionaries, one at a time;
# `NGramLM` sorts integer codes of all n-grams with NumPy at once. NLTK is the clear,
# readable reference; the course's version is what lets chapter 07 score a million
# characters in a second. And note the perplexity: a word bigram model with add-one smoothing
# is a poor model of Shakespeare (hundreds of equally likely next words), which is the gap
# the neural models of chapters 06 and 09 close.
#
# ## 5. What needs the network, and how the course copes
#
# | tool | what it downloads, besides the `pip` package | how this course handles it |
# |---|---|---|
# | TensorFlow, Keras, PyTorch, JAX | nothing (datasets in `tf.keras.datasets` or `torchvision` download when you ask for them) | pinned wheels in `requirements.txt`; the course's data come from its own registry |
# | Hugging Face Transformers | model weights and tokenizers from the Hub (`from_pretrained`: hundreds of MB to many GB); datasets from the Hub | not used: the course trains its own small models; architectures come from configurations, as the `GPT2Backbone` above, with nothing downloaded |
# | keras-hub | `from_preset(...)` downloads weights and vocabularies (from Kaggle or the Hub) | called in two places only: chapter 08 loads BERT-tiny presets when Kaggle is reachable (and skips that cell offline), chapter 15 loads a Gemma 3 preset (which needs a Kaggle account and the accepted Gemma license, or a preset folder on disk); everywhere else tokenizers are trained locally (chapter 03, 09) and models are built from configurations |
# | spaCy | trained pipelines (`python -m spacy download en_core_web_sm`, about 12 MB; the larger ones hundreds of MB) | not used; `spacy.blank("en")` would give its rule-based tokenizer offline |
# | NLTK | data packages via `nltk.download(...)`: Punkt (needed by `word_tokenize` and `sent_tokenize`), stop words, WordNet, corpora | only what needs no data: Treebank/regexp tokenizers, BLEU, `nltk.lm`, `nltk.util.ngrams` |
# | sacrebleu | WMT test sets, only when asked for with `-t` | hypotheses and references are passed in directly |
# | the course's datasets | each file once, from its URL in `datasets/registry.json` | checked against its SHA-256; a local mirror (`COURSE_DATA_DIR`) or the cache means no network after the first run |
#
# A course that must work offline, in a classroom or on a cluster without internet, has three
# options: mirror the files (what `COURSE_DATA_DIR` does), pre-fetch them into a cache
# (`python -m course_lib.data download`), or avoid them (what the course does for pretrained
# weights in its main line, at the price of models that are small and trained for minutes;
# the two `from_preset` calls above are the exceptions, and each says so and carries on, or
# reads a local folder, when the hub cannot be reached).

# %% [record]
# NBVAL_IGNORE_OUTPUT
installed = {tool: importlib.util.find_spec(module) is not None for tool, (module, _) in TOOLS.items()}
fig, ax = plt.subplots(figsize=(7, 2.6))
names = ["raw TF vs Keras\n(attention)", "raw TF vs Keras\n(training step)",
         "TF subprocess\nvs here"]
diffs = [max(diff_keras, 1e-12), max(weight_diff, 1e-12), max(tf_run.max_abs_diff(here), 1e-12)]
ax.barh(names, diffs, color="tab:blue")
ax.set_xscale("log")
ax.set_xlim(1e-13, 1e-3)
ax.axvline(1e-6, color="tab:red", ls="--", label="tolerance 1e-6")
ax.set_xlabel("max |difference| (0 drawn at 1e-12)")
ax.legend(loc="lower right", fontsize=8)
ax.set_title("Same computation, different code paths", fontsize=10)
fig.tight_layout()
plt.show()
record_key_figures("12", {
    "train step max diff (TF vs Keras)": float(weight_diff),
    "TF subprocess logits max diff": float(tf_run.max_abs_diff(here)),
    "NLTK bigram seconds": round(nltk_seconds, 3),
    "course bigram seconds": round(course_seconds, 3),
    "word bigram perplexity": round(course_ppl, 2),
    "backends run": float(sum(r.ok for r in results.values())),
})
print("installed:", ", ".join(t for t, ok in installed.items() if ok))

# %% [markdown]
# ## What to take away
#
# - Keras 3 sits on top of TensorFlow, JAX or PyTorch; its `fit` is the `GradientTape` loop of
#   section 2 with bookkeeping added, to the last digit.
# - The same Keras model, weights and input give the same logits in another process; on
#   another backend, the same up to float rounding (when that backend is installed).
# - keras-hub covers what the document uses Hugging Face Transformers for, in Keras; NLTK is
#   a good reference and a slow workhorse; spaCy is for production pipelines the course does
#   not need.
# - Every tool that ships pretrained weights or data downloads them at run time; know which,
#   and pin or mirror them.
#
# ## Exercises
#
# **Exercise 1 (warm-up).** In the toy corpus below, what probability does a bigram model
# with Laplace (add-one) smoothing give to "sat" after "cat"? The vocabulary is the distinct
# words of the corpus.

# %%
print(ex.TOY_CORPUS)
answer_laplace = None  # your answer, a number between 0 and 1
ex.check_laplace_probability(answer_laplace)

# %% [markdown]
# **Exercise 2.** Score the hypotheses against the references below with NLTK's
# `corpus_bleu` (token lists, no smoothing), on the scale this course uses (0–100).

# %%
print(ex.BLEU_HYPOTHESES, ex.BLEU_REFERENCES, sep="\n")
answer_nltk_bleu = None  # your answer, e.g. 100 * nltk_corpus_bleu(...)
ex.check_nltk_bleu(answer_nltk_bleu)

# %% [markdown]
# **Exercise 3.** Which of these calls need data that `pip install` does not bring (a download
# at run time)? Answer with the set of their letters, e.g. `{"a", "c"}`.

# %%
for letter, call in ex.CALLS.items():
    print(f"{letter}) {call}")
answer_downloads = None  # your answer: a set of letters
ex.check_downloads(answer_downloads)

# %% [markdown]
# **Exercise 4 (harder).** Write one SGD step of a linear softmax classifier in raw
# TensorFlow: given weights `w` (features × classes), bias `b` (classes), a batch `x`, integer
# labels `y` and a learning rate, return the new `(w, b)` after one step on the mean
# cross-entropy. The check compares it with Keras's `Dense` layer trained by `train_on_batch`.

# %%
def sgd_step(w, b, x, y, learning_rate):
    """One SGD step with tf.GradientTape; returns (new_w, new_b) as NumPy arrays."""
    return None  # your code


ex.check_sgd_step(sgd_step)
