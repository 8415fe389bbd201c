"""Sampling strategies and autoregressive generation, with and without a key/value cache.

Context overflow policy (the same on both paths, so they pick the same tokens for a seed):
the model reads a window of at most `context_length` tokens. When appending a token would make
the window longer than that, the window is cut to its last `context_length - shift` tokens and
the model reads it afresh. A GPT with learned absolute positions cannot simply slide its cache:
every cached key was computed with the position embedding of where its token sat, so after a
slide they would all be one position off. The cached path therefore re-prefills its cache from
the cut window; `shift` new tokens then fit before the next cut, so the cost of a re-prefill is
shared by `shift` cheap steps.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
from keras import ops

__all__ = ["generate", "generate_text", "sample_next", "top_k_filter", "top_p_filter"]


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


def _compile(fn, jit_compile):
    """Compiles `fn` once for fixed shapes on TensorFlow (with XLA if asked, falling back to a
    plain graph if XLA cannot compile it); other backends run it eagerly. The only
    backend-specific code in this module."""
    if keras.backend.backend() != "tensorflow":
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


# model -> {jit_compile: its compiled functions}, so repeated generate() calls do not trace
# again. The functions hold only a weak reference, so the entry dies with the model.
_COMPILED = weakref.WeakKeyDictionary()


def _compiled_functions(model, jit_compile):
    per_model = _COMPILED.setdefault(model, {})
    if jit_compile not in per_model:
        model_ref = weakref.ref(model)
        length = model.config.context_length

        def forward(token_ids, last):  # (1, L) -> (V,) logits at position `last`
            logits = model_ref()(token_ids, training=False)  # (1, L, V)
            return ops.take(logits[0], last, axis=0)

        def prefill(token_ids, last):  # (1, L) -> (V,), cache (N, 1, 2, H, L, D)
            m = model_ref()
            logits, cache = m.call_with_cache(token_ids, m.init_cache(1, length), 0)
            return ops.take(logits[0], last, axis=0), cache

        def step(token_id, cache, index):  # (1, 1) at position `index` -> (V,), cache
            logits, cache = model_ref().call_with_cache(token_id, cache, index)
            return logits[0, -1], cache

        per_model[jit_compile] = {
            "forward": _compile(forward, jit_compile),
            "prefill": _compile(prefill, jit_compile),
            "step": _compile(step, jit_compile),
        }
    return per_model[jit_compile]


def _padded(window, length):
    # Every forward reads a (1, context_length) array so the compiled function has one shape.
    # The padding sits after the real tokens, where the causal mask keeps it from affecting them.
    ids = np.zeros((1, length), dtype="int32")
    ids[0, : len(window)] = window
    return ids, np.asarray(len(window) - 1, dtype="int32")


class _Uncached:
    """Runs the full forward over the current window at every step."""

    def __init__(self, model, jit_compile):
        self.forward = _compiled_functions(model, jit_compile)["forward"]
        self.length = model.config.context_length

    def prefill(self, window):
        return self.forward(*_padded(window, self.length))

    def step(self, window):
        return self.prefill(window)


class _Cached:
    """Fills a key/value cache with the window once, then feeds one token per step."""

    def __init__(self, model, jit_compile):
        functions = _compiled_functions(model, jit_compile)
        self._prefill, self._step = functions["prefill"], functions["step"]
        self.length = model.config.context_length
        self.cache = None

    def prefill(self, window):
        logits, self.cache = self._prefill(*_padded(window, self.length))
        return logits

    def step(self, window):
        token = np.array([[window[-1]]], dtype="int32")
        logits, self.cache = self._step(
            token, self.cache, np.asarray(len(window) - 1, dtype="int32")
        )
        return logits


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
):
    """Generates tokens after a prompt, one at a time, and returns the new tokens only.

    A prompt longer than `context_length` is cropped to its last `context_length` tokens.
    When the window fills up, it is cut to its last `context_length - shift` tokens (see the
    module docstring); the cached and uncached paths follow the same policy and draw from the
    same generator, so for a seed they return the same tokens.

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
            cannot compile. XLA costs a few seconds of compiling once per model and, on a
            2-core CPU with the nanoGPT-CPU model, roughly doubles cached tokens/s (see
            benchmarks/generation_cache.py); pass False for a short run on a CPU.

    Returns:
        A list of `max_new_tokens` ints (fewer if `stop_token` came up).

    Example:
    ```python
    new_ids = generate(model, [0], 100, temperature=0.8, top_k=10, seed=1)
    ```
    """
    config = model.config
    length = config.context_length
    prompt = [int(t) for t in np.asarray(prompt_ids).reshape(-1)]
    if not prompt:
        raise ValueError(
            "prompt_ids is empty; pass at least one token id (e.g. the id of a newline or BOS)"
        )
    if min(prompt) < 0 or max(prompt) >= config.vocab_size:
        raise ValueError(
            f"prompt_ids must lie in [0, {config.vocab_size}); got ids from {min(prompt)} to "
            f"{max(prompt)}; was it encoded with this model's tokenizer?"
        )
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int | np.integer):
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens}")
    shift = max(1, length // 4) if shift is None else shift
    if isinstance(shift, bool) or not isinstance(shift, int) or not 1 <= shift < length:
        raise ValueError(
            f"shift must be an int in [1, {length - 1}] (context_length - 1), got {shift!r}"
        )
    _check_sampling_args(temperature, top_k, top_p)  # before any compile work

    rng = np.random.default_rng(seed)
    runner = (_Cached if use_cache else _Uncached)(model, bool(jit_compile))
    window = prompt[-length:]
    new_tokens = []
    if max_new_tokens == 0:
        return new_tokens
    logits = runner.prefill(window)
    while True:
        token = sample_next(
            ops.convert_to_numpy(logits),
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            rng=rng,
        )
        new_tokens.append(token)
        if token == stop_token or len(new_tokens) == max_new_tokens:
            return new_tokens
        window.append(token)
        if len(window) > length:
            window = window[-(length - shift) :]
            logits = runner.prefill(window)
        else:
            logits = runner.step(window)


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
