"""The chat window, driven without a browser: it answers as chapter 09's chat() does."""

import html

import keras
import numpy as np
import pytest

from course_lib.chapters.ch09_generation_and_dialogue import SPECIAL_TOKENS, chat
from course_lib.chapters.ch16_preference_tuning import chat_window
from course_lib.gpt import GPT, GPTConfig
from course_lib.tokenizers import BPETokenizer

SETTINGS = dict(max_new_tokens=12, temperature=0.8, top_p=0.9)
MESSAGE = "do you like <b>football</b> & tennis?"  # markup the transcript must not render


@pytest.fixture(scope="module")
def model_and_tokenizer():
    text = "do you like football? yes i do, i like tennis too. what about you? " * 20
    tokenizer = BPETokenizer.from_text(text, 300, special_tokens=SPECIAL_TOKENS)
    keras.utils.set_random_seed(0)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, context_length=32, num_layers=1,
                          num_heads=2, width=16))
    return model, tokenizer


def send(window, message):
    window.message_box.value = message
    window.send_button.click()


def test_send_answers_as_chat_does_and_streams(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    window = chat_window(model, tokenizer, seed=3, **SETTINGS)
    shown = []
    window.transcript.observe(lambda change: shown.append(change["new"]), "value")
    send(window, MESSAGE)

    reply, history = chat(model, tokenizer, [], MESSAGE, seed=3, **SETTINGS)
    assert reply  # a non-empty reply, so the checks below mean something
    assert window.history == history == [("user", MESSAGE), ("bot", reply)]
    assert window.message_box.value == ""  # ready for the next message
    final = window.transcript.value
    assert html.escape(MESSAGE) in final and MESSAGE not in final
    assert html.escape(reply) in final
    # It streamed: the bot's line grew through several values before the final one.
    assert len(shown) >= 3 and shown[-1] == final
    assert "▌" in shown[-2] and "▌" not in final

    # The second exchange samples with seed + 1 and sees the first one.
    send(window, "what about you?")
    reply2, history2 = chat(model, tokenizer, history, "what about you?", seed=4, **SETTINGS)
    assert window.history == history2
    assert html.escape(reply2) in window.transcript.value


@pytest.mark.parametrize("special", ["<|eot|>", "<|A|>"])
def test_a_reply_ends_at_its_first_special_token(special):
    """A model that often says `special`: the reply stops there, as chat() cuts it."""
    text = "do you like football? yes i do, i like tennis too. what about you? " * 20
    tokenizer = BPETokenizer.from_text(text, 300, special_tokens=SPECIAL_TOKENS)
    keras.utils.set_random_seed(0)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, context_length=32, num_layers=1,
                          num_heads=2, width=16))
    table = model.weights[0]  # the token embeddings, tied to the output layer
    rows = np.array(table.numpy())
    rows[tokenizer.token_to_id(special)] *= 30  # large logits, of either sign
    table.assign(rows)
    lengths = set()
    for seed in range(4):
        window = chat_window(model, tokenizer, seed=seed, **SETTINGS)
        shown = []
        window.transcript.observe(lambda change, shown=shown: shown.append(change["new"]),
                                  "value")
        send(window, MESSAGE)
        assert window.history == chat(model, tokenizer, [], MESSAGE, seed=seed, **SETTINGS)[1]
        assert not any(html.escape(special) in value for value in shown)
        lengths.add(len(window.history[1][1]))
    assert len(lengths) > 1  # some replies were cut short


def test_enter_sends_too(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    window = chat_window(model, tokenizer, seed=3, **SETTINGS)
    window.message_box.value = MESSAGE
    # What the browser sends when Enter is pressed in the text box.
    window.message_box._handle_string_msg(None, {"event": "submit"}, [])
    assert window.history == chat(model, tokenizer, [], MESSAGE, seed=3, **SETTINGS)[1]


def test_empty_message_does_nothing_and_clear_starts_over(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    window = chat_window(model, tokenizer, seed=3, greeting="Hi <there>!", **SETTINGS)
    empty = window.transcript.value
    assert "Hi &lt;there&gt;!" in empty
    for message in ("", "   \n "):
        send(window, message)
        assert window.history == [] and window.transcript.value == empty
    send(window, MESSAGE)
    first = window.history
    assert len(first) == 2  # the greeting is shown, but the model did not write it
    window.clear_button.click()
    assert window.history == [] and window.transcript.value == empty
    send(window, MESSAGE)
    assert window.history == first  # seeds restart with the conversation


def test_bad_settings_fail_at_once(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    with pytest.raises(ValueError, match="max_new_tokens"):
        chat_window(model, tokenizer, max_new_tokens=29)
    with pytest.raises(ValueError, match="special tokens"):
        chat_window(model, BPETokenizer.from_text("abc abc abc", 260), max_new_tokens=12)
