"""course_lib.generation: filtering, sampling, and cached vs uncached decoding."""

import keras
import numpy as np
import pytest

from course_lib.generation import (
    _COMPILED,
    generate,
    generate_text,
    sample_batch,
    sample_next,
    top_k_filter,
    top_p_filter,
)
from course_lib.gpt import GPT, GPTConfig

CONTEXT = 8


@pytest.fixture(scope="module")
def model():
    """A tiny random GPT with weights large enough that its logits are far from uniform, so a
    wrong position or a stale cache entry would change the tokens."""
    keras.utils.set_random_seed(0)
    model = GPT(
        GPTConfig(vocab_size=11, context_length=CONTEXT, num_layers=2, num_heads=2, width=16)
    )
    rng = np.random.default_rng(0)
    for v in model.weights:
        if v.name in ("kernel", "embeddings"):
            v.assign(rng.normal(0.0, 0.5, size=v.shape).astype("float32"))
    return model


def kept(logits):
    return set(np.flatnonzero(np.isfinite(logits)).tolist())


def test_top_k_filter_keeps_exact_set():
    logits = np.array([1.0, 5.0, 3.0, 2.0, 4.0])
    assert kept(top_k_filter(logits, 2)) == {1, 4}
    assert kept(top_k_filter(logits, 1)) == {1}
    assert kept(top_k_filter(logits, 9)) == {0, 1, 2, 3, 4}
    np.testing.assert_array_equal(top_k_filter(logits, 3)[[1, 4, 2]], [5.0, 4.0, 3.0])
    assert kept(top_k_filter(np.array([2.0, 2.0, 2.0]), 2)) == {0, 1}  # ties: lower id wins


def test_top_p_filter_keeps_smallest_nucleus():
    logits = np.log([0.1, 0.4, 0.2, 0.3])
    assert kept(top_p_filter(logits, 0.5)) == {1, 3}
    assert kept(top_p_filter(logits, 0.4)) == {1}  # reaching p exactly is enough
    assert kept(top_p_filter(logits, 0.7)) == {1, 3}  # 0.4 + 0.3 is not exactly 0.7 in floats
    assert kept(top_p_filter(logits, 0.71)) == {1, 3, 2}
    assert kept(top_p_filter(logits, 1.0)) == {0, 1, 2, 3}
    assert kept(top_p_filter(logits, 1e-9)) == {1}  # always at least one token
    assert kept(top_p_filter(np.array([0.0, -np.inf, 0.0]), 1.0)) == {0, 2}


def test_sample_next_respects_filters_and_probabilities():
    rng = np.random.default_rng(0)
    logits = np.log([0.1, 0.4, 0.2, 0.3])
    draws = [sample_next(logits, top_k=2, rng=rng) for _ in range(4000)]
    assert set(draws) == {1, 3}
    assert np.mean(np.array(draws) == 1) == pytest.approx(0.4 / 0.7, abs=0.03)
    draws = [sample_next(logits, top_p=0.5, temperature=2.0, rng=rng) for _ in range(500)]
    assert set(draws) == {1, 3}
    # Temperature -> 0 concentrates on the argmax; a high one flattens toward uniform.
    cold = [sample_next(logits, temperature=0.05, rng=rng) for _ in range(200)]
    hot = [sample_next(logits, temperature=100.0, rng=rng) for _ in range(2000)]
    assert set(cold) == {1}
    assert np.mean(np.array(hot) == 0) == pytest.approx(0.25, abs=0.04)


def test_greedy_is_argmax_and_uses_no_randomness():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert sample_next(np.array([0.3, 2.0, -1.0]), temperature=0, rng=rng) == 1
    assert sample_next(np.array([0.3, 2.0, -1.0]), temperature=0, top_k=1, rng=rng) == 1
    assert rng.bit_generator.state == state


def reference_greedy(model, prompt, n, shift):
    """The documented policy, written out with plain uncached forwards."""
    window, out = list(prompt[-CONTEXT:]), []
    for _ in range(n):
        logits = np.asarray(model(np.array([window], "int32")))[0, -1]
        out.append(int(np.argmax(logits)))
        window.append(out[-1])
        if len(window) > CONTEXT:
            window = window[-(CONTEXT - shift) :]
    return out


@pytest.mark.parametrize("use_cache", [False, True])
def test_greedy_equals_argmax_of_uncached_forward(model, use_cache):
    prompt = [1, 2, 3]
    expected = reference_greedy(model, prompt, 14, shift=CONTEXT // 4)  # overflows twice
    got = generate(model, prompt, 14, temperature=0, use_cache=use_cache)
    assert got == expected
    assert len(set(got)) > 1
    # The logits really depend on the prompt: another prompt gives another continuation.
    assert generate(model, [7, 7, 7], 14, temperature=0, use_cache=use_cache) != got


def test_cached_and_uncached_sample_the_same_tokens(model):
    for seed in (0, 1):
        kwargs = dict(temperature=1.0, top_k=5, seed=seed)
        cached = generate(model, [4, 5], 40, use_cache=True, **kwargs)
        uncached = generate(model, [4, 5], 40, use_cache=False, **kwargs)
        assert cached == uncached
        assert len(cached) == 40
    kwargs = dict(temperature=0.8, top_p=0.9, seed=3, shift=3)
    assert generate(model, [4], 30, use_cache=True, **kwargs) == generate(
        model, [4], 30, use_cache=False, **kwargs
    )


def test_plain_graph_path_matches_xla(model):
    kwargs = dict(temperature=1.0, top_k=5, seed=4)
    graph = generate(model, [4, 5], 20, use_cache=True, jit_compile=False, **kwargs)
    assert graph == generate(model, [4, 5], 20, use_cache=False, **kwargs)


def test_seeds_reproduce(model):
    first = generate(model, [1], 30, seed=5)
    assert generate(model, [1], 30, seed=5) == first
    assert generate(model, [1], 30, seed=6) != first


def test_long_prompt_is_cropped_to_the_context(model):
    prompt = list(range(11)) + [3, 4]
    cropped = generate(model, prompt[-CONTEXT:], 10, seed=2)
    assert generate(model, prompt, 10, seed=2) == cropped
    assert generate(model, prompt, 10, seed=2, use_cache=False) == cropped


def test_stop_token_and_zero_tokens(model):
    tokens = generate(model, [1, 2, 3], 20, temperature=0)
    stop = tokens[5]
    stopped = generate(model, [1, 2, 3], 20, temperature=0, stop_token=stop)
    assert stopped == tokens[: tokens.index(stop) + 1]
    assert generate(model, [1], 0) == []


def test_generate_text_round_trip(model):
    class CharTokenizer:
        chars = "abcdefghijk"

        def encode(self, text):
            return [self.chars.index(c) for c in text]

        def decode(self, ids):
            return "".join(self.chars[i] for i in ids)

    text = generate_text(model, CharTokenizer(), "abc", 6, temperature=0)
    assert text.startswith("abc") and len(text) == 9
    assert text[3:] == CharTokenizer().decode(generate(model, [0, 1, 2], 6, temperature=0))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(prompt_ids=[]), "prompt_ids is empty"),
        (dict(prompt_ids=[11]), r"prompt_ids must lie in \[0, 11\)"),
        (dict(max_new_tokens=-1), "max_new_tokens must be an int >= 0"),
        (dict(temperature=-0.5), "temperature must be a finite number >= 0"),
        (dict(top_k=0), "top_k must be a positive int"),
        (dict(top_p=0.0), r"top_p must be in \(0, 1\]"),
        (dict(top_p=1.5), r"top_p must be in \(0, 1\]"),
        (dict(shift=CONTEXT), r"shift must be an int in \[1, 7\]"),
    ],
)
def test_bad_arguments_raise(model, kwargs, message):
    args = dict(prompt_ids=[1, 2], max_new_tokens=3) | kwargs
    with pytest.raises(ValueError, match=message):
        generate(model, args.pop("prompt_ids"), args.pop("max_new_tokens"), **args)


def test_sample_next_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        sample_next(np.zeros(3), rng=0)
    with pytest.raises(ValueError, match="1-D"):
        sample_next(np.zeros((2, 3)), rng=rng)
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        sample_next(np.zeros(3), top_k=1.5, rng=rng)


def step_loop(**kwargs):
    """Arguments that force sample_batch's step-by-step loop (streaming needs it)."""
    return dict(kwargs, on_token=lambda step_tokens: None)


@pytest.mark.parametrize("jit_compile", [True, False])
@pytest.mark.parametrize(
    "settings",
    [
        dict(temperature=0),
        dict(temperature=1.0),
        dict(temperature=0.7, top_k=3),
        dict(temperature=1.3, top_p=0.8),
        dict(temperature=0.9, top_k=5, top_p=0.95),
        dict(temperature=1.0, top_p=1.0),
    ],
)
def test_compiled_loop_samples_what_the_step_loop_samples(model, settings, jit_compile):
    # The whole loop in one program must repeat sample_next exactly: same filters, same draws,
    # same re-prefill at each overflow (3 * CONTEXT new tokens overflow several times).
    prompts = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    for shift in (1, 3):
        kw = dict(settings, seed=11, shift=shift, jit_compile=jit_compile, compiled_loop=True)
        fused = sample_batch(model, prompts, 3 * CONTEXT, **kw)
        assert fused == sample_batch(model, prompts, 3 * CONTEXT, **step_loop(**kw))
        assert all(len(row) == 3 * CONTEXT for row in fused)
    # The compiled loop really ran (its functions are cached by model).
    assert any(key[:2] == ("fused", jit_compile) for key in _COMPILED[model])
    if settings["temperature"]:
        assert fused != sample_batch(model, prompts, 3 * CONTEXT, **dict(kw, seed=12))


def test_compiled_loop_stops_and_batches_like_the_step_loop(model):
    prompts = np.array([[1, 2]] * 3 + [[3, 4]] * 2)
    kw = dict(temperature=1.0, seed=2, stop_token=3, batch_size=2, jit_compile=True,
              compiled_loop=True)
    fused = sample_batch(model, prompts, 30, **kw)
    assert fused == sample_batch(model, prompts, 30, **step_loop(**kw))
    lengths = [len(row) for row in fused]
    assert min(lengths) < 30 and all(row[-1] == 3 for row in fused if len(row) < 30)
    # Past one compiled call's chunk of tokens, the next call picks up where it stopped.
    kw = dict(temperature=0.8, top_k=6, seed=5, jit_compile=True)
    assert sample_batch(model, prompts[:2], 300, **kw) == sample_batch(
        model, prompts[:2], 300, **step_loop(**kw)
    )
    # A prompt longer than the context is cropped the same way on both paths.
    long_prompt = np.arange(CONTEXT + 3)[None, :] % 11
    assert sample_batch(model, long_prompt, 12, seed=1, compiled_loop=True) == sample_batch(
        model, long_prompt, 12, **step_loop(seed=1)
    )


def test_compiled_loop_is_chosen_by_size(model):
    # Short requests skip the compile; long ones (all rows together) get the compiled loop.
    fresh = GPT(model.config)
    sample_batch(fresh, np.ones((2, 1), int), 10, seed=0)
    assert not any(key[0] == "fused" for key in _COMPILED[fresh])
    sample_batch(fresh, np.ones((2, 1), int), 128, seed=0)  # 2 x 128 = 256 tokens
    assert any(key[0] == "fused" for key in _COMPILED[fresh])
