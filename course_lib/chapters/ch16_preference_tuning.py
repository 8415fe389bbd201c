# Generated from notebooks/src/16_preference_tuning.py (notebooks/16_preference_tuning.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Preference tuning with DPO, written in notebooks/16_preference_tuning.ipynb.

Direct Preference Optimization (Rafailov et al., 2023) trains a policy π_θ on pairs (prompt x,
chosen y_w, rejected y_l) with the loss −log σ(β[(log π_θ(y_w|x) − log π_ref(y_w|x)) −
(log π_θ(y_l|x) − log π_ref(y_l|x))]), π_ref a frozen copy of the starting model. Chapter 16
writes:

- `sequence_log_probs`: log π(y|x) of each answer in a padded batch (answer tokens weighted 1).
- `dpo_loss`: the formula, on per-answer log-probabilities.
- `DPOObjective`: a Keras model whose output z is β times the bracket, so that binary
  cross-entropy with label 1 (−log σ(z)) is the DPO loss and `fit` trains the policy.
- `chat_window`: an ipywidgets chat window for a chat-tuned GPT that streams its replies.

Shapes: B = pairs in a batch, T = padded length, V = vocabulary.

Example:

>>> round(float(dpo_loss(-10.0, -12.0, -11.0, -11.0, beta=0.1)), 4)  # z = 0.1 * (1 + 1) = 0.2
0.5981
"""

import html
import warnings

import ipywidgets as widgets
import keras
from keras import ops

from course_lib.chapters.ch09_generation_and_dialogue import (
    END_OF_TURN,
    SPECIAL_TOKENS,
    build_chat_prompt,
)
from course_lib.generation import generate


def sequence_log_probs(model, inputs, targets, weights):
    """log π(y|x) of every row: the sum of the weighted targets' log-probabilities.

    Args:
        model: a `course_lib.gpt.GPT`.
        inputs: `(B, T)` token ids (`ch15_instruction_tuning.pad_batch`'s `"inputs"`).
        targets: `(B, T)` the next tokens.
        weights: `(B, T)` 1 on the answer's targets, 0 on the prompt and the padding.

    Returns:
        A float32 tensor `(B,)`.

    Example:
    ```python
    log_p = sequence_log_probs(model, batch["inputs"], batch["targets"], batch["weights"])
    ```
    """
    logits = model(inputs)  # (B, T, V)
    log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (B, T, V)
    picked = ops.take_along_axis(log_probs, ops.expand_dims(targets, -1), axis=-1)  # (B, T, 1)
    return ops.sum(picked[..., 0] * ops.cast(weights, "float32"), axis=-1)  # (B,)


def dpo_loss(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta):
    """The DPO loss, averaged over pairs, from per-answer log-probabilities.

    Args:
        policy_chosen: log π_θ(y_w|x), a number or `(B,)`.
        policy_rejected: log π_θ(y_l|x).
        reference_chosen: log π_ref(y_w|x).
        reference_rejected: log π_ref(y_l|x).
        beta: β > 0.

    Returns:
        A scalar tensor: the mean over pairs of
        −log σ(β[(log π_θ(y_w) − log π_ref(y_w)) − (log π_θ(y_l) − log π_ref(y_l))]).

    Example:

    >>> round(float(dpo_loss(-10.0, -12.0, -11.0, -11.0, beta=0.1)), 4)
    0.5981
    """
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta!r}")
    z = beta * ((ops.convert_to_tensor(policy_chosen, "float32") - reference_chosen)
                - (ops.convert_to_tensor(policy_rejected, "float32") - reference_rejected))
    return ops.mean(ops.softplus(-z))  # -log σ(z) = log(1 + e^-z), computed stably


class DPOObjective(keras.Model):
    """Wraps a policy so that `fit` minimises the DPO loss.

    The model reads a batch of pairs, chosen rows and rejected rows padded to the same length,
    with the reference's log-probabilities of both (computed once: the reference is frozen),
    and returns z = β[(log π_θ(y_w) − ref_w) − (log π_θ(y_l) − ref_l)] per pair.
    Compiled with `keras.losses.BinaryCrossentropy(from_logits=True)` and labels of 1, its
    loss is −log σ(z), the DPO loss; `z > 0` means the policy ranks the pair as the judge did.

    Args:
        policy: the `course_lib.gpt.GPT` to train.
        beta: DPO's β (> 0).

    Call arguments:
        inputs: a dict of `"inputs"`, `"targets"`, `"weights"` `(2B, T)` (rows 0..B-1 chosen,
            B..2B-1 rejected) and `"reference"` `(2B,)`, the reference's log-probabilities.

    Example:
    ```python
    objective = DPOObjective(policy, beta=0.1)
    objective.compile(keras.optimizers.AdamW(5e-5),
                      loss=keras.losses.BinaryCrossentropy(from_logits=True))
    ```
    """

    def __init__(self, policy, beta, **kwargs):
        if not beta > 0:
            raise ValueError(f"beta must be positive, got {beta!r}: it scales the log-ratios")
        super().__init__(**kwargs)
        self.policy = policy
        self.beta = float(beta)

    def call(self, inputs):
        log_p = sequence_log_probs(self.policy, inputs["inputs"], inputs["targets"],
                                   inputs["weights"])  # (2B,)
        ratio = log_p - ops.cast(inputs["reference"], "float32")  # (2B,): log π_θ/π_ref
        half = ops.shape(ratio)[0] // 2
        return self.beta * (ratio[:half] - ratio[half:])  # (B,): z per pair


class _ReplyEnded(Exception):
    """Raised from the token callback to stop generating once the reply is complete."""


def _transcript_html(lines, typing=False):
    """The transcript as HTML; with `typing`, the last line (the bot's) is still growing."""
    rows = []
    for i, (role, message) in enumerate(lines):
        who, color = ("You", "#1565c0") if role == "user" else ("Bot", "#2e7d32")
        cursor = " ▌" if typing and i == len(lines) - 1 else ""
        rows.append(
            f'<div class="chat-{role}" style="margin:2px 0"><b style="color:{color}">{who}:</b> '
            f'<span class="chat-text">{html.escape(message)}</span>{cursor}</div>'
        )
    # column-reverse anchors the scroll position at the bottom: each token replaces the whole
    # value, and the newest line must stay in view without any JavaScript.
    return (
        '<div class="chat-transcript" style="height:260px;overflow-y:auto;display:flex;'
        'flex-direction:column-reverse;border:1px solid #ccc;padding:4px 8px">'
        f"<div>{''.join(rows)}</div></div>"
    )


def chat_window(
    model,
    tokenizer,
    *,
    max_new_tokens=48,
    temperature=0.8,
    top_p=0.9,
    seed=0,
    greeting=None,
):
    """A chat window for a GPT tuned to chat: its replies appear token by token.

    Each message is answered as `course_lib.chapters.ch09_generation_and_dialogue.chat()`
    answers it: the prompt is the newest turns that fit in the context (`build_chat_prompt`),
    the model writes until `<|eot|>`, and the reply is cut at its first special token and
    stripped. Exchange `k` (counted from 0 since the start or the last Clear) samples with
    `seed + k`, so a conversation replays exactly and reply `k` is what `chat()` returns with
    `seed=seed + k` for the same history.

    Args:
        model: a `course_lib.gpt.GPT` trained on `conversations_to_ids` streams.
        tokenizer: its BPE tokenizer (trained with `special_tokens=SPECIAL_TOKENS`).
        max_new_tokens: the longest reply, in tokens (≤ context_length - 4).
        temperature: see `course_lib.generation.sample_next`.
        top_p: see `course_lib.generation.sample_next`.
        seed: the first exchange's sampling seed (None = fresh entropy every time).
        greeting: an opening line shown as the bot's; it stays out of the history, since
            the model never wrote it.

    Returns:
        An `ipywidgets.VBox` of the transcript, a text box, and Send and Clear buttons. Its
        attribute `history` holds the conversation as `(role, message)` pairs, as `chat()`
        returns it; `transcript`, `message_box`, `send_button` and `clear_button` are its
        parts.

    Example:
    ```python
    window = chat_window(model, tokenizer, greeting="Hi! What shall we talk about?")
    window  # type a message, press Enter or Send
    window.history  # [("user", "..."), ("bot", "..."), ...]
    ```
    """
    length = model.config.context_length
    # chat() checks this only when it is called; here a bad value should fail at once, not on
    # the first click, where the error would land in a log the reader never sees.
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int):
        raise ValueError(f"max_new_tokens must be an int, got {max_new_tokens!r}")
    if not 1 <= max_new_tokens <= length - 4:
        raise ValueError(
            f"max_new_tokens must be in [1, {length - 4}] so that a turn and the bot's token "
            f"still fit in the context of {length}, got {max_new_tokens}"
        )
    missing = [t for t in SPECIAL_TOKENS if t not in getattr(tokenizer, "special_tokens", ())]
    if missing:
        raise ValueError(f"the tokenizer lacks the special tokens {missing}")
    eot = int(tokenizer.token_to_id(END_OF_TURN))
    enders = {int(tokenizer.token_to_id(t)) for t in SPECIAL_TOKENS}
    opening = [("bot", greeting)] if greeting else []

    transcript = widgets.HTML(_transcript_html(opening))
    message_box = widgets.Text(
        placeholder="Type a message and press Enter", layout=widgets.Layout(flex="1")
    )
    send_button = widgets.Button(description="Send", button_style="primary")
    clear_button = widgets.Button(description="Clear")
    window = widgets.VBox(
        [transcript, widgets.HBox([message_box, send_button, clear_button])],
        layout=widgets.Layout(width="100%", max_width="720px"),
    )
    window.history = []
    window.transcript, window.message_box = transcript, message_box
    window.send_button, window.clear_button = send_button, clear_button

    def send(_=None):
        message = message_box.value.strip()
        if not message:
            return
        message_box.value = ""
        history = list(window.history)
        lines = opening + history + [("user", message), ("bot", "")]
        transcript.value = _transcript_html(lines, typing=True)
        # Widget events are handled one at a time, so a second click would only queue up
        # behind this reply; disabling says so.
        for part in (message_box, send_button, clear_button):
            part.disabled = True
        reply_ids = []

        def show(token_id):
            if token_id in enders:
                # chat() drops everything from the first special token on: stop paying for
                # tokens the reader would never see.
                raise _ReplyEnded
            reply_ids.append(token_id)
            # The whole reply is decoded each time: a character can span two BPE tokens, and
            # decoding tokens one by one would show its halves as replacement marks.
            lines[-1] = ("bot", tokenizer.decode(reply_ids).lstrip())
            transcript.value = _transcript_html(lines, typing=True)

        try:
            prompt, _ = build_chat_prompt(tokenizer, history, message, length, max_new_tokens)
            try:
                generate(
                    model,
                    prompt,
                    max_new_tokens,
                    temperature=temperature,
                    top_p=top_p,
                    seed=None if seed is None else seed + len(history) // 2,
                    stop_token=eot,
                    jit_compile=False,
                    on_token=show,
                )
            except _ReplyEnded:
                pass
            reply = tokenizer.decode(reply_ids).strip()
            window.history = history + [("user", message), ("bot", reply)]
            lines[-1] = ("bot", reply)
            transcript.value = _transcript_html(lines)
        except Exception as error:
            # An exception in a widget callback only reaches JupyterLab's log console; the
            # transcript is where the reader is looking.
            lines[-1] = ("bot", f"[{type(error).__name__}: {error}]")
            transcript.value = _transcript_html(lines)
            message_box.value = message
        finally:
            for part in (message_box, send_button, clear_button):
                part.disabled = False

    def clear(_=None):
        window.history = []
        message_box.value = ""
        transcript.value = _transcript_html(opening)

    send_button.on_click(send)
    clear_button.on_click(clear)
    # ipywidgets 8 deprecates on_submit in favour of observing `value` with
    # continuous_update=False, but that also fires when the box loses focus: a message would
    # be sent by clicking anywhere. Enter is what a chat box sends on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        message_box.on_submit(send)
    return window
