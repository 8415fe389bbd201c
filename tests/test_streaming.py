"""course_lib.generation's `on_token` callback: the streamed tokens are the returned tokens."""

import keras
import numpy as np
import pytest

from course_lib.generation import generate, sample_batch
from course_lib.gpt import GPT, GPTConfig

CONTEXT = 8
STEPS = 20  # more than the context, so the window is cut and re-read while streaming
PROMPT = [1, 2, 3]


@pytest.fixture(scope="module")
def model():
    """A tiny random GPT with large weights, so its tokens vary from step to step."""
    keras.utils.set_random_seed(0)
    model = GPT(
        GPTConfig(vocab_size=11, context_length=CONTEXT, num_layers=2, num_heads=2, width=16)
    )
    rng = np.random.default_rng(0)
    for v in model.weights:
        if v.name in ("kernel", "embeddings"):
            v.assign(rng.normal(0.0, 0.5, size=v.shape).astype("float32"))
    return model


def streamed_generate(model, *args, **kwargs):
    seen = []
    returned = generate(model, *args, jit_compile=False, on_token=seen.append, **kwargs)
    return seen, returned


@pytest.mark.parametrize("use_cache", [True, False])
def test_greedy_streams_the_returned_tokens(model, use_cache):
    seen, returned = streamed_generate(model, PROMPT, STEPS, temperature=0, use_cache=use_cache)
    assert seen == returned and len(returned) == STEPS
    assert all(type(t) is int for t in seen)
    # The callback does not change what is generated.
    assert returned == generate(model, PROMPT, STEPS, temperature=0, use_cache=use_cache,
                                jit_compile=False)


def test_seeded_sampling_streams_the_returned_tokens(model):
    kw = dict(temperature=0.8, top_p=0.9, seed=3)
    seen, returned = streamed_generate(model, PROMPT, STEPS, **kw)
    assert seen == returned
    assert returned == generate(model, PROMPT, STEPS, jit_compile=False, **kw)
    assert len(set(returned)) > 1  # a real sample, not one token repeated


def test_stop_token_is_streamed_last(model):
    free = generate(model, PROMPT, STEPS, temperature=0.8, seed=5, jit_compile=False)
    stop = free[4]
    first = free.index(stop)
    seen, returned = streamed_generate(model, PROMPT, STEPS, temperature=0.8, seed=5,
                                       stop_token=stop)
    assert seen == returned == free[: first + 1]
    assert seen[-1] == stop


def test_zero_tokens_calls_nothing(model):
    assert streamed_generate(model, PROMPT, 0) == ([], [])


def test_a_raising_callback_propagates_and_stops_decoding(model):
    calls = []

    def fail(token_id):
        calls.append(token_id)
        if len(calls) == 2:
            raise KeyboardInterrupt("stop button")  # also what Jupyter's interrupt raises

    with pytest.raises(KeyboardInterrupt, match="stop button"):
        generate(model, PROMPT, STEPS, temperature=0, jit_compile=False, on_token=fail)
    assert calls == generate(model, PROMPT, 2, temperature=0, jit_compile=False)


@pytest.mark.parametrize("batch_size", [None, 2])
def test_sample_batch_streams_each_row_until_it_stops(model, batch_size):
    prompts = np.tile(PROMPT, (3, 1))
    # With this seed, row 0 never samples 5; rows 1 and 2 stop at it after 9 and 12 tokens.
    kw = dict(temperature=1.0, seed=7, stop_token=5, jit_compile=False, batch_size=batch_size)
    steps = []
    returned = sample_batch(model, prompts, STEPS, on_token=steps.append, **kw)
    assert returned == sample_batch(model, prompts, STEPS, **kw)
    assert all(len(s) == 3 for s in steps)
    rows = [[s[i] for s in steps if s[i] is not None] for i in range(3)]
    assert rows == returned
    assert [len(r) for r in returned] == [STEPS, 9, 12]
    live = [[i for i, t in enumerate(s) if t is not None] for s in steps]
    if batch_size is None:  # each step reports the rows still going, and only those
        assert live == [[0, 1, 2]] * 9 + [[0, 2]] * 3 + [[0]] * 8
    else:  # rows 0 and 1 decode together, then row 2 on its own
        assert live == [[0, 1]] * 9 + [[0]] * 11 + [[2]] * 12
