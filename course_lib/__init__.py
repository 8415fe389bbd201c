"""course_lib: the Keras 3 library behind the course "How large language models are trained".

Four parts, and imports point one way only (tests/test_architecture.py checks it): the core
imports nothing above it; chapter modules import the core and earlier chapters; exercises and
tooling import what they check or run.

**The core**: what two or more chapters share, one module per concern.

- Running a chapter: ``profiles`` (smoke / cpu / gpu and ``pick``), ``reproducibility`` (one
  seeding helper), ``files`` (atomic writes).
- Data: ``data`` (the dataset registry, the verified loader, format readers), ``tokenizers``
  (character and byte-level BPE), ``lm_data`` (``tf.data`` windows for language modelling),
  ``text_features`` (bag-of-words, TF-IDF, cosine similarity).
- Models: ``config`` (the checks every model config shares), ``layers`` (attention, position
  embeddings, the one Transformer block, with optional cross-attention), ``gpt`` (the GPT),
  ``encoder`` (a BERT-style encoder, its classifier, the encoder-decoder), ``baselines``
  (LSTM, GRU and CNN models sized to a parameter budget), ``ngram_lm`` (n-gram language
  models).
- Training and use: ``training`` (schedules, AdamW, the trainer with checkpoints and exact
  resume), ``memory`` (memory estimates before training), ``model_io`` (safe model loading and
  input checks), ``generation`` (the one decoding module: sampling, batched sampling, beam
  search, perplexity, for the GPT and the encoder-decoder alike), ``pretraining`` (the course
  foundation model: its corpus and held-out rules, resumable pretraining, the verified loader).
- Measuring: ``metrics`` (cross-entropy, perplexity, accuracy/F1, BLEU, ROUGE, bootstrap
  intervals, diversity of generated text), ``plots``.

**The chapters**: ``course_lib.chapters.chNN_<topic>``, the code one chapter writes, generated
from the ``[export]`` cells of its notebook (see ``course_lib.chapters``).

**The exercises**: ``course_lib.exercises.chNN``, each chapter's self-checks, and
``course_lib.exercises.checks``, the verdicts they share.

**The tooling**: ``course_lib.tooling`` (the course runner behind ``python -m course_lib run``,
run records and key figures, the environment report); the notebook build and the slide export
live in ``tools/``.
"""

import importlib.util
import os
import sys

# TensorFlow prints C++ log lines to stderr when it loads; in a notebook they become stored
# stderr outputs that hide the real ones. Quiet them unless the user asked for them. This must
# run before TensorFlow is imported, which is why it lives at the top of the package.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Speed on a CPU (measured in benchmarks/README.md): oneDNN's kernels stay on (TensorFlow's
# default on x86; earlier versions of the course turned them off), and TensorFlow runs one
# graph op at a time, each on every core. A compiled training step is one op, so a second
# inter-op thread only competes with it for the cores; on 2 cores it cost 10-20% per step.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
# XLA's CPU runtime: the classic one (not the newer "thunk" runtime) runs the many tiny ops of
# a small model with less overhead per op; generating with chapter 06's model was 25-40%
# faster with it, training steps no slower.
if "xla_cpu_use_thunk_runtime" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_use_thunk_runtime=false"
    ).strip()
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _load_tensorflow_quietly() -> None:
    # While it loads, TensorFlow writes a few INFO lines ("oneDNN custom operations are on",
    # "Could not find cuda drivers") straight to file descriptor 2, before TF_CPP_MIN_LOG_LEVEL
    # takes effect; in a notebook they become a stderr block under the first cell. Load it
    # once with that descriptor pointed at /dev/null (Python errors still raise as usual).
    if (os.environ["KERAS_BACKEND"] != "tensorflow" or "tensorflow" in sys.modules
            or os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
            or importlib.util.find_spec("tensorflow") is None):
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_load_tensorflow_quietly()

__version__ = "0.1.0"
