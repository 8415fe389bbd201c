"""course_lib.chapters.ch09_generation_and_dialogue: bits per byte of a text, and conversations
as the foundation model's corpus writes them."""

import math

import keras
import numpy as np
import pytest

from course_lib.chapters.ch09_generation_and_dialogue import plain_conversation, text_bits_per_byte
from course_lib.data import load_topical_chat
from course_lib.gpt import GPT, GPTConfig
from course_lib.metrics import log_softmax
from course_lib.pretraining import chat_validation_indices, load_corpus


def constant_model(probs, context_length):
    """A GPT whose next-token distribution is `probs` whatever it reads (see test_dialogue)."""
    width = 8
    model = GPT(GPTConfig(len(probs), context_length, num_layers=1, num_heads=1, width=width,
                          tie_embeddings=False))
    model.final_norm.gamma.assign(np.zeros(width, "float32"))
    model.final_norm.beta.assign(np.ones(width, "float32"))
    logits = np.log(np.asarray(probs, dtype=np.float64))
    model.lm_head.kernel.assign(np.tile(logits / width, (width, 1)).astype("float32"))
    return model


def test_constant_model_by_hand():
    # p = (1/2, 1/4, 1/4): token 0 costs 1 bit, tokens 1 and 2 cost 2 bits each.
    model = constant_model([0.5, 0.25, 0.25], context_length=4)
    ids = [0, 1, 2, 0, 0, 0, 1]  # longer than the context: read in overlapping windows
    # scored: 1, 2, 0, 0, 0, 1 -> 2 + 2 + 1 + 1 + 1 + 2 = 9 bits over 6 tokens
    r = text_bits_per_byte(model, ids, num_bytes=18)
    assert r["tokens"] == 6 and r["bytes"] == 18
    assert r["bits_per_byte"] == pytest.approx(9 / 18, abs=1e-6)
    assert r["nats_per_token"] == pytest.approx(9 * math.log(2) / 6, abs=1e-6)
    # A list of sequences: each loses its first token; the totals add up.
    r2 = text_bits_per_byte(model, [[0, 1, 2], [2, 0, 0]], num_bytes=4)
    assert r2["tokens"] == 4
    assert r2["bits_per_byte"] == pytest.approx((2 + 2 + 1 + 1) / 4, abs=1e-6)


def test_random_model_matches_a_hand_computation():
    keras.utils.set_random_seed(0)
    model = GPT(GPTConfig(vocab_size=11, context_length=16, num_layers=2, num_heads=2, width=16))
    rng = np.random.default_rng(1)
    for v in model.weights:  # large weights: distributions far from uniform
        if v.name in ("kernel", "embeddings"):
            v.assign(rng.normal(0.0, 0.5, size=v.shape).astype("float32"))
    ids = np.random.default_rng(2).integers(0, 11, 12)  # fits the context: one window
    logp = log_softmax(keras.ops.convert_to_numpy(model(ids[None], training=False)))[0]
    nats = -logp[np.arange(11), ids[1:]].sum()
    num_bytes = 30  # e.g. tokens of about 2.7 bytes each
    by_hand = nats / num_bytes / math.log(2)
    r = text_bits_per_byte(model, ids, num_bytes)
    assert r["tokens"] == 11
    assert r["bits_per_byte"] == pytest.approx(by_hand, rel=1e-5)
    assert round(r["bits_per_byte"], 4) == 2.576
    # Per byte, not per token: the same model and tokens over twice the text, half the bits.
    assert text_bits_per_byte(model, ids, 2 * num_bytes)["bits_per_byte"] == pytest.approx(
        r["bits_per_byte"] / 2, rel=1e-9)


def test_bad_input():
    model = constant_model([0.5, 0.5], context_length=4)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="num_bytes"):
            text_bits_per_byte(model, [0, 1, 0], bad)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        text_bits_per_byte(model, [0], 1)


def test_plain_conversation_is_the_foundation_corpus_format():
    assert plain_conversation([("x", "Hi!"), ("x", " two  spaces "), ("y", "Yes.")]) == (
        "A: Hi!\nA:  two  spaces \nB: Yes."
    )
    # The held-out conversations of chapter 09, written this way, are held-out documents of the
    # foundation corpus, and the first training conversation is a training document.
    valid = load_topical_chat("valid")
    held = sorted(chat_validation_indices(len(valid)))
    source = {s.name: s for s in load_corpus()}["topical-chat"]
    assert plain_conversation(valid[held[0]]) in source.heldout
    first_train = next(i for i in range(len(valid)) if i not in held)
    assert plain_conversation(valid[first_train]) in source.train
