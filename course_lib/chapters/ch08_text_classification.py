# Generated from notebooks/src/08_text_classification.py (notebooks/08_text_classification.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""The BERT recipe that chapter 08 writes (notebooks/08_text_classification.ipynb).

Text classification at course scale: a WordPiece vocabulary learned from the course's own
text, a preprocessing layer that adds ``[CLS]``/``[SEP]``/``[PAD]``, the classification head on
the ``[CLS]`` vector, masked-language-model (MLM) pretraining of
``course_lib.encoder.TransformerEncoder`` with an output layer tied to the input embeddings,
fine-tuning and prediction helpers, and a GloVe-initialised baseline. The model the chapter
trains is ``course_lib.encoder.TransformerClassifier`` (core: chapter 05 uses it too); its head
is exactly :class:`ClassificationHead`, which the chapter checks with copied weights.

- ``ClassificationHead``: encoder output ``(B, T, C)`` → ``[CLS]`` vector → dropout → logits.
- ``MaskedLMHead``, ``masked_lm_loss``, ``MaskedLMPretrainer``: BERT's pretraining task: predict
  the hidden tokens; the loss counts the hidden positions only.
- ``bert_mask``, ``mlm_dataset``: hide 15% of the tokens as BERT does, drawn from a seed (so
  two runs see the same masks).
- ``copy_encoder_weights``: pretrained encoder → the encoder inside a ``TransformerClassifier``.
- ``train_wordpiece_vocabulary``, ``SentencePreprocessor``: strings → ``(B, T)`` ids
  ``[CLS] w1 w2 … [SEP] [PAD] …`` (a Keras layer that saves with its vocabulary).
- ``classification_dataset``, ``predict_proba``, ``describe_predictions``,
  ``evaluate_predictions``: fine-tuning input, class probabilities, accuracy/F1 with bootstrap
  intervals.
- ``glove_embedding_matrix``: an embedding table whose rows are GloVe vectors where known.
- ``load_preset_classifier``: keras-hub's ``BertTextClassifier.from_preset`` for a pinned
  preset version (cached copies checked against their first download) or a local preset
  folder, failing fast offline.

Shapes: B = batch, T = sequence length, P = masked positions per sequence, C = width,
V = vocabulary.

Example:

>>> vocab = train_wordpiece_vocabulary(["a great movie", "a dull movie"] * 5, 50)
>>> vocab[:5]
['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
>>> pre = SentencePreprocessor(vocab, sequence_length=8)
>>> pre.decode(pre(["A great movie!"])[0])
'[CLS] a great movie [UNK] [SEP]'
>>> config = EncoderConfig(len(vocab), max_length=8, num_layers=1, num_heads=2, width=16)
>>> vectors = TransformerEncoder(config)(pre(["a dull movie"]))
>>> tuple(ClassificationHead(num_classes=2)(vectors).shape)
(1, 2)
>>> uniform = np.zeros((1, 2, 4))  # equal scores for V = 4 tokens: the loss is ln 4
>>> round(float(masked_lm_loss(np.array([[3, 0]]), uniform, np.array([[1.0, 0.0]]))), 4)
1.3863
"""

import hashlib
import json
import os
import socket
from pathlib import Path

import keras
import keras_hub
import numpy as np
import tensorflow as tf
from keras import ops
from keras_hub.src.tokenizers.word_piece_tokenizer import pretokenize
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

from course_lib.config import check_positive_int
from course_lib.encoder import EncoderConfig, TransformerEncoder
from course_lib.layers import default_initializer
from course_lib.metrics import accuracy, bootstrap_ci, f1_score
from course_lib.model_io import ConfigSerialization

# BERT's special tokens, in the id order used throughout the chapter: [PAD] = 0 so that the
# encoder's default pad_id works, [UNK] for pieces the vocabulary lacks.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
LABELS = ("negative", "positive")  # rt-polarity: 0 = negative, 1 = positive


# The keras-hub presets this chapter may download, each pinned to one version of its Kaggle
# model (a bare preset name follows whatever keras-hub maps it to).
PRESET_VERSIONS = {"bert_tiny_en_uncased_sst2": 5, "bert_tiny_en_uncased": 3}
PRESET_HOST = "www.kaggle.com"


def _kagglehub_folder(preset, version):
    cache = Path(os.environ.get("KAGGLEHUB_CACHE", Path.home() / ".cache" / "kagglehub"))
    return cache / "models" / "keras" / "bert" / "keras" / preset / str(version)


def _record_path(preset, version):
    root = Path(os.environ.get("COURSE_CACHE_DIR") or Path.home() / ".cache" / "course_lib")
    return root / "presets" / f"{preset}-{version}.sha256.json"


def preset_digests(folder):
    """SHA-256 of every file of a preset folder, by relative path.

    Example:
    ```python
    preset_digests("/tmp/tiny_bert")  # {"config.json": "3f…", "model.weights.h5": "9a…", …}
    ```
    """
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def check_preset_files(folder, record):
    """Compares a preset folder with the digests recorded when it was first downloaded.

    Returns a list of problems (empty when every recorded file is there, unchanged).

    Example:
    ```python
    check_preset_files(folder, json.loads(record_path.read_text()))  # [] when unchanged
    ```
    """
    have = preset_digests(folder)
    problems = [f"{name} is missing" for name in record if name not in have]
    problems += [f"{name} changed" for name in record
                 if name in have and have[name] != record[name]]
    return problems


def load_preset_classifier(preset="bert_tiny_en_uncased_sst2", *, num_classes=None,
                           timeout=3.0, allow_unpinned=False):
    """`keras_hub.models.BertTextClassifier.from_preset`, pinned and checked, or None with the
    reason when it cannot be had (offline, say).

    A preset named in `PRESET_VERSIONS` loads exactly that version of its Kaggle model. The
    SHA-256 of its files is recorded in the course cache on the first download and checked on
    every later load, so a cached copy that changed is refused. A local folder (saved with
    `save_to_preset`) loads as it is. Any other name is refused unless `allow_unpinned=True`.
    A download can hang for minutes without a network, so a socket probe decides first.

    Args:
        preset: a name from `PRESET_VERSIONS`, or a local preset folder.
        num_classes: a new, randomly initialised head with this many classes; None keeps the
            preset's own head (the SST-2 preset's is trained for sentiment).
        timeout: seconds the network probe may take.
        allow_unpinned: load a preset name the course has not pinned (its latest version).

    Returns:
        `(classifier or None, message)`.

    Example:
    ```python
    model, message = load_preset_classifier()  # BERT-tiny fine-tuned on SST-2
    print(message)
    ```
    """
    kwargs = {} if num_classes is None else {"num_classes": num_classes}
    if Path(preset).is_dir():
        model = keras_hub.models.BertTextClassifier.from_preset(str(preset), **kwargs)
        return model, f"loaded the local preset {Path(preset).name}: {model.count_params():,} " \
                      "parameters"
    version = PRESET_VERSIONS.get(preset)
    if version is None and not allow_unpinned:
        raise ValueError(f"the preset {preset!r} is not pinned by the course (pinned: "
                         f"{sorted(PRESET_VERSIONS)}); add it to PRESET_VERSIONS with a version, "
                         "or pass allow_unpinned=True to load whatever version is current")
    folder = _kagglehub_folder(preset, version) if version else None
    record = _record_path(preset, version) if version else None
    if folder is not None and (folder / "config.json").exists() and record.exists():
        problems = check_preset_files(folder, json.loads(record.read_text()))
        if problems:
            return None, (f"the cached copy of {preset} (version {version}) in {folder} differs "
                          f"from its first download ({'; '.join(problems[:3])}); delete that "
                          "folder to download it again")
    elif folder is None or not (folder / "config.json").exists():
        try:
            socket.create_connection((PRESET_HOST, 443), timeout=timeout).close()
        except OSError as error:
            return None, (f"offline: {PRESET_HOST} is not reachable ({type(error).__name__}), "
                          f"so the preset {preset!r} cannot be downloaded; skipping this cell. "
                          "With a network it downloads about 17 MB once.")
    handle = f"kaggle://keras/bert/keras/{preset}/{version}" if version else preset
    try:
        model = keras_hub.models.BertTextClassifier.from_preset(handle, **kwargs)
    except Exception as error:  # noqa: BLE001 - any download or format failure: say it, move on
        return None, f"could not load {preset!r}: {type(error).__name__}: {error}"
    if record is not None and not record.exists() and folder.is_dir():
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(preset_digests(folder), indent=1))
    return model, f"loaded {preset!r} (version {version}): {model.count_params():,} parameters"


def _pretokenize(texts, lowercase):
    # keras-hub's own splitting (whitespace, punctuation, CJK, accents), so the words counted for
    # training are the words the tokenizer will later split into pieces.
    return pretokenize(tf.constant(list(texts)), lowercase, lowercase, True, True)


def train_wordpiece_vocabulary(texts, vocabulary_size, *, lowercase=True,
                               reserved_tokens=SPECIAL_TOKENS, max_threshold=64):
    """Learns a WordPiece vocabulary from raw sentences.

    Counts the words (split as `keras_hub.tokenizers.WordPieceTokenizer` splits them) and runs
    tensorflow-text's WordPiece learner, which keeps every character, then the word pieces
    that occur at least `threshold` times, searching the threshold that gives about
    `vocabulary_size` entries. This is what `keras_hub.tokenizers.compute_word_piece_vocabulary`
    does, with the threshold search bounded by `max_threshold`: the default search starts at
    ten million, which costs minutes on a small corpus for nothing.

    Args:
        texts: sentences (strings).
        vocabulary_size: the largest vocabulary wanted, special tokens included. A small
            corpus may give fewer entries (a piece must occur at least twice).
        lowercase: lowercase and strip accents first (BERT "uncased").
        reserved_tokens: tokens placed first, in order (ids 0, 1, …).
        max_threshold: upper bound of the frequency threshold searched; raise it for corpora
            much larger than ~100k words.

    Returns:
        The vocabulary, a list of strings; pieces inside a word start with `##`.

    Example:
    ```python
    vocab = train_wordpiece_vocabulary(["a great movie", "a dull movie"] * 5, 50)
    vocab[:5]  # ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    ```
    """
    check_positive_int("vocabulary_size", vocabulary_size)
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty; give at least one sentence to learn from")
    if vocabulary_size <= len(reserved_tokens):
        raise ValueError(
            f"vocabulary_size {vocabulary_size} leaves no room beside the "
            f"{len(reserved_tokens)} reserved tokens; use at least a few hundred"
        )
    counts = learner.count_words([_pretokenize(texts, lowercase)])
    vocab = learner.learn(
        counts,
        vocabulary_size,
        list(reserved_tokens),
        upper_thresh=int(max_threshold),
        lower_thresh=2,
    )
    return list(vocab[:vocabulary_size])


@keras.saving.register_keras_serializable(package="course_lib")
class SentencePreprocessor(keras.layers.Layer):
    """Strings → BERT-style token ids: `[CLS] piece piece … [SEP] [PAD] [PAD] …`.

    A WordPiece tokenizer (`keras_hub.tokenizers.WordPieceTokenizer`) followed by a
    `keras_hub.layers.StartEndPacker` that adds `[CLS]` in front, `[SEP]` at the end, truncates
    to `sequence_length` (keeping `[SEP]`) and pads with `[PAD]`. The classifier reads the
    `[CLS]` position (or the mean over non-`[PAD]` positions); the encoder ignores `[PAD]`.
    Saved with `keras.saving.save_model` it keeps its vocabulary.

    Args:
        vocabulary: the WordPiece vocabulary (list of strings) containing `SPECIAL_TOKENS`.
        sequence_length: T, the length of every output row.
        lowercase: lowercase the input first (must match how the vocabulary was learned).
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        texts: a string, a list of strings or a string tensor `(B,)`.

    Returns:
        int32 token ids `(B, T)` (or `(T,)` for a single string).

    Example:
    ```python
    pre = SentencePreprocessor(vocab, sequence_length=16)
    pre(["a great movie"])  # [[2, 38, 224, 100, 3, 0, 0, …]]
    ```
    """

    def __init__(self, vocabulary, sequence_length, lowercase=True, **kwargs):
        super().__init__(**kwargs)
        # Plain Python strings are fine inputs here (Keras layers accept only tensors otherwise).
        self._allow_non_tensor_positional_args = True
        vocabulary = [str(t) for t in vocabulary]
        missing = [t for t in SPECIAL_TOKENS if t not in vocabulary]
        if missing:
            raise ValueError(
                f"the vocabulary lacks {missing}; train it with "
                "train_wordpiece_vocabulary(..., reserved_tokens=SPECIAL_TOKENS)"
            )
        check_positive_int("sequence_length", sequence_length)
        if sequence_length < 3:
            raise ValueError(
                f"sequence_length {sequence_length} leaves no room for a token between [CLS] "
                "and [SEP]; use at least 3"
            )
        self.vocabulary = vocabulary
        self.sequence_length = int(sequence_length)
        self.lowercase = bool(lowercase)
        self.tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=vocabulary, lowercase=lowercase, strip_accents=lowercase,
            oov_token="[UNK]", dtype="int32",
        )
        ids = {t: vocabulary.index(t) for t in SPECIAL_TOKENS}
        self.pad_id, self.unk_id = ids["[PAD]"], ids["[UNK]"]
        self.cls_id, self.sep_id, self.mask_id = ids["[CLS]"], ids["[SEP]"], ids["[MASK]"]
        self.packer = keras_hub.layers.StartEndPacker(
            sequence_length=self.sequence_length,
            start_value=self.cls_id,
            end_value=self.sep_id,
            pad_value=self.pad_id,
            dtype="int32",
        )
        self.built = True  # no weights: the vocabulary is fixed at construction

    @property
    def vocabulary_size(self):
        """V, the number of token ids."""
        return len(self.vocabulary)

    def tokenize(self, texts):
        """WordPiece pieces of each text, as strings (no special tokens), for reading.

        Example:
        ```python
        pre.tokenize(["unwatchable"])  # [['un', '##watch', '##able']]
        ```
        """
        pieces = self.tokenizer(tf.constant(list(texts)))
        rows = pieces.to_list() if hasattr(pieces, "to_list") else pieces
        return [[self.vocabulary[int(i)] for i in row] for row in rows]

    def call(self, texts):
        if not isinstance(texts, (tf.Tensor, tf.RaggedTensor)):
            texts = tf.constant(texts if isinstance(texts, str) else list(texts))
        return self.packer(self.tokenizer(texts))

    def decode(self, ids):
        """Token ids → the pieces as text, special tokens included, `[PAD]` dropped.

        Example:
        ```python
        pre.decode(pre(["a great movie"])[0])  # '[CLS] a great movie [SEP]'
        ```
        """
        ids = np.asarray(ops.convert_to_numpy(ids)).reshape(-1)
        return " ".join(self.vocabulary[int(i)] for i in ids if int(i) != self.pad_id)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": self.vocabulary,
                "sequence_length": self.sequence_length,
                "lowercase": self.lowercase,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class ClassificationHead(keras.layers.Layer):
    """BERT's classification head: the `[CLS]` vector → dropout → one logit per class.

    Args:
        num_classes: number of labels.
        dropout: dropout rate on the `[CLS]` vector while training.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        vectors: `(B, T, C)` encoder output; position 0 holds `[CLS]`.
        training: enables dropout.

    Returns:
        float32 logits `(B, num_classes)` (use `from_logits=True` in the loss).

    Example:
    ```python
    head = ClassificationHead(num_classes=2, dropout=0.1)
    logits = head(encoder(token_ids))  # (B, 2)
    ```
    """

    def __init__(self, num_classes, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.rate = int(num_classes), float(dropout)
        self.dropout = keras.layers.Dropout(self.rate)
        # float32 even under mixed precision: the logits feed a softmax.
        self.dense = keras.layers.Dense(self.num_classes, kernel_initializer=default_initializer(),
                                        dtype="float32", name="dense")

    def build(self, input_shape):
        self.dense.build((None, input_shape[-1]))

    def call(self, vectors, training=None):
        # [CLS] attends to every real token, and fine-tuning teaches it to sum the sentence up.
        cls = vectors[:, 0, :]  # (B, C)
        cls = self.dropout(cls, training=training)  # (B, C)
        return self.dense(ops.cast(cls, "float32"))  # (B, num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "dropout": self.rate}


def classification_dataset(texts, labels, preprocessor, batch_size, *, shuffle=False, seed=0):
    """A `tf.data` pipeline of `(token_ids (B, T), labels (B,))` batches.

    Args:
        texts: sentences.
        labels: int labels, one per sentence.
        preprocessor: anything mapping a string tensor `(B,)` to ids `(B, T)`: a
            `SentencePreprocessor` or a `keras.layers.TextVectorization`.
        batch_size: examples per batch.
        shuffle: shuffle each epoch (for training).
        seed: the shuffle seed.

    Example:
    ```python
    train_ds = classification_dataset(train_texts, train_labels, pre, 32, shuffle=True)
    ```
    """
    check_positive_int("batch_size", batch_size)
    labels = np.asarray(labels, dtype=np.int32)
    if len(labels) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    ds = tf.data.Dataset.from_tensor_slices((tf.constant(list(texts)), labels))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).map(lambda t, y: (preprocessor(t), y)).prefetch(tf.data.AUTOTUNE)


def predict_proba(model, preprocessor, texts, batch_size=256):
    """Class probabilities `(N, num_classes)` of a logits model on raw sentences.

    Args:
        model: maps ids `(B, T)` to logits `(B, num_classes)`.
        preprocessor: strings → ids, as in `classification_dataset`.
        texts: sentences.
        batch_size: sentences per forward pass.

    Example:
    ```python
    predict_proba(classifier, pre, ["This is a great movie!"])  # [[0.08, 0.92]]
    ```
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    out = []
    for start in range(0, len(texts), batch_size):
        ids = preprocessor(tf.constant(texts[start:start + batch_size]))
        logits = model(ids, training=False)
        out.append(ops.convert_to_numpy(ops.softmax(ops.cast(logits, "float32"), axis=-1)))
    return np.concatenate(out, axis=0) if out else np.zeros((0, 0), np.float32)


def describe_predictions(probabilities, labels=LABELS):
    """`(label, probability)` of the most likely class of each row.

    Example:
    ```python
    describe_predictions(np.array([[0.1, 0.9]]))  # [('positive', 0.9)]
    ```
    """
    probabilities = np.asarray(probabilities)
    best = probabilities.argmax(axis=-1)
    return [(labels[int(k)], float(p[k])) for k, p in zip(best, probabilities, strict=True)]


def bert_mask(token_ids, *, seed, vocabulary_size, mask_id, unselectable_ids, mask_rate=0.15,
              max_masked=None):
    """BERT's masking of a batch, drawn from `seed` alone (stateless, so it reproduces).

    In each row, `mask_rate` of the selectable tokens (rounded, at least one, at most
    `max_masked`) are picked at random; as in BERT, 80% of the picked tokens become `[MASK]`,
    10% a random token and 10% stay as they are. The model must predict the original ids at
    the picked positions. The same picks as `keras_hub.layers.MaskedLMMaskGenerator` in
    distribution, with one difference: the draws come from `seed` (two int64), not from a
    random-number state, so the same batch and seed always give the same masks.

    Args:
        token_ids: `(B, T)` int ids.
        seed: a pair of ints; a different seed for each batch gives new masks.
        vocabulary_size: V, the range of the random replacement tokens.
        mask_id: the `[MASK]` id.
        unselectable_ids: ids never picked (`[PAD]`, `[CLS]`, `[SEP]`).
        mask_rate: the share of selectable tokens picked (BERT: 0.15).
        max_masked: P, the positions kept per row; default 15% of T, rounded up.

    Returns:
        A dict: `token_ids` `(B, T)` with the replacements, `mask_positions` `(B, P)`,
        `mask_ids` `(B, P)` (the original ids there) and `mask_weights` `(B, P)` (1.0 for a
        picked position, 0.0 for padding of P).

    Example:
    ```python
    masked = bert_mask(pre(["a great movie"]), seed=(0, 0), vocabulary_size=100, mask_id=4,
                       unselectable_ids=(0, 2, 3))
    ```
    """
    token_ids = tf.convert_to_tensor(token_ids)
    ids = tf.cast(token_ids, tf.int32)  # (B, T)
    length = ids.shape[1]
    p = max(1, int(np.ceil(0.15 * length))) if max_masked is None else int(max_masked)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    # Three independent streams from one seed: which positions, what to do, which token.
    pick_seed, action_seed, token_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=3))
    selectable = tf.reduce_all(ids[:, :, None] != tf.constant(list(unselectable_ids))[None, None],
                               axis=-1)  # (B, T)
    count = tf.reduce_sum(tf.cast(selectable, tf.float32), axis=1)  # (B,)
    k = tf.minimum(tf.maximum(tf.round(mask_rate * count), tf.minimum(count, 1.0)), float(p))
    noise = tf.random.stateless_uniform(tf.shape(ids), seed=pick_seed)  # (B, T)
    order = tf.argsort(tf.where(selectable, noise, 2.0), axis=1)[:, :p]  # (B, P): random picks
    kept = tf.range(p, dtype=tf.float32)[None, :] < k[:, None]  # (B, P)
    positions = tf.sort(tf.where(kept, order, length), axis=1)  # (B, P): picked, in order
    kept = positions < length  # (B, P)
    positions = tf.where(kept, positions, 0)  # (B, P)
    originals = tf.where(kept, tf.gather(ids, positions, batch_dims=1), 0)  # (B, P)
    action = tf.random.stateless_uniform(tf.shape(positions), seed=action_seed)  # (B, P)
    random_ids = tf.random.stateless_uniform(tf.shape(positions), seed=token_seed,
                                             maxval=vocabulary_size, dtype=tf.int32)  # (B, P)
    replaced = tf.where(action < 0.8, mask_id, tf.where(action < 0.9, random_ids, originals))
    rows = tf.broadcast_to(tf.range(tf.shape(ids)[0])[:, None], tf.shape(positions))  # (B, P)
    where = tf.boolean_mask(tf.stack([rows, positions], axis=-1), kept)  # (picked, 2)
    masked = tf.tensor_scatter_nd_update(ids, where, tf.boolean_mask(replaced, kept))  # (B, T)
    return {"token_ids": tf.cast(masked, token_ids.dtype), "mask_positions": positions,
            "mask_ids": originals, "mask_weights": tf.cast(kept, tf.float32)}


def mlm_dataset(texts, preprocessor, batch_size, *, mask_rate=0.15, max_masked=None,
                shuffle=True, seed=0, repeat=False):
    """A `tf.data` pipeline of MLM batches: `(x, mask_ids, mask_weights)`.

    Each sentence is packed by `preprocessor`, then `bert_mask` picks `mask_rate` of its real
    tokens (never `[CLS]`, `[SEP]` or `[PAD]`) and, as BERT, puts `[MASK]` in 80% of them, a
    random token in 10% and leaves 10% unchanged. The model must predict the original ids at
    those positions. Batch `i` (counted across epochs) is masked with a seed derived from
    `seed` and `i`, so every epoch sees new masks and two runs see the same ones.

    Args:
        texts: unlabelled sentences.
        preprocessor: a `SentencePreprocessor`.
        batch_size: sentences per batch.
        mask_rate: share of real tokens to predict (BERT: 0.15).
        max_masked: P, the masked positions kept per sentence; default 15% of T, rounded up.
        shuffle: shuffle the sentences (reshuffled each epoch, from `seed`).
        seed: seeds the shuffle and the masks.
        repeat: repeat forever (use `steps_per_epoch` in `fit`).

    Returns:
        A dataset of `({"token_ids": (B, T), "mask_positions": (B, P)}, (B, P) ids,
        (B, P) weights)`.

    Example:
    ```python
    x, y, w = next(iter(mlm_dataset(["a great movie"], pre, batch_size=1)))
    ```
    """
    check_positive_int("batch_size", batch_size)
    if not 0.0 < mask_rate < 1.0:
        raise ValueError(f"mask_rate must be in (0, 1), got {mask_rate}; BERT uses 0.15")
    unselectable = (preprocessor.pad_id, preprocessor.cls_id, preprocessor.sep_id)

    def to_example(index, batch):
        # TensorFlow's recipe for a stream of stateless seeds: fold the step into a base key.
        # (Using (seed, index) itself as the key trained measurably slower in our runs.)
        batch_seed = tf.random.experimental.stateless_fold_in(
            tf.constant([seed, 0], tf.int64), index)
        masked = bert_mask(preprocessor(batch), seed=batch_seed,
                           vocabulary_size=preprocessor.vocabulary_size,
                           mask_id=preprocessor.mask_id, unselectable_ids=unselectable,
                           mask_rate=mask_rate, max_masked=max_masked)
        x = {"token_ids": masked["token_ids"], "mask_positions": masked["mask_positions"]}
        return x, masked["mask_ids"], masked["mask_weights"]

    ds = tf.data.Dataset.from_tensor_slices(tf.constant(list(texts)))
    if shuffle:
        ds = ds.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    # Masks are drawn after batching, in the pipeline, from the batch's running index.
    return ds.batch(batch_size).enumerate().map(to_example).prefetch(tf.data.AUTOTUNE)


@keras.saving.register_keras_serializable(package="course_lib")
class MaskedLMHead(keras.layers.Layer):
    """BERT's MLM head: gather the masked positions, transform, score every vocabulary entry.

    `Dense(C, gelu) → LayerNorm → · Eᵀ + b`, where E is the encoder's token-embedding table
    (weight tying, as BERT: the output layer reuses the input embeddings, so the head adds only
    C² + 4C + V parameters).

    Args:
        token_embedding: the encoder's `keras.layers.Embedding` (built), shared, not copied.
        layer_norm_epsilon: epsilon of the LayerNorm.
        **kwargs: passed to `keras.layers.Layer`.

    Call arguments:
        vectors: `(B, T, C)` encoder output.
        mask_positions: `(B, P)` int positions to predict.

    Returns:
        float32 logits `(B, P, V)`.

    Example:
    ```python
    head = MaskedLMHead(encoder.token_embedding)
    logits = head(encoder(ids), np.array([[1, 3]]))  # (1, 2, V)
    ```
    """

    def __init__(self, token_embedding, layer_norm_epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        width = token_embedding.output_dim
        self.transform = keras.layers.Dense(
            width, activation="gelu",
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name="transform",
        )
        self.norm = keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, name="norm")
        self.transform.build((None, None, width))
        self.norm.build((None, None, width))
        self.output_bias = self.add_weight(  # (V,)
            shape=(token_embedding.input_dim,), initializer="zeros", name="output_bias"
        )

    def call(self, vectors, mask_positions):
        positions = ops.cast(mask_positions, "int32")[:, :, None]  # (B, P, 1)
        # Only the masked positions reach the loss, so only they are scored: P ≪ T rows of V.
        picked = ops.take_along_axis(vectors, positions, axis=1)  # (B, P, C)
        h = self.norm(self.transform(picked))  # (B, P, C)
        table = ops.cast(self.token_embedding.embeddings, h.dtype)  # (V, C), the input table
        logits = ops.matmul(h, ops.transpose(table))  # (B, P, V)
        logits = logits + ops.cast(self.output_bias, h.dtype)  # (B, P, V)
        return ops.cast(logits, "float32")  # (B, P, V)


def masked_lm_loss(mask_ids, logits, mask_weights):
    """Mean cross-entropy over the masked positions that are real (weight 1).

    `MaskedLMMaskGenerator` pads every row to P positions; padding entries have weight 0 and
    must not count, neither in the sum nor in the count. (A Keras loss with `sample_weight`
    divides by B·P instead, which shrinks the loss when few tokens are masked.)

    Args:
        mask_ids: `(B, P)` the true ids at the masked positions.
        logits: `(B, P, V)` the head's scores.
        mask_weights: `(B, P)` 1.0 for real masked positions, 0.0 for padding.

    Returns:
        A scalar: Σ w·CE / max(Σ w, 1).

    Example:
    ```python
    loss = masked_lm_loss(y, pretrainer(x), weights)
    ```
    """
    ce = keras.losses.sparse_categorical_crossentropy(mask_ids, logits, from_logits=True)  # (B, P)
    w = ops.cast(mask_weights, ce.dtype)  # (B, P)
    return ops.sum(ce * w) / ops.maximum(ops.sum(w), 1.0)  # ()


@keras.saving.register_keras_serializable(package="course_lib")
class MaskedLMPretrainer(ConfigSerialization, keras.Model):
    """A `TransformerEncoder` with an MLM head, trained to fill in hidden tokens.

    Train it with `fit` on `mlm_dataset(...)`; the loss (`masked_lm_loss`) is built in, so
    `compile` needs only an optimizer. Afterwards `copy_encoder_weights(pretrainer.encoder,
    classifier)` hands the encoder to a `TransformerClassifier`.

    Args:
        config: the encoder's `EncoderConfig` (or its dict).
        **kwargs: passed to `keras.Model`.

    Call arguments:
        inputs: dict with `"token_ids"` `(B, T)` (masked) and `"mask_positions"` `(B, P)`.
        training: enables dropout.

    Returns:
        float32 logits `(B, P, V)`.

    Example:
    ```python
    pretrainer = MaskedLMPretrainer(EncoderConfig(vocab_size=2000, max_length=64))
    pretrainer.compile(keras.optimizers.AdamW(1e-3))
    pretrainer.fit(mlm_dataset(texts, pre, batch_size=32), epochs=1)
    ```
    """

    config_class = EncoderConfig  # what from_config rebuilds

    def __init__(self, config, **kwargs):
        config = self.coerce_config(config)
        super().__init__(**kwargs)
        self.config = config
        self.encoder = TransformerEncoder(config, name="encoder")
        self.head = MaskedLMHead(
            self.encoder.token_embedding, config.layer_norm_epsilon, name="mlm_head"
        )
        self.built = True

    def call(self, inputs, training=None):
        vectors = self.encoder(inputs["token_ids"], training=training)  # (B, T, C)
        return self.head(vectors, inputs["mask_positions"])  # (B, P, V)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # fit's y is mask_ids (B, P) and its sample_weight mask_weights (B, P): the masked mean.
        loss = masked_lm_loss(y, y_pred, sample_weight)
        if self.losses:  # regularisation losses (none by default), kept as Keras would
            loss = loss + ops.sum(self.losses)
        return loss


def copy_encoder_weights(source, classifier):
    """Copies a pretrained `TransformerEncoder`'s weights into `classifier.encoder`.

    Args:
        source: the pretrained encoder (e.g. `pretrainer.encoder`).
        classifier: a `TransformerClassifier` with the same `EncoderConfig`.

    Returns:
        The number of weight tensors copied.

    Example:
    ```python
    copy_encoder_weights(pretrainer.encoder, classifier)
    ```
    """
    if source.config != classifier.encoder.config:
        raise ValueError(
            "the encoders' configs differ; build the classifier with the pretrainer's config: "
            f"{source.config} vs {classifier.encoder.config}"
        )
    weights = source.get_weights()
    classifier.encoder.set_weights(weights)
    return len(weights)


def glove_embedding_matrix(vocabulary, words, vectors, *, seed=0, pad_index=0):
    """An embedding table for `vocabulary` whose rows are GloVe vectors where GloVe knows the
    word, small random vectors (GloVe's own scale) elsewhere, zeros for padding.

    Args:
        vocabulary: the model's tokens, in id order (e.g. `TextVectorization.get_vocabulary()`).
        words: GloVe's words (from `course_lib.data.load_glove`).
        vectors: GloVe's vectors `(len(words), D)`.
        seed: seeds the random rows.
        pad_index: the row left at zero.

    Returns:
        `(matrix (len(vocabulary), D) float32, found)`: `found` = how many tokens got a GloVe
        vector.

    Example:
    ```python
    matrix, found = glove_embedding_matrix(["", "[UNK]", "movie"], words, vectors)
    ```
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    index = {w: i for i, w in enumerate(words)}
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, float(vectors.std()), (len(vocabulary), vectors.shape[1]))
    matrix = matrix.astype(np.float32)
    found = 0
    for row, token in enumerate(vocabulary):
        if token in index:
            matrix[row] = vectors[index[token]]
            found += 1
    if pad_index is not None and 0 <= pad_index < len(vocabulary):
        matrix[pad_index] = 0.0
    return matrix, found


def evaluate_predictions(y_true, y_pred, *, n_resamples=1000, seed=0):
    """Accuracy and F1 (positive class) with 95% percentile-bootstrap intervals.

    Args:
        y_true: true labels (0/1).
        y_pred: predicted labels.
        n_resamples: bootstrap resamples.
        seed: the resampling seed (the same for every model: the intervals then use the same
            resampled test sets).

    Returns:
        A dict with `accuracy`, `accuracy_low`, `accuracy_high`, `f1`, `f1_low`, `f1_high`.

    Example:
    ```python
    evaluate_predictions([1, 0, 1, 1], [1, 0, 0, 1], n_resamples=100)["accuracy"]  # 0.75
    ```
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    acc = bootstrap_ci(accuracy, y_true, y_pred, n_resamples=n_resamples, seed=seed)
    f1 = bootstrap_ci(lambda t, p: f1_score(t, p, labels=[0, 1]), y_true, y_pred,
                      n_resamples=n_resamples, seed=seed)
    return {
        "accuracy": acc.estimate, "accuracy_low": acc.low, "accuracy_high": acc.high,
        "f1": f1.estimate, "f1_low": f1.low, "f1_high": f1.high,
    }


def sentence_features(model, tokenizer, texts, *, max_tokens=None, batch_size=64):
    """One vector per text from a GPT: its final hidden states averaged over the text's tokens.

    Each text is encoded, preceded by ``<|endoftext|>`` (how every document began in
    pretraining, so the first word has a context), cut to ``max_tokens`` and run through
    ``model.hidden_states``. Texts are batched by length and padded at the end: with causal
    attention no real token sees the padding, and the mean counts the text's tokens only (not
    the ``<|endoftext|>`` position, whose state is the same for every text).

    Args:
        model: a ``course_lib.gpt.GPT`` (e.g. the course foundation model).
        tokenizer: its ``BPETokenizer`` (with the ``<|endoftext|>`` token).
        texts: strings.
        max_tokens: tokens kept per text, ``<|endoftext|>`` included: 2 to the model's context
            length, which is the default.
        batch_size: texts per forward pass.

    Returns:
        A float32 array ``(N, C)``.

    Example:
    ```python
    model, tokenizer, _ = load_foundation()
    sentence_features(model, tokenizer, ["a great movie", "a dull movie"]).shape  # (2, 256)
    ```
    """
    check_positive_int("batch_size", batch_size)
    limit = model.config.context_length
    max_tokens = limit if max_tokens is None else max_tokens
    if not 2 <= max_tokens <= limit:
        raise ValueError(f"max_tokens must be in [2, {limit}] (the model's context), "
                         f"got {max_tokens}")
    start_id = tokenizer.token_to_id("<|endoftext|>")
    ids = [np.concatenate([[start_id], tokenizer.encode(t)])[:max_tokens].astype("int32")
           for t in texts]
    out = np.zeros((len(ids), model.config.width), "float32")  # (N, C)
    order = np.argsort([len(i) for i in ids], kind="stable")  # similar lengths share a batch
    for first in range(0, len(order), batch_size):
        rows = order[first:first + batch_size]
        t = min(limit, -(-max(len(ids[r]) for r in rows) // 8) * 8)  # few distinct shapes
        batch = np.zeros((len(rows), t), "int32")  # (b, T): ids, 0 after the text
        mask = np.zeros((len(rows), t), "float32")  # (b, T): 1 on the text's own tokens
        for k, r in enumerate(rows):
            batch[k, :len(ids[r])] = ids[r]
            mask[k, 1:len(ids[r])] = 1.0
        mask[mask.sum(1) == 0, 0] = 1.0  # an empty text: its one state, <|endoftext|>'s
        h = ops.convert_to_numpy(model.hidden_states(batch))  # (b, T, C)
        out[rows] = (h * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)  # (b, C)
    return out


def linear_probe(train_features, train_labels, *, folds=5, seed=0):
    """Standardised features → logistic regression, its C picked by cross-validation.

    The cross-validation uses the training labels only (stratified ``folds`` folds, at most
    the smaller class's count, scored by log-loss), so the probe's accuracy on held-out data is
    an honest estimate.

    Args:
        train_features: ``(n, C)`` features (dense or sparse).
        train_labels: ``(n,)`` 0/1 labels.
        folds: cross-validation folds.
        seed: the folds' shuffling seed.

    Returns:
        A fitted scikit-learn classifier (``predict``, ``predict_proba``).

    Example:
    ```python
    clf = linear_probe(features[:100], labels[:100])
    accuracy(labels[100:], clf.predict(features[100:]))
    ```
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_labels = np.asarray(train_labels)
    smaller = int(np.bincount(train_labels, minlength=2).min())
    if smaller < 2:
        raise ValueError(f"each class needs at least 2 training examples for cross-validation; "
                         f"the smaller class has {smaller}: use more labels")
    cv = StratifiedKFold(min(folds, smaller), shuffle=True, random_state=seed)
    # Log-loss picks C more smoothly than accuracy when n is small.
    search = LogisticRegressionCV(Cs=np.logspace(-4, 2, 13), cv=cv, max_iter=5000,
                                  scoring="neg_log_loss", l1_ratios=(0.0,),
                                  use_legacy_attributes=False)
    if sparse.issparse(train_features):  # TF-IDF rows are already unit length
        return search.fit(train_features, train_labels)
    return make_pipeline(StandardScaler(), search).fit(train_features, train_labels)


def mean_word_vectors(texts, words, vectors):
    """The average of a text's word vectors (words split on white space, lower-cased).

    Words without a vector are skipped; a text with none gets zeros. With pretrained vectors
    (GloVe) this is the oldest way to use pretraining for a sentence.

    Args:
        texts: strings (rt-polarity's are already tokenised: words and punctuation apart).
        words: the vocabulary, in the rows' order.
        vectors: ``(V, D)`` float array, one row per word.

    Returns:
        A float32 array ``(N, D)``.

    Example:
    ```python
    words, vectors = load_glove()
    mean_word_vectors(["a great movie"], words, vectors).shape  # (1, 50)
    ```
    """
    index = {w: i for i, w in enumerate(words)}
    out = np.zeros((len(texts), vectors.shape[1]), "float32")  # (N, D)
    for k, text in enumerate(texts):
        rows = [index[w] for w in text.lower().split() if w in index]
        if rows:
            out[k] = vectors[rows].mean(0)  # (D,)
    return out
