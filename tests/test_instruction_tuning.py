"""course_lib.chapters.ch15_instruction_tuning: the chat template, growing the vocabulary,
answer-only loss masking, LoRA with Keras's enable_lora, the memory estimate with frozen
weights, the sentiment judge and the answer decoder, on tiny models with fixed seeds."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.chapters import ch15_instruction_tuning as it
from course_lib.chapters.ch09_generation_and_dialogue import END_OF_TEXT, END_OF_TURN
from course_lib.gpt import GPT, GPTConfig
from course_lib.memory import estimate_training_memory
from course_lib.tokenizers import BPETokenizer

TEXT = ("the film is a gorgeous and moving story . the plot is a mess and the acting is dull . "
        "is this review positive or negative ? ") * 8


@pytest.fixture(scope="module")
def base_tokenizer():
    return BPETokenizer.from_text(TEXT, 300, special_tokens=[END_OF_TEXT])


@pytest.fixture(scope="module")
def tokenizer(base_tokenizer):
    return it.add_chat_tokens(base_tokenizer)


def tiny_gpt(vocab_size, seed=0):
    keras.utils.set_random_seed(seed)
    return GPT(GPTConfig(vocab_size=vocab_size, context_length=48, num_layers=2, num_heads=2,
                         width=16))


def test_template_round_trips(tokenizer):
    text = it.format_example("  Is this review positive?\nA dull film. ", " negative ")
    assert text == ("<|endoftext|><|A|> Is this review positive?\nA dull film.<|eot|><|B|> "
                    "negative<|eot|>")
    assert it.parse_example(text) == ("Is this review positive?\nA dull film.", "negative")
    assert tokenizer.decode(tokenizer.encode(text)) == text
    with pytest.raises(ValueError, match="chat template"):
        it.parse_example("<|A|> no document start<|eot|>")


def test_add_chat_tokens_appends_ids_and_keeps_old_ones(base_tokenizer, tokenizer):
    v = base_tokenizer.vocab_size
    assert tokenizer.vocab_size == v + 3
    assert [tokenizer.token_to_id(t) for t in it.CHAT_TOKENS] == [v, v + 1, v + 2]
    assert tokenizer.encode("the plot is a mess").tolist() == \
        base_tokenizer.encode("the plot is a mess").tolist()
    # A special token in text is one id, never split into bytes.
    assert tokenizer.encode("<|eot|>").tolist() == [v + 2]
    assert it.add_chat_tokens(tokenizer).vocab_size == v + 3  # adding twice changes nothing


def test_resize_keeps_every_old_logit(base_tokenizer, tokenizer):
    old = tiny_gpt(base_tokenizer.vocab_size)
    new = it.resize_token_embeddings(old, tokenizer.vocab_size, seed=1)
    ids = base_tokenizer.encode("the film is a gorgeous story")[None]
    before = keras.ops.convert_to_numpy(old(ids))
    after = keras.ops.convert_to_numpy(new(ids))
    assert after.shape[-1] == tokenizer.vocab_size
    np.testing.assert_array_equal(after[..., : base_tokenizer.vocab_size], before)
    table = keras.ops.convert_to_numpy(new.embedding.token_embedding.embeddings)
    rows = table[base_tokenizer.vocab_size:]
    assert np.abs(rows - table[: base_tokenizer.vocab_size].mean(0)).max() < 0.1
    assert len({tuple(r) for r in rows.round(6)}) == 3  # the three new rows differ
    with pytest.raises(ValueError, match="only grows"):
        it.resize_token_embeddings(old, base_tokenizer.vocab_size - 1)


def test_encode_example_weights_the_answer_and_its_end(tokenizer):
    ids, weights = it.encode_example(tokenizer, "Is this review positive?", "negative")
    full = tokenizer.encode(it.format_example("Is this review positive?", "negative"))
    assert ids.tolist() == full.tolist()  # encoding the parts equals encoding the whole
    answer = tokenizer.encode(" negative" + END_OF_TURN)
    assert weights.tolist() == [0.0] * (len(ids) - len(answer)) + [1.0] * len(answer)
    assert ids[-1] == tokenizer.token_to_id(END_OF_TURN)


def test_pad_batch_shifts_pads_and_refuses_too_long(tokenizer):
    a = it.encode_example(tokenizer, "Is this review positive?", "negative")
    b = it.encode_example(tokenizer, "Review: the plot is a mess and the acting is dull",
                          "negative")
    pad = tokenizer.token_to_id(END_OF_TEXT)
    batch = it.pad_batch([a, b], pad, multiple=16, max_length=48)
    n = max(len(a[0]), len(b[0])) - 1
    assert batch["inputs"].shape == (2, -(-n // 16) * 16)
    assert batch["inputs"][0, : len(a[0]) - 1].tolist() == a[0][:-1].tolist()
    assert batch["targets"][0, : len(a[0]) - 1].tolist() == a[0][1:].tolist()
    assert batch["weights"][0].sum() == a[1][1:].sum()
    assert batch["real"][0].sum() == len(a[0]) - 1
    assert np.all(batch["inputs"][0, len(a[0]) - 1:] == pad)
    with pytest.raises(ValueError, match="reads at most"):
        it.pad_batch([a], pad, multiple=16, max_length=len(a[0]) - 2)


def test_masked_prompt_tokens_give_exactly_zero_loss_and_gradient(tokenizer):
    model = tiny_gpt(tokenizer.vocab_size)
    examples = [it.encode_example(tokenizer, "Is this review positive?", "negative"),
                it.encode_example(tokenizer, "the plot is a mess", "the acting is dull")]
    batch = it.pad_batch(examples, tokenizer.token_to_id(END_OF_TEXT), 16, 48)
    loss_fn = it.response_loss()

    def loss_and_grads(targets):
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, model(batch["inputs"]), sample_weight=batch["weights"])
        return float(loss), [tf.convert_to_tensor(g).numpy()
                             for g in tape.gradient(loss, model.trainable_variables)]

    loss, grads = loss_and_grads(batch["targets"])
    # Reference: Σ w·CE / Σ w in NumPy.
    logits = keras.ops.convert_to_numpy(model(batch["inputs"])).astype("float64")
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -np.take_along_axis(log_p, batch["targets"][..., None], -1)[..., 0]
    assert loss == pytest.approx((batch["weights"] * ce).sum() / batch["weights"].sum(), rel=1e-5)
    scrambled = np.where(batch["weights"] > 0, batch["targets"], 0).astype("int32")
    assert not np.array_equal(scrambled, batch["targets"])
    loss_b, grads_b = loss_and_grads(scrambled)
    assert loss_b == loss
    assert all(np.array_equal(x, y) for x, y in zip(grads, grads_b, strict=True))
    # Control: changing an answer target does change the loss.
    changed = batch["targets"].copy()
    row, col = np.argwhere(batch["weights"] > 0)[0]
    changed[row, col] = (changed[row, col] + 1) % tokenizer.vocab_size
    assert loss_and_grads(changed)[0] != loss


def test_lora_trains_only_adapters_and_leaves_base_weights_bit_identical(tokenizer):
    model = tiny_gpt(tokenizer.vocab_size, seed=3)
    ids = np.arange(12)[None] % tokenizer.vocab_size
    before_out = keras.ops.convert_to_numpy(model(ids))
    before = {v.path: keras.ops.convert_to_numpy(v).copy() for v in model.weights}
    trainable = it.enable_lora(model, rank=2, alpha=4)
    c, v, r, n, h, d = 16, tokenizer.vocab_size, 2, 2, 2, 8
    # Keras adapts an EinsumDense kernel along its last axis: query/key/value (C, H, D) get
    # A (C, H, r) and B (r, D); the output projection (H, D, C) gets A (H, D, r), B (r, C).
    # A Dense (in, out) gets A (in, r) and B (r, out).
    per_block = 3 * (c * h * r + r * d) + (h * d * r + r * c) + r * (c + 4 * c) + r * (4 * c + c)
    assert trainable == r * (v + c) + n * per_block
    assert all("lora_" in w.path for w in model.trainable_variables)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(ids)), before_out)  # B = 0
    model.compile(keras.optimizers.Adam(1e-2), loss=it.response_loss())
    x = np.tile(np.arange(16) % v, (2, 1)).astype("int32")
    model.fit(x, np.roll(x, -1, axis=1), sample_weight=np.ones_like(x, "float32"), epochs=2,
              batch_size=2, verbose=0)
    for w in model.weights:
        if "lora_" in w.path:
            continue
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), before[w.path])
    moved = [w for w in model.weights if "lora_" in w.path and w.path.endswith("_b")]
    assert moved and all(np.abs(keras.ops.convert_to_numpy(w)).max() > 0 for w in moved)
    assert np.abs(keras.ops.convert_to_numpy(model(ids)) - before_out).max() > 1e-4
    with pytest.raises(ValueError, match="rank"):
        it.enable_lora(tiny_gpt(tokenizer.vocab_size), rank=0)


def test_memory_estimate_counts_optimizer_state_for_trainable_weights_only(tokenizer):
    model = tiny_gpt(tokenizer.vocab_size)
    config = model.config
    trainable = it.enable_lora(model, rank=2)
    opt = keras.optimizers.AdamW()
    opt.build(model.trainable_variables)
    slots = sum(int(np.prod(v.shape)) * 4 for v in opt.variables if len(v.shape))
    est = estimate_training_memory(config, 2, trainable_parameters=trainable)
    assert est["optimizer_state"] == slots
    assert est["gradients"] == 4 * trainable
    full = estimate_training_memory(config, 2)
    assert full["parameters"] == est["parameters"] and full["activations"] == est["activations"]
    assert full["optimizer_state"] > 5 * est["optimizer_state"]
    with pytest.raises(ValueError, match="trainable_parameters"):
        estimate_training_memory(config, 2, trainable_parameters=config.num_parameters() + 1)
    bigger = dataclasses.replace(config, vocab_size=config.vocab_size + 1)
    assert estimate_training_memory(bigger, 2, trainable_parameters=trainable)["gradients"] \
        == est["gradients"]


def test_sentiment_judge_learns_the_direction():
    texts = ["a gorgeous moving film", "a moving and gorgeous story", "gorgeous acting",
             "a dull mess", "the plot is a dull mess", "dull acting"] * 3
    labels = [1, 1, 1, 0, 0, 0] * 3
    judge = it.SentimentJudge(texts, labels)
    p = judge.positive_probability(["gorgeous moving story", "dull mess"])
    assert p[0] > 0.5 > p[1]
    with pytest.raises(ValueError, match="labels"):
        it.SentimentJudge(texts, [2] * len(texts))


def test_answer_cuts_at_the_first_special_token_and_reports_stopping(tokenizer, monkeypatch):
    model = tiny_gpt(tokenizer.vocab_size, seed=5)
    eot, user = tokenizer.token_to_id(END_OF_TURN), tokenizer.token_to_id("<|A|>")
    words = tokenizer.encode(" negative").tolist()
    calls = []

    def fake_generate(model_, prompt, max_new_tokens, **kwargs):
        calls.append((list(prompt), max_new_tokens, kwargs["stop_token"]))
        return outputs.pop(0)

    monkeypatch.setattr(it, "generate", fake_generate)
    outputs = [words + [eot], words + [user] + words, words * 3]
    assert it.answer(model, tokenizer, "Is it positive?", 5) == ("negative", True)
    assert it.answer(model, tokenizer, "Is it positive?", 5) == ("negative", False)
    assert it.answer(model, tokenizer, "Is it positive?", 5) == (
        "negative negative negative", False)  # ran out of budget: did not stop
    prompt, budget, stop = calls[0]
    assert prompt == tokenizer.encode(it.format_prompt("Is it positive?")).tolist()
    assert (budget, stop) == (5, eot)
    with pytest.raises(ValueError, match="shorten the instruction"):
        it.answer(model, tokenizer, "the film " * 40, 10)


def test_answer_runs_the_real_decoder(tokenizer):
    model = tiny_gpt(tokenizer.vocab_size, seed=5)
    text, stopped = it.answer(model, tokenizer, "Is this review positive?", 4, jit_compile=False)
    again = it.answer(model, tokenizer, "Is this review positive?", 4, jit_compile=False)
    assert (text, stopped) == again  # greedy: deterministic
    assert isinstance(text, str) and stopped in (True, False)
