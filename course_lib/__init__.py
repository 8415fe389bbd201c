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

import os

# TensorFlow prints C++ log lines to stderr when it loads; in a notebook they become stored
# stderr outputs that hide the real ones. Quiet them unless the user asked for them. This must
# run before TensorFlow is imported, which is why it lives at the top of the package.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
