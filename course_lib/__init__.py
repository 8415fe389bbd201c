"""course_lib: the Keras 3 library behind the course "How large language models are trained".

Each module holds one concern; the notebooks import from here rather than copying code:

- ``course_lib.profiles``: the run profile (smoke / cpu / gpu) and ``pick``.
- ``course_lib.reproducibility``: one seeding helper for Python, NumPy, TensorFlow and Keras.
- ``course_lib.data``: the dataset registry, the verified loader and format readers.
- ``course_lib.tokenizers``: character and subword tokenizers that round-trip.
- ``course_lib.lm_data``: ``tf.data`` pipelines of (x, y) windows for language modelling.
- ``course_lib.layers``: attention, position embeddings and the Transformer block.
- ``course_lib.gpt``: the GPT configuration and model.
- ``course_lib.training``: schedules, the trainer with checkpoints and resume.
- ``course_lib.generation``: sampling strategies and the key/value-cached decoder.
- ``course_lib.tooling.environment``, ``course_lib.chapters.ch00_welcome``: the environment report and glossary of
  chapter 00.
- ``course_lib.chapters.ch01_foundations``: a two-layer network by hand, finite differences, parameter counts.
- ``course_lib.text_features``: bag-of-words, TF-IDF and cosine similarity.
- ``course_lib.chapters.ch02_representations``: Word2Vec (skip-gram, negative sampling), GloVe, their evaluation.
- ``course_lib.chapters.ch03_data_preparation``, ``course_lib.chapters.ch03_data_preparation``: composable cleaning steps; stratified splits.
- ``course_lib.encoder``: a BERT-style encoder and an encoder-decoder Transformer.
- ``course_lib.baselines``: LSTM, GRU and 1-D CNN models sized to a parameter budget.
- ``course_lib.metrics``, ``course_lib.ngram_lm``: perplexity, accuracy/F1, BLEU, ROUGE,
  bootstrap intervals; n-gram baseline language models.
- ``course_lib.plots``: loss curves, learning-rate schedules, confusion matrices.
- ``course_lib.model_io``, ``course_lib.memory``: safe model loading and input checks; memory
  estimates before training.
- ``course_lib.chapters.ch08_text_classification``: WordPiece for the classifier, masked-language-model
  pretraining, fine-tuning and prediction (chapter 08).
- ``course_lib.chapters.ch10_translation_and_summarization``: sentence-pair pipelines, training, beam search for the encoder-decoder;
  extractive summarization baselines (chapter 10).
- ``course_lib.chapters.ch11_question_answering``: the SQuAD metric, WordPiece with offsets, stride windows, the span model and
  its decoding, a lexical baseline (chapter 11).
- ``course_lib.chapters.ch12_tools``: the course GPT under another Keras backend, in a subprocess;
  ``course_lib.chapters.ch14_faq``: 6·N·D training-time estimates and loss-curve diagnoses (chapters 12, 14).
- ``course_lib.chapters.ch13_challenges``, ``course_lib.chapters.ch13_challenges``, ``course_lib.chapters.ch13_challenges``,
  ``course_lib.chapters.ch13_challenges``: FLOP and memory counts with power-law fits, knowledge
  distillation, WEAT and template probes, integrated gradients and controlled generation
  (chapter 13).
- ``course_lib.tooling.results``: per-profile records and each chapter's key figures;
  ``course_lib.tooling.runner``: ``python -m course_lib run``, which executes chapters and writes
  ``RESULTS.md``.
- ``course_lib.exercises*``: the self-checks at the end of each chapter.
"""

import os

# TensorFlow prints C++ log lines to stderr when it loads; in a notebook they become stored
# stderr outputs that hide the real ones. Quiet them unless the user asked for them. This must
# run before TensorFlow is imported, which is why it lives at the top of the package.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
