"""Beam search, batched sampling, and measures of generated text.

`course_lib.generation` samples one sequence at a time; this module adds what a study of
decoding needs on top of it:

- `beam_search`: keeps the `beam_width` most likely partial sequences instead of one, with a
  length penalty for hypotheses that end at a stop token. Width 1 is greedy decoding.
- `sample_batch`: many samples in one batched forward pass per step, each row drawing exactly
  what `generation.generate` would draw for the same prompt and seed.
- `token_log_probs` / `perplexity`: how likely the model finds a text (its own samples or
  human text), with a sliding window for texts longer than the context.
- `distinct_n` and `repetition_rate`: how varied a set of samples is, and how much each one
  repeats itself.

Both decoders follow the context overflow policy of `course_lib.generation` (when the window
would exceed `context_length`, cut it to its last `context_length - shift` tokens and read it
afresh), so beam width 1 returns exactly the tokens of greedy `generate`.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from course_lib.generation import sample_next

__all__ = [
    "beam_search",
    "length_normalized_score",
    "sample_batch",
    "log_softmax",
    "token_log_probs",
    "perplexity",
    "word_tokens",
    "ngrams",
    "distinct_n",
    "repetition_rate",
]


# ------------------------------------------------------------------------------------------
# Compiled forward passes over a batch of rows


def _compile(fn, jit_compile):
    """`tf.function` on TensorFlow (XLA if asked); eager with `jit_compile=None` and on other
    backends."""
    if jit_compile is None or keras.backend.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    return tf.function(fn, jit_compile=bool(jit_compile))


# model -> {jit_compile: functions}; weak keys, so the entry dies with the model.
_COMPILED = weakref.WeakKeyDictionary()


def _functions(model, jit_compile):
    per_model = _COMPILED.setdefault(model, {})
    key = None if jit_compile is None else bool(jit_compile)
    if key not in per_model:
        model_ref = weakref.ref(model)
        length = model.config.context_length

        def all_logits(token_ids):  # (B, L) -> (B, L, V)
            return model_ref()(token_ids, training=False)

        def forward(token_ids, last):  # (B, L) -> (B, V) logits at position `last`
            logits = model_ref()(token_ids, training=False)
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
            "all_logits": _compile(all_logits, jit_compile),
            "forward": _compile(forward, jit_compile),
            "prefill": _compile(prefill, jit_compile),
            "step": _compile(step, jit_compile),
        }
    return per_model[key]


class _Rows:
    """Reads the next-token logits of B equally long windows, with or without a cache."""

    def __init__(self, model, use_cache, jit_compile):
        self.functions = _functions(model, jit_compile)
        self.length = model.config.context_length
        self.use_cache = use_cache
        self.cache = None

    def _padded(self, windows):
        # One (B, context_length) shape for every call, so each function traces once; the
        # padding sits after the real tokens, where the causal mask hides it from them.
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
        """`windows` already holds the new last token of each row (after reordering)."""
        if not self.use_cache:
            return self.prefill(windows)
        logits, self.cache = self.functions["step"](
            windows[:, -1:].astype("int32"),
            self.cache,
            np.asarray(windows.shape[1] - 1, dtype="int32"),
            np.asarray(parents, dtype="int32"),
        )
        return np.asarray(logits, np.float64)


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


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_shift(shift, length):
    shift = max(1, length // 4) if shift is None else shift
    if isinstance(shift, bool) or not isinstance(shift, int) or not 1 <= shift < length:
        raise ValueError(
            f"shift must be an int in [1, {length - 1}] (context_length - 1), got {shift!r}"
        )
    return shift


def log_softmax(logits, axis=-1):
    """Log-probabilities from logits, in float64, stable for large logits.

    Args:
        logits: an array of logits (any shape).
        axis: the vocabulary axis.

    Returns:
        A float64 NumPy array of the same shape; `exp` of it sums to 1 along `axis`.

    Example:
    ```python
    log_softmax([0.0, 0.0])  # [-0.693, -0.693]
    ```
    """
    x = np.asarray(logits, dtype=np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


# ------------------------------------------------------------------------------------------
# Beam search


def length_normalized_score(log_prob, length, length_penalty):
    """The score beam search ranks finished hypotheses by: `log_prob / length ** length_penalty`.

    A sum of log-probabilities only falls as a sequence grows, so without normalisation
    (`length_penalty = 0`) beam search prefers the shortest hypothesis that stops; `1` ranks by
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


def beam_search(
    model,
    prompt_ids,
    max_new_tokens,
    *,
    beam_width=4,
    length_penalty=0.0,
    stop_token=None,
    use_cache=True,
    shift=None,
    jit_compile=False,
    return_all=False,
):
    """Beam search: keeps the `beam_width` most likely continuations at every step.

    Each step extends every live beam by every token, scores each candidate by its summed
    log-probability, and keeps the best `beam_width` candidates. A candidate that ends with
    `stop_token` (and ranks among the best `beam_width`) leaves the beam as a finished
    hypothesis. The search ends after `max_new_tokens` steps or as soon as `beam_width`
    hypotheses have finished; then the finished hypotheses (plus the live beams, unless enough
    had finished) are ranked by `length_normalized_score`. Ties go to the earlier beam and the
    lower token id, so `beam_width=1` is exactly greedy decoding (`generate(temperature=0)`).

    The beams are the rows of one batch: with `use_cache` the key/value cache rows are
    reordered to follow their parent beams, so a step costs one batched one-token forward.

    Args:
        model: a `course_lib.gpt.GPT`.
        prompt_ids: non-empty sequence of token ids.
        max_new_tokens: the most tokens to generate (≥ 0).
        beam_width: beams kept per step (≥ 1).
        length_penalty: α in `log_prob / length ** α`; 0 ranks by the raw sum.
        stop_token: id that ends a hypothesis (kept as its last token), or None.
        use_cache: reuse keys/values instead of re-reading the window each step.
        shift: tokens dropped beyond the overflow point (see `course_lib.generation`);
            defaults to `context_length // 4`.
        jit_compile: TensorFlow only: True compiles the forward passes with XLA (worth it for
            long searches), False traces a plain graph (a second or two once per model and
            batch shape, then fast steps), None runs eagerly (no tracing, but every step pays
            Keras's eager overhead: only for a handful of steps).
        return_all: also return the other hypotheses.

    Returns:
        The best hypothesis' new tokens as a list of ints; with `return_all`, a list of
        `(tokens, log_prob, score)` tuples, best first.

    Example:
    ```python
    new_ids = beam_search(model, tokenizer.encode("ROMEO:"), 100, beam_width=4)
    ```
    """
    config = model.config
    length = config.context_length
    vocab = config.vocab_size
    prompt = _prompt_list(prompt_ids, vocab)
    _check_count("max_new_tokens", max_new_tokens, 0)
    _check_count("beam_width", beam_width, 1)
    shift = _check_shift(shift, length)
    length_normalized_score(0.0, 1, length_penalty)  # validates length_penalty
    if max_new_tokens == 0:
        return [([], 0.0, 0.0)] if return_all else []

    width = int(beam_width)
    rows = _Rows(model, use_cache, jit_compile)
    windows = np.tile(np.asarray(prompt[-length:], dtype=np.int64), (width, 1))  # (W, t)
    generated = np.zeros((width, 0), dtype=np.int64)
    # Only beam 0 is alive at the start; the copies score -inf until real candidates fill them.
    scores = np.full(width, -np.inf)
    scores[0] = 0.0
    finished = []  # (tokens, log_prob)
    logits = rows.prefill(windows)
    for step in range(max_new_tokens):
        candidates = (scores[:, None] + log_softmax(logits)).ravel()  # (W * V,)
        order = np.argsort(-candidates, kind="stable")[: 2 * width]
        parents, tokens, new_scores = [], [], []
        for rank, index in enumerate(order):
            if not np.isfinite(candidates[index]):
                break
            beam, token = divmod(int(index), vocab)
            if token == stop_token:
                # Only a stop that would have made the beam counts; a worse one is dropped.
                if rank < width:
                    finished.append((generated[beam].tolist() + [token], candidates[index]))
                continue
            parents.append(beam)
            tokens.append(token)
            new_scores.append(candidates[index])
            if len(parents) == width:
                break
        if len(finished) >= width or not parents:
            break
        while len(parents) < width:  # too few live candidates: pad with dead rows
            parents.append(parents[0])
            tokens.append(tokens[0])
            new_scores.append(-np.inf)
        scores = np.asarray(new_scores)
        generated = np.concatenate([generated[parents], np.asarray(tokens)[:, None]], axis=1)
        if step == max_new_tokens - 1:
            break
        windows = np.concatenate([windows[parents], np.asarray(tokens)[:, None]], axis=1)
        if windows.shape[1] > length:
            windows = windows[:, -(length - shift) :]
            logits = rows.prefill(windows)
        else:
            logits = rows.step(windows, parents)

    pool = list(finished)
    if len(finished) < width:
        pool += [(generated[b].tolist(), s) for b, s in enumerate(scores) if np.isfinite(s)]
    ranked = [
        (tokens, float(lp), length_normalized_score(lp, max(len(tokens), 1), length_penalty))
        for tokens, lp in pool
    ]
    # sorted() is stable: equal scores keep the order in which they were found.
    ranked = sorted(ranked, key=lambda h: -h[2])
    return ranked if return_all else ranked[0][0]


# ------------------------------------------------------------------------------------------
# Batched sampling


def sample_batch(
    model,
    prompts,
    max_new_tokens,
    *,
    temperature=1.0,
    top_k=None,
    top_p=None,
    seed=None,
    stop_token=None,
    use_cache=True,
    shift=None,
    jit_compile=False,
):
    """Samples a continuation for each of several equally long prompts, in one batch.

    Row `i` draws from its own generator `numpy.random.default_rng(seed + i)` with
    `generation.sample_next`, so it returns what `generation.generate(model, prompts[i], ...,
    seed=seed + i)` returns, at the cost of one batched forward pass per step for all rows.

    Args:
        model: a `course_lib.gpt.GPT`.
        prompts: `(B, T)` token ids, every prompt of the same length T ≥ 1 (repeat one prompt
            B times for B samples of it).
        max_new_tokens: tokens to generate per row (≥ 0).
        temperature: see `generation.sample_next`; 0 is greedy.
        top_k: see `generation.sample_next`.
        top_p: see `generation.sample_next`.
        seed: the base seed (None = fresh entropy for every row).
        stop_token: a row's output ends after this id (the row still runs in the batch).
        use_cache: reuse keys/values instead of re-reading the window each step.
        shift: tokens dropped beyond the overflow point; defaults to `context_length // 4`.
        jit_compile: see `beam_search`.

    Returns:
        A list of B lists of new token ids.

    Example:
    ```python
    prompts = np.tile(tokenizer.encode("ROMEO:"), (8, 1))
    samples = sample_batch(model, prompts, 200, temperature=0.8, top_p=0.9, seed=0)
    ```
    """
    config = model.config
    length = config.context_length
    prompts = np.asarray(prompts)
    if prompts.ndim != 2 or prompts.shape[0] < 1 or prompts.shape[1] < 1:
        raise ValueError(
            f"prompts must be a (B, T) array of equally long prompts with B, T >= 1, got shape "
            f"{prompts.shape}; use np.tile(ids, (B, 1)) for B samples of one prompt"
        )
    _prompt_list(prompts, config.vocab_size, "prompts")
    _check_count("max_new_tokens", max_new_tokens, 0)
    # Validates the sampling settings before any compile work (raises with generation's
    # messages).
    sample_next(
        np.zeros(2), temperature=temperature, top_k=top_k, top_p=top_p, rng=np.random.default_rng(0)
    )
    shift = _check_shift(shift, length)
    batch = prompts.shape[0]
    if max_new_tokens == 0:
        return [[] for _ in range(batch)]

    rngs = [np.random.default_rng(None if seed is None else seed + i) for i in range(batch)]
    rows = _Rows(model, use_cache, jit_compile)
    windows = prompts[:, -length:].astype(np.int64)
    keep = np.arange(batch)
    new = np.zeros((batch, 0), dtype=np.int64)
    logits = rows.prefill(windows)
    for step in range(max_new_tokens):
        tokens = np.asarray(
            [
                sample_next(
                    logits[b], temperature=temperature, top_k=top_k, top_p=top_p, rng=rngs[b]
                )
                for b in range(batch)
            ]
        )
        new = np.concatenate([new, tokens[:, None]], axis=1)
        if step == max_new_tokens - 1 or (
            stop_token is not None and np.all(np.any(new == stop_token, axis=1))
        ):
            break
        windows = np.concatenate([windows, tokens[:, None]], axis=1)
        if windows.shape[1] > length:
            windows = windows[:, -(length - shift) :]
            logits = rows.prefill(windows)
        else:
            logits = rows.step(windows, keep)
    out = []
    for row in new.tolist():
        if stop_token is not None and stop_token in row:
            row = row[: row.index(stop_token) + 1]
        out.append(row)
    return out


# ------------------------------------------------------------------------------------------
# Perplexity under the model


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
        jit_compile: see `beam_search`.

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
    _check_count("batch_size", batch_size, 1)

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
    forward = _functions(model, jit_compile)["all_logits"]
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
        jit_compile: see `beam_search`.

    Returns:
        The perplexity as a float (1 = certain; the vocabulary size = uniform guessing).

    Example:
    ```python
    ppl = perplexity(model, [prompt + s for s in samples], start=len(prompt))
    ```
    """
    _check_count("start", start, 1)
    lp = token_log_probs(
        model, token_ids, stride=stride, batch_size=batch_size, jit_compile=jit_compile
    )
    lp = [lp] if isinstance(lp, np.ndarray) else lp
    scored = np.concatenate([x[start - 1 :] for x in lp])
    if scored.size == 0:
        raise ValueError(f"no token at or after start={start} to score; pass longer sequences")
    return float(np.exp(-scored.mean()))


# ------------------------------------------------------------------------------------------
# Diversity and repetition


_WORD = re.compile(r"\w+|[^\w\s]+")


def word_tokens(text):
    """Splits text into words and runs of punctuation (what `nltk.wordpunct_tokenize` does).

    Args:
        text: a str.

    Returns:
        A list of str.

    Example:
    ```python
    word_tokens("Nay, my lord!")  # ['Nay', ',', 'my', 'lord', '!']
    ```
    """
    return _WORD.findall(text)


def _as_tokens(sample):
    return word_tokens(sample) if isinstance(sample, str) else list(sample)


def ngrams(tokens, n):
    """The n-grams of a sequence, as tuples, in order.

    Args:
        tokens: a sequence (a str is split with `word_tokens`).
        n: the n-gram length (≥ 1).

    Returns:
        A list of `len(tokens) - n + 1` tuples (empty if the sequence is shorter than n).

    Example:
    ```python
    ngrams(["a", "b", "c"], 2)  # [('a', 'b'), ('b', 'c')]
    ```
    """
    _check_count("n", n, 1)
    tokens = _as_tokens(tokens)
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(samples, n):
    """Distinct-n (Li et al., 2016): distinct n-grams over all n-grams, across all samples.

    1.0 means no n-gram occurs twice anywhere; a decoder that says the same thing every time
    scores low. It measures variety only: random strings score high too.

    Args:
        samples: a list of samples, each a str (split with `word_tokens`) or a token sequence.
        n: the n-gram length.

    Returns:
        A float in [0, 1] (0.0 when there is no n-gram at all).

    Example:
    ```python
    distinct_n(["the cat sat", "the cat ran"], 2)  # 3 distinct of 4 bigrams = 0.75
    ```
    """
    grams = [g for s in samples for g in ngrams(s, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repetition_rate(samples, n=4):
    """How much each sample repeats itself: the share of its n-grams that already occurred
    earlier in the same sample (`1 - distinct / total`), averaged over the samples.

    Welleck et al. (2020) call it seq-rep-n. Greedy decoding of a small model loops, and this is
    the number that shows it; human text scores near 0 for n = 4.

    Args:
        samples: a list of samples, each a str (split with `word_tokens`) or a token sequence.
        n: the n-gram length.

    Returns:
        A float in [0, 1]; samples with no n-gram are left out (0.0 if none has one).

    Example:
    ```python
    repetition_rate(["a b a b a b"], n=2)  # 5 bigrams, 2 distinct: 0.6
    ```
    """
    rates = []
    for s in samples:
        grams = ngrams(s, n)
        if grams:
            rates.append(1.0 - len(set(grams)) / len(grams))
    return float(np.mean(rates)) if rates else 0.0
