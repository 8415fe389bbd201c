"""course_lib.generation: beam search, batched sampling, perplexity; course_lib.metrics:
distinct-n, repetition."""

import itertools
import math

import keras
import numpy as np
import pytest

from course_lib.generation import (
    beam_search,
    generate,
    length_normalized_score,
    perplexity,
    sample_batch,
    token_log_probs,
)
from course_lib.gpt import GPT, GPTConfig
from course_lib.metrics import distinct_n, log_softmax, ngrams, repetition_rate, word_tokens

CONTEXT = 8
VOCAB = 7


@pytest.fixture(scope="module")
def model():
    """A tiny random GPT with large weights, so its distributions are far from uniform and a
    wrong beam, position or cache row changes the tokens."""
    keras.utils.set_random_seed(0)
    model = GPT(
        GPTConfig(vocab_size=VOCAB, context_length=CONTEXT, num_layers=2, num_heads=2, width=16)
    )
    rng = np.random.default_rng(1)
    for v in model.weights:
        if v.name in ("kernel", "embeddings"):
            v.assign(rng.normal(0.0, 0.5, size=v.shape).astype("float32"))
    return model


def constant_model(probs, context_length=16):
    """A GPT whose next-token distribution is `probs` whatever it reads: the final LayerNorm
    outputs all ones (gamma 0, beta 1), and each column of the untied head sums to a logit."""
    vocab = len(probs)
    width = 8
    model = GPT(
        GPTConfig(
            vocab, context_length, num_layers=1, num_heads=1, width=width, tie_embeddings=False
        )
    )
    model.final_norm.gamma.assign(np.zeros(width, "float32"))
    model.final_norm.beta.assign(np.ones(width, "float32"))
    logits = np.log(np.asarray(probs, dtype=np.float64))
    kernel = np.tile(logits / width, (width, 1)).astype("float32")
    model.lm_head.kernel.assign(kernel)
    return model


def sequence_log_probs(model, prompt, continuations):
    """Summed log-probability of each continuation of `prompt`, in one batched forward."""
    ids = np.asarray([list(prompt) + list(c) for c in continuations], dtype="int32")
    logp = log_softmax(keras.ops.convert_to_numpy(model(ids)))  # (B, T, V)
    steps = np.arange(len(prompt) - 1, ids.shape[1] - 1)
    return logp[:, steps, :][
        np.arange(len(ids))[:, None], np.arange(len(steps)), ids[:, len(prompt) :]
    ].sum(1)


@pytest.mark.parametrize("use_cache", [True, False])
def test_beam_width_one_is_greedy_past_the_context(model, use_cache):
    prompt = [1, 2, 3]
    steps = 2 * CONTEXT + 3  # crosses the overflow point twice
    greedy = generate(model, prompt, steps, temperature=0, jit_compile=False)
    beam = beam_search(model, prompt, steps, beam_width=1, use_cache=use_cache)
    assert beam == greedy
    assert len(beam) == steps


def test_beam_search_cached_equals_uncached(model):
    kw = dict(beam_width=3, return_all=True)
    cached = beam_search(model, [4, 0], 2 * CONTEXT, use_cache=True, **kw)
    uncached = beam_search(model, [4, 0], 2 * CONTEXT, use_cache=False, **kw)
    eager = beam_search(model, [4, 0], 2 * CONTEXT, use_cache=True, jit_compile=None, **kw)
    assert [h[0] for h in cached] == [h[0] for h in uncached] == [h[0] for h in eager]
    np.testing.assert_allclose([h[1] for h in cached], [h[1] for h in uncached], atol=1e-4)


def test_wide_beam_finds_the_exhaustive_best(model):
    prompt, steps = [2, 5], 3
    sequences = list(itertools.product(range(VOCAB), repeat=steps))
    scores = dict(zip(sequences, sequence_log_probs(model, prompt, sequences), strict=True))
    best = max(scores, key=scores.get)
    # Width V^(steps-1) keeps every prefix, so the search is exact.
    found = beam_search(model, prompt, steps, beam_width=VOCAB ** (steps - 1), return_all=True)
    assert tuple(found[0][0]) == best
    assert found[0][1] == pytest.approx(scores[best], abs=1e-4)
    # A narrow beam scores no better than the optimum, and at least as well as greedy.
    narrow = beam_search(model, prompt, steps, beam_width=2, return_all=True)[0]
    greedy = tuple(generate(model, prompt, steps, temperature=0, jit_compile=False))
    assert scores[greedy] - 1e-6 <= narrow[1] <= scores[best] + 1e-6


def test_beam_search_matches_keras_hub_beam_sampler(model):
    import keras_hub
    from keras import ops

    prompt, steps, width = [3, 1, 6], 5, 3
    total = len(prompt) + steps

    def next_fn(ids, cache, index):
        logits = model(ids, training=False)
        return ops.take(logits, index - 1, axis=1), None, cache

    ids = np.zeros((1, total), "int32")
    ids[0, : len(prompt)] = prompt
    sampler = keras_hub.samplers.BeamSampler(num_beams=width)
    reference = ops.convert_to_numpy(
        sampler(next_fn, ops.convert_to_tensor(ids), index=len(prompt))
    )
    ours = beam_search(model, prompt, steps, beam_width=width)
    assert ours == reference[0, len(prompt) :].tolist()


def test_length_penalty_decides_between_finished_hypotheses():
    # p(stop) = 0.4, p(a) = 0.5, the rest 0.1 spread over 2 tokens; token 0 is the stop.
    model = constant_model([0.4, 0.5, 0.05, 0.05])
    raw = beam_search(model, [1], 10, beam_width=2, stop_token=0, return_all=True)
    # Step 1 finishes [stop]; step 2 finishes [a, stop]; two finished hypotheses, and the best
    # live beam [a, a] (ln .25 = -1.39) below the best of them (ln .4 = -0.92), end it.
    assert [h[0] for h in raw] == [[0], [1, 0]]
    assert raw[0][1] == pytest.approx(math.log(0.4), abs=1e-5)
    assert raw[1][2] == pytest.approx(math.log(0.5) + math.log(0.4), abs=1e-5)
    mean = beam_search(model, [1], 10, beam_width=2, stop_token=0, length_penalty=1.0,
                       return_all=True)
    ranked = [h[0] for h in mean]
    assert ranked.index([1, 0]) < ranked.index([0])  # (ln .5 + ln .4) / 2 = -0.80 > ln .4
    # Per token, the live beam a, a, ... (ln .5 = -0.69 each) beats both, so the search runs
    # to the end and that beam, joining the finished ones there, wins (Hugging Face's rule).
    assert mean[0][0] == [1] * 10 and mean[0][2] == pytest.approx(math.log(0.5), abs=1e-5)
    assert length_normalized_score(-6.0, 3, 1.0) == -2.0
    assert length_normalized_score(-6.0, 3, 0.0) == -6.0
    with pytest.raises(ValueError, match="length_penalty"):
        length_normalized_score(-1.0, 1, -0.5)


def test_beam_search_validates_arguments(model):
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(model, [1], 3, beam_width=0)
    with pytest.raises(ValueError, match=r"prompt_ids must lie in \[0, 7\)"):
        beam_search(model, [9], 3)
    with pytest.raises(ValueError, match="empty"):
        beam_search(model, [], 3)
    assert beam_search(model, [1], 0) == []


def test_sample_batch_rows_equal_generate(model):
    prompts = np.array([[1, 2], [3, 4], [5, 6]])
    kw = dict(temperature=0.9, top_k=5, top_p=0.95)
    steps = CONTEXT + 4  # crosses the overflow point
    batch = sample_batch(model, prompts, steps, seed=10, **kw)
    singles = [
        generate(model, p, steps, seed=10 + i, jit_compile=False, **kw)
        for i, p in enumerate(prompts)
    ]
    assert batch == singles
    assert sample_batch(model, prompts, steps, seed=10, use_cache=False, **kw) == batch


def test_sample_batch_top_k_never_leaves_the_top_k():
    probs = np.array([0.3, 0.25, 0.2, 0.1, 0.08, 0.07])
    model = constant_model(probs)
    samples = sample_batch(model, np.zeros((8, 1), int), 30, top_k=2, seed=0)
    emitted = {t for s in samples for t in s}
    assert emitted == {0, 1}  # both of the two most likely, nothing else, in 240 draws
    nucleus = sample_batch(model, np.zeros((8, 1), int), 30, top_p=0.5, seed=0)
    assert {t for s in nucleus for t in s} == {0, 1}  # 0.3 + 0.25 >= 0.5
    greedy = sample_batch(model, np.zeros((2, 1), int), 5, temperature=0)
    assert greedy == [[0] * 5, [0] * 5]


def test_sample_batch_stops_rows_at_the_stop_token():
    model = constant_model([0.5, 0.5])
    rows = sample_batch(model, np.ones((6, 1), int), 40, stop_token=0, seed=3)
    for row in rows:
        assert row[-1] == 0 and 0 not in row[:-1]
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        sample_batch(model, [1, 1], 3)
    with pytest.raises(ValueError, match="top_k"):
        sample_batch(model, np.ones((2, 1), int), 3, top_k=0)


def test_perplexity_of_a_constant_model_is_known():
    probs = [0.5, 0.25, 0.125, 0.125]
    model = constant_model(probs, context_length=4)
    seq = [0, 1, 2, 3, 0, 0, 1, 3, 2, 1, 0]  # longer than the context: several windows
    lp = token_log_probs(model, seq, stride=1)
    np.testing.assert_allclose(lp, np.log([probs[t] for t in seq[1:]]), atol=1e-5)
    expected = math.exp(-np.mean(np.log([probs[t] for t in seq[3:]])))
    assert perplexity(model, seq, start=3) == pytest.approx(expected, rel=1e-5)
    both = token_log_probs(model, [seq, seq[:5]], stride=2)
    np.testing.assert_allclose(both[1], lp[:4], atol=1e-5)
    with pytest.raises(ValueError, match="stride"):
        token_log_probs(model, seq, stride=4)


def test_sliding_window_equals_full_context_when_it_fits(model):
    seq = [1, 4, 2, 6, 0, 3, 5, 2]  # exactly the context
    full = log_softmax(keras.ops.convert_to_numpy(model(np.asarray([seq], "int32"))))[0]
    expected = full[np.arange(7), seq[1:]]
    np.testing.assert_allclose(token_log_probs(model, seq), expected, atol=1e-5)


def test_perplexity_agrees_with_keras_hub(model):
    import keras_hub

    seq = np.asarray([[1, 4, 2, 6, 0, 3, 5, 2]], "int32")
    metric = keras_hub.metrics.Perplexity(from_logits=True)
    metric.update_state(seq[:, 1:], model(seq)[:, :-1])
    assert perplexity(model, seq[0]) == pytest.approx(float(metric.result()), rel=1e-4)


def test_distinct_and_repetition():
    assert word_tokens("Nay, my lord!--") == ["Nay", ",", "my", "lord", "!--"]
    assert ngrams("to be or not", 2) == [("to", "be"), ("be", "or"), ("or", "not")]
    assert ngrams([1, 2], 3) == []
    samples = ["the cat sat", "the cat ran"]
    assert distinct_n(samples, 1) == pytest.approx(4 / 6)
    assert distinct_n(samples, 2) == pytest.approx(3 / 4)
    assert distinct_n([[1, 1, 1]], 1) == pytest.approx(1 / 3)
    assert distinct_n(["one"], 2) == 0.0
    assert repetition_rate(["a b a b a b"], n=2) == pytest.approx(0.6)
    assert repetition_rate(["a b c d e", "x x x x x"], n=1) == pytest.approx(0.4)
    assert repetition_rate(["short"], n=4) == 0.0


def test_word_tokens_match_nltk():
    from nltk.tokenize import wordpunct_tokenize

    text = "O Romeo, Romeo! wherefore art thou Romeo?--Deny thy father's name 2x."
    assert word_tokens(text) == wordpunct_tokenize(text)
