"""Dialogue with a GPT: conversations as alternating turns with speaker tokens, and `chat()`.

A conversation becomes one token stream the model learns to continue:

    <|endoftext|><|A|> Are you a football fan?<|eot|><|B|> yes, I am.<|eot|><|A|> ...

Each turn starts with its speaker's token and ends with the end-of-turn token `<|eot|>`, so a
model trained on such streams learns both what to say and when its turn is over. To chat, the
history is formatted the same way, the bot's speaker token is appended, and the model writes
until it emits `<|eot|>`. The context window is finite, so `chat()` keeps only the newest turns
that fit, leaving room for the reply: the oldest turns are forgotten first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_lib.generation import generate

__all__ = [
    "SPEAKER_A",
    "SPEAKER_B",
    "END_OF_TURN",
    "END_OF_TEXT",
    "SPECIAL_TOKENS",
    "ROLES",
    "merge_consecutive_turns",
    "format_turn",
    "format_conversation",
    "conversations_to_ids",
    "turns_that_fit",
    "build_chat_prompt",
    "chat",
]

SPEAKER_A = "<|A|>"  # the first speaker of a conversation; in chat(), the user
SPEAKER_B = "<|B|>"  # the second speaker; in chat(), the bot
END_OF_TURN = "<|eot|>"
END_OF_TEXT = "<|endoftext|>"  # starts each conversation in the training stream
SPECIAL_TOKENS = (SPEAKER_A, SPEAKER_B, END_OF_TURN, END_OF_TEXT)
ROLES = {"user": SPEAKER_A, "bot": SPEAKER_B}


def merge_consecutive_turns(turns):
    """Joins consecutive messages of the same speaker into one turn, so speakers alternate.

    Args:
        turns: a list of `(speaker, message)` pairs (e.g. one conversation of
            `course_lib.data.load_topical_chat()`).

    Returns:
        A list of `(speaker, message)` pairs in which no speaker follows itself; messages are
        stripped and joined with a space; empty messages are dropped.

    Example:
    ```python
    merge_consecutive_turns([("a", "Hi."), ("a", "You there?"), ("b", "Yes.")])
    # [('a', 'Hi. You there?'), ('b', 'Yes.')]
    ```
    """
    merged = []
    for speaker, message in turns:
        message = " ".join(str(message).split())  # also folds newlines and double spaces
        if not message:
            continue
        if merged and merged[-1][0] == speaker:
            merged[-1] = (speaker, merged[-1][1] + " " + message)
        else:
            merged.append((speaker, message))
    return merged


def format_turn(speaker_token, message):
    """One turn as text: `<speaker> message<|eot|>`.

    Args:
        speaker_token: `SPEAKER_A` or `SPEAKER_B`.
        message: the text of the turn (whitespace is normalised).

    Returns:
        A str.

    Example:
    ```python
    format_turn(SPEAKER_A, "Hello there")  # '<|A|> Hello there<|eot|>'
    ```
    """
    if speaker_token not in (SPEAKER_A, SPEAKER_B):
        raise ValueError(
            f"speaker_token must be {SPEAKER_A!r} or {SPEAKER_B!r}, got {speaker_token!r}"
        )
    return f"{speaker_token} {' '.join(str(message).split())}{END_OF_TURN}"


def format_conversation(turns):
    """A whole conversation as alternating turns: the first speaker is A, the other B.

    Consecutive messages of one speaker are merged first (`merge_consecutive_turns`), and the
    text starts with `END_OF_TEXT`, which marks where a conversation begins.

    Args:
        turns: a list of `(speaker, message)` pairs with two distinct speakers.

    Returns:
        A str.

    Example:
    ```python
    format_conversation([("agent_1", "Hi!"), ("agent_2", "Hello.")])
    # '<|endoftext|><|A|> Hi!<|eot|><|B|> Hello.<|eot|>'
    ```
    """
    turns = merge_consecutive_turns(turns)
    speakers = list(dict.fromkeys(s for s, _ in turns))
    if len(speakers) > 2:
        raise ValueError(
            f"a conversation must have at most two speakers, got {len(speakers)}: {speakers}"
        )
    tokens = dict(zip(speakers, (SPEAKER_A, SPEAKER_B), strict=False))
    return END_OF_TEXT + "".join(format_turn(tokens[s], m) for s, m in turns)


def _check_tokenizer(tokenizer):
    missing = [t for t in SPECIAL_TOKENS if t not in getattr(tokenizer, "special_tokens", ())]
    if missing:
        raise ValueError(
            f"the tokenizer lacks the special tokens {missing}; train it with "
            "BPETokenizer.from_text(text, vocab_size, special_tokens=dialogue.SPECIAL_TOKENS)"
        )


def conversations_to_ids(tokenizer, conversations):
    """Encodes conversations into one token stream for language-model training.

    Args:
        tokenizer: a `course_lib.tokenizers.BPETokenizer` trained with
            `special_tokens=SPECIAL_TOKENS`.
        conversations: a list of conversations, each a list of `(speaker, message)` pairs.

    Returns:
        A 1-D int32 NumPy array: the conversations one after the other, each starting with
        the id of `END_OF_TEXT`.

    Example:
    ```python
    ids = conversations_to_ids(tokenizer, load_topical_chat("valid"))
    ```
    """
    _check_tokenizer(tokenizer)
    parts = [
        np.asarray(tokenizer.encode(format_conversation(c)), dtype=np.int32) for c in conversations
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


def turns_that_fit(turn_lengths, budget):
    """How many of the newest turns fit in a token budget (the oldest are dropped first).

    Args:
        turn_lengths: the token count of each turn, oldest first.
        budget: the tokens available.

    Returns:
        The number k of newest turns whose lengths sum to at most `budget` (turns are kept or
        dropped whole).

    Example:
    ```python
    turns_that_fit([20, 12, 9, 15, 10], 47)  # 4: 10 + 15 + 9 + 12 = 46; adding 20 is too many
    ```
    """
    used, kept = 0, 0
    for n in reversed(list(turn_lengths)):
        if used + n > budget:
            break
        used += n
        kept += 1
    return kept


def _history_turns(history):
    turns = []
    for i, item in enumerate(history):
        if not (isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2):
            raise ValueError(
                f"history[{i}] must be a (role, message) pair with role 'user' or 'bot', got {item!r}"
            )
        role, message = item
        if role not in ROLES:
            raise ValueError(f"history[{i}] has role {role!r}; use 'user' or 'bot'")
        turns.append((ROLES[role], message))
    return turns


def build_chat_prompt(tokenizer, history, user_message, context_length, reserve):
    """The token ids `chat()` feeds the model: the newest turns that fit, then the bot's token.

    The prompt is the history plus the new user message, formatted as turns, followed by the
    bot's speaker token; `reserve` tokens are left free for the reply. Whole turns are dropped
    from the oldest end until the rest fits; a new message that alone does not fit keeps its
    speaker token and its last tokens. When nothing was dropped the prompt starts with
    `END_OF_TEXT`, as conversations do in training.

    Args:
        tokenizer: a BPE tokenizer trained with `special_tokens=SPECIAL_TOKENS`.
        history: earlier turns, oldest first, as `(role, message)` with role `"user"` or
            `"bot"`.
        user_message: the new message of the user.
        context_length: the model's context length.
        reserve: tokens to leave free for the reply.

    Returns:
        `(ids, kept)`: a list of token ids and the number of history turns kept.

    Example:
    ```python
    ids, kept = build_chat_prompt(tokenizer, [("user", "Hi"), ("bot", "Hello")], "How are you?",
                                  context_length=128, reserve=48)
    ```
    """
    _check_tokenizer(tokenizer)
    turns = _history_turns(history) + [(ROLES["user"], user_message)]
    encoded = [[int(t) for t in tokenizer.encode(format_turn(s, m))] for s, m in turns]
    bot = int(tokenizer.token_to_id(SPEAKER_B))
    start = int(tokenizer.token_to_id(END_OF_TEXT))
    budget = context_length - reserve - 1  # 1: the bot's speaker token
    if budget < 3:
        raise ValueError(
            f"context_length {context_length} leaves {budget} tokens after reserving {reserve} for "
            "the reply and 1 for the bot's speaker token; a turn needs at least 3 (speaker, "
            "text, end of turn): lower max_new_tokens"
        )
    if len(encoded[-1]) > budget:
        # The newest message alone is too long: keep its speaker token, the end of its text
        # and its end-of-turn token (the end is what the reply answers).
        encoded[-1] = encoded[-1][:1] + encoded[-1][len(encoded[-1]) - budget + 1 :]
    kept = turns_that_fit([len(e) for e in encoded], budget)
    ids = [t for e in encoded[len(encoded) - kept :] for t in e]
    if kept == len(encoded) and len(ids) + 1 <= budget:
        ids = [start] + ids
    return ids + [bot], kept - 1


def chat(
    model,
    tokenizer,
    history,
    user_message,
    *,
    max_new_tokens=48,
    temperature=0.8,
    top_k=None,
    top_p=0.9,
    seed=None,
    use_cache=True,
    jit_compile=False,
):
    """One exchange: the user says `user_message`, the model answers as the bot.

    The prompt is built by `build_chat_prompt` (the newest turns that fit, leaving
    `max_new_tokens` free, so generation never has to cut its window), and generation stops
    at the end-of-turn token. A speaker or end-of-text token in the reply also ends it.

    Args:
        model: a `course_lib.gpt.GPT` trained on `conversations_to_ids` streams.
        tokenizer: its BPE tokenizer (trained with `special_tokens=SPECIAL_TOKENS`).
        history: earlier turns, oldest first, as `(role, message)` with role `"user"` or
            `"bot"` (an empty list to start).
        user_message: the user's new message.
        max_new_tokens: the longest reply, in tokens (≤ context_length - 4).
        temperature: see `course_lib.generation.sample_next`.
        top_k: see `course_lib.generation.sample_next`.
        top_p: see `course_lib.generation.sample_next`.
        seed: sampling seed (None = fresh entropy).
        use_cache: use the key/value cache.
        jit_compile: compile with XLA (TensorFlow); off suits short replies on a CPU.

    Returns:
        `(reply, history)`: the reply text and the history with both new turns appended.

    Example:
    ```python
    reply, history = chat(model, tokenizer, [], "Do you like football?", seed=0)
    reply, history = chat(model, tokenizer, history, "Who is your favourite player?", seed=1)
    ```
    """
    length = model.config.context_length
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int):
        raise ValueError(f"max_new_tokens must be an int, got {max_new_tokens!r}")
    if not 1 <= max_new_tokens <= length - 4:
        raise ValueError(
            f"max_new_tokens must be in [1, {length - 4}] so that a turn (speaker, text, end of "
            f"turn) and the bot's token still fit in the context of {length}, got {max_new_tokens}"
        )
    prompt, _ = build_chat_prompt(tokenizer, history, user_message, length, max_new_tokens)
    eot = int(tokenizer.token_to_id(END_OF_TURN))
    new = generate(
        model,
        prompt,
        max_new_tokens,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        seed=seed,
        use_cache=use_cache,
        stop_token=eot,
        jit_compile=jit_compile,
    )
    enders = {int(tokenizer.token_to_id(t)) for t in SPECIAL_TOKENS}
    reply_ids = []
    for t in new:
        if t in enders:
            break
        reply_ids.append(t)
    reply = tokenizer.decode(reply_ids).strip()
    return reply, list(history) + [("user", user_message), ("bot", reply)]
