"""course_lib.chapters.ch09_generation_and_dialogue: turn formatting, context truncation and chat()."""

import numpy as np
import pytest

from course_lib.chapters.ch09_generation_and_dialogue import (
    END_OF_TEXT,
    END_OF_TURN,
    SPEAKER_A,
    SPEAKER_B,
    SPECIAL_TOKENS,
    build_chat_prompt,
    chat,
    conversations_to_ids,
    format_conversation,
    format_turn,
    merge_consecutive_turns,
    turns_that_fit,
)
from course_lib.gpt import GPT, GPTConfig
from course_lib.tokenizers import BPETokenizer

TEXT = "hello there how are you today i am fine thank you very much " * 20


@pytest.fixture(scope="module")
def tokenizer():
    return BPETokenizer.from_text(TEXT, vocab_size=300, special_tokens=SPECIAL_TOKENS)


def constant_model(probs, context_length):
    """A GPT whose next-token distribution is `probs` whatever it reads (see test_decoding)."""
    width = 8
    model = GPT(
        GPTConfig(
            len(probs),
            context_length,
            num_layers=1,
            num_heads=1,
            width=width,
            tie_embeddings=False,
        )
    )
    model.final_norm.gamma.assign(np.zeros(width, "float32"))
    model.final_norm.beta.assign(np.ones(width, "float32"))
    with np.errstate(divide="ignore"):
        logits = np.maximum(np.log(np.asarray(probs, dtype=np.float64)), -30.0)
    model.lm_head.kernel.assign(np.tile(logits / width, (width, 1)).astype("float32"))
    return model


def test_formatting():
    turns = [("x", " Hi. "), ("x", "You\nthere?"), ("y", "Yes."), ("y", ""), ("x", "Good.")]
    assert merge_consecutive_turns(turns) == [
        ("x", "Hi. You there?"),
        ("y", "Yes."),
        ("x", "Good."),
    ]
    assert format_turn(SPEAKER_B, "  fine  thanks ") == "<|B|> fine thanks<|eot|>"
    assert format_conversation(turns) == (
        "<|endoftext|><|A|> Hi. You there?<|eot|><|B|> Yes.<|eot|><|A|> Good.<|eot|>"
    )
    with pytest.raises(ValueError, match="two speakers"):
        format_conversation([("a", "1"), ("b", "2"), ("c", "3")])
    with pytest.raises(ValueError, match="speaker_token"):
        format_turn("<|C|>", "hi")


def test_topical_chat_conversation_formats():
    from course_lib.data import load_topical_chat

    text = format_conversation(load_topical_chat("valid")[0])
    assert text.startswith("<|endoftext|><|A|> Are you a football fan?<|eot|><|B|> yes, I'm.")
    assert text.count(SPEAKER_A) + text.count(SPEAKER_B) == text.count(END_OF_TURN)


def test_special_tokens_encode_whole(tokenizer):
    ids = conversations_to_ids(tokenizer, [[("a", "hello"), ("b", "fine")], [("a", "you")]])
    specials = [tokenizer.token_to_id(t) for t in (END_OF_TEXT, SPEAKER_A, SPEAKER_B, END_OF_TURN)]
    assert ids.dtype == np.int32
    assert int(np.sum(ids == specials[0])) == 2  # one start per conversation
    assert int(np.sum(np.isin(ids, specials[1:3]))) == int(np.sum(ids == specials[3])) == 3
    assert tokenizer.decode(ids) == (
        "<|endoftext|><|A|> hello<|eot|><|B|> fine<|eot|><|endoftext|><|A|> you<|eot|>"
    )
    plain = BPETokenizer.from_text(TEXT, vocab_size=270)
    with pytest.raises(ValueError, match="special tokens"):
        conversations_to_ids(plain, [[("a", "hi")]])


def test_turns_that_fit():
    assert turns_that_fit([20, 12, 9, 15, 10], 47) == 4
    assert turns_that_fit([20, 12, 9, 15, 10], 66) == 5
    assert turns_that_fit([20, 12, 9, 15, 10], 9) == 0
    assert turns_that_fit([], 10) == 0


def test_prompt_keeps_newest_turns_within_the_budget(tokenizer):
    history = [("user", "hello there"), ("bot", "how are you today"), ("user", "i am fine")]
    history += [("bot", "thank you very much"), ("user", "how are you")]
    message = "i am fine thank you"
    lengths = [
        len(tokenizer.encode(format_turn(SPEAKER_A, m))) for _, m in history + [("", message)]
    ]
    context, reserve = 24, 8
    ids, kept = build_chat_prompt(tokenizer, history, message, context, reserve)
    assert kept == turns_that_fit(lengths, context - reserve - 1) - 1
    assert 0 < kept < len(history)  # some but not all of the history was dropped
    assert len(ids) <= context - reserve
    text = tokenizer.decode(ids)
    assert text.endswith(format_turn(SPEAKER_A, message) + SPEAKER_B)
    assert not text.startswith(END_OF_TEXT)  # the conversation's start was cut
    assert "hello there" not in text  # the oldest turn went first
    full, kept_all = build_chat_prompt(tokenizer, history, message, 200, 8)
    assert kept_all == len(history)
    assert tokenizer.decode(full).startswith(END_OF_TEXT + "<|A|> hello there<|eot|><|B|> how")
    # A message too long for the budget keeps its speaker token and its end.
    ids, kept = build_chat_prompt(tokenizer, history, "hello there " * 20 + "thank you", 24, 8)
    assert kept == 0 and len(ids) == 24 - 8
    assert ids[0] == tokenizer.token_to_id(SPEAKER_A)
    assert tokenizer.decode(ids).endswith("hello there thank you<|eot|><|B|>")
    with pytest.raises(ValueError, match="lower max_new_tokens"):
        build_chat_prompt(tokenizer, [], "hello", 10, 8)
    with pytest.raises(ValueError, match="role"):
        build_chat_prompt(tokenizer, [("system", "hi")], "hello", 24, 8)


def test_chat_stops_at_the_end_of_turn(tokenizer):
    x = int(tokenizer.encode("x")[0])
    eot = tokenizer.token_to_id(END_OF_TURN)
    probs = np.zeros(tokenizer.vocab_size)
    probs[x], probs[eot] = 0.7, 0.3
    model = constant_model(probs, context_length=32)
    history = [("user", "hello"), ("bot", "hi")]
    reply, new_history = chat(model, tokenizer, history, "how are you", max_new_tokens=20, seed=0)
    assert reply == "xxxx"  # 4 draws of x (p = 0.7), then the end of turn (p = 0.3)
    assert new_history == history + [("user", "how are you"), ("bot", reply)]
    assert history == [("user", "hello"), ("bot", "hi")]  # the caller's list is untouched
    # Without an end-of-turn token the reply runs to max_new_tokens.
    probs[x], probs[eot] = 1.0, 0.0
    reply, _ = chat(constant_model(probs, 32), tokenizer, [], "hi", max_new_tokens=6, seed=0)
    assert reply == "xxxxxx"
    # A speaker token also ends the reply.
    probs[x], probs[tokenizer.token_to_id(SPEAKER_A)] = 0.0, 1.0
    reply, _ = chat(constant_model(probs, 32), tokenizer, [], "hi", max_new_tokens=6)
    assert reply == ""


def test_chat_long_conversation_stays_in_the_context(tokenizer):
    x = int(tokenizer.encode("x")[0])
    eot = tokenizer.token_to_id(END_OF_TURN)
    probs = np.zeros(tokenizer.vocab_size)
    probs[x], probs[eot] = 0.5, 0.5
    model = constant_model(probs, context_length=16)
    history = []
    for i in range(12):  # far more turns than 16 tokens can hold
        _, history = chat(model, tokenizer, history, "hello", max_new_tokens=4, seed=i)
    assert len(history) == 24
    with pytest.raises(ValueError, match="max_new_tokens"):
        chat(model, tokenizer, history, "hello", max_new_tokens=15)
