"""Decoding: every way the course turns a model's next-token scores into tokens, in one place.

- `sample_next` (with `top_k_filter`, `top_p_filter`): one token from one row of logits:
  greedy, temperature, top-k, nucleus.
- `sample_batch`: a continuation for each of B prompts, one batched forward pass per step;
  `generate` is its one-prompt case, `generate_text` wraps it with a tokenizer. The first two
  take an `on_token` callback that sees each token as soon as it is sampled, to stream text.
- `beam_search`: the `beam_width` most likely continuations, ranked by
  `length_normalized_score`.
- `token_log_probs` / `perplexity`: how likely a model finds a given text.

The same loops drive both kinds of generative model in the course: a decoder-only GPT
(`course_lib.gpt.GPT`, with its key/value cache) and an encoder-decoder
(`course_lib.encoder.Seq2SeqTransformer`, given `source_ids`), each read through one small
"rows" object that returns next-token logits for a batch of windows.

One context-window policy serves them all: the model reads a window of at most its length
(`context_length`, or `target_max_length`) tokens. When appending a token would make the window
longer, it is cut to its last `length - shift` tokens and read afresh. A GPT with learned
absolute positions cannot simply slide its cache: every cached key was computed with the
position embedding of where its token sat, so after a slide they would all be one position
off. The cached path therefore re-prefills from the cut window; `shift` new tokens then fit
before the next cut, so the cost of a re-prefill is shared by `shift` cheap steps. The cached
and uncached paths follow the same policy and draw from the same generators, so for a seed
they return the same tokens. (An encoder-decoder never overflows: its decoders refuse to
generate past `target_max_length`.)
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from course_lib.config import check_int
from course_lib.metrics import log_softmax

__all__ = [
    "beam_search",
    "generate",
    "generate_text",
    "length_normalized_score",
    "perplexity",
    "sample_batch",
    "sample_next",
    "token_log_probs",
    "top_k_filter",
    "top_p_filter",
]


def _as_logits(logits_row):
    logits = np.asarray(logits_row, dtype=np.float64)
    if logits.ndim != 1 or logits.size == 0:
        raise ValueError(f"logits_row must be a non-empty 1-D array, got shape {logits.shape}")
    return logits


def top_k_filter(logits_row, k):
    """Keeps the k largest logits and sets the rest to -inf.

    Ties at the boundary are broken by the lower token id, so exactly `min(k, V)` survive.

    Args:
        logits_row: 1-D logits over the vocabulary.
        k: number of tokens to keep (≥ 1).

    Returns:
        A float64 copy of the logits.

    Example:
    ```python
    top_k_filter([1.0, 3.0, 2.0], 2)  # [-inf, 3.0, 2.0]
    ```
    """
    logits = _as_logits(logits_row)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"top_k must be a positive int or None, got {k!r}")
    keep = np.argsort(-logits, kind="stable")[: int(k)]
    filtered = np.full_like(logits, -np.inf)
    filtered[keep] = logits[keep]
    return filtered


def top_p_filter(logits_row, p):
    """Nucleus filtering: keeps the smallest set of most likely tokens whose probabilities sum to
    at least `p`, and sets the rest to -inf. The most likely token always survives.

    Args:
        logits_row: 1-D logits over the vocabulary (-inf entries have probability 0).
        p: cumulative probability to reach, in (0, 1].

    Returns:
        A float64 copy of the logits.

    Example:
    ```python
    top_p_filter(np.log([0.5, 0.3, 0.2]), 0.7)  # keeps tokens 0 and 1
    ```
    """
    logits = _as_logits(logits_row)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1] or None, got {p!r}")
    probs = _softmax(logits)
    order = np.argsort(-probs, kind="stable")
    cumulative = np.cumsum(probs[order])
    # The tolerance keeps the boundary token when the running sum equals p up to rounding:
    # probabilities recovered from logits are exact only to a few ulps.
    count = int(np.searchsorted(cumulative, p - 1e-12, side="left")) + 1
    keep = order[: min(count, logits.size)]
    filtered = np.full_like(logits, -np.inf)
    filtered[keep] = logits[keep]
    return filtered


def _softmax(logits):
    shifted = np.exp(logits - np.max(logits))
    return shifted / shifted.sum()


def _check_sampling_args(temperature, top_k, top_p):
    if isinstance(temperature, bool) or not isinstance(temperature, int | float | np.floating):
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if not (np.isfinite(temperature) and temperature >= 0):
        raise ValueError(
            f"temperature must be a finite number >= 0 (0 = greedy), got {temperature}"
        )
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1
    ):
        raise ValueError(f"top_k must be a positive int or None, got {top_k!r}")
    if top_p is not None and (
        isinstance(top_p, bool)
        or not isinstance(top_p, int | float | np.floating)
        or not 0.0 < top_p <= 1.0
    ):
        raise ValueError(f"top_p must be in (0, 1] or None, got {top_p!r}")


def sample_next(logits_row, *, temperature=1.0, top_k=None, top_p=None, rng):
    """Picks the next token id from one row of logits.

    Order: divide by temperature, keep the top k, keep the nucleus of mass top_p, renormalise,
    draw. Each non-greedy call uses exactly one `rng.random()` draw, so two runs that see the
    same logits with the same generator pick the same tokens.

    Args:
        logits_row: 1-D logits `(V,)` (NumPy or a tensor).
        temperature: 0 means greedy (argmax, no random draw); otherwise > 0, lower = sharper.
        top_k: keep only the k most likely tokens (None = all).
        top_p: keep the smallest set of tokens with cumulative probability ≥ top_p (None = all).
        rng: a `numpy.random.Generator`.

    Returns:
        The token id as a Python int.

    Example:
    ```python
    rng = np.random.default_rng(0)
    sample_next(np.array([0.1, 2.0, 0.3]), temperature=0.8, top_k=2, rng=rng)
    ```
    """
    logits = _as_logits(logits_row)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    _check_sampling_args(temperature, top_k, top_p)
    if temperature == 0:
        return int(np.argmax(logits))
    logits = logits / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    cumulative = np.cumsum(_softmax(logits))
    # Inverse-CDF draw: a token with probability 0 never owns a piece of [0, 1).
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(index, int(np.flatnonzero(np.isfinite(logits))[-1]))


def length_normalized_score(log_prob, length, length_penalty):
    """The score beam search ranks finished hypotheses by: `log_prob / length ** length_penalty`.

    A sum of log-probabilities only falls as a sequence grows, so without normalisation
    (`length_penalty = 0`) beam search favours short hypotheses; `1` ranks by
    the mean log-probability per token; values in between are a compromise (Hugging Face's
    `length_penalty` has this meaning).

    Args:
        log_prob: the summed log-probability of the generated tokens (≤ 0).
        length: the number of generated tokens (≥ 1), the stop token included.
        length_penalty: the exponent α ≥ 0.

    Returns:
        The score as a float (higher is better).

    Example:
    ```python
    length_normalized_score(-6.0, 3, 1.0)  # -2.0
    ```
    """
    if length < 1:
        raise ValueError(f"length must be >= 1 generated token, got {length}")
    if length_penalty < 0:
        raise ValueError(
            f"length_penalty must be >= 0 (0 = none, 1 = per-token mean), got {length_penalty}"
        )
    return float(log_prob) / float(length) ** float(length_penalty)


# ------------------------------------------------------------------------------------------
# Compiled forward passes, and the rows a decoder reads


def _compile(fn, jit_compile):
    """Compiles `fn` once for fixed shapes on TensorFlow (with XLA if asked, falling back to a
    plain graph if XLA cannot compile it); `jit_compile=None` and other backends run it
    eagerly. The only backend-specific code in this module."""
    if jit_compile is None or keras.backend.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    if not jit_compile:
        return tf.function(fn)
    state = {"fn": tf.function(fn, jit_compile=True), "xla": True}

    def run(*args):
        try:
            return state["fn"](*args)
        except tf.errors.OpError:
            if not state["xla"]:
                raise
            # Some devices or ops lack an XLA kernel; the plain graph still traces only once.
            state.update(fn=tf.function(fn), xla=False)
            return state["fn"](*args)

    return run


# model -> {jit_compile: its compiled functions}, so repeated calls do not trace again. The
# functions hold only a weak reference, so the entry dies with the model.
_COMPILED = weakref.WeakKeyDictionary()


def _causal_functions(model, jit_compile):
    per_model = _COMPILED.setdefault(model, {})
    key = ("causal", None if jit_compile is None else bool(jit_compile))
    if key not in per_model:
        model_ref = weakref.ref(model)
        length = model.config.context_length

        def all_logits(token_ids):  # (B, L) -> (B, L, V)
            return model_ref()(token_ids, training=False)

        def forward(token_ids, last):  # (B, L) -> (B, V) logits at position `last`
            logits = model_ref()(token_ids, training=False)  # (B, L, V)
            return ops.take(logits, last, axis=1)

        def prefill(token_ids, last):  # (B, L) -> (B, V), cache (N, B, 2, H, L, D)
            m = model_ref()
            batch = ops.shape(token_ids)[0]
            logits, cache = m.call_with_cache(token_ids, m.init_cache(batch, length), 0)
            return ops.take(logits, last, axis=1), cache

        def step(token_ids, cache, index, parents):  # (B, 1) -> (B, V), cache
            # Row b continues the sequence of row parents[b]: beams reorder, samples do not.
            cache = ops.take(cache, parents, axis=1)
            logits, cache = model_ref().call_with_cache(token_ids, cache, index)
            return logits[:, -1], cache

        per_model[key] = {
            name: _compile(fn, jit_compile)
            for name, fn in (
                ("all_logits", all_logits), ("forward", forward), ("prefill", prefill),
                ("step", step),
            )
        }
    return per_model[key]


def _seq2seq_functions(model, jit_compile):
    per_model = _COMPILED.setdefault(model, {})
    key = ("seq2seq", None if jit_compile is None else bool(jit_compile))
    if key not in per_model:
        model_ref = weakref.ref(model)

        def encode(source_ids):  # (B, S) -> (B, S, C)
            return model_ref().encode(source_ids, training=False)

        def forward(target_ids, memory, source_ids, last):  # (B, L) -> (B, V) at `last`
            logits = model_ref().decode(target_ids, memory, source_ids, training=False)
            return ops.take(logits, last, axis=1)  # (B, V)

        per_model[key] = {"encode": _compile(encode, False),
                          "forward": _compile(forward, jit_compile)}
    return per_model[key]


class _CausalRows:
    """Next-token logits of B equally long windows of a decoder-only model (a GPT), with or
    without its key/value cache."""

    def __init__(self, model, use_cache, jit_compile):
        self.functions = _causal_functions(model, jit_compile)
        self.length = model.config.context_length
        self.use_cache = use_cache
        self.cache = None

    def _padded(self, windows):
        # One (B, length) shape for every call, so each function traces once; the padding sits
        # after the real tokens, where the causal mask hides it from them.
        batch, t = windows.shape
        ids = np.zeros((batch, self.length), dtype="int32")
        ids[:, :t] = windows
        return ids, np.asarray(t - 1, dtype="int32")

    def prefill(self, windows):
        if not self.use_cache:
            return np.asarray(self.functions["forward"](*self._padded(windows)), np.float64)
        logits, self.cache = self.functions["prefill"](*self._padded(windows))
        return np.asarray(logits, np.float64)

    def step(self, windows, parents):
        """`windows` already holds each row's new last token, rows reordered by `parents`."""
        if not self.use_cache:
            return self.prefill(windows)
        logits, self.cache = self.functions["step"](
            windows[:, -1:].astype("int32"),
            self.cache,
            np.asarray(windows.shape[1] - 1, dtype="int32"),
            np.asarray(parents, dtype="int32"),
        )
        return np.asarray(logits, np.float64)


class _Seq2SeqRows:
    """Next-token logits of B target prefixes of an encoder-decoder, each reading its own
    source sentence: the sources are encoded once, the decoder reads the whole prefix at every
    step (padded to `target_max_length`, so it traces once)."""

    def __init__(self, model, source_ids, jit_compile):
        self.functions = _seq2seq_functions(model, jit_compile)
        self.length = model.config.target_max_length
        self.pad_id = model.config.pad_id
        self.source_ids = np.asarray(source_ids, dtype="int32")  # (B, S)
        self.memory = self.functions["encode"](self.source_ids)  # (B, S, C)

    def prefill(self, windows):
        batch, t = windows.shape
        ids = np.full((batch, self.length), self.pad_id, dtype="int32")
        ids[:, :t] = windows
        logits = self.functions["forward"](
            ids, self.memory, self.source_ids, np.asarray(t - 1, dtype="int32")
        )
        return np.asarray(logits, np.float64)

    def step(self, windows, parents):
        parents = np.asarray(parents)
        if not np.array_equal(parents, np.arange(len(parents))):
            self.memory = ops.take(self.memory, parents, axis=0)
            self.source_ids = self.source_ids[parents]
        return self.prefill(windows)


# ------------------------------------------------------------------------------------------
# The whole sampling loop as one compiled program (TensorFlow, GPT with its cache)
#
# Calling a compiled one-token step from Python costs a graph launch, a copy of the logits to
# NumPy and the Python of `sample_next` per token: for the small course models that overhead
# is most of the time. Here the prefill, every step and the sampling run inside one
# `tf.while_loop` (with XLA when asked), as keras-hub's samplers do, once per stretch of tokens
# between two re-prefills. The sampling repeats `sample_next` step for step in float64 and
# reads the same uniform draws (row i's generator, drawn in advance), so it returns the same
# tokens as the step-by-step loop; that loop remains for streaming (`on_token`), eager runs
# and encoder-decoders.


def _tf_ranks(values):
    """(B, V) -> each entry's rank in descending order, ties to the lower id (stable), and
    the order itself."""
    import tensorflow as tf

    order = tf.argsort(-values, axis=-1, stable=True)
    return tf.argsort(order, axis=-1, stable=True), order


def _tf_softmax(x):
    import tensorflow as tf

    shifted = tf.exp(x - tf.reduce_max(x, axis=-1, keepdims=True))
    return shifted / tf.reduce_sum(shifted, axis=-1, keepdims=True)


def _tf_pick(logits, uniform, temperature, top_k, top_p):
    """`sample_next` for a batch, in TensorFlow: logits (B, V), uniform (B,) float64 draws;
    temperature 0 = greedy, top_k 0 = off, top_p > 1 = off. Returns (B,) int32 ids."""
    import tensorflow as tf

    x = tf.cast(logits, tf.float64)
    greedy = tf.argmax(x, axis=-1, output_type=tf.int32)
    x = x / tf.where(temperature > 0, temperature, tf.constant(1.0, tf.float64))
    minus_inf = tf.constant(-np.inf, tf.float64)

    def keep_top_k(x):
        ranks, _ = _tf_ranks(x)
        return tf.where(ranks >= top_k, minus_inf, x)

    def keep_nucleus(x):
        probs = _tf_softmax(x)
        ranks, order = _tf_ranks(probs)
        cumulative = tf.cumsum(tf.gather(probs, order, batch_dims=1), axis=-1)
        count = tf.reduce_sum(tf.cast(cumulative < top_p - 1e-12, tf.int32), -1, keepdims=True)
        return tf.where(ranks >= count + 1, minus_inf, x)

    # Sorting is the slow part of a step's sampling: skip each filter that is off.
    x = tf.cond(top_k > 0, lambda: keep_top_k(x), lambda: x)
    x = tf.cond(top_p <= 1.0, lambda: keep_nucleus(x), lambda: x)
    cumulative = tf.cumsum(_tf_softmax(x), axis=-1)
    target = uniform[:, None] * cumulative[:, -1:]
    index = tf.reduce_sum(tf.cast(cumulative <= target, tf.int32), axis=-1)
    positions = tf.range(tf.shape(x)[1], dtype=tf.int32)[None, :]
    last_finite = tf.reduce_max(tf.where(tf.math.is_finite(x), positions, -1), axis=-1)
    return tf.where(temperature > 0, tf.minimum(index, last_finite), greedy)


_FUSED_CHUNK = 256  # tokens per compiled call: one trace serves any max_new_tokens
# `sample_batch(compiled_loop=None)` compiles the loop from this many new tokens (all rows).
COMPILED_LOOP_MIN_TOKENS = 256


def _fused_function(model, jit_compile, shift):
    per_model = _COMPILED.setdefault(model, {})
    key = ("fused", bool(jit_compile), shift)
    if key not in per_model:
        import tensorflow as tf

        model_ref = weakref.ref(model)
        length = model.config.context_length
        chunk = _FUSED_CHUNK

        def run(window, t, uniforms, n, temperature, top_k, top_p, stop_token, real):
            # window (B, L): the current window, zero-padded after its t tokens; uniforms
            # (B, chunk). Samples n <= chunk tokens, fewer if every real row met stop_token;
            # returns them with the window (and its length) they leave, the last token
            # included, for the next call to read afresh.
            m = model_ref()
            batch = tf.shape(window)[0]
            positions = tf.range(length)[None, :]  # (1, L)

            def read(window, t):  # a prefill: the logits at position t - 1, a fresh cache
                logits, cache = m.call_with_cache(window, m.init_cache(batch, length), 0)
                return tf.gather(logits, t - 1, axis=1), cache  # (B, V), (N, B, 2, H, L, D)

            def step(i, window, t, logits, cache, out, ended):
                token = _tf_pick(logits, uniforms[:, i], temperature, top_k, top_p)  # (B,)
                out = tf.where(tf.range(chunk)[None, :] == i, token[:, None], out)  # (B, chunk)
                ended = ended | (token == stop_token)

                def append():  # the token fits: it sits at position t
                    return tf.where(positions == t, token[:, None], window), t + 1  # (B, L)

                def cut():  # L + 1 tokens: keep the last L - shift, to be read afresh
                    kept = tf.concat([window[:, shift + 1 :], token[:, None]], axis=1)
                    return tf.pad(kept, [[0, 0], [0, shift]]), tf.constant(length - shift)

                new_window, new_t = tf.cond(t < length, append, cut)

                def next_logits():  # a cached step after an append, a fresh read after a cut
                    def cached():
                        new_logits, new_cache = m.call_with_cache(token[:, None], cache, t)
                        return new_logits[:, -1], new_cache  # (B, V), (N, B, 2, H, L, D)

                    return tf.cond(t < length, cached, lambda: read(new_window, new_t))

                # The last token of a call needs no logits: the next call reads its window.
                state = tf.cond(i + 1 < n, next_logits, lambda: (logits, cache))
                # The branches lose the static batch size; the loop needs it back.
                window, t, logits, cache = (
                    tf.ensure_shape(new, old.shape)
                    for new, old in zip((new_window, new_t, *state), (window, t, logits, cache),
                                        strict=True))
                return i + 1, window, t, logits, cache, out, ended

            def going(i, window, t, logits, cache, out, ended):
                return (i < n) & ~tf.reduce_all(ended | ~real)

            start = (tf.constant(0, tf.int32), window, t, *read(window, t),
                     tf.zeros((batch, chunk), tf.int32), tf.zeros((batch,), tf.bool))
            count, window, t, _, _, out, _ = tf.while_loop(going, step, start)
            return out, count, window, t

        per_model[key] = _compile(run, jit_compile)
    return per_model[key]


def _fused_sample(model, windows, max_new_tokens, uniforms, real, *, temperature, top_k,
                  top_p, stop_token, shift, jit_compile):
    """The tokens `sample_batch`'s loop would sample for `windows` (B, T), in compiled calls
    of up to `_FUSED_CHUNK` tokens. `uniforms` (B, max_new_tokens) are the rows' draws."""
    run = _fused_function(model, jit_compile, shift)
    length = model.config.context_length
    batch, t = windows.shape
    settings = (
        np.float64(temperature),
        np.int32(top_k or 0),
        np.float64(2.0 if top_p is None else top_p),
        np.int32(-1 if stop_token is None else stop_token),
        np.asarray(real),
    )
    window = np.zeros((batch, length), dtype="int32")
    window[:, :t] = windows
    t = np.int32(t)
    pieces, done = [], 0
    while done < max_new_tokens:
        n = min(max_new_tokens - done, _FUSED_CHUNK)
        draws = np.zeros((batch, _FUSED_CHUNK))
        draws[:, :n] = uniforms[:, done : done + n]
        out, count, window, t = run(window, t, draws, np.int32(n), *settings)
        count = int(count)
        pieces.append(np.asarray(out)[:, :count])
        done += count
        if count < n:  # every row has ended
            break
    return np.concatenate(pieces, axis=1).astype(np.int64)


def _rows_for(model, source_ids, use_cache, jit_compile):
    if source_ids is None:
        return _CausalRows(model, use_cache, jit_compile)
    return _Seq2SeqRows(model, source_ids, jit_compile)


def _advance(rows, windows, parents, shift):
    """The one context-window policy, for every decoder here: `windows` (rows reordered by
    `parents`, the new token appended) is read as it is while it fits the model's length;
    once it would not, it is cut to its last `length - shift` tokens and read afresh.

    Returns the windows (cut or not) and the next-token logits `(B, V)` in float64.
    """
    if windows.shape[1] > rows.length:
        windows = windows[:, -(rows.length - shift):]
        return windows, rows.prefill(windows)
    return windows, rows.step(windows, parents)


# ------------------------------------------------------------------------------------------
# Argument checks


def _prompt_list(prompt_ids, vocab_size, name="prompt_ids"):
    prompt = [int(t) for t in np.asarray(prompt_ids).reshape(-1)]
    if not prompt:
        raise ValueError(f"{name} is empty; pass at least one token id (e.g. a newline or BOS)")
    if min(prompt) < 0 or max(prompt) >= vocab_size:
        raise ValueError(
            f"{name} must lie in [0, {vocab_size}); got ids from {min(prompt)} to {max(prompt)}; "
            "was it encoded with this model's tokenizer?"
        )
    return prompt


def _check_shift(shift, length):
    shift = max(1, length // 4) if shift is None else shift
    if isinstance(shift, bool) or not isinstance(shift, int) or not 1 <= shift < length:
        raise ValueError(
            f"shift must be an int in [1, {length - 1}] (context_length - 1), got {shift!r}"
        )
    return shift


def _setup(model, prompts, max_new_tokens, source_ids, shift):
    """Checks what every decoder gets; returns (prompts (B, T), source_ids or None, shift)."""
    check_int("max_new_tokens", max_new_tokens)
    config = model.config
    if source_ids is None:
        vocab, length = config.vocab_size, config.context_length
    else:
        vocab, length = config.target_vocab_size, config.target_max_length
        source_ids = np.asarray(source_ids)
        if source_ids.ndim != 2 or source_ids.shape[0] < 1:
            raise ValueError(
                f"source_ids must be a (N, S) array of padded source ids, got shape "
                f"{source_ids.shape}"
            )
        prompts = np.asarray(prompts)
        if prompts.ndim == 1:  # one decoder start for every source
            prompts = np.tile(prompts, (len(source_ids), 1))
        if len(prompts) != len(source_ids):
            raise ValueError(
                f"{len(prompts)} prompts for {len(source_ids)} sources; pass one decoder "
                "prompt (e.g. [start_id]) for all, or one row per source"
            )
        if prompts.shape[1] + max_new_tokens > length:
            raise ValueError(
                f"a target of {prompts.shape[1]} prompt + {max_new_tokens} new tokens exceeds "
                f"target_max_length {length}; ask for at most "
                f"{length - prompts.shape[1]} new tokens"
            )
    prompts = np.asarray(prompts)
    if prompts.ndim != 2 or prompts.shape[0] < 1 or prompts.shape[1] < 1:
        raise ValueError(
            f"prompts must be a (B, T) array of equally long prompts with B, T >= 1, got shape "
            f"{prompts.shape}; use np.tile(ids, (B, 1)) for B samples of one prompt"
        )
    _prompt_list(prompts, vocab, "prompts")
    return prompts.astype(np.int64), source_ids, _check_shift(shift, length)


def _chunks(count, batch_size):
    """Row ranges of at most `batch_size` rows; more than one chunk pads the last one (with
    copies of its first row) so every call has the same shape and traces once."""
    if batch_size is None or count <= batch_size:
        return [(0, count, count)]
    check_int("batch_size", batch_size, minimum=1)
    return [(lo, min(lo + batch_size, count), batch_size) for lo in range(0, count, batch_size)]


def _pad_rows(array, size):
    array = np.asarray(array)
    if len(array) == size:
        return array
    return np.concatenate([array, np.repeat(array[:1], size - len(array), axis=0)])


# ------------------------------------------------------------------------------------------
# Sampling: one loop for greedy decoding, temperature, top-k and top-p


def sample_batch(
    model,
    prompts,
    max_new_tokens,
    *,
    source_ids=None,
    temperature=1.0,
    top_k=None,
    top_p=None,
    seed=None,
    stop_token=None,
    use_cache=True,
    shift=None,
    jit_compile=False,
    batch_size=None,
    on_token=None,
    compiled_loop=None,
):
    """Samples a continuation of each prompt, all rows in one batched forward pass per step.

    Row `i` draws from its own generator `numpy.random.default_rng(seed + i)` with
    `sample_next`, so it returns what `generate(model, prompts[i], ..., seed=seed + i)`
    returns. `temperature=0` is greedy decoding. With `source_ids`, the model is an
    encoder-decoder (`course_lib.encoder.Seq2SeqTransformer`) and row `i` continues the decoder
    prompt (usually `[start_id]`) while reading source `i`.

    Args:
        model: a `course_lib.gpt.GPT`, or a `Seq2SeqTransformer` with `source_ids`.
        prompts: `(B, T)` token ids, every prompt of the same length T ≥ 1 (repeat one prompt
            B times for B samples of it); with `source_ids`, also one `(T,)` prompt for all.
        max_new_tokens: tokens to generate per row (≥ 0).
        source_ids: `(B, S)` padded source ids for an encoder-decoder, else None.
        temperature: see `sample_next`; 0 is greedy.
        top_k: see `sample_next`.
        top_p: see `sample_next`.
        seed: the base seed (None = fresh entropy for every row).
        stop_token: a row's output ends after this id (the row still runs in the batch).
        use_cache: reuse keys/values instead of re-reading the window each step (GPT only).
        shift: tokens dropped beyond the overflow point; defaults to `context_length // 4`.
        jit_compile: TensorFlow only: True compiles the forward passes with XLA (worth it for
            long runs), False traces a plain graph once per model and batch shape, None runs
            eagerly (only for a handful of steps).
        batch_size: rows per forward pass (None = all at once); many sources decode in
            batches of this size.
        on_token: None, or a function called after every decoding step, as soon as the step's
            tokens are sampled, with a list of B entries: row `i`'s new token id (an int), or
            None where row `i` added nothing at this step (it already ended at `stop_token`,
            or it sits in another batch of `batch_size` rows). Row `i`'s ints, in order, are
            exactly its returned list, so a caller can stream them. An exception it raises
            stops the decoding and propagates.
        compiled_loop: run the whole sampling loop as one compiled program (TensorFlow, a
            GPT with `use_cache`, no `on_token`; the same tokens, several times faster per
            token, but seconds of compiling once per model and batch size). None decides by
            size: at least `COMPILED_LOOP_MIN_TOKENS` new tokens in all rows together.

    Returns:
        A list of B lists of new token ids, each ending at its first `stop_token`.

    Example:
    ```python
    prompts = np.tile(tokenizer.encode("ROMEO:"), (8, 1))
    samples = sample_batch(model, prompts, 200, temperature=0.8, top_p=0.9, seed=0)
    translations = sample_batch(seq2seq, [start_id], 20, source_ids=source_ids,
                                temperature=0, stop_token=end_id)
    # Watch all rows grow, one step at a time:
    sample_batch(model, prompts, 50, seed=0, on_token=lambda step: print(step))
    ```
    """
    prompts, source_ids, shift = _setup(model, prompts, max_new_tokens, source_ids, shift)
    _check_sampling_args(temperature, top_k, top_p)  # before any compile work
    count = len(prompts)
    if max_new_tokens == 0:
        return [[] for _ in range(count)]
    rngs = [np.random.default_rng(None if seed is None else seed + i) for i in range(count)]
    # One compiled program samples the whole continuation (TensorFlow, GPT, cache, no
    # streaming); otherwise the step-by-step loop below, which returns the same tokens.
    fused = (source_ids is None and use_cache and on_token is None and jit_compile is not None
             and keras.backend.backend() == "tensorflow")
    if compiled_loop is None:
        # Compiling the loop costs seconds once per model and batch size; it pays back only
        # over many tokens.
        compiled_loop = count * max_new_tokens >= COMPILED_LOOP_MIN_TOKENS
    fused = fused and bool(compiled_loop)
    out = []
    for lo, hi, size in _chunks(count, batch_size):
        sources = None if source_ids is None else _pad_rows(source_ids[lo:hi], size)
        if fused:
            windows = _pad_rows(prompts[lo:hi], size)[:, -model.config.context_length:]
            real = np.arange(size) < hi - lo
            # Exactly the draws sample_next would make, one per row and step, in order.
            uniforms = np.stack([rngs[lo + b].random(max_new_tokens) if real[b]
                                 else np.zeros(max_new_tokens) for b in range(size)])
            new = _fused_sample(
                model, windows, max_new_tokens, uniforms, real, temperature=temperature,
                top_k=top_k, top_p=top_p, stop_token=stop_token, shift=shift,
                jit_compile=jit_compile,
            )
            out.extend(_cut_at_stop(new[: hi - lo], stop_token))
            continue
        rows = _rows_for(model, sources, use_cache, jit_compile)
        windows = _pad_rows(prompts[lo:hi], size)[:, -rows.length:]
        keep = np.arange(size)
        new = np.zeros((size, 0), dtype=np.int64)
        logits = rows.prefill(windows)
        for step in range(max_new_tokens):
            tokens = np.asarray([
                sample_next(logits[b], temperature=temperature, top_k=top_k, top_p=top_p,
                            rng=rngs[lo + b]) if b < hi - lo else 0
                for b in range(size)
            ])
            if on_token is not None:
                # A row that already ended keeps running in the batch, but what it samples
                # is cut from its result, so it is not reported either.
                ended = (np.any(new[: hi - lo] == stop_token, axis=1) if stop_token is not None
                         else np.zeros(hi - lo, dtype=bool))
                step_tokens = [None] * count
                for b in np.flatnonzero(~ended):
                    step_tokens[lo + b] = int(tokens[b])
                on_token(step_tokens)
            new = np.concatenate([new, tokens[:, None]], axis=1)
            if step == max_new_tokens - 1 or (
                stop_token is not None and np.all(np.any(new[: hi - lo] == stop_token, axis=1))
            ):
                break
            windows, logits = _advance(
                rows, np.concatenate([windows, tokens[:, None]], axis=1), keep, shift
            )
        out.extend(_cut_at_stop(new[: hi - lo], stop_token))
    return out


def _cut_at_stop(new, stop_token):
    """Each row of `new` as a list, ending at its first `stop_token` (kept)."""
    rows = new.tolist()
    if stop_token is None:
        return rows
    return [row[: row.index(stop_token) + 1] if stop_token in row else row for row in rows]


def generate(
    model,
    prompt_ids,
    max_new_tokens,
    *,
    temperature=1.0,
    top_k=None,
    top_p=None,
    seed=None,
    use_cache=True,
    stop_token=None,
    shift=None,
    jit_compile=True,
    on_token=None,
    compiled_loop=None,
):
    """Generates tokens after one prompt and returns the new tokens only.

    A prompt longer than `context_length` is cropped to its last `context_length` tokens.
    When the window fills up, it is cut to its last `context_length - shift` tokens (the
    module's context-window policy); the cached and uncached paths follow the same policy and
    draw from the same generator, so for a seed they return the same tokens. This is
    `sample_batch` with one row.

    Args:
        model: a `course_lib.gpt.GPT` (anything with `config.context_length`,
            `config.vocab_size`, `call_with_cache`, `init_cache`).
        prompt_ids: non-empty sequence of token ids (start from a BOS or newline id if you have
            no prompt).
        max_new_tokens: number of tokens to generate (≥ 0).
        temperature: see `sample_next`; 0 is greedy.
        top_k: see `sample_next`.
        top_p: see `sample_next`.
        seed: seed of the NumPy generator used for sampling (None = fresh entropy).
        use_cache: reuse keys/values (fast) instead of re-reading the window each step.
        stop_token: stop after generating this id; it is included as the last element.
        shift: tokens dropped beyond the overflow point; defaults to `context_length // 4`.
        jit_compile: TensorFlow only: compile the prefill and the one-token step (or the
            uncached forward) with XLA; it falls back to a plain `tf.function` graph where XLA
            cannot compile. XLA costs a few seconds of compiling once per model and roughly
            doubles cached tokens/s on a 2-core CPU (see benchmarks/generation_cache.py); pass
            False for a short run on a CPU.
        on_token: None, or a function called with each new token id (an int) as soon as it is
            sampled, before the next decoding step: the same ids, in the same order, as the
            returned list (`stop_token` included), so a caller can stream the text as it
            grows. An exception it raises stops the decoding and propagates.
        compiled_loop: see `sample_batch` (None: compiled from 256 new tokens on).

    Returns:
        A list of `max_new_tokens` ints (fewer if `stop_token` came up).

    Example:
    ```python
    new_ids = generate(model, [0], 100, temperature=0.8, top_k=10, seed=1)
    # Streaming: show the text so far after each token (decoding the whole reply each time
    # keeps a character split across two BPE tokens intact).
    so_far = []

    def show(token_id):
        so_far.append(token_id)
        print(tokenizer.decode(so_far))

    new_ids = generate(model, prompt_ids, 100, seed=1, stop_token=eot_id, on_token=show)
    ```
    """
    prompt = _prompt_list(prompt_ids, model.config.vocab_size)
    # One row never outlives its stop token inside the loop, so its entry is always an int.
    per_step = None if on_token is None else (lambda step_tokens: on_token(step_tokens[0]))
    return sample_batch(
        model, [prompt], max_new_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
        seed=seed, stop_token=stop_token, use_cache=use_cache, shift=shift,
        jit_compile=bool(jit_compile), on_token=per_step, compiled_loop=compiled_loop,
    )[0]


# ------------------------------------------------------------------------------------------
# Beam search


def beam_search(
    model,
    prompt_ids,
    max_new_tokens,
    *,
    source_ids=None,
    beam_width=4,
    length_penalty=0.0,
    stop_token=None,
    use_cache=True,
    shift=None,
    jit_compile=False,
    return_all=False,
    batch_size=64,
):
    """Beam search: keeps the `beam_width` most likely continuations at every step.

    Each step extends every live beam by every token and scores each candidate by its summed
    log-probability; of the best `2W` candidates, one that ends with `stop_token` and ranks
    among the best `W` leaves the beam as a finished hypothesis (so `W = 1` finishes exactly
    where greedy decoding stops), the others fill the `W` live beams. A search is done when `W`
    hypotheses have finished and no live beam, scored at its current length, ranks above the
    best of them (Hugging Face compares with the worst of them, searching a little longer);
    at `max_new_tokens` the live beams join the finished
    ones. Hypotheses are ranked by `length_normalized_score`; ties go to the earlier beam and
    the lower token id.

    The beams of a search are rows of one batch: with a GPT's cache, cache rows are reordered
    to follow their parent beams, so a step costs one batched one-token forward. With
    `source_ids`, the model is an encoder-decoder and each source sentence gets its own search,
    `batch_size` sentences (of `W` rows each) at a time.

    Args:
        model: a `course_lib.gpt.GPT`, or a `Seq2SeqTransformer` with `source_ids`.
        prompt_ids: non-empty sequence of token ids; with `source_ids`, the decoder prompt
            for every source (usually `[start_id]`).
        max_new_tokens: the most tokens to generate (≥ 0).
        source_ids: `(N, S)` padded source ids for an encoder-decoder, else None.
        beam_width: beams kept per step (≥ 1).
        length_penalty: α in `log_prob / length ** α`; 0 ranks by the raw sum.
        stop_token: id that ends a hypothesis (kept as its last token), or None.
        use_cache: reuse keys/values instead of re-reading the window each step (GPT only).
        shift: tokens dropped beyond the overflow point (see `generate`).
        jit_compile: see `sample_batch`.
        return_all: also return the other hypotheses.
        batch_size: source sentences per search batch (encoder-decoder only).

    Returns:
        For a GPT: the best hypothesis' new tokens as a list of ints; with `return_all`, a list
        of `(tokens, log_prob, score)` tuples, best first. With `source_ids`: a list of such
        results, one per source sentence.

    Example:
    ```python
    new_ids = beam_search(model, tokenizer.encode("ROMEO:"), 100, beam_width=4)
    best = beam_search(seq2seq, [start_id], 20, source_ids=source_ids, stop_token=end_id,
                       length_penalty=1.0)
    ```
    """
    prompt = _prompt_list(prompt_ids, model.config.target_vocab_size
                          if source_ids is not None else model.config.vocab_size)
    prompts, source_ids, shift = _setup(
        model, prompt if source_ids is not None else [prompt], max_new_tokens, source_ids, shift
    )
    width = check_int("beam_width", beam_width, minimum=1)
    length_normalized_score(0.0, 1, length_penalty)  # validates length_penalty
    count = len(prompts)
    if max_new_tokens == 0:
        results = [[([], 0.0, 0.0)] if return_all else [] for _ in range(count)]
    else:
        results = []
        step_size = None if source_ids is None else batch_size
        for lo, hi, _ in _chunks(count, step_size) if step_size else [(0, count, count)]:
            sources = None if source_ids is None else np.repeat(source_ids[lo:hi], width, 0)
            results += _beam_rows(
                _rows_for(model, sources, use_cache, jit_compile),
                np.repeat(prompts[lo:hi], width, axis=0), hi - lo, width, max_new_tokens,
                length_penalty, stop_token, shift,
            )
        if not return_all:
            results = [hyps[0][0] for hyps in results]
    return results if source_ids is not None else results[0]


def _beam_rows(rows, windows, problems, width, max_new_tokens, alpha, stop_token, shift):
    """Beam search for `problems` independent searches of `width` rows each (row `i·W + k` is
    beam k of search i); returns each search's hypotheses, best first."""
    vocab = None
    generated = np.zeros((problems * width, 0), dtype=np.int64)
    # Only beam 0 of each search is alive at first: the copies would only duplicate it.
    scores = np.full((problems, width), -np.inf)
    scores[:, 0] = 0.0
    finished = [[] for _ in range(problems)]  # (tokens, log_prob, score)
    done = np.zeros(problems, dtype=bool)
    logits = rows.prefill(windows)
    for step in range(max_new_tokens):
        logp = log_softmax(logits).reshape(problems, width, -1)  # (N, W, V)
        vocab = logp.shape[-1]
        candidates = (scores[:, :, None] + logp).reshape(problems, width * vocab)
        top = np.argsort(-candidates, axis=1, kind="stable")[:, : min(2 * width, width * vocab)]
        parents = np.repeat(np.arange(problems) * width, width)  # dead rows copy beam 0
        tokens = np.zeros(problems * width, dtype=np.int64)
        new_scores = np.full((problems, width), -np.inf)
        for i in np.flatnonzero(~done):
            filled = 0
            for rank, flat in enumerate(top[i]):
                score = candidates[i, flat]
                if not np.isfinite(score):
                    break
                beam, token = divmod(int(flat), vocab)
                if token == stop_token:
                    # Only an ending among the W best candidates counts.
                    if rank < width:
                        hyp = generated[i * width + beam].tolist() + [token]
                        finished[i].append(
                            (hyp, float(score), length_normalized_score(score, step + 1, alpha))
                        )
                    continue
                parents[i * width + filled] = i * width + beam
                tokens[i * width + filled] = token
                new_scores[i, filled] = score
                filled += 1
                if filled == width:
                    break
            best_live = (length_normalized_score(new_scores[i].max(), step + 1, alpha)
                         if filled else -np.inf)
            if len(finished[i]) >= width and max(h[2] for h in finished[i]) >= best_live:
                done[i] = True
        scores = new_scores
        generated = np.concatenate([generated[parents], tokens[:, None]], axis=1)
        if done.all() or step == max_new_tokens - 1:
            break
        windows, logits = _advance(
            rows, np.concatenate([windows[parents], tokens[:, None]], axis=1), parents, shift
        )
    results = []
    for i in range(problems):
        hyps = list(finished[i])
        if not done[i]:  # out of steps: the live beams join the finished ones
            for k in np.flatnonzero(np.isfinite(scores[i])):
                hyp = generated[i * width + k].tolist()
                hyps.append((hyp, float(scores[i, k]),
                             length_normalized_score(scores[i, k], max(len(hyp), 1), alpha)))
        results.append(sorted(hyps, key=lambda h: -h[2]))  # sorted() is stable
    return results


# ------------------------------------------------------------------------------------------
# Scoring text under a decoder-only model


def token_log_probs(model, token_ids, *, stride=None, batch_size=32, jit_compile=False):
    """Log-probability the model gives each token of a sequence, given the tokens before it.

    A sequence longer than the context is read in windows of `context_length` tokens that
    start every `stride` tokens; each token is scored in the first window that predicts it
    with at least `context_length - stride` tokens of context (the first tokens get less:
    there is nothing before them). The windows of all the sequences go through the model in
    batches.

    Args:
        model: a `course_lib.gpt.GPT`.
        token_ids: one sequence of ids, or a list of sequences (of any lengths ≥ 1).
        stride: tokens between window starts, in [1, context_length - 1]; defaults to
            `context_length // 2`. Smaller is more context per token and more compute.
        batch_size: windows per forward pass (every pass reads a full batch, padded, so the
            forward pass is traced once).
        jit_compile: see `sample_batch`.

    Returns:
        For one sequence, a float64 array of length `n - 1`: entry `t - 1` is
        `log p(token_t | tokens before t)`. For a list, a list of such arrays.

    Example:
    ```python
    lp = token_log_probs(model, tokenizer.encode("To be, or not to be"))
    perplexity_of_text = np.exp(-lp.mean())
    ```
    """
    length = model.config.context_length
    single = not (len(token_ids) and isinstance(token_ids[0], Sequence | np.ndarray))
    sequences = [token_ids] if single else list(token_ids)
    if length < 2:
        raise ValueError("token_log_probs needs a model with context_length >= 2")
    stride = length // 2 if stride is None else stride
    if isinstance(stride, bool) or not isinstance(stride, int) or not 1 <= stride < length:
        raise ValueError(
            f"stride must be an int in [1, context_length - 1 = {length - 1}] so that windows "
            f"overlap, got {stride!r}"
        )
    check_int("batch_size", batch_size, minimum=1)

    windows, jobs = [], []  # jobs[i]: (sequence, window begin, first target, end) of window i
    results = []
    for s, seq in enumerate(sequences):
        ids = _prompt_list(seq, model.config.vocab_size, "token_ids")
        results.append(np.zeros(len(ids) - 1))
        done = 1  # next target position to score; position 0 has no prediction
        begin = 0
        while done < len(ids):
            end = min(begin + length, len(ids))
            windows.append(ids[begin:end])
            jobs.append((s, begin, done, end))
            done = end
            begin += stride
    batch_size = min(batch_size, max(1, len(windows)))
    forward = _causal_functions(model, jit_compile)["all_logits"]
    for first in range(0, len(windows), batch_size):
        chunk = windows[first : first + batch_size]
        x = np.zeros((batch_size, length), dtype="int32")
        for i, w in enumerate(chunk):
            x[i, : len(w)] = w
        logp = log_softmax(ops.convert_to_numpy(forward(x)))  # (batch_size, L, V)
        for i, (s, begin, start, end) in enumerate(jobs[first : first + len(chunk)]):
            targets = np.asarray(chunk[i][start - begin : end - begin])
            # Window position p predicts the token at p + 1.
            preds = logp[i, np.arange(start - begin - 1, end - begin - 1), targets]
            results[s][start - 1 : end - 1] = preds
    return results[0] if single else results


def perplexity(model, token_ids, *, start=1, stride=None, batch_size=32, jit_compile=False):
    """The model's perplexity of tokens `start..` of one or more sequences: exp of the mean
    negative log-probability per token (over all the scored tokens of all sequences).

    Pass `start = len(prompt)` to score only the continuation of a prompt: how surprised the
    model is by a sample (its own or a human's) of that continuation.

    Args:
        model: a `course_lib.gpt.GPT`.
        token_ids: one sequence of ids, or a list of sequences.
        start: index of the first scored token (≥ 1; the first token has no prediction).
        stride: see `token_log_probs`.
        batch_size: see `token_log_probs`.
        jit_compile: see `sample_batch`.

    Returns:
        The perplexity as a float (1 = certain; the vocabulary size = uniform guessing).

    Example:
    ```python
    ppl = perplexity(model, [prompt + s for s in samples], start=len(prompt))
    ```
    """
    check_int("start", start, minimum=1)
    lp = token_log_probs(
        model, token_ids, stride=stride, batch_size=batch_size, jit_compile=jit_compile
    )
    lp = [lp] if isinstance(lp, np.ndarray) else lp
    scored = np.concatenate([x[start - 1 :] for x in lp])
    if scored.size == 0:
        raise ValueError(f"no token at or after start={start} to score; pass longer sequences")
    return float(np.exp(-scored.mean()))


def generate_text(model, tokenizer, prompt, max_new_tokens=200, **kwargs):
    """Encodes a prompt, generates, and decodes prompt + continuation.

    Args:
        model: a `course_lib.gpt.GPT`.
        tokenizer: an object with `encode(str) -> ids` and `decode(ids) -> str`.
        prompt: the text to continue (must encode to at least one token).
        max_new_tokens: number of tokens to generate.
        **kwargs: passed to `generate` (temperature, top_k, top_p, seed, use_cache, ...).

    Returns:
        The decoded text of the whole prompt followed by the new tokens. Decoding them together
        keeps subword pieces that straddle the boundary intact.

    Example:
    ```python
    print(generate_text(model, tokenizer, "ROMEO:", 200, temperature=0.8, seed=0))
    ```
    """
    prompt_ids = [int(t) for t in np.asarray(tokenizer.encode(prompt)).reshape(-1)]
    if not prompt_ids:
        raise ValueError(f"prompt {prompt!r} encodes to no tokens; give a non-empty prompt")
    new_ids = generate(model, prompt_ids, max_new_tokens, **kwargs)
    return tokenizer.decode(prompt_ids + new_ids)
