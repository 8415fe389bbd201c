# Generated from notebooks/src/15_instruction_tuning.py (notebooks/15_instruction_tuning.ipynb) by
# `python tools/notebooks.py build`: edit the notebook source, not this file.
"""Instruction tuning (SFT) and LoRA, written in notebooks/15_instruction_tuning.ipynb.

A base language model continues text; instruction tuning trains it on instruction → answer
examples, written in a chat template, so that it answers and then stops. Chapter 15 writes:

- **Template**: `add_chat_tokens` gives a tokenizer chapter 09's speaker and end-of-turn
  tokens; `resize_token_embeddings` grows a GPT's embedding table to match, keeping every
  learned weight; `format_prompt`, `format_example` and `parse_example` write and read the
  template `<|endoftext|><|A|> instruction<|eot|><|B|> answer<|eot|>`.
- **Data**: `encode_example` gives each example's token ids and loss weights (1 on the answer
  and its closing `<|eot|>`, 0 on the prompt); `pad_batch` pads a batch to a multiple of a
  length and shifts it into inputs and targets; `response_loss`, the cross-entropy averaged
  over the answer tokens only.
- **Evaluation**: `answer`, greedy decoding of one answer that stops at `<|eot|>`;
  `SentimentJudge`, a TF-IDF + logistic-regression sentiment classifier (chapter 08's
  strongest model) that scores written reviews.
- **LoRA**: `lora_layers` lists the layers that get adapters; `enable_lora` adds them with
  Keras's `enable_lora` and freezes every other weight.
- **keras-hub**: `hub_reachable`, `format_instruction`, `instruction_examples`,
  `load_causal_lm`, `generate_reply`, `parameter_counts` and `build_tiny_gemma_preset` take
  the same recipe to a Gemma 3 model from keras-hub (and test it offline on a tiny one).

Shapes: B = examples in a batch, T = padded length, V = vocabulary, C = width, r = LoRA rank.

Example:

>>> format_example("Say hi.", "Hi!")
'<|endoftext|><|A|> Say hi.<|eot|><|B|> Hi!<|eot|>'
"""

import dataclasses
import io
import math
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path

import keras
import keras_hub
import numpy as np
from keras import ops

from course_lib.chapters.ch09_generation_and_dialogue import (
    END_OF_TEXT,
    END_OF_TURN,
    SPEAKER_A,
    SPEAKER_B,
)
from course_lib.generation import generate
from course_lib.gpt import GPT
from course_lib.text_features import TfidfVectorizer
from course_lib.tokenizers import BPETokenizer

CHAT_TOKENS = (SPEAKER_A, SPEAKER_B, END_OF_TURN)  # user, assistant, end of turn


def add_chat_tokens(tokenizer, tokens=CHAT_TOKENS):
    """A copy of a BPE tokenizer with extra special tokens, given the next free ids.

    Args:
        tokenizer: a `course_lib.tokenizers.BPETokenizer`.
        tokens: the special tokens to add (those already present are kept as they are).

    Returns:
        A new `BPETokenizer`; the old ids are unchanged, the new tokens take ids
        `V, V + 1, ...` in order.

    Example:
    ```python
    chat_tokenizer = add_chat_tokens(tokenizer)  # V = 4,096 -> 4,099
    ```
    """
    vocabulary = dict(tokenizer.vocabulary)
    new = [t for t in tokens if t not in vocabulary]
    for token in new:
        vocabulary[token] = len(vocabulary)
    return BPETokenizer(vocabulary, tokenizer.merges,
                        special_tokens=list(tokenizer.special_tokens) + new)


def resize_token_embeddings(model, vocab_size, *, seed=0, noise=0.02):
    """A copy of a GPT with a larger vocabulary: old weights copied, new rows near the mean row.

    Args:
        model: a built `course_lib.gpt.GPT`.
        vocab_size: the new vocabulary size (at least the old one).
        seed: seed of the new rows' noise.
        noise: standard deviation of that noise (the course GPT's initialiser uses 0.02).

    Returns:
        A new `GPT`; on token ids below the old size its logits for the old tokens equal the
        old model's.

    Example:
    ```python
    chat_model = resize_token_embeddings(model, chat_tokenizer.vocab_size)
    ```
    """
    old = model.config
    if vocab_size < old.vocab_size:
        raise ValueError(f"vocab_size {vocab_size} is below the model's {old.vocab_size}: "
                         "resize_token_embeddings only grows a vocabulary")
    grown = GPT(dataclasses.replace(old, vocab_size=vocab_size))
    table = ops.convert_to_numpy(model.embedding.token_embedding.embeddings)  # (V, C)
    rng = np.random.default_rng(seed)
    extra = table.mean(axis=0) + noise * rng.standard_normal(
        (vocab_size - old.vocab_size, old.width))  # (V_new - V, C)
    weights = []
    for source, target in zip(model.weights, grown.weights, strict=True):
        value = ops.convert_to_numpy(source)
        if source.path == model.embedding.token_embedding.embeddings.path:
            value = np.concatenate([value, extra.astype(value.dtype)])  # (V_new, C)
        elif value.shape != tuple(target.shape):
            raise ValueError(f"weight {source.path} has shape {value.shape}, the resized model "
                             f"expects {tuple(target.shape)}")
        weights.append(value)
    grown.set_weights(weights)
    return grown


def format_prompt(instruction):
    """The text the model reads before it answers: the user's turn, then the assistant's token.

    Example:

    >>> format_prompt("Summarise this.")
    '<|endoftext|><|A|> Summarise this.<|eot|><|B|>'
    """
    return f"{END_OF_TEXT}{SPEAKER_A} {instruction.strip()}{END_OF_TURN}{SPEAKER_B}"


def format_example(instruction, response):
    """One training example in the chat template (a prompt, the answer, the end of turn).

    Example:

    >>> format_example("Say hi.", "Hi!")
    '<|endoftext|><|A|> Say hi.<|eot|><|B|> Hi!<|eot|>'
    """
    return f"{format_prompt(instruction)} {response.strip()}{END_OF_TURN}"


_EXAMPLE = re.compile(
    re.escape(END_OF_TEXT + SPEAKER_A) + " (.*)" + re.escape(END_OF_TURN + SPEAKER_B)
    + " (.*)" + re.escape(END_OF_TURN), re.DOTALL)


def parse_example(text):
    """Reads `(instruction, response)` back from `format_example`'s text.

    Raises:
        ValueError: the text is not one example in the template.

    Example:

    >>> parse_example(format_example("Say hi.", "Hi!"))
    ('Say hi.', 'Hi!')
    """
    match = _EXAMPLE.fullmatch(text)
    if match is None:
        raise ValueError(f"not one example in the chat template: {text[:80]!r}")
    return match.group(1), match.group(2)


PHRASINGS = {  # the last phrasing of each task is held out of training
    "sentiment": [
        "Is this movie review positive or negative?\n{text}",
        "Review: {text}\nIs the review positive or negative?",
        "Classify the sentiment of this review as positive or negative: {text}",
        "{text}\nDid the critic like the film? Answer positive or negative.",
    ],
    "passage QA": [
        "Answer the question from the passage.\nPassage: {context}\nQuestion: {question}",
        "{context}\nQ: {question}",
        "Read this: {context}\nNow answer: {question}",
        "Question: {question}\nUse this text to answer it: {context}",
    ],
    "summary": [
        "Summarize this dialogue.\n{dialogue}",
        "{dialogue}\nWhat was this conversation about? Answer in one sentence.",
        "Write a short summary of the conversation below.\n{dialogue}",
        "Here is a conversation:\n{dialogue}\nBriefly, what happened?",
    ],
    "write a review": [
        "Write a {label} movie review.",
        "Give me a {label} one-sentence review of a film.",
        "Write one sentence a critic might say about a movie they found {adjective}.",
        "Pretend you are a film critic and write a {label} line about a movie.",
    ],
    "chat": ["{message}"],
}
ADJECTIVE = {"positive": "good", "negative": "bad"}
MAX_NEW_TOKENS = {"sentiment": 4, "passage QA": 24, "summary": 48, "write a review": 48,
                  "chat": 40}  # answer budgets: a label, a span, a sentence, a turn


def encode_example(tokenizer, instruction, response):
    """The token ids of one example and the loss weight of each: 0 on the prompt, 1 after.

    Args:
        tokenizer: a BPE tokenizer with the chat tokens (`add_chat_tokens`).
        instruction: the user's message.
        response: the answer the model should learn to write.

    Returns:
        `(ids, weights)`: int32 and float32 arrays of equal length n; `weights[i]` is 1 when
        token i belongs to the answer (its closing `<|eot|>` included).

    Example:
    ```python
    ids, weights = encode_example(tokenizer, "Say hi.", "Hi!")  # weights: 0 ... 0 1 1 1
    ```
    """
    prompt = tokenizer.encode(format_prompt(instruction))  # (n_prompt,)
    answer = tokenizer.encode(f" {response.strip()}{END_OF_TURN}")  # (n_answer,)
    ids = np.concatenate([prompt, answer]).astype("int32")  # (n,)
    weights = np.concatenate([np.zeros(len(prompt)), np.ones(len(answer))]).astype("float32")
    return ids, weights


def pad_batch(encoded, pad_id, multiple, max_length):
    """Pads encoded examples into next-token inputs, targets and weights.

    Args:
        encoded: a list of `(ids, weights)` from `encode_example`.
        pad_id: the id written after each example (its weight is 0).
        multiple: the padded length T is the longest input rounded up to this.
        max_length: the model's context length; no input may be longer.

    Returns:
        A dict of `"inputs"` `(B, T)` int32 (tokens 0..n-2), `"targets"` `(B, T)` int32
        (tokens 1..n-1), `"weights"` `(B, T)` float32 (the targets' weights) and `"real"`
        `(B, T)` float32 (1 where the target is a real token, prompt or answer).

    Example:
    ```python
    batch = pad_batch([encode_example(tokenizer, "Say hi.", "Hi!")], pad_id, 64, 256)
    ```
    """
    longest = max(len(ids) - 1 for ids, _ in encoded)
    if longest > max_length:
        raise ValueError(f"an example has {longest + 1} tokens; the model reads at most "
                         f"{max_length} + 1: shorten it or drop it")
    t = min(max_length, -(-longest // multiple) * multiple)
    b = len(encoded)
    batch = {"inputs": np.full((b, t), pad_id, "int32"),  # (B, T)
             "targets": np.full((b, t), pad_id, "int32"),  # (B, T)
             "weights": np.zeros((b, t), "float32"),  # (B, T)
             "real": np.zeros((b, t), "float32")}  # (B, T)
    for row, (ids, weights) in enumerate(encoded):
        n = len(ids) - 1
        batch["inputs"][row, :n] = ids[:-1]
        batch["targets"][row, :n] = ids[1:]
        batch["weights"][row, :n] = weights[1:]
        batch["real"][row, :n] = 1.0
    return batch


def response_loss():
    """Cross-entropy averaged over the weighted (answer) tokens: Σ w·CE / Σ w.

    Example:
    ```python
    model.compile(optimizer, loss=response_loss())  # the dataset yields (x, y, weights)
    ```
    """
    return keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight")


def answer(model, tokenizer, instruction, max_new_tokens, *, temperature=0.0, top_p=None,
           seed=None, jit_compile=True):
    """A tuned model's answer to one instruction, and whether it stopped by itself.

    Args:
        model: a `course_lib.gpt.GPT` with the chat tokens.
        tokenizer: its tokenizer (`add_chat_tokens`).
        instruction: the user's message.
        max_new_tokens: the most tokens the answer may take.
        temperature: 0 for greedy decoding, else sampling (see `course_lib.generation`).
        top_p: nucleus sampling's p (None: off).
        seed: the sampling seed.
        jit_compile: compile the decoding steps with XLA.

    Returns:
        `(text, stopped)`: the answer up to its first special token, stripped, and True when
        the model emitted `<|eot|>` within `max_new_tokens`.

    Example:
    ```python
    text, stopped = answer(model, tokenizer, "Is 'a dull, lifeless film' positive?", 4)
    ```
    """
    prompt = tokenizer.encode(format_prompt(instruction))
    room = model.config.context_length - max_new_tokens
    if len(prompt) > room:
        raise ValueError(f"the prompt has {len(prompt)} tokens; with {max_new_tokens} for the "
                         f"answer only {room} fit the context: shorten the instruction")
    eot = tokenizer.token_to_id(END_OF_TURN)
    new = generate(model, prompt, max_new_tokens, temperature=temperature, top_p=top_p,
                   seed=seed, stop_token=eot, jit_compile=jit_compile)
    specials = {tokenizer.token_to_id(t) for t in tokenizer.special_tokens}
    kept = []
    for token in new:
        if token in specials:
            break
        kept.append(token)
    return tokenizer.decode(kept).strip(), bool(new) and new[-1] == eot


class SentimentJudge:
    """P(positive) of a text, from TF-IDF features and logistic regression (chapter 08's best).

    Word uni- and bigrams seen in at least two training texts, sublinear term frequency,
    L2-normalised rows, and scikit-learn's `LogisticRegression(C=8)`: chapter 08's baseline.

    Args:
        texts: training texts.
        labels: their labels, 0 (negative) or 1 (positive).

    Example:
    ```python
    judge = SentimentJudge(train_texts, train_labels)
    judge.positive_probability(["a gorgeous, moving film"])  # array([0.9...])
    ```
    """

    def __init__(self, texts, labels):
        from sklearn.linear_model import LogisticRegression

        labels = np.asarray(labels)
        if len(texts) != len(labels) or not set(np.unique(labels)) <= {0, 1}:
            raise ValueError("texts and labels must have the same length, labels 0 or 1")
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        features = self.vectorizer.fit_transform(list(texts))
        self.classifier = LogisticRegression(C=8.0, max_iter=1000).fit(features, labels)

    def positive_probability(self, texts):
        """P(positive) of each text: a float array of `len(texts)`."""
        return self.classifier.predict_proba(self.vectorizer.transform(list(texts)))[:, 1]


def lora_layers(model):
    """The layers of a course GPT that LoRA adapts: every projection, and the token embedding.

    Args:
        model: a `course_lib.gpt.GPT`.

    Returns:
        A list of Keras layers: the token embedding (also the tied output layer), then per block
        the query, key, value and output projections and the two MLP layers.

    Example:
    ```python
    len(lora_layers(model))  # 1 + 6 per block
    ```
    """
    layers = [model.embedding.token_embedding]
    for block in model.blocks:
        attention = block.attention
        layers += [attention.query_dense, attention.key_dense, attention.value_dense,
                   attention.output_dense, block.mlp_in, block.mlp_out]
    return layers


def enable_lora(model, rank, alpha=None):
    """Adds LoRA adapters to `lora_layers(model)` and freezes every other weight.

    Args:
        model: a built `course_lib.gpt.GPT`.
        rank: the adapters' rank r (a positive int).
        alpha: the scale numerator (the update is alpha/r · A·B); None means alpha = r.

    Returns:
        The number of trainable weights left (the adapters').

    Example:
    ```python
    trainable = enable_lora(model, rank=8, alpha=16)
    ```
    """
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be a positive int, got {rank!r}")
    for layer in lora_layers(model):
        layer.enable_lora(rank, lora_alpha=alpha)
    for variable in model.trainable_variables:
        if "lora_" not in variable.path:
            variable.trainable = False
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


def hub_reachable(url: str = "https://api.kaggle.com", timeout: float = 3.0) -> bool:
    """True when the model hub at ``url`` answers within ``timeout`` seconds.

    ``from_preset("gemma3_instruct_270m")`` downloads from Kaggle (the preset's handle is a
    ``kaggle://`` one), through ``kagglehub``, which talks to ``api.kaggle.com``: that is the
    host checked by default. Pass ``"https://huggingface.co"`` for an ``hf://`` preset. Any
    HTTP answer counts, even an error status: the question is whether the host can be
    reached, not whether this request is allowed. Nothing is raised: no network, a failed
    name lookup, a refused connection, a bad URL or a timeout all give ``False``.

    Args:
        url: the address to send a ``HEAD`` request to.
        timeout: the most seconds to wait, name lookup included.

    Returns:
        Whether an answer came back in time.

    Example:
    ```python
    if hub_reachable():
        gemma_lm = load_causal_lm("gemma3_instruct_270m", lora_rank=4)
    ```
    """
    answered = threading.Event()

    def probe():
        try:
            request = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(request, timeout=timeout):
                answered.set()
        except urllib.error.HTTPError:
            answered.set()  # 403 or 405 to a bare HEAD still proves the host is there
        except Exception:  # any failure means "not reachable", never an error
            pass

    # The socket timeout does not cover the DNS lookup, which can hang far longer on a
    # machine without network; a daemon thread bounds the whole check by `timeout`.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return answered.is_set()


def format_instruction(instruction: str, response: str | None = None) -> str:
    """One exchange in Gemma's chat format.

    Gemma's instruction-tuned checkpoints were trained on turns that open with
    ``<start_of_turn>`` and a role (``user`` or ``model``) and close with ``<end_of_turn>``;
    prompting them in that exact form is what makes them answer rather than ramble on.
    Without ``response`` this is a prompt that ends where the model's turn begins, ready for
    ``generate``; with it, a complete exchange to train on. keras-hub's preprocessor adds the
    ``<bos>`` token itself.

    Args:
        instruction: what the user asks.
        response: the answer to train on, or ``None`` for a prompt.

    Returns:
        The formatted text.

    Example:

    >>> print(format_instruction("Name a colour.", "Blue."))
    <start_of_turn>user
    Name a colour.<end_of_turn>
    <start_of_turn>model
    Blue.<end_of_turn>
    <BLANKLINE>
    """
    prompt = f"<start_of_turn>user\n{instruction}<end_of_turn>\n<start_of_turn>model\n"
    if response is None:
        return prompt
    return f"{prompt}{response}<end_of_turn>\n"


def instruction_examples(pairs) -> dict[str, list[str]]:
    """Instruction/response pairs as the ``{"prompts", "responses"}`` input Gemma 3 trains on.

    ``Gemma3CausalLMPreprocessor`` packs each prompt and response into one sequence and weights
    the loss by a mask that is 1 on response tokens only: the model is not trained to predict
    the user's words, exactly the prompt masking this chapter wrote by hand for the course GPT.

    Args:
        pairs: ``(instruction, response)`` string pairs.

    Returns:
        A dict of two equally long lists, to pass to ``CausalLM.fit`` as ``x``.

    Example:

    >>> instruction_examples([("Name a colour.", "Blue.")])["responses"]
    ['Blue.<end_of_turn>\\n']
    """
    prompts, responses = [], []
    for instruction, response in pairs:
        prompt = format_instruction(instruction)
        prompts.append(prompt)
        # The closing <end_of_turn> is in the response, so the model learns to end its turn
        # (generate() stops on it).
        responses.append(format_instruction(instruction, response)[len(prompt):])
    return {"prompts": prompts, "responses": responses}


def load_causal_lm(
    preset: str,
    *,
    lora_rank: int | None = None,
    sequence_length: int = 256,
    learning_rate: float = 5e-5,
    jit_compile="auto",
):
    """A keras-hub Gemma 3 causal LM from a preset, optionally with LoRA, compiled to train.

    The compile settings are those of keras.io's Gemma LoRA example: AdamW with a little
    weight decay (not on biases and norm scales), a cross-entropy on logits, and accuracy as a
    *weighted* metric so that padding and prompt tokens, which carry weight 0, do not count.

    Args:
        preset: a keras-hub preset name (``"gemma3_instruct_270m"``, downloaded from a model
            hub on first use and cached), a ``kaggle://`` or ``hf://`` handle, or a local
            folder written by ``save_to_preset``.
        lora_rank: when set, ``backbone.enable_lora(lora_rank)``: every backbone weight is
            frozen and the attention ``query`` and ``value`` projections get trainable
            rank-``lora_rank`` adapters.
        sequence_length: the length the preprocessor pads or truncates training examples
            to; also the default ``max_length`` of ``generate``.
        learning_rate: AdamW's learning rate.
        jit_compile: passed to ``compile``; ``False`` skips XLA, whose compile time
            outweighs its gain for a tiny model or a few steps on a CPU.

    Returns:
        The compiled ``keras_hub.models.Gemma3CausalLM`` (greedy sampling for ``generate``).

    Example:
    ```python
    gemma_lm = load_causal_lm("gemma3_instruct_270m", lora_rank=4)
    gemma_lm.fit(instruction_examples(pairs), epochs=1, batch_size=1)
    ```
    """
    model = keras_hub.models.Gemma3CausalLM.from_preset(preset)
    if lora_rank is not None:
        model.backbone.enable_lora(rank=lora_rank)
    model.preprocessor.sequence_length = sequence_length
    optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=0.01)
    optimizer.exclude_from_weight_decay(var_names=["bias", "scale"])
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy()],
        sampler="greedy",
        jit_compile=jit_compile,
    )
    return model


def generate_reply(model, instruction: str, *, max_length: int = 64) -> str:
    """The model's answer to one instruction, prompted in Gemma's chat format.

    Args:
        model: a keras-hub causal LM with its preprocessor.
        instruction: what the user asks.
        max_length: the most tokens of prompt plus answer.

    Returns:
        The generated text after the prompt (``generate`` stops at ``<end_of_turn>``).

    Example:
    ```python
    print(generate_reply(gemma_lm, "Explain what a token is in one sentence."))
    ```
    """
    return model.generate(
        format_instruction(instruction), max_length=max_length, strip_prompt=True
    )


def parameter_counts(model) -> tuple[int, int]:
    """The numbers of trainable and of all parameters of a Keras model.

    Args:
        model: a built Keras model.

    Returns:
        ``(trainable, total)``.

    Example:

    >>> parameter_counts(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
    (8, 8)
    """
    # From the shapes: reading 268 million values back just to count them would be slow.
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return trainable, trainable + sum(math.prod(w.shape) for w in model.non_trainable_weights)


def build_tiny_gemma_preset(
    folder,
    *,
    sentences=None,
    vocabulary_size: int = 320,
    num_layers: int = 2,
    hidden_dim: int = 32,
    sequence_length: int = 64,
    seed: int = 0,
):
    """Writes a tiny, randomly initialised Gemma 3 causal LM as a keras-hub preset folder.

    Same architecture, tokenizer class and file layout as ``gemma3_instruct_270m``, with
    about 30,000 parameters instead of 268 million: it lets ``from_preset``, LoRA, training
    and ``generate`` run without a download. The tokenizer is a SentencePiece model trained
    on ``sentences``, with the pieces Gemma's tokenizer requires (``<pad>``, ``<eos>``,
    ``<bos>``, ``<unk>``) and the chat-turn markers as single tokens, so ``<end_of_turn>``
    can stop ``generate``.
    Byte fallback encodes any character not seen in training, and no normalisation means
    that detokenizing gives back exactly the text that was tokenized.

    Args:
        folder: where to write the preset (created if needed).
        sentences: text to train the tokenizer on; defaults to a few chat-format exchanges.
        vocabulary_size: the SentencePiece vocabulary size (at least 300: 256 byte pieces,
            the special tokens and some merges).
        num_layers: the number of decoder blocks.
        hidden_dim: the model width.
        sequence_length: the preprocessor's sequence length.
        seed: seeds the backbone's random initialisation.

    Returns:
        The folder, as a ``Path``, ready for ``Gemma3CausalLM.from_preset(folder)``.

    Example:
    ```python
    folder = build_tiny_gemma_preset("tiny_gemma")
    tiny_lm = load_causal_lm(str(folder), lora_rank=2)
    ```
    """
    import sentencepiece as spm

    if sentences is None:
        sentences = [
            format_instruction("Name a colour.", "Blue."),
            format_instruction("What does a tokenizer do?", "It splits text into tokens."),
            format_instruction("Say hello.", "Hello! How can I help you today?"),
            "Instruction tuning teaches a pretrained model to follow requests.",
        ]
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=proto,
        vocab_size=vocabulary_size,
        model_type="bpe",
        pad_id=0,
        eos_id=1,
        bos_id=2,
        unk_id=3,
        pad_piece="<pad>",
        eos_piece="<eos>",
        bos_piece="<bos>",
        unk_piece="<unk>",
        user_defined_symbols=["<start_of_turn>", "<end_of_turn>", "\n"],
        byte_fallback=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=False,
        hard_vocab_limit=False,  # a few sentences may not yield vocabulary_size pieces
        minloglevel=2,
    )
    tokenizer = keras_hub.models.Gemma3Tokenizer(
        proto=proto.getvalue(), has_vision_tokens=False
    )
    preprocessor = keras_hub.models.Gemma3CausalLMPreprocessor(
        tokenizer=tokenizer, sequence_length=sequence_length
    )
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.Gemma3Backbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        image_size=16,  # unused: no vision encoder, text only
        num_layers=num_layers,
        num_query_heads=2,
        num_key_value_heads=1,
        hidden_dim=hidden_dim,
        intermediate_dim=2 * hidden_dim,
        head_dim=hidden_dim // 2,
        vision_encoder=None,
        dtype="float32",
    )
    model = keras_hub.models.Gemma3CausalLM(preprocessor=preprocessor, backbone=backbone)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_to_preset(str(folder))
    return folder
