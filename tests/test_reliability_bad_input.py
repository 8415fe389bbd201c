"""Bad configuration and input (issue #12, item 5): each a clear error or a documented behaviour.

Every error message is checked for the part that says what to change, not only for the
exception type. The non-finite loss is tested in tests/test_training.py
(``test_non_finite_loss_names_the_step``); here a diverging run also checks that the message
gives a remedy and that the last checkpoint survives.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from course_lib.generation import generate, generate_text
from course_lib.gpt import GPT, GPTConfig
from course_lib.layers import PositionEmbedding, TransformerBlock
from course_lib.model_io import VocabularyMismatchError, check_token_ids, check_tokenizer_matches
from course_lib.tokenizers import BPETokenizer, CharTokenizer
from course_lib.training import LMBatches, NonFiniteLossError, TrainConfig, Trainer

TINY = dict(vocab_size=11, context_length=8, num_layers=1, num_heads=2, width=16)
TOKENS = np.arange(600) % 11


def _config(**kw):
    return TrainConfig(
        **{
            "max_steps": 2,
            "eval_interval": 1,
            "eval_batches": 1,
            "warmup_steps": 0,
            "jit_compile": False,
            "verbose": 0,
            **kw,
        }
    )


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return GPT(GPTConfig(**TINY))


# --- width and heads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "width, heads, advice",
    [
        (30, 4, "multiple of 4, e.g. 32"),
        (100, 3, "multiple of 3, e.g. 99"),
        (8, 16, "multiple of 16, e.g. 16"),
    ],
)
def test_width_not_divisible_by_heads(width, heads, advice):
    message = (
        f"width {width} is not divisible by num_heads {heads}; choose a width that is a {advice}"
    )
    with pytest.raises(ValueError, match=message):
        GPTConfig(**{**TINY, "width": width, "num_heads": heads})
    with pytest.raises(ValueError, match=f"not divisible by num_heads {heads}; choose a width"):
        TransformerBlock(width, heads)


# --- sequences longer than the position table ------------------------------------------------


def test_sequence_longer_than_the_context(model):
    with pytest.raises(
        ValueError,
        match="sequence length 9 exceeds the model's context_length 8; "
        "crop the input to the last 8 tokens",
    ):
        model(np.zeros((1, 9), "int32"))
    table = PositionEmbedding(max_length=8, width=4)
    with pytest.raises(ValueError, match="exceed max_length 8; crop the input to at most 8"):
        table(np.zeros((1, 9, 4), "float32"))
    with pytest.raises(ValueError, match="re-prefill the cache with the last tokens that fit"):
        model.call_with_cache(np.zeros((1, 2), "int32"), model.init_cache(1), 7)


def test_training_windows_longer_than_the_context(model):
    # The data's context_length (16) disagrees with the model's (8): training stops at the
    # first step with the crop advice, before any update.
    before = [np.asarray(w).copy() for w in model.weights]
    with pytest.raises(ValueError, match="exceeds the model's context_length 8; crop the input"):
        Trainer(model, _config()).fit(LMBatches(TOKENS, 16, 2))
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(before, model.weights, strict=True))


# --- empty and unknown text --------------------------------------------------------------------


def test_empty_text_to_the_tokenizers():
    with pytest.raises(ValueError, match="got empty text.*Pass the training text"):
        CharTokenizer.from_text("")
    with pytest.raises(ValueError, match="got no text to learn from. Pass the training text"):
        BPETokenizer.from_text("", vocab_size=260)
    with pytest.raises(ValueError, match="got no text to learn from"):  # only special tokens
        BPETokenizer.from_text("<s><s>", vocab_size=260, special_tokens=["<s>"])
    # Documented: encoding empty text gives an empty int32 array, and decoding it gives "".
    for tokenizer in (CharTokenizer.from_text("abc"), BPETokenizer.from_text("ab ab", 258)):
        ids = tokenizer.encode("")
        assert ids.dtype == np.int32 and ids.shape == (0,)
        assert tokenizer.decode(ids) == ""


def test_all_unknown_text_to_the_tokenizers():
    char = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError) as info:
        char.encode("xyz")
    message = str(info.value)
    assert "cannot encode 3 character(s) missing from its 3-character vocabulary" in message
    assert "'x', 'y', 'z'" in message and "first at position 0" in message
    assert "CharTokenizer.from_text(text)" in message and "unknown_token=" in message
    # Documented: with unknown_token, every unseen character maps to it (lossy).
    lossy = CharTokenizer.from_text("abc", unknown_token="?")
    assert lossy.decode(lossy.encode("xyz")) == "???"
    # Documented: byte-level BPE has no unknown text: unseen characters fall back to bytes.
    bpe = BPETokenizer.from_text("low low lower", vocab_size=260)
    text = "日本語 🙂"
    ids = bpe.encode(text)
    assert len(ids) == len(text.encode("utf-8")) and bpe.decode(ids) == text


def test_all_unknown_text_in_tf_data_fails_with_advice():
    import tensorflow as tf

    char = CharTokenizer.from_text("abc")
    with pytest.raises(tf.errors.InvalidArgumentError, match="missing from the vocabulary"):
        char.tf_encode(tf.constant("xyz"))


def test_empty_prompt(model):
    tokenizer = CharTokenizer.from_text("abcdefghijk")
    with pytest.raises(ValueError, match="encodes to no tokens; give a non-empty prompt"):
        generate_text(model, tokenizer, "", 3, jit_compile=False)
    with pytest.raises(ValueError, match="prompt_ids is empty; pass at least one token id"):
        generate(model, [], 3, jit_compile=False)


# --- prompt longer than the context ------------------------------------------------------------


def test_prompt_longer_than_the_context_is_cropped_as_documented(model):
    assert "cropped to its last `context_length` tokens" in generate.__doc__
    prompt = [int(i) for i in np.arange(20) % 11]
    kwargs = dict(temperature=0, jit_compile=False)
    assert generate(model, prompt, 4, **kwargs) == generate(model, prompt[-8:], 4, **kwargs)
    # The crop keeps the last tokens: changing an early token changes nothing.
    changed = [5] + prompt[1:]
    assert generate(model, changed, 4, **kwargs) == generate(model, prompt, 4, **kwargs)
    tokenizer = CharTokenizer.from_text("abcdefghijk")
    text = "abcdefghijk" * 2
    out = generate_text(model, tokenizer, text, 3, temperature=0, jit_compile=False)
    assert out.startswith(text) and len(out) == len(text) + 3  # the prompt is kept whole


# --- vocabulary mismatch -----------------------------------------------------------------------


def test_tokenizer_and_model_vocabulary_mismatch(model):
    assert check_tokenizer_matches(model, CharTokenizer.from_text("abcdefghijk")) == 11
    bigger = CharTokenizer.from_text("abcdefghijklmno")  # 15 ids for an 11-id model
    with pytest.raises(VocabularyMismatchError) as info:
        check_tokenizer_matches(model, bigger)
    message = str(info.value)
    assert "The tokenizer has 15 ids but the model was built for vocab_size 11" in message
    assert "GPTConfig(vocab_size=tokenizer.vocab_size, ...)" in message
    with pytest.raises(TypeError, match="has no config.vocab_size"):
        check_tokenizer_matches(keras.Sequential(), bigger)


def test_mismatch_is_caught_downstream_too(model):
    # Without the check, generate refuses ids beyond the model, and decode ids beyond the
    # tokenizer, each naming the likely cause.
    bigger = CharTokenizer.from_text("abcdefghijklmno")
    with pytest.raises(ValueError, match="was it encoded with this model's tokenizer"):
        generate_text(model, bigger, "mno", 2, jit_compile=False)
    smaller = CharTokenizer.from_text("abcde")
    with pytest.raises(ValueError, match="outside the vocabulary .* model whose output layer"):
        smaller.decode([10])


def test_data_ids_beyond_the_vocabulary(model):
    check_token_ids(model, TOKENS)  # ids 0..10 fit
    check_token_ids(model, np.zeros((0,), "int32"))
    with pytest.raises(
        VocabularyMismatchError,
        match="The token ids run from 0 to 19, but the model's vocab_size is 11",
    ):
        check_token_ids(model, np.arange(20))
    with pytest.raises(VocabularyMismatchError, match="run from -1 to 3"):
        check_token_ids(model, [-1, 3])
    with pytest.raises(VocabularyMismatchError, match="encode the text with the tokenizer"):
        check_token_ids(model, np.array([0.5, 1.0]))


# --- non-finite loss ---------------------------------------------------------------------------


def test_diverging_run_stops_with_a_remedy_and_keeps_its_checkpoint(tmp_path):
    # A learning rate of 1e30 sends the weights to inf after one step: the loss of step 2 is
    # not finite. The step-1 checkpoint and the state.json naming it are left as they were.
    keras.utils.set_random_seed(1)
    model = GPT(GPTConfig(**TINY))
    config = _config(
        max_steps=4,
        learning_rate=1e30,
        min_learning_rate=1e29,
        grad_clip=0.0,
        checkpoint_interval=1,
    )
    with pytest.raises(NonFiniteLossError) as info:
        Trainer(model, config, checkpoint_dir=tmp_path).fit(LMBatches(TOKENS, 8, 2))
    message = str(info.value)
    assert "at step 2" in message
    assert "Lower the learning rate" in message and "last checkpoint (if any) is untouched" in (
        message
    )
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["step"] == 1 and (tmp_path / state["checkpoint"]).exists()
