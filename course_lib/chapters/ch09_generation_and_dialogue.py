# Generated from notebooks/src/09_generation_and_dialogue.py (notebooks/09_generation_and_dialogue.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Dialogue with a GPT, written in notebooks/09_generation_and_dialogue.ipynb.

A conversation becomes one token stream the model learns to continue:

    <|endoftext|><|A|> Are you a football fan?<|eot|><|B|> yes, I am.<|eot|><|A|> ...

Each turn starts with its speaker's token and ends with the end-of-turn token `<|eot|>`, so a
model trained on such streams learns both what to say and when its turn is over. To chat, the
history is formatted the same way, the bot's speaker token is appended, and the model writes
until it emits `<|eot|>`. The context window is finite, so the prompt keeps only the newest
turns that fit, leaving room for the reply: the oldest turns are forgotten first.

- ``format_turn``, ``format_conversation``, ``merge_consecutive_turns``: turns as text with
  the speaker tokens ``SPEAKER_A``, ``SPEAKER_B`` and ``END_OF_TURN``.
- ``conversations_to_ids``: conversations → one token stream for language-model training.
- ``turns_that_fit``, ``build_chat_prompt``: the newest turns that fit in the context window.
- ``chat``: one exchange with a trained model.
- ``load_stdlib_code`` (with ``stdlib_files``, ``license_text``): the chapter's code corpus,
  the Python standard library's own source files, read from the running interpreter under the
  PSF License Version 2 (SPDX ``PSF-2.0``).
- ``text_bits_per_byte``, ``plain_conversation``: how well a model predicts a text, per byte,
  so models with different tokenizers compare; a conversation as the foundation model's
  corpus writes it.

Example:

>>> format_conversation([("ann", "Hi!"), ("bob", "Hello."), ("ann", "Football?")])
'<|endoftext|><|A|> Hi!<|eot|><|B|> Hello.<|eot|><|A|> Football?<|eot|>'
>>> turns_that_fit([20, 12, 9, 15, 10], 47)  # the newest four turns take 46 tokens
4
"""

import platform
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course_lib.generation import generate, token_log_probs
from course_lib.metrics import bits_per_unit

LICENSE = "PSF-2.0"
LICENSE_NOTE = (
    "Python standard library source code, Copyright (c) 2001- Python Software Foundation; "
    "All Rights Reserved. Used under the PSF License Version 2 (SPDX: PSF-2.0); see "
    "LICENSE.txt in the interpreter's library folder."
)
# Between files in the corpus text: a code model learns it as "a new file starts here".
FILE_SEPARATOR = "<|endoftext|>"
# Folders left out: test suites (huge, repetitive, not typical code), bundled third-party
# packages, the IDLE and turtle demos, and caches.
EXCLUDED_DIRS = (
    "test",
    "tests",
    "idle_test",
    "idlelib",
    "turtledemo",
    "site-packages",
    "dist-packages",
    "lib2to3",
    "__pycache__",
)


@dataclass
class CodeCorpus:
    """Text of a slice of the standard library, and where it came from.

    The order is deterministic (sorted relative paths) and the size is capped, so a run reads
    the same files for the same Python version; another version has other files, so the
    corpus records its version.

    Args:
        text: the files' contents joined by `FILE_SEPARATOR`.
        files: the relative paths of the files in the text, in order.
        root: the library folder they were read from.
        python_version: the interpreter version (another version has other files).
        license: the SPDX license identifier of the code.

    Example:
    ```python
    corpus = load_stdlib_code(200_000)
    corpus.files[:2], len(corpus.text)
    ```
    """

    text: str
    files: list[str]
    root: Path
    python_version: str = field(default_factory=platform.python_version)
    license: str = LICENSE

    def documents(self):
        """The files' contents as a list of str (the text split at `FILE_SEPARATOR`)."""
        return self.text.split(FILE_SEPARATOR) if self.text else []


def stdlib_dir():
    """The running interpreter's standard-library folder (`sysconfig`'s `stdlib` path).

    Example:
    ```python
    stdlib_dir()  # e.g. PosixPath('/usr/lib/python3.11')
    ```
    """
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_files(*, top_level_only=False, skip_private=True, root=None):
    """The standard library's `.py` files, sorted by relative path.

    Args:
        top_level_only: only the modules directly in the folder (no packages).
        skip_private: leave out modules and packages whose name starts with `_` (mostly
            implementation details and generated tables such as `_sysconfigdata*`).
        root: the folder to list; defaults to `stdlib_dir()`.

    Returns:
        A list of relative `Path`s (posix order, so the same on every machine).

    Example:
    ```python
    stdlib_files(top_level_only=True)[:3]  # [PosixPath('abc.py'), PosixPath('aifc.py'), ...]
    ```
    """
    root = stdlib_dir() if root is None else Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no standard-library folder at {root}; pass root= explicitly")
    pattern = "*.py" if top_level_only else "**/*.py"
    found = []
    for path in root.glob(pattern):
        rel = path.relative_to(root)
        if any(part in EXCLUDED_DIRS for part in rel.parts[:-1]):
            continue
        if skip_private and any(
            part.startswith("_") and part != "__init__.py" for part in rel.parts
        ):
            continue
        if path.is_file():
            found.append(rel)
    return sorted(found, key=lambda p: p.as_posix())


def load_stdlib_code(max_chars, *, top_level_only=False, skip_private=True, root=None):
    """Reads standard-library files in sorted order until `max_chars` would be exceeded.

    Whole files only: a file that would overflow the budget is skipped and the next ones are
    tried, so small modules still fill the remainder. Empty files are left out. Text is read
    as UTF-8 (the default encoding of Python source); tabs are kept, line ends normalised to
    `\\n`.

    Args:
        max_chars: the most characters of text (separators included), e.g. from
            `profile.pick(...)`.
        top_level_only: see `stdlib_files`.
        skip_private: see `stdlib_files`.
        root: see `stdlib_files`.

    Returns:
        A `CodeCorpus`.

    Example:
    ```python
    corpus = load_stdlib_code(profile.pick(smoke=20_000, cpu=600_000, gpu=5_000_000))
    print(corpus.license, len(corpus.files), "files")
    ```
    """
    if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"max_chars must be a positive int, got {max_chars!r}")
    root = stdlib_dir() if root is None else Path(root)
    parts, files, used = [], [], 0
    for rel in stdlib_files(top_level_only=top_level_only, skip_private=skip_private, root=root):
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        text = text.replace("\r\n", "\n")
        if not text.strip():  # empty package __init__ files teach nothing
            continue
        cost = len(text) + (len(FILE_SEPARATOR) if parts else 0)
        if used + cost > max_chars:
            continue
        parts.append(text)
        files.append(rel.as_posix())
        used += cost
    if not parts:
        raise ValueError(
            f"no standard-library file fits in max_chars={max_chars}; raise it (the smallest "
            "modules have a few hundred characters)"
        )
    return CodeCorpus(FILE_SEPARATOR.join(parts), files, root)


def license_text(root=None):
    """The Python license (`LICENSE.txt` of the library folder), or `LICENSE_NOTE` when the
    installation does not ship the file.

    Example:
    ```python
    print(license_text()[:200])
    ```
    """
    path = (stdlib_dir() if root is None else Path(root)) / "LICENSE.txt"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else LICENSE_NOTE


SPEAKER_A = "<|A|>"  # the first speaker of a conversation; in chat(), the user
SPEAKER_B = "<|B|>"  # the second speaker; in chat(), the bot
END_OF_TURN = "<|eot|>"
END_OF_TEXT = FILE_SEPARATOR  # "<|endoftext|>": a new document (a file, a conversation) starts
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

    >>> merge_consecutive_turns([("a", "Hi."), ("a", "You there?"), ("b", "Yes.")])
    [('a', 'Hi. You there?'), ('b', 'Yes.')]
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

    >>> format_turn(SPEAKER_A, "Hello  there")
    '<|A|> Hello there<|eot|>'
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

    >>> format_conversation([("agent_1", "Hi!"), ("agent_2", "Hello.")])
    '<|endoftext|><|A|> Hi!<|eot|><|B|> Hello.<|eot|>'
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
            "BPETokenizer.from_text(text, vocab_size, special_tokens=SPECIAL_TOKENS)"
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

    >>> turns_that_fit([20, 12, 9, 15, 10], 47)  # 10 + 15 + 9 + 12 = 46; adding 20 is too many
    4
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

    >>> from course_lib.tokenizers import BPETokenizer
    >>> tok = BPETokenizer.from_text("hello there how are you today i am fine " * 20, 300,
    ...                              special_tokens=SPECIAL_TOKENS)
    >>> history = [("user", "hello there"), ("bot", "how are you today")]
    >>> ids, kept = build_chat_prompt(tok, history, "i am fine", context_length=40, reserve=8)
    >>> kept, tok.decode(ids)
    (2, '<|endoftext|><|A|> hello there<|eot|><|B|> how are you today<|eot|><|A|> i am fine<|eot|><|B|>')
    >>> ids, kept = build_chat_prompt(tok, history, "i am fine", context_length=20, reserve=8)
    >>> kept, tok.decode(ids)  # 11 tokens: the first turn no longer fits
    (1, '<|B|> how are you today<|eot|><|A|> i am fine<|eot|><|B|>')
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
        # The end of the message is what the reply answers, so the start is cut.
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


def text_bits_per_byte(model, token_ids, num_bytes, *, batch_size=32, jit_compile=False):
    """How well a model predicts a text, in bits per byte: comparable across tokenizers.

    Every token of each sequence but its first is scored with
    `course_lib.generation.token_log_probs`; their negative log-likelihoods are summed and
    divided by the text's bytes and by ln 2 (`course_lib.metrics.bits_per_unit`, the formula of
    `course_lib.pretraining.bits_per_byte`). A loss per token depends on how
    much text a token holds; per byte it does not, so a character model and a BPE model that
    read the same text compare.

    Args:
        model: a `course_lib.gpt.GPT`.
        token_ids: one sequence of ids, or a list of sequences, each of at least 2 tokens.
        num_bytes: the UTF-8 bytes of the text that the scored tokens spell (a sequence's
            first token is not scored: start it with a token that spells nothing, such as
            `<|endoftext|>`, and this is the bytes of the whole text).
        batch_size: see `token_log_probs`.
        jit_compile: see `token_log_probs`.

    Returns:
        A dict: `bits_per_byte`, `nats_per_token` (its exp is the perplexity per token),
        `tokens` (the number scored) and `bytes`.

    Example:
    ```python
    text = "ROMEO:\\nBut soft, what light through yonder window breaks?"
    ids = [eot] + list(tokenizer.encode(text))
    text_bits_per_byte(model, ids, len(text.encode("utf-8")))["bits_per_byte"]
    ```
    """
    if isinstance(num_bytes, bool) or not isinstance(num_bytes, int | np.integer) or num_bytes < 1:
        raise ValueError(f"num_bytes must be a positive int (UTF-8 bytes of text), got {num_bytes!r}")
    log_probs = token_log_probs(model, token_ids, batch_size=batch_size, jit_compile=jit_compile)
    if isinstance(log_probs, np.ndarray):  # one sequence
        log_probs = [log_probs]
    scored = np.concatenate(log_probs)  # (N,): log p(token | the tokens before it), every sequence
    if scored.size == 0:
        raise ValueError("no token to score: each sequence needs at least 2 tokens")
    nats = float(-scored.sum())  # the total surprise over the text, in nats
    return {
        "bits_per_byte": bits_per_unit(nats, int(num_bytes)),  # nats / (bytes · ln 2)
        "nats_per_token": nats / scored.size,
        "tokens": int(scored.size),
        "bytes": int(num_bytes),
    }


def plain_conversation(turns):
    """A conversation as plain text, the way the foundation model's corpus writes it.

    One line per message, `A: ` before the first speaker's and `B: ` before the other's;
    messages are kept as they are (not merged, not re-spaced), so a held-out conversation reads
    exactly like a held-out document of `course_lib.pretraining.load_corpus()`.

    Args:
        turns: a list of `(speaker, message)` pairs.

    Returns:
        A str.

    Example:

    >>> plain_conversation([("agent_1", "Hi!"), ("agent_1", "You there?"), ("agent_2", "Yes.")])
    'A: Hi!\\nA: You there?\\nB: Yes.'
    """
    labels = {}
    for speaker, _ in turns:
        labels.setdefault(speaker, "B" if labels else "A")
    return "\n".join(f"{labels[s]}: {m}" for s, m in turns)
