# Generated from notebooks/src/10_translation_and_summarization.py (notebooks/10_translation_and_summarization.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Translation and summarization with an encoder-decoder, written in
notebooks/10_translation_and_summarization.ipynb.

The model is `course_lib.encoder.Seq2SeqTransformer` (chapter 05); this module holds what
chapter 10 writes around it.

- Data: `split_pairs_by_source` holds out whole source sentences (with every reference they
  have), `train_pair_tokenizer` learns one byte-level BPE vocabulary for both sides,
  `encode_pairs` turns text pairs into id lists with start/end tokens, and `pair_dataset`
  is the `tf.data` pipeline that pads them and makes the teacher-forcing shift
  (decoder input = target without its last token, label = target without its first).
- The model's forward pass: `encoder_decoder_forward` writes `Seq2SeqTransformer.call` out
  sublayer by sublayer (encoder, causal self-attention, cross-attention, MLP, tied logits).
- Training: `compile_seq2seq` (AdamW with the course schedule, cross-entropy that ignores
  padding) and `fit_seq2seq`.
- Decoding: `greedy_decode_batched` and `beam_search_batched` (the course's one decoding loop
  and beam search, `course_lib.generation`, run on many sentences at once and returned as
  padded arrays), `sequence_log_prob` to score any output, and `translate` from text to text.
- Extractive summarization baselines: `lead_summary` (the first k units) and
  `centrality_summary` (TF-IDF cosine centrality: LexRank's degree or TextRank's PageRank),
  on sentences (`split_sentences`) or dialogue turns (`dialogue_turns`).

Shapes: B = sentences, W = beams per sentence, S / T = source / target length (written Ts /
Tt in the decoding code), V = target vocabulary, C = width.

Example:

>>> pad_batch([[5, 6], [7]], 3, pad_id=0).tolist()
[[5, 6, 0], [7, 0, 0]]
>>> lead_summary(dialogue_turns("#Person1#: Hi.\\n#Person2#: Hello.\\n#Person1#: Bye."), k=2)
'#Person1#: Hi. #Person2#: Hello.'
"""

import dataclasses
import re

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from course_lib import generation
from course_lib.metrics import log_softmax
from course_lib.text_features import TfidfVectorizer, cosine_similarity
from course_lib.tokenizers import BPETokenizer
from course_lib.training import TrainConfig, make_optimizer


def split_pairs_by_source(pairs, test_fraction=0.1, seed=0, max_test_sources=None):
    """Holds out whole source sentences: a test source never occurs in training.

    Tatoeba-style data has many sources with several translations. Splitting the pairs at
    random would put one translation of a sentence in training and another in the test set;
    splitting by source keeps the test honest, and every translation of a test source becomes
    one of its references (multi-reference BLEU).

    Args:
        pairs: `(source, target)` string pairs.
        test_fraction: share of the distinct sources held out, in (0, 1).
        seed: the shuffle seed.
        max_test_sources: keep at most this many test sources (the rest are dropped, not
            moved to training); None keeps all.

    Returns:
        `(train_pairs, test_sources, test_references)`: the training pairs in their original
        order, the held-out sources, and for each a list of its targets.

    Example:
    ```python
    train, sources, refs = split_pairs_by_source([("Hi.", "Hola."), ("Hi.", "¡Hola!"),
                                                  ("Go.", "Ve.")], 0.5, seed=0)
    ```
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}; 0.1 is usual")
    references: dict[str, list[str]] = {}
    for source, target in pairs:
        references.setdefault(source, []).append(target)
    sources = list(references)
    order = np.random.default_rng(seed).permutation(len(sources))
    n_test = max(1, int(round(test_fraction * len(sources))))
    if n_test >= len(sources):
        raise ValueError(
            f"only {len(sources)} distinct sources: a test fraction of {test_fraction} leaves "
            "none for training; lower test_fraction or give more pairs"
        )
    held = {sources[i] for i in order[:n_test]}
    test_sources = [sources[i] for i in sorted(order[:n_test])]
    if max_test_sources is not None:
        test_sources = test_sources[:max_test_sources]
    train = [(s, t) for s, t in pairs if s not in held]
    return train, test_sources, [references[s] for s in test_sources]


PAD, START, END = "[PAD]", "[START]", "[END]"
SPECIAL_TOKENS = (PAD, START, END)


@dataclasses.dataclass(frozen=True)
class SpecialIds:
    """The ids of the padding, start and end tokens.

    Example:
    ```python
    ids = SpecialIds(pad=0, start=1, end=2)
    ```
    """

    pad: int
    start: int
    end: int


def train_pair_tokenizer(texts, vocab_size, *, max_texts=None, seed=0):
    """Learns one byte-level BPE vocabulary (`course_lib.tokenizers`) for both languages.

    A shared vocabulary lets names, numbers and cognates ("hotel", "Tom") get the same ids on
    both sides. `[PAD]`, `[START]` and `[END]` are added as special tokens.

    Args:
        texts: training texts of both sides (sources and targets together).
        vocab_size: ids in all (256 bytes + merges + 3 special tokens).
        max_texts: learn the merges from a random sample of this many texts (the merges of a
            large sample barely differ, and training is pure Python); None uses all.
        seed: the sampling seed.

    Returns:
        A `BPETokenizer`.

    Example:
    ```python
    tokenizer = train_pair_tokenizer(["I am here.", "Estoy aquí."], vocab_size=300)
    ```
    """
    texts = list(texts)
    if max_texts is not None and len(texts) > max_texts:
        keep = np.sort(np.random.default_rng(seed).choice(len(texts), max_texts, replace=False))
        texts = [texts[i] for i in keep]
    return BPETokenizer.from_text(texts, vocab_size, special_tokens=list(SPECIAL_TOKENS))


def special_ids(tokenizer):
    """The `SpecialIds` of a tokenizer from `train_pair_tokenizer`.

    Example:
    ```python
    ids = special_ids(tokenizer)  # SpecialIds(pad=..., start=..., end=...)
    ```
    """
    return SpecialIds(*(tokenizer.token_to_id(t) for t in SPECIAL_TOKENS))


def encode_pairs(tokenizer, pairs, source_max_length, target_max_length, *, drop_long=True):
    """Tokenizes text pairs: source ids, and `[START] target [END]` ids.

    The target keeps one token more than the decoder sees (`target_max_length + 1`): the shift
    of teacher forcing then gives `target_max_length` decoder inputs and as many labels.

    Args:
        tokenizer: a tokenizer from `train_pair_tokenizer`.
        pairs: `(source, target)` strings.
        source_max_length: the longest source, in tokens.
        target_max_length: the decoder length (`Seq2SeqConfig.target_max_length`).
        drop_long: drop pairs that do not fit (True), or truncate them (False; a truncated
            target loses its `[END]`).

    Returns:
        `(sources, targets, kept)`: lists of int32 id arrays and the indices of the kept pairs.

    Example:
    ```python
    src, tgt, kept = encode_pairs(tokenizer, [("Go.", "Ve.")], 16, 16)
    ```
    """
    ids = special_ids(tokenizer)
    memo: dict[str, np.ndarray] = {}  # the same sentence often occurs in several pairs

    def encode(text):
        if text not in memo:
            memo[text] = tokenizer.encode(text)
        return memo[text]

    sources, targets, kept = [], [], []
    for i, (source, target) in enumerate(pairs):
        s = encode(source)
        t = np.concatenate([[ids.start], encode(target), [ids.end]]).astype(np.int32)
        if len(s) > source_max_length or len(t) > target_max_length + 1:
            if drop_long:
                continue
            s, t = s[:source_max_length], t[: target_max_length + 1]
        sources.append(s.astype(np.int32))
        targets.append(t)
        kept.append(i)
    return sources, targets, kept


def pad_batch(sequences, length, pad_id):
    """Right-pads int id sequences to `(N, length)` (longer ones are cut).

    Example:
    ```python
    pad_batch([[5, 6], [7]], 3, pad_id=0)  # [[5, 6, 0], [7, 0, 0]]
    ```
    """
    out = np.full((len(sequences), length), pad_id, dtype=np.int32)
    for row, seq in enumerate(sequences):
        seq = np.asarray(seq, dtype=np.int32)[:length]
        out[row, : len(seq)] = seq
    return out


def pair_dataset(
    sources, targets, source_max_length, target_max_length, batch_size, *, pad_id,
    shuffle=True, seed=0, drop_remainder=True,
):
    """The `tf.data` pipeline: padding and the teacher-forcing shift.

    Each element is `({"encoder_token_ids": (B, S), "decoder_token_ids": (B, T)}, labels
    (B, T))` with `labels[:, t] == decoder_token_ids[:, t + 1]` of the padded target: the
    decoder reads `[START] y1 … yn` and learns to predict `y1 … yn [END]`. Padding is `pad_id`
    everywhere; the loss of `compile_seq2seq` ignores it. Shapes are fixed (every batch padded
    to the maximum lengths), so an XLA-compiled step compiles once.

    Args:
        sources: source id sequences (lists or arrays).
        targets: `[START] … [END]` id sequences, at most `target_max_length + 1` long.
        source_max_length: S.
        target_max_length: T, the decoder length.
        batch_size: B.
        pad_id: the padding id.
        shuffle: reshuffle every epoch (seeded).
        seed: the shuffle seed.
        drop_remainder: drop a last, smaller batch (keeps shapes fixed).

    Returns:
        A `tf.data.Dataset`.

    Example:
    ```python
    ds = pair_dataset(src, tgt, 16, 16, batch_size=64, pad_id=ids.pad)
    ```
    """
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
    too_long = [i for i, t in enumerate(targets) if len(t) > target_max_length + 1]
    if too_long:
        raise ValueError(
            f"target {too_long[0]} has {len(targets[too_long[0]])} ids, more than "
            f"target_max_length + 1 = {target_max_length + 1}; encode with encode_pairs"
        )
    ragged_src = tf.ragged.constant([list(s) for s in sources], dtype=tf.int32)
    ragged_tgt = tf.ragged.constant([list(t) for t in targets], dtype=tf.int32)
    ds = tf.data.Dataset.from_tensor_slices((ragged_src, ragged_tgt))
    if shuffle:
        ds = ds.shuffle(len(sources), seed=seed, reshuffle_each_iteration=True)
    ds = ds.ragged_batch(batch_size, drop_remainder=drop_remainder)

    def shift(src, tgt):
        # Pad every batch to the full lengths: fixed shapes, one XLA compilation.
        src = src.to_tensor(default_value=pad_id, shape=[None, source_max_length])  # (B, S)
        tgt = tgt.to_tensor(default_value=pad_id, shape=[None, target_max_length + 1])  # (B, T+1)
        # Teacher forcing: the decoder reads tgt[:, :-1] (B, T), the labels are tgt[:, 1:] (B, T).
        return {"encoder_token_ids": src, "decoder_token_ids": tgt[:, :-1]}, tgt[:, 1:]

    return ds.map(shift, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def encoder_decoder_forward(model, source_ids, target_ids):
    """`Seq2SeqTransformer.call`, written out sublayer by sublayer, for inference.

    The encoder turns the source into one vector per source token (the "memory"); the decoder
    reads the target so far through causal self-attention, reads the memory through
    cross-attention, and ends in next-token logits. Dropout is left out, so the result equals
    `model(..., training=False)`.

    Args:
        model: a `course_lib.encoder.Seq2SeqTransformer`.
        source_ids: `(B, S)` padded source ids.
        target_ids: `(B, T)` decoder input ids: `[START]`, then the target so far.

    Returns:
        float32 logits `(B, T, V)`: at position t, the scores of target token t + 1.

    Example:
    ```python
    logits = encoder_decoder_forward(model, np.array([[5, 6, 0]]), np.array([[1, 7]]))
    ```
    """
    pad = model.config.pad_id
    source_ids = ops.convert_to_tensor(source_ids)  # (B, S)
    target_ids = ops.convert_to_tensor(target_ids)  # (B, T)
    # True = a real token that may be attended to; padding keys are hidden from every query.
    source_keep = ops.not_equal(source_ids, pad)[:, None, None, :]  # (B, 1, 1, S)
    target_keep = ops.not_equal(target_ids, pad)[:, None, None, :]  # (B, 1, 1, T)

    # Encoder (chapter 05): bidirectional blocks, every source token sees every real one.
    encoder = model.encoder
    x = encoder.token_embedding(source_ids)  # (B, S, C)
    if encoder.position_embedding is not None:
        x = x + encoder.position_embedding(x)  # (B, S, C)
    for block in encoder.blocks:
        x = block(x, attention_mask=source_keep)  # (B, S, C)
    memory = encoder.final_norm(x)  # (B, S, C)

    # Decoder: three pre-norm sublayers per block, each added to the residual stream.
    y = model.target_embedding(target_ids)  # (B, T, C)
    if model.target_positions is not None:
        y = y + model.target_positions(y)  # (B, T, C)
    for block in model.decoder_blocks:
        # Causal self-attention: position t reads target tokens 0..t only, so training on a
        # whole target at once cannot peek at the token it must predict.
        h = block.attention_norm(y)  # (B, T, C)
        y = y + block.attention(h, attention_mask=target_keep, use_causal_mask=True)  # (B, T, C)
        # Cross-attention: queries from the target, keys and values from the source memory.
        h = block.cross_attention_norm(y)  # (B, T, C)
        y = y + block.cross_attention(h, value=memory, attention_mask=source_keep)  # (B, T, C)
        h = block.mlp_in(block.mlp_norm(y))  # (B, T, 4C)
        y = y + block.mlp_out(h)  # (B, T, C)
    y = model.final_norm(y)  # (B, T, C), float32
    if model.lm_head is not None:
        return model.lm_head(y)  # (B, T, V)
    # Tied embeddings: the output projection is the target embedding table, transposed.
    table = ops.cast(model.target_embedding.embeddings, "float32")  # (V, C)
    return ops.matmul(y, ops.transpose(table))  # (B, T, V)


def compile_seq2seq(model, config: TrainConfig):
    """Compiles a `Seq2SeqTransformer` with AdamW, the course schedule and a padding-blind loss.

    The loss is the cross-entropy of the next target token averaged over real (non-padding)
    label positions: `ignore_class=pad_id` masks the padding, so short sentences in a padded
    batch are not diluted.

    Args:
        model: a `Seq2SeqTransformer`.
        config: a `TrainConfig` (learning rate, warm-up, decay steps, clipping, jit_compile).

    Returns:
        The compiled model.

    Example:
    ```python
    compile_seq2seq(model, TrainConfig(max_steps=1000, warmup_steps=100))
    ```
    """
    model.compile(
        optimizer=make_optimizer(model, config),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=model.config.pad_id
        ),
        jit_compile=config.jit_compile is True,
    )
    return model


def fit_seq2seq(model, train_ds, config: TrainConfig, *, val_ds=None, epochs=1,
                steps_per_epoch=None, callbacks=None):
    """Compiles (with `compile_seq2seq`) and trains for `epochs` passes over `train_ds`.

    `config.max_steps` should be `epochs * steps_per_epoch` so the cosine schedule ends with
    the last step. With `steps_per_epoch`, the data repeats and an "epoch" is that many steps
    (one history row each), which lets a run stop in the middle of a pass over the data.

    Args:
        model: a `Seq2SeqTransformer`.
        train_ds: a `pair_dataset`.
        config: the `TrainConfig`.
        val_ds: an optional validation `pair_dataset`, evaluated after each epoch.
        epochs: passes over the data (or chunks of `steps_per_epoch` steps).
        steps_per_epoch: steps per history row; None means one pass over `train_ds`.
        callbacks: Keras callbacks for `model.fit` (e.g. one that decodes and scores a
            validation set after each chunk of steps).

    Returns:
        The Keras `History.history` dict (`loss`, and `val_loss` with `val_ds`).

    Example:
    ```python
    history = fit_seq2seq(model, ds, TrainConfig(max_steps=200, warmup_steps=20), epochs=2)
    ```
    """
    compile_seq2seq(model, config)
    if steps_per_epoch is not None:
        train_ds = train_ds.repeat()
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, steps_per_epoch=steps_per_epoch,
        verbose=config.verbose, shuffle=False, callbacks=callbacks,
    )
    return history.history


def _check_length(model, max_length):
    limit = model.config.target_max_length
    max_length = limit if max_length is None else int(max_length)
    if not 2 <= max_length <= limit:
        raise ValueError(f"max_length must be in [2, target_max_length {limit}], got {max_length}")
    return max_length


def greedy_decode_batched(
    model, source_ids, start_id, end_id, *, max_length=None, batch_size=256, jit_compile=False
):
    """Greedy decoding of many sources, as one padded array.

    The course's one decoding loop, `course_lib.generation.sample_batch` at temperature 0,
    `batch_size` sentences per decoder call (the last batch padded, so the decoder traces
    once), its rows padded into an array that BLEU and `decode_ids` read.

    Args:
        model: a `Seq2SeqTransformer`.
        source_ids: `(N, Ts)` padded source ids.
        start_id, end_id: the start and end token ids.
        max_length: decoder buffer length including `[START]` (default `target_max_length`).
        batch_size: sentences per decoder call.
        jit_compile: compile the step with XLA too (faster steps, longer first call).

    Returns:
        An int32 array `(N, max_length - 1)`: generated ids, `pad_id` after `end_id`.

    Example:
    ```python
    out = greedy_decode_batched(model, source_ids, ids.start, ids.end)
    ```
    """
    max_length = _check_length(model, max_length)
    rows = generation.sample_batch(
        model, [start_id], max_length - 1, source_ids=np.asarray(source_ids, dtype=np.int32),
        temperature=0, stop_token=end_id, batch_size=batch_size, jit_compile=jit_compile,
    )
    return pad_batch(rows, max_length - 1, model.config.pad_id)


def beam_search_batched(
    model, source_ids, start_id, end_id, *, beam_width=4, length_penalty=1.0, max_length=None,
    batch_size=64, return_all=False, jit_compile=False,
):
    """Beam search for an encoder-decoder, many sentences at once, as one padded array.

    The course's one beam search, `course_lib.generation.beam_search` with `source_ids`: each
    sentence keeps `beam_width` live hypotheses, all `batch_size × beam_width` beams run as one
    decoder batch, finished hypotheses are ranked by `log p / length^length_penalty` (length
    counts the generated tokens, `[END]` included), and a sentence is done when `W` hypotheses
    have ended and no live beam ranks above the best of them. With `beam_width=1` this is
    greedy decoding; with `length_penalty=0` short outputs are favoured.

    Args:
        model: a `Seq2SeqTransformer`.
        source_ids: `(N, Ts)` padded source ids.
        start_id, end_id: the start and end token ids.
        beam_width: W, live hypotheses per sentence.
        length_penalty: α in `log p / length^α`; 0 turns normalisation off, 1 ranks by mean
            log-probability per token.
        max_length: decoder buffer length including `[START]`.
        batch_size: sentences per decoder call (the call holds `batch_size * W` rows).
        return_all: also return every finished hypothesis.
        jit_compile: compile the decoder step with XLA.

    Returns:
        An int32 array `(N, max_length - 1)` of the best hypotheses (padded with `pad_id`), and
        with `return_all` also a list (per sentence) of `(ids, log_prob, score)` sorted best
        first.

    Example:
    ```python
    best = beam_search_batched(model, source_ids, ids.start, ids.end, beam_width=4)
    ```
    """
    max_length = _check_length(model, max_length)
    found = generation.beam_search(
        model, [start_id], max_length - 1, source_ids=np.asarray(source_ids, dtype=np.int32),
        beam_width=beam_width, length_penalty=length_penalty, stop_token=end_id,
        batch_size=batch_size, jit_compile=jit_compile, return_all=True,
    )
    best = pad_batch([hyps[0][0] for hyps in found], max_length - 1, model.config.pad_id)
    return (best, found) if return_all else best


def sequence_log_prob(model, source_ids, target_ids, start_id, pad_id=None):
    """Log-probability the model gives to each target (teacher forcing), summed over tokens.

    Args:
        model: a `Seq2SeqTransformer`.
        source_ids: `(N, Ts)` padded source ids.
        target_ids: `(N, L)` generated ids without `[START]`, padded with `pad_id` (the end
            token, if present, is scored like any other token).
        start_id: the start id.
        pad_id: the padding id (default: the model's).

    Returns:
        A float64 array `(N,)`.

    Example:
    ```python
    lp = sequence_log_prob(model, source_ids, greedy_ids, ids.start)
    ```
    """
    pad = model.config.pad_id if pad_id is None else pad_id
    target_ids = np.asarray(target_ids, dtype=np.int32)
    decoder_in = np.concatenate(
        [np.full((len(target_ids), 1), start_id, np.int32), target_ids[:, :-1]], axis=1
    )
    logits = ops.convert_to_numpy(
        model({"encoder_token_ids": np.asarray(source_ids, np.int32),
               "decoder_token_ids": decoder_in}, training=False)
    ).astype(np.float64)
    logp = log_softmax(logits)  # (N, L, V)
    picked = np.take_along_axis(logp, target_ids[..., None], axis=-1)[..., 0]
    return (picked * (target_ids != pad)).sum(axis=1)


def decode_ids(tokenizer, ids, end_id, pad_id):
    """Ids → text, stopping at the end token and skipping padding.

    Example:
    ```python
    decode_ids(tokenizer, out[0], ids.end, ids.pad)  # 'Estoy aquí.'
    ```
    """
    keep = []
    for i in np.asarray(ids).tolist():
        if i == end_id:
            break
        if i != pad_id:
            keep.append(i)
    return tokenizer.decode(keep).strip()


def translate(model, tokenizer, texts, *, beam_width=1, length_penalty=1.0, batch_size=256):
    """Translates (or summarizes) texts end to end: tokenize, decode, detokenize.

    Sources longer than `source_max_length` tokens are cut.

    Args:
        model: a trained `Seq2SeqTransformer`.
        tokenizer: its `train_pair_tokenizer` tokenizer.
        texts: source strings.
        beam_width: 1 decodes greedily, more uses `beam_search_batched`.
        length_penalty: α of `beam_search_batched`.
        batch_size: sentences per decoder call.

    Returns:
        A list of output strings.

    Example:
    ```python
    translate(model, tokenizer, ["I am hungry."])  # ['Tengo hambre.']
    ```
    """
    ids = special_ids(tokenizer)
    c = model.config
    src = pad_batch([tokenizer.encode(t) for t in texts], c.source_max_length, ids.pad)
    if beam_width == 1:
        out = greedy_decode_batched(model, src, ids.start, ids.end, batch_size=batch_size)
    else:
        out = beam_search_batched(model, src, ids.start, ids.end, beam_width=beam_width,
                                  length_penalty=length_penalty, batch_size=max(1, batch_size // beam_width))
    return [decode_ids(tokenizer, row, ids.end, ids.pad) for row in out]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9#¿¡])")


def split_sentences(text):
    """Splits text after `.`, `!` or `?` followed by space and a capital (or digit, `#`).

    Example:
    ```python
    split_sentences("Hi there. How are you? Fine.")  # ['Hi there.', 'How are you?', 'Fine.']
    ```
    """
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def dialogue_turns(dialogue):
    """The non-empty lines of a dialogue (DialogSum: one `#PersonN#: …` turn per line).

    Example:
    ```python
    dialogue_turns("#Person1#: Hi.\\n#Person2#: Hello.")  # ['#Person1#: Hi.', '#Person2#: Hello.']
    ```
    """
    return [line.strip() for line in dialogue.splitlines() if line.strip()]


def lead_summary(units, k=1):
    """The first `k` units (sentences or turns), joined by spaces: the lead baseline.

    News articles put the gist first, so "lead-3" is a strong baseline there; a dialogue's
    opening turns are often greetings, so it is weaker on dialogues.

    Example:
    ```python
    lead_summary(["A.", "B.", "C."], k=2)  # 'A. B.'
    ```
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return " ".join(units[:k])


def centrality_scores(units, *, method="degree", damping=0.85, iterations=50, vectorizer=None):
    """How central each unit is: TF-IDF cosine similarity to the other units.

    `"degree"` sums each unit's similarity to every other unit (LexRank's degree centrality);
    `"pagerank"` runs PageRank on the similarity graph (TextRank): a unit is central if it is
    similar to other central units.

    Args:
        units: sentences or turns of one document.
        method: `"degree"` or `"pagerank"`.
        damping: PageRank's damping factor.
        iterations: PageRank power iterations.
        vectorizer: a fitted `TfidfVectorizer` (e.g. on a whole corpus, for better IDF); by
            default one is fitted on `units` alone.

    Returns:
        A float64 array of one score per unit.

    Example:
    ```python
    centrality_scores(["the cat sat", "a cat sat down", "stocks fell"])  # third is lowest
    ```
    """
    if method not in ("degree", "pagerank"):
        raise ValueError(f"method must be 'degree' or 'pagerank', got {method!r}")
    n = len(units)
    if n == 0:
        return np.zeros(0)
    if vectorizer is None:
        try:
            matrix = TfidfVectorizer().fit_transform(units)
        except ValueError:  # no word at all: every unit is as central as any other
            return np.zeros(n)
    else:
        matrix = vectorizer.transform(units)
    sim = cosine_similarity(matrix)
    np.fill_diagonal(sim, 0.0)
    if method == "degree":
        return sim.sum(axis=1)
    rows = sim.sum(axis=1, keepdims=True)
    # A unit similar to nothing links to every unit equally (a "dangling" node in PageRank).
    transition = np.where(rows > 0, sim / np.where(rows > 0, rows, 1.0), 1.0 / n)
    rank = np.full(n, 1.0 / n)
    for _ in range(iterations):
        rank = (1 - damping) / n + damping * transition.T @ rank
    return rank


def centrality_summary(units, k=1, **kwargs):
    """The `k` most central units (see `centrality_scores`), in their original order.

    Ties go to the earlier unit.

    Example:
    ```python
    centrality_summary(["the cat sat", "a cat sat down", "stocks fell"], k=1)
    ```
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    scores = centrality_scores(units, **kwargs)
    best = sorted(np.argsort(-scores, kind="stable")[:k].tolist())
    return " ".join(units[i] for i in best)
