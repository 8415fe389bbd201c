# %% [markdown]
# # 15 · Instruction tuning: from a base model to an assistant
#
# *Mirrors §3.2 of the source document (初始化模型参数: "initialise the model's parameters
# with random values or with the parameters of a pretrained model": here, the pretrained
# ones), §6 (对话系统, "dialogue systems") and §8's call for models that are easier to
# control. It goes one step past the document, to the stage every assistant model goes
# through after pretraining.*
#
# The course foundation model (chapter 06's part 6) is a **base model**: it continues text.
# Ask it "Is this review positive or negative?" and it may write another question, a second
# review, or a line of Shakespeare. An assistant answers instead, and stops when it is done.
# The step between the two is **instruction tuning**, also called supervised fine-tuning
# (SFT): the same next-token training, on examples of instructions followed by good answers.
# This chapter does it to the foundation model, in the open:
#
# 1. gives the model a **chat template** with three new special tokens (user, assistant, end of
#    turn), by growing its embedding table without changing what it already computes;
# 2. builds an **instruction mix** from the course's own datasets in the style of FLAN
#    (Wei et al., 2022): classify a review, answer from a passage, summarise a dialogue, write
#    a review, answer a chat turn, each phrased several ways, with held-out examples **and** a
#    held-out phrasing per task;
# 3. trains on the **answer tokens only** (the prompt's tokens are masked out of the loss) and
#    shows what that does to the loss on prompts and on answers;
# 4. measures every task before and after, with its own metric (accuracy, SQuAD F1, ROUGE-L,
#    a sentiment judge) and **format adherence** (does the answer stop at the end-of-turn
#    token?), against the base model prompted with worked examples (few-shot);
# 5. trains the same model with **LoRA** adapters (Keras's own `enable_lora`) and compares it
#    with full fine-tuning: trainable weights, optimizer memory, time per step, scores;
# 6. shows the same recipe on a real model with keras-hub (Gemma), which runs when a model hub
#    is reachable.
#
# Chapter 16 starts from the model tuned here and teaches it a preference.
#
# **Before you run it:** time: smoke ~2 min · cpu ~16 min (2 cores) · gpu ~6 min (estimated); memory: peak ~3.8 GB at cpu; data: rt-polarity, squad-v1.1, dialogsum and topical-chat (downloaded once, verified by SHA-256) and the course foundation model (loaded from the course's files, checked against its recorded SHA-256, never retrained here).

# %%
# NBVAL_IGNORE_OUTPUT
import hashlib
import json
import tempfile
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from course_lib import data
from course_lib.chapters.ch11_question_answering import f1_score, metric_max_over_ground_truths
from course_lib.exercises import ch15 as ex
from course_lib.memory import estimate_training_memory, format_bytes
from course_lib.metrics import bootstrap_ci, rouge_l
from course_lib.pretraining import chat_validation_indices, load_foundation, squad_test_titles
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything
from course_lib.tooling.results import record_key_figures

SEED = seed_everything(15)
profile = active_profile()
REPO = Path.cwd().resolve().parent if Path.cwd().name == "notebooks" else Path.cwd().resolve()
print(f"seed {SEED}, profile {profile} ({profile.source}), Keras {keras.__version__}")

# %% [markdown]
# All sizes live in this cell, with the reason for each. The `smoke` profile (the test suite)
# shrinks everything so the notebook runs in about a minute; its numbers mean nothing. The
# stored outputs come from the `cpu` profile.

# %%
# Examples per task for training. 1,000 keeps the five tasks balanced (the summary task has
# only about 230 dialogues short enough to fit the model's 256-token window, so it stays
# smaller).
TRAIN_PER_TASK = profile.pick(smoke=24, cpu=1000, gpu=None)
# Held-out examples per task, half with a phrasing seen in training and half with the
# held-out phrasing. Each costs one generation per model (three models are compared).
TEST_PER_TASK = profile.pick(smoke=4, cpu=50, gpu=200)
# Validation examples per task (from the held-out splits, never tested on): the losses we
# watch during training, and what any choice of settings may look at.
VAL_PER_TASK = profile.pick(smoke=2, cpu=16, gpu=32)
BATCH = profile.pick(smoke=4, cpu=16, gpu=32)
# The step budget, the same for full fine-tuning and LoRA: at cpu, 16 examples a step for 300
# steps is ~4,800 examples, about one pass over the mix.
STEPS = profile.pick(smoke=4, cpu=300, gpu=1200)
WARMUP_STEPS = profile.pick(smoke=1, cpu=30, gpu=120)  # a tenth of the steps
# Full fine-tuning moves every weight, so it takes a rate below pretraining's 6e-4 (1e-3
# forgot more and learned less on the validation examples). LoRA moves few, small adapters
# that start at zero, and the usual practice is a rate several times larger than full
# fine-tuning's; neither rate was tuned on the test examples.
FULL_LR = 3e-4
LORA_LR = 2e-3
LORA_RANK = 8  # adapter rank r: each adapted matrix W gets W + (alpha/r)·A·B with A, B thin
LORA_ALPHA = 16  # the adapters' scale alpha/r = 2
PAD_TO = 32  # batches are padded to a multiple of this length: 8 shapes, 8 compilations
JIT = profile.pick(smoke=False, cpu=True, gpu=True)  # XLA: compile once per shape
N_RESAMPLES = profile.pick(smoke=100, cpu=2000, gpu=2000)  # bootstrap resamples

# %% [markdown]
# ## 1. The base model, and a chat template
#
# We load the foundation model exactly as chapter 06 saved it. Its tokenizer knows one special
# token, `<|endoftext|>`, which separates documents.

# %%
foundation, base_tokenizer, foundation_run = load_foundation()
fcfg = foundation.config
print(f"foundation model: {foundation.count_params():,} parameters, {fcfg.num_layers} layers, "
      f"width {fcfg.width}, context {fcfg.context_length} tokens, vocabulary "
      f"{base_tokenizer.vocab_size:,}; special tokens {base_tokenizer.special_tokens}")

# %% [markdown]
# A **chat template** is the exact text a conversation is written as. Ours is chapter 09's, so
# chapter 09's `chat()` and the chat window of chapter 16 work unchanged on the tuned model:
#
# ```
# <|endoftext|><|A|> {instruction}<|eot|><|B|> {answer}<|eot|>
# ```
#
# `<|A|>` opens the user's turn, `<|B|>` the assistant's, and `<|eot|>` ends a turn. They are
# **special tokens**: the tokenizer never splits them into pieces, so each is one id the
# model learns to read as "whose turn it is". At
# answer time we feed everything up to and including `<|B|>`, and the model writes until it
# emits `<|eot|>`.
#
# One caution. Our `format_prompt` builds the template as a *string* and the tokenizer turns
# `<|B|>` into the special token wherever it appears, so a user who types `<|eot|><|B|>` in a
# message can fake a turn (a "prompt injection"). Production chat systems encode the user's
# text with special-token parsing switched off and add the special ids themselves.
#
# The foundation model's vocabulary does not have these tokens, so we **grow** it: three new
# ids (4,096 to 4,098) in the tokenizer, three new rows in the embedding table. Because the
# output layer is tied to the embedding table, the new rows also give the model three new
# output scores.
#
# ```
#   embedding table E (V × C)          after resizing (V + 3) × C
#   ┌──────────────────────┐           ┌──────────────────────┐
#   │ 4,096 learned rows   │   copy →  │ 4,096 learned rows   │
#   └──────────────────────┘           ├──────────────────────┤
#                                      │ <|A|> <|B|> <|eot|>  │ ← mean row + small noise
#                                      └──────────────────────┘
# ```
#
# The new rows start at the average of the learned rows plus a little noise (so the three
# differ): a new token then looks like "an average token" to the first layer and gets an
# average score at the output, instead of a random vector that could dominate either. Every
# other weight is copied, so on text without the new tokens the resized model computes
# **exactly** what the base model did: the check below compares the two.

# %% [export] fold
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

# %% [markdown]
# Now we use them, and check that growing the table changed nothing the base model computes:
# on ordinary text, the resized model's scores for the 4,096 old tokens must equal the base
# model's.

# %%
tokenizer = add_chat_tokens(base_tokenizer)
base = resize_token_embeddings(foundation, tokenizer.vocab_size, seed=SEED)
print(f"vocabulary {base_tokenizer.vocab_size:,} -> {tokenizer.vocab_size:,}; new ids "
      f"{[tokenizer.token_to_id(t) for t in CHAT_TOKENS]} for {list(CHAT_TOKENS)}")
probe = base_tokenizer.encode("The critics loved the film, and so did the audience.")[None]  # (1, T)
old_logits = keras.ops.convert_to_numpy(foundation(probe))  # (1, T, V)
new_logits = keras.ops.convert_to_numpy(base(probe))  # (1, T, V + 3)
print(f"old tokens' scores, base vs resized: largest difference "
      f"{np.abs(new_logits[..., : fcfg.vocab_size] - old_logits).max():.1e}")
print(f"the new tokens' scores sit among the old ones: mean {new_logits[..., fcfg.vocab_size:].mean():+.2f} "
      f"vs {old_logits.mean():+.2f} over all tokens")
example = format_example("Is this review positive or negative? A gorgeous, moving film.",
                         "positive")
print("\none training example in the template:\n ", example)
print("its tokens:", [tokenizer.id_to_token(int(i)) for i in tokenizer.encode(example)][:12], "...")
print("and back:", parse_example(example))

# %% [markdown]
# ## 2. The instruction mix
#
# FLAN's idea (Wei et al., 2022) is to turn many existing labelled datasets into instructions,
# each task written in several phrasings, so that the model learns to follow *instructions*
# rather than one fixed format. We do the same with the datasets the course already uses.
# Every test example comes from data the foundation model never trained on (the same held-out
# splits as chapters 08, 09 and 11), and each task keeps **one phrasing out of training**, so
# we can see whether the model learned the task or only the wording.
#
# | task | source | the answer | metric |
# |---|---|---|---|
# | sentiment | rt-polarity (chapter 08's split) | `positive` or `negative` | accuracy |
# | passage QA | SQuAD v1.1 (chapter 11's split), the sentence holding the answer | a span | SQuAD F1 |
# | summary | DialogSum (dev for training, test for testing) | one sentence | ROUGE-L F |
# | write a review | rt-polarity (chapter 08's split) | a review of the asked sentiment | judge agrees |
# | chat | Topical-Chat (chapter 09's split) | the next turn | word F1 |
#
# The chat task has no phrasings: the instruction is the other person's message. The
# "write a review" task is scored by a **judge**: chapter 08's TF-IDF + logistic-regression
# classifier (its strongest model, 78% test accuracy), retrained here on the same split; a
# review counts if the judge gives the asked sentiment more than half its probability.

# %% [export]
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

# %% [markdown]
# The next cell turns the datasets into examples. It is plumbing (folded; open it to read it):
# it applies the held-out splits, picks a phrasing for every example, keeps only examples
# that fit the model's 256-token window with room for the answer, and for passage QA keeps the
# sentence that holds the answer (a SQuAD paragraph alone fills the window).

# %% fold
LABELS = ("negative", "positive")
CONTEXT = fcfg.context_length
rng = np.random.default_rng(SEED)


def fits(instruction, response, task):
    prompt = len(tokenizer.encode(format_prompt(instruction)))
    return (prompt + MAX_NEW_TOKENS[task] <= CONTEXT
            and prompt + len(tokenizer.encode(f" {response}{END_OF_TURN}")) <= CONTEXT + 1)


def phrase(task, i, test, **fields):
    """Phrasing of example i: a training phrasing, or (every other test example) the held-out one."""
    options = PHRASINGS[task]
    held = test and len(options) > 1 and i % 2 == 1
    k = len(options) - 1 if held else int(rng.integers(max(1, len(options) - 1)))
    return options[k].format(**fields), held


def sentence_with_answer(context, start, text):
    """The sentence(s) of `context` that hold the answer starting at character `start`."""
    cuts = [0] + [m.end() for m in re.finditer(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", context)]
    first = max(i for i, c in enumerate(cuts) if c <= start)
    last = max(i for i, c in enumerate(cuts) if c < start + len(text))
    end = cuts[last + 1] if last + 1 < len(cuts) else len(context)
    return context[cuts[first]:end].strip()


def build(task, items, test, limit):
    out = []
    for item in items:
        if limit is not None and len(out) == limit:
            break
        instruction, held = phrase(task, len(out), test, **item["fields"])
        if fits(instruction, item["response"], task):
            out.append({"task": task, "instruction": instruction, "response": item["response"],
                        "references": item.get("references", [item["response"]]),
                        "label": item.get("label"), "held_out_phrasing": held})
    return out


# rt-polarity: chapter 08's split (stratified 80/20, random_state 1337).
from sklearn.model_selection import train_test_split  # noqa: E402

rt_texts, rt_labels = data.load_rt_polarity()
rt_train, rt_test = train_test_split(np.arange(len(rt_texts)), test_size=0.2,
                                     stratify=rt_labels, random_state=1337)
sentiment = {
    split: [{"fields": {"text": rt_texts[i]}, "response": LABELS[rt_labels[i]],
             "label": LABELS[rt_labels[i]]} for i in rng.permutation(idx)]
    for split, idx in (("train", rt_train), ("test", rt_test))}
reviews = {
    split: [{"fields": {"label": LABELS[rt_labels[i]], "adjective": ADJECTIVE[LABELS[rt_labels[i]]]},
             "response": rt_texts[i], "label": LABELS[rt_labels[i]]} for i in rng.permutation(idx)]
    for split, idx in (("train", rt_train), ("test", rt_test))}

# SQuAD: chapter 11's article split; the sentence holding the first answer is the passage.
squad = data.load_squad_dev()
held_titles = squad_test_titles([q["title"] for q in squad])
passages = {"train": [], "test": []}
for j in rng.permutation(len(squad)):
    q = squad[j]
    passage = sentence_with_answer(q["context"], q["answer_starts"][0], q["answers"][0])
    if q["answers"][0] not in passage or len(passage) < 40:
        continue
    passages["test" if q["title"] in held_titles else "train"].append(
        {"fields": {"context": passage, "question": q["question"]},
         "response": q["answers"][0], "references": q["answers"]})

# DialogSum: the dev file trained the foundation model, the test file it never saw.
summaries = {
    "train": [{"fields": {"dialogue": d["dialogue"]}, "response": d["summary"]}
              for d in data.load_dialogsum("dev")],
    "test": [{"fields": {"dialogue": d["dialogue"]}, "response": d["summary1"],
              "references": [d["summary1"], d["summary2"], d["summary3"]]}
             for d in data.load_dialogsum("test")]}

# Topical-Chat: consecutive turns (message -> reply); chapter 09's split of valid_freq for
# training, test_freq (never seen by the foundation model) for testing.
valid = data.load_topical_chat("valid")
held_chats = chat_validation_indices(len(valid))


def turn_pairs(conversations):
    pairs = [(a[1], b[1]) for c in conversations for a, b in zip(c, c[1:], strict=False)
             if a[0] != b[0]]
    return [{"fields": {"message": m}, "response": r} for m, r in pairs]


chats = {"train": turn_pairs([c for i, c in enumerate(valid) if i not in held_chats]),
         "test": turn_pairs(data.load_topical_chat("test"))}
chats = {k: [v[i] for i in rng.permutation(len(v))] for k, v in chats.items()}

sources = {"sentiment": sentiment, "passage QA": passages, "summary": summaries,
           "write a review": reviews, "chat": chats}
train_examples, test_examples, val_examples = [], {}, {}
for task, split in sources.items():
    train_examples += build(task, split["train"], test=False, limit=TRAIN_PER_TASK)
    held_out = build(task, split["test"], test=True, limit=TEST_PER_TASK + VAL_PER_TASK)
    test_examples[task] = held_out[:TEST_PER_TASK]
    val_examples[task] = held_out[TEST_PER_TASK:]
train_counts = {t: sum(e["task"] == t for e in train_examples) for t in PHRASINGS}
display(Markdown("| task | training examples | test examples | a training instruction |\n"
                 "|---|--:|--:|---|\n" + "\n".join(
                     f"| {t} | {train_counts[t]:,} | {len(test_examples[t])} | "
                     f"{next(e for e in train_examples if e['task'] == t)['instruction'][:70]!s}… |"
                     .replace("\n", " ") for t in PHRASINGS)))

# %% [markdown]
# ## 3. Training on the answer only
#
# Training is still next-token prediction, with one change: the loss counts only the tokens
# the assistant should write. The prompt is there to be read, not learned; if its tokens
# counted, much of the training signal would go to predicting dialogues and reviews (which
# the base model already does) instead of answers, and short answers ("positive") would be a
# tiny fraction of the loss. Each token gets a weight: 0 on the prompt, 1 on the answer and
# its closing `<|eot|>` (so the model learns to stop). The loss is the weighted mean
#
# $$\mathcal{L} = \frac{\sum_{t} w_t \cdot \big(-\log p_\theta(x_{t+1} \mid x_{\le t})\big)}{\sum_t w_t}$$
#
# which Keras computes when a loss has `reduction="mean_with_sample_weight"` and the weights
# come as sample weights.
#
# **Padding.** Examples differ in length (from a dozen tokens to the full 256), and a batch
# is a rectangle. We pad each batch at the end with `<|endoftext|>` to a multiple of 32
# tokens, with weight 0. The GPT's attention is causal, so padding at the end never changes
# what earlier positions compute; no attention mask is needed. Padding to a multiple of 32
# (rather than to each batch's exact length) gives at most eight shapes, so XLA compiles
# eight programs instead of dozens. Padding costs compute: a batch that mixes a 20-token
# review request with a 250-token dialogue is mostly padding. So we **group by length**: each
# batch is drawn from examples of similar length (measured below). The alternative,
# **packing** several examples into one full window, wastes nothing but lets an example
# attend to the one before it unless the attention mask is made block-diagonal.

# %% [export]
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

# %% [markdown]
# Two checks that can fail. First, Keras's weighted loss equals the formula above computed by
# hand in NumPy. Second, the masking is real: rewrite the targets at every prompt position
# and the loss and every gradient must stay **exactly** the same, because those positions
# contribute nothing.

# %%
pad_id = tokenizer.token_to_id(END_OF_TEXT)
encoded = [encode_example(tokenizer, e["instruction"], e["response"]) for e in train_examples]
demo = pad_batch([encoded[i] for i in range(0, len(encoded), max(1, len(encoded) // 4))][:4],
                 pad_id, PAD_TO, CONTEXT)
logits = base(demo["inputs"])  # (B, T, V)
log_p = keras.ops.convert_to_numpy(keras.ops.log_softmax(logits, axis=-1))  # (B, T, V)
ce = -np.take_along_axis(log_p, demo["targets"][..., None], axis=-1)[..., 0]  # (B, T)
by_hand = (demo["weights"] * ce).sum() / demo["weights"].sum()
keras_loss = float(response_loss()(demo["targets"], logits, sample_weight=demo["weights"]))
print(f"answer-token loss: Keras {keras_loss:.6f}, by hand {by_hand:.6f}")
prompt_w = demo["real"] - demo["weights"]
print(f"for comparison, the base model's loss on the prompt tokens {(prompt_w * ce).sum() / prompt_w.sum():.3f} "
      f"and on all real tokens {(demo['real'] * ce).sum() / demo['real'].sum():.3f} (nats)")


def loss_and_grads(targets):
    import tensorflow as tf  # the gradient tape; the training below goes through Keras's fit

    with tf.GradientTape() as tape:
        loss = response_loss()(targets, base(demo["inputs"]), sample_weight=demo["weights"])
    return float(loss), tape.gradient(loss, base.trainable_variables)


loss_a, grads_a = loss_and_grads(demo["targets"])
scrambled = np.where(demo["weights"] > 0, demo["targets"],
                     rng.integers(0, tokenizer.vocab_size, demo["targets"].shape)).astype("int32")
loss_b, grads_b = loss_and_grads(scrambled)
same = all(np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
           for a, b in zip(grads_a, grads_b, strict=True))
print(f"prompt targets scrambled: loss {loss_a:.6f} -> {loss_b:.6f}; every gradient identical: {same}")
tokens = sum(len(ids) - 1 for ids, _ in encoded)
answer_tokens = sum(float(w[1:].sum()) for _, w in encoded)
print(f"the training mix: {tokens:,} target tokens, {answer_tokens / tokens:.0%} of them in answers")

# %% [markdown]
# ## 4. How we score, and the baseline: the base model prompted with examples
#
# Each model answers every test instruction once. Answers are **greedy** (the most likely
# token each step) except for "write a review", where greedy decoding would write the same
# review for every request with the same wording: there we sample (temperature 0.8, top-p
# 0.9) with a seed per example, the same seeds for every model.
#
# The fair baseline for a base model is **few-shot prompting** (Brown et al., 2020): show it
# up to three solved examples of the task in plain text, then the new instruction, and read
# its continuation up to the first line break:
#
# ```
# Is this movie review positive or negative?      ← a solved example
# a gorgeous, moving film.
# Answer: positive
#
# Review: the plot is a mess.                     ← the test instruction
# Is the review positive or negative?
# Answer:                                         ← the base model continues here
# ```
#
# Long instructions leave room for fewer examples: a dialogue to summarise leaves room for
# none, so for that task (and mostly for passage QA) the base model is prompted **zero-shot**;
# the cell below prints how many examples each task got. **Format adherence** asks whether a
# non-empty answer ends where it should, within the task's token budget: for the tuned models
# by emitting `<|eot|>`, for the base model by ending its line (its examples end each answer
# with a line break). An empty answer never counts.

# %% [export]
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

# %% [markdown]
# The judge, trained on chapter 08's training split and tested on its test split (the same
# texts the review requests' labels come from, never the reviews the models write):

# %%
judge = SentimentJudge([rt_texts[i] for i in rt_train], rt_labels[rt_train])
judge_accuracy = float(np.mean((judge.positive_probability([rt_texts[i] for i in rt_test]) > 0.5)
                               == rt_labels[rt_test]))
print(f"judge: test accuracy {judge_accuracy:.3f} on {len(rt_test):,} reviews; "
      f"'a gorgeous, moving film' -> P(positive) {judge.positive_probability(['a gorgeous, moving film'])[0]:.2f}")


def score(task, example, output):
    """The task's metric for one answer, in percent."""
    if task == "sentiment":
        words = re.findall(r"[a-z]+", output.lower())
        return 100.0 * (words[:1] == [example["label"]])
    if task == "passage QA":
        return 100.0 * metric_max_over_ground_truths(f1_score, output, example["references"])
    if task == "summary":
        return 100.0 * max(rouge_l(output, r).fmeasure for r in example["references"])
    if task == "write a review":
        positive = judge.positive_probability([output])[0] > 0.5
        return 100.0 * (positive == (example["label"] == "positive")) if output else 0.0
    return 100.0 * f1_score(output, example["response"])  # chat: word F1


METRIC = {"sentiment": "accuracy", "passage QA": "F1", "summary": "ROUGE-L",
          "write a review": "judge agrees", "chat": "word F1"}
SAMPLED = {"write a review"}


def evaluate(respond):
    """Every test example answered by `respond(task, example, index)` -> (text, stopped)."""
    rows = []
    for task, examples in test_examples.items():
        for i, e in enumerate(examples):
            text, stopped = respond(task, e, i)
            rows.append({"task": task, "output": text, "stopped": stopped and bool(text),
                         "score": score(task, e, text), "held_out_phrasing": e["held_out_phrasing"]})
    return rows


def tuned_responder(model):
    def respond(task, e, i):
        sampled = task in SAMPLED
        return answer(model, tokenizer, e["instruction"], MAX_NEW_TOKENS[task],
                      temperature=0.8 if sampled else 0.0, top_p=0.9 if sampled else None,
                      seed=SEED + i, jit_compile=JIT)
    return respond

# %% [markdown]
# The baseline's plumbing: it picks the solved examples (from the training set, same task) and
# reads the answer off the continuation.

# %% fold
SHOTS = 3


def few_shot_prompt(task, e, i):
    pool = [x for x in train_examples if x["task"] == task]
    shots = [pool[j] for j in np.random.default_rng(SEED + i).choice(len(pool), SHOTS, replace=False)]
    query = f"{e['instruction']}\nAnswer:"
    room = CONTEXT - MAX_NEW_TOKENS[task]
    while True:
        text = "".join(f"{s['instruction']}\nAnswer: {s['response']}\n\n" for s in shots) + query
        ids = base_tokenizer.encode(text)
        if len(ids) <= room or not shots:
            return ids[-room:], len(shots)
        shots = shots[1:]


shots_used = {}


def base_responder(task, e, i):
    ids, shots_used[(task, i)] = few_shot_prompt(task, e, i)
    sampled = task in SAMPLED
    new = generate(foundation, ids, MAX_NEW_TOKENS[task], temperature=0.8 if sampled else 0.0,
                   top_p=0.9 if sampled else None, seed=SEED + i, jit_compile=JIT)
    text = base_tokenizer.decode(new)
    stopped = "\n" in text
    return text.split("\n")[0].replace(END_OF_TEXT, "").strip(), stopped

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
results = {"base model, few-shot": evaluate(base_responder)}
print(f"base model answered {len(results['base model, few-shot'])} test instructions in "
      f"{time.perf_counter() - start:.0f} s; solved examples shown per task: " + ", ".join(
          f"{t} {np.mean([v for (k, _), v in shots_used.items() if k == t]):.1f}" for t in PHRASINGS))

# %% [markdown]
# ## 5. Supervised fine-tuning
#
# The same training loop as pretraining, on the instruction mix: AdamW, a short warm-up then a
# cosine decay, gradient clipping, weight decay on the weight matrices only. Both runs below
# (full fine-tuning here, LoRA in section 6) see the **same batches in the same order** for
# the same number of steps. At the end of every tenth of the run we measure, on the
# validation examples with their reference answers, the loss on the **answer** tokens (what
# we train) and the loss on the **prompt** tokens (what we masked out). Keras's `fit` calls
# each tenth an "epoch" here; it is not a pass over the data.

# %%
import tensorflow as tf  # noqa: E402  (tf.data feeds Keras's fit)

from course_lib.gpt import no_decay_variables  # noqa: E402

CHUNK = max(1, STEPS // 10)  # steps between two measurements
order = np.concatenate([rng.permutation(len(encoded))
                        for _ in range(-(-STEPS * BATCH // len(encoded)))])[: STEPS * BATCH]
# Length-grouped batches: the shuffled examples are taken 32 batches at a time, sorted by
# length and cut into batches, so a batch holds examples of similar length and little padding;
# then the batches are shuffled, so that the lengths do not come in order.
groups = []
for g in range(0, len(order), 32 * BATCH):
    chunk = sorted(order[g:g + 32 * BATCH], key=lambda j: len(encoded[j][0]))
    groups += [chunk[i:i + BATCH] for i in range(0, len(chunk), BATCH)]
batches = [pad_batch([encoded[j] for j in groups[k]], pad_id, PAD_TO, CONTEXT)
           for k in rng.permutation(len(groups))]
cells = sum(b["real"].size for b in batches)
print(f"{STEPS} steps of {BATCH} examples ({STEPS * BATCH / len(encoded):.2f} passes over the mix); "
      f"padded lengths {sorted({b['inputs'].shape[1] for b in batches})}; "
      f"{1 - sum(b['real'].sum() for b in batches) / cells:.0%} of the positions are padding")
val_encoded = [encode_example(tokenizer, e["instruction"], e["response"])
               for examples in val_examples.values() for e in examples]
val_batches = [pad_batch(val_encoded[i:i + BATCH], pad_id, PAD_TO, CONTEXT)
               for i in range(0, len(val_encoded), BATCH)]


def split_losses(model):
    """Mean cross-entropy (nats) on the held-out answer tokens and on their prompt tokens."""
    sums = np.zeros(4)
    for b in val_batches:
        log_p = keras.ops.log_softmax(model(b["inputs"]), axis=-1)  # (B, T, V)
        ce = -np.take_along_axis(keras.ops.convert_to_numpy(log_p), b["targets"][..., None],
                                 axis=-1)[..., 0]  # (B, T)
        prompt = b["real"] - b["weights"]  # (B, T)
        sums += [(b["weights"] * ce).sum(), b["weights"].sum(), (prompt * ce).sum(), prompt.sum()]
    return sums[0] / sums[1], sums[2] / sums[3]


class Probe(keras.callbacks.Callback):
    """Held-out losses after every stretch of steps, and the time of every step."""

    def __init__(self):
        super().__init__()
        self.losses, self.step_seconds = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step_seconds.append(time.perf_counter() - self._start)

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(split_losses(self.model))


def train(model, peak_lr):
    """STEPS steps on `batches`; returns the probe (held-out losses, step times) and seconds."""
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=STEPS - WARMUP_STEPS, alpha=0.1, warmup_target=peak_lr,
        warmup_steps=WARMUP_STEPS)
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=0.01, clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_list=no_decay_variables(model))
    model.compile(optimizer, loss=response_loss(), jit_compile=JIT)
    spec = tf.TensorSpec((None, None), tf.int32)
    dataset = tf.data.Dataset.from_generator(
        lambda: ((b["inputs"], b["targets"], b["weights"]) for b in batches),
        output_signature=(spec, spec, tf.TensorSpec((None, None), tf.float32))).prefetch(2)
    probe = Probe()
    probe.losses.append(split_losses(model))  # step 0
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=CHUNK, epochs=STEPS // CHUNK, verbose=0,
              callbacks=[probe])
    return probe, time.perf_counter() - start

# %%
# NBVAL_IGNORE_OUTPUT
keras.utils.set_random_seed(SEED)
sft = resize_token_embeddings(foundation, tokenizer.vocab_size, seed=SEED)  # a fresh copy
probes, seconds = {}, {}
probes["full fine-tuning"], seconds["full fine-tuning"] = train(sft, FULL_LR)
first, last = probes["full fine-tuning"].losses[0], probes["full fine-tuning"].losses[-1]
print(f"full fine-tuning: {STEPS} steps in {seconds['full fine-tuning']:.0f} s; held-out answer "
      f"loss {first[0]:.2f} -> {last[0]:.2f} nats, prompt loss {first[1]:.2f} -> {last[1]:.2f}")

# %% [markdown]
# ## 6. LoRA: training a few small matrices instead of all of them
#
# Full fine-tuning updates all 5.9 million weights and keeps two AdamW moments for each. LoRA
# (Hu et al., 2021) freezes them and learns a **low-rank correction** next to each big matrix:
#
# $$W x \;\to\; W x + \frac{\alpha}{r} B A x, \qquad A \in \mathbb{R}^{r \times d_\text{in}},\; B \in \mathbb{R}^{d_\text{out} \times r}$$
#
# With r = 8, a 256 × 1,024 matrix (262,144 weights) gets 8 × (256 + 1,024) = 10,240
# trainable ones. B starts at zero, so the adapted model starts exactly where the base model
# is; only A and B train. After training, BA can be added into W, so the tuned model is as
# fast as the original; and one base model can serve many tasks, each a few-megabyte
# adapter. (We do not merge them here, so our LoRA model pays for the extra products at
# answer time: it answers more slowly than the fully tuned one below.)
#
# Keras has LoRA built in: `layer.enable_lora(rank)` on a `Dense`, `EinsumDense` or
# `Embedding` freezes its kernel and adds the two thin matrices (Keras calls them
# `lora_kernel_a` and `lora_kernel_b`, or `lora_embeddings_a` and `lora_embeddings_b` in an
# `Embedding`; keras-hub's `backbone.enable_lora(rank)` calls it on
# the attention layers of a pretrained model). We adapt every projection of every block
# (query, key, value, attention output, both MLP layers) and the token embedding, which is
# also the output layer here and holds the three new chat tokens; everything else (the
# LayerNorms, the biases, the position table) is frozen.
#
# One detail of Keras's version: an `EinsumDense` kernel is adapted along its last axis. Our
# query, key and value kernels have the shape (C, H, D) = (256, 4, 64), so each gets A of
# shape (256, 4, 8) and B of (8, 64): every head has its own A and they share B, a little
# more than rank 8 over the whole 256 × 256 matrix. The cell prints each adapted layer's
# shapes for the first block.

# %% [export]
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

# %% [markdown]
# Before training, two checks: the adapted model computes exactly what the model without
# adapters does (B = 0), and the trainable weights are the adapters and nothing else.

# %%
# NBVAL_IGNORE_OUTPUT
keras.utils.set_random_seed(SEED)
lora = resize_token_embeddings(foundation, tokenizer.vocab_size, seed=SEED)
frozen_before = {v.path: keras.ops.convert_to_numpy(v).copy() for v in lora.weights}
total = lora.count_params()
trainable = enable_lora(lora, LORA_RANK, LORA_ALPHA)
print(f"LoRA rank {LORA_RANK}: {trainable:,} trainable adapter weights beside the model's "
      f"{total:,} frozen ones ({trainable / total:.1%})")
for layer in lora_layers(lora)[:7]:
    shapes = [tuple(v.shape) for v in layer.trainable_weights]
    print(f"  {layer.path:<32} kernel {tuple(layer.non_trainable_weights[0].shape)!s:<14} "
          f"adapters {shapes}")
print("trainable variables are all adapters:",
      all("lora_" in v.path for v in lora.trainable_variables), f"({len(lora.trainable_variables)} of them)")
print(f"adapted vs plain model on a batch, largest difference: "
      f"{np.abs(keras.ops.convert_to_numpy(lora(demo['inputs'])) - keras.ops.convert_to_numpy(base(demo['inputs']))).max():.1e}")

# %%
# NBVAL_IGNORE_OUTPUT
probes["LoRA"], seconds["LoRA"] = train(lora, LORA_LR)
first, last = probes["LoRA"].losses[0], probes["LoRA"].losses[-1]
print(f"LoRA: {STEPS} steps in {seconds['LoRA']:.0f} s; held-out answer loss {first[0]:.2f} -> "
      f"{last[0]:.2f} nats, prompt loss {first[1]:.2f} -> {last[1]:.2f}")
unchanged = all(np.array_equal(frozen_before[v.path], keras.ops.convert_to_numpy(v))
                for v in lora.weights if "lora_" not in v.path)
print("every base weight bit-identical after LoRA training:", unchanged)

# %% [markdown]
# The two runs' held-out losses, measured every tenth of the run:

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4))
steps_axis = np.arange(len(probes["LoRA"].losses)) * CHUNK
for name, p in probes.items():
    ax1.plot(steps_axis, [a for a, _ in p.losses], marker="o", label=name)
    ax2.plot(steps_axis, [b for _, b in p.losses], marker="o", label=name)
ax1.set(xlabel="training step", ylabel="nats per token", title="Held-out ANSWER tokens (trained)")
ax2.set(xlabel="training step", ylabel="nats per token", title="Held-out PROMPT tokens (masked)")
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
    ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The answer loss falls fast in the first tenth and then slowly; the bump near step 30 is
# where the warm-up reaches the peak learning rate. Full fine-tuning and LoRA, with 6% of the
# trainable weights, end close together. The prompt loss, which no step trained, moves a
# little **up** for full fine-tuning (note the right panel's narrow scale): the weights it
# relied on moved to serve the answers, a small case of forgetting; LoRA, which cannot move
# the base weights, forgets less. One seed and 80 validation examples make these small
# differences a hint, not a measurement.

# %% [markdown]
# ## 7. Before and after, task by task
#
# Each tuned model now answers the same held-out instructions the base model answered in
# section 4.

# %% [markdown]
# To know what a score means, we also score a **trivial answerer** that ignores the question
# and always gives the same answer per task ("positive"; "the first"; "#Person1# and
# #Person2# talk about it."; "it's a movie ."; "I think so, do you?"). A model that does not
# beat it has learned the shape of the answers, not the task.

# %%
# NBVAL_IGNORE_OUTPUT
TRIVIAL = {"sentiment": "positive", "passage QA": "the first",
           "summary": "#Person1# and #Person2# talk about it.", "write a review": "it's a movie .",
           "chat": "I think so, do you?"}
results["trivial answer"] = evaluate(lambda task, e, i: (TRIVIAL[task], True))
for name, model in (("SFT, full fine-tuning", sft), ("SFT, LoRA", lora)):
    start = time.perf_counter()
    results[name] = evaluate(tuned_responder(model))
    print(f"{name}: answered {len(results[name])} test instructions in "
          f"{time.perf_counter() - start:.0f} s")


def task_table(rows_by_model, key="score", fmt="{:.1f}"):
    """Per task and model: the mean of `key` with a 95% bootstrap interval."""
    lines = ["| task (metric) | " + " | ".join(rows_by_model) + " |",
             "|---|" + "--:|" * len(rows_by_model)]
    cis = {}
    for task in PHRASINGS:
        cells = []
        for name, rows in rows_by_model.items():
            values = np.array([float(r[key]) for r in rows if r["task"] == task])
            ci = bootstrap_ci(np.mean, values, n_resamples=N_RESAMPLES, seed=SEED)
            cis[(task, name)] = ci
            cells.append(f"{fmt.format(ci.estimate)} [{fmt.format(ci.low)}, {fmt.format(ci.high)}]")
        lines.append(f"| {task} ({METRIC[task]}) | " + " | ".join(cells) + " |")
    return "\n".join(lines), cis


table, scores_ci = task_table(results)
display(Markdown("**Task scores** (percent; 95% bootstrap interval over the test examples)\n\n"
                 + table))
for r in (row for rows in results.values() for row in rows):
    r["stopped %"] = 100.0 * r["stopped"]
generated = {k: v for k, v in results.items() if k != "trivial answer"}
table, format_ci = task_table(generated, key="stopped %", fmt="{:.0f}")
display(Markdown("**Format adherence**: percent of answers that ended by themselves within the "
                 "task's budget\n\n" + table))

# %% [markdown]
# ### Scoring the labels instead of generating
#
# Generation asks a lot of a base model: to produce the label's exact words, and then stop. A
# gentler test of what it *knows* is **rank classification** (as the GPT-3 paper scores
# multiple-choice tasks): after the same prompt, compare how likely the model finds
# " positive" and " negative", and take the likelier. The two labels have different lengths
# (" positive" is 2 tokens, " negative" 3) and a sum of log-probabilities penalises the
# longer one, so we compare the **mean log-probability per token**, as GPT-3 does. No
# decoding, no format: only the model's preference between the two answers.

# %%
def label_choice(model, tok, prefix_ids):
    """1 if " positive" has a higher mean log-probability per token than " negative"."""
    scores = []
    for label in LABELS:
        label_ids = list(tok.encode(f" {label}"))
        ids = np.array([list(prefix_ids) + label_ids])  # (1, T)
        log_p = keras.ops.convert_to_numpy(keras.ops.log_softmax(model(ids), axis=-1))[0]  # (T, V)
        n = len(label_ids)
        scores.append(np.mean([log_p[len(ids[0]) - n - 1 + k, label_ids[k]] for k in range(n)]))
    return int(scores[1] > scores[0])


truth = np.array([LABELS.index(e["label"]) for e in test_examples["sentiment"]])
ranked = {
    "base model, few-shot": [label_choice(foundation, base_tokenizer, few_shot_prompt("sentiment", e, i)[0])
                             for i, e in enumerate(test_examples["sentiment"])],
    "SFT, full fine-tuning": [label_choice(sft, tokenizer, tokenizer.encode(format_prompt(e["instruction"])))
                              for e in test_examples["sentiment"]],
}
for name, choices in ranked.items():
    ci = bootstrap_ci(lambda t, c: 100 * np.mean(t == c), truth, np.array(choices),
                      n_resamples=N_RESAMPLES, seed=SEED)
    print(f"{name}: sentiment accuracy by rank classification {ci.estimate:.0f}% "
          f"[{ci.low:.0f}, {ci.high:.0f}]; says positive for {np.mean(choices):.0%} of reviews")

# %% [markdown]
# Did the tuned models learn the tasks, or the wordings they were trained on? Each task's held-
# out phrasing was never seen in training; half of the test examples use it.

# %%
lines = ["| model | seen phrasings | held-out phrasing |", "|---|--:|--:|"]
for name, rows in generated.items():
    cells = []
    for held in (False, True):
        values = [r["score"] for r in rows if r["held_out_phrasing"] == held and r["task"] != "chat"]
        cells.append(f"{np.mean(values):.1f} ({len(values)})")
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
display(Markdown("**Mean score over the four phrased tasks** (number of test examples)\n\n"
                 + "\n".join(lines)))

# %% [markdown]
# Some answers side by side (the first test example of each task):

# %%
for task, examples in test_examples.items():
    e = examples[0]
    i = next(k for k, r in enumerate(results["SFT, full fine-tuning"]) if r["task"] == task)
    print(f"[{task}] {e['instruction'][:160]!s}".replace("\n", " ") + ("…" if len(e["instruction"]) > 160 else ""))
    print(f"   reference: {e['response'][:120]}")
    for name, rows in generated.items():
        print(f"   {name}: {rows[i]['output'][:120]!s}".replace("\n", " "))
    print()

# %% [markdown]
# A few counts say more than single examples: how often the tuned model's sentiment answer is
# exactly a label, how many different answers it gives to the 50 passage questions, and how
# long the reference summaries are against the 48-token budget.

# %%
sft_rows = [r for r in results["SFT, full fine-tuning"] if r["task"] == "sentiment"]
print(f"sentiment: {sum(r['output'] in LABELS for r in sft_rows)} of {len(sft_rows)} answers are "
      f"exactly a label; 'positive' {sum(r['output'] == 'positive' for r in sft_rows)} times")
qa_answers = [r["output"] for r in results["SFT, full fine-tuning"] if r["task"] == "passage QA"]
common = max(set(qa_answers), key=qa_answers.count)
print(f"passage QA: {len(set(qa_answers))} different answers to {len(qa_answers)} questions; "
      f"the most common, {common!r}, {qa_answers.count(common)} times")
lengths = [len(tokenizer.encode(f" {e['response']}{END_OF_TURN}")) for e in test_examples["summary"]]
print(f"summary references: median {np.median(lengths):.0f} tokens, {np.mean(np.array(lengths) > 48):.0%} "
      f"longer than the 48-token budget")

# %% [markdown]
# ### LoRA against full fine-tuning
#
# The memory column comes from the course's memory estimator (chapter 13): weights,
# gradients, AdamW's two moments and activations for one batch of 16 × 256 tokens. LoRA
# keeps gradients and moments only for its adapters; the activations stay, because the
# gradient still flows back through every layer to reach them.

# %%
rows = []
for name, count in (("full fine-tuning", total), ("LoRA", trainable)):
    memory = estimate_training_memory(dataclasses.replace(fcfg, vocab_size=tokenizer.vocab_size),
                                      16, trainable_parameters=min(count, total))
    step = np.median(probes[name].step_seconds[5:]) if len(probes[name].step_seconds) > 5 else float("nan")
    rows.append(f"| {name} | {count:,} | {format_bytes(memory['gradients'] + memory['optimizer_state'])} | "
                f"{format_bytes(memory['total'])} | {step * 1000:.0f} ms | {seconds[name]:.0f} s |")
display(Markdown("| | trainable weights | gradients + optimizer state | training memory (estimate) | "
                 "time per step (median) | whole run |\n|---|--:|--:|--:|--:|--:|\n"
                 + "\n".join(rows)))

# %% [markdown]
# ## 8. The path Keras users take with a real model: Gemma 3 and LoRA in keras-hub
#
# Everything so far ran on the course GPT, small enough to train on a laptop and open enough to
# read line by line. With a real model, Keras users rarely write the architecture themselves: they
# take it from **keras-hub**, Keras's library of pretrained models, and fine-tune it with the same
# `fit` and the same LoRA as above. This section does that with Google's **Gemma 3 270M**,
# instruction-tuned (the preset `gemma3_instruct_270m`): 268 million parameters, 18 decoder
# blocks, a 262,144-token SentencePiece vocabulary.
#
# **What a preset is.** A keras-hub *preset* is a named, saved model: a folder holding the
# architecture (`config.json`, the backbone's constructor arguments), the weights
# (`model.weights.h5`), the tokenizer with its vocabulary file (`tokenizer.json`,
# `assets/tokenizer/vocabulary.spm`) and how text is turned into model inputs
# (`preprocessor.json`, `task.json`). `keras_hub.models.Gemma3CausalLM.from_preset(name)` rebuilds
# all of it in one call: tokenizer, preprocessor, backbone and the language-model head, ready for
# `generate` and `fit`. (Gemma 1 and 2 presets load with `GemmaCausalLM`; Gemma 3 has its own
# class, `Gemma3CausalLM`. `keras_hub.models.Gemma3CausalLM.presets` lists its preset names.)
#
# **Where the weights come from.** A preset name is a short name for an address on a model hub:
# `gemma3_instruct_270m` is `kaggle://keras/gemma3/keras/gemma3_instruct_270m/4` in keras-hub
# 0.32. The first `from_preset` call downloads the folder (several hundred megabytes for this
# model) and caches it in `~/.cache/kagglehub`; later calls read the cache. Gemma's weights are
# published under Google's Gemma terms of use, so the download needs:
#
# 1. a Kaggle account that has **accepted the Gemma license** on the model's Kaggle page
#    (`kaggle.com/models/keras/gemma3`);
# 2. an API token for that account: `KAGGLE_USERNAME` and `KAGGLE_KEY` in the environment, or the
#    `kaggle.json` file from Kaggle's settings page in `~/.kaggle/`.
#
# Hugging Face works the same way with an `hf://` handle (e.g. `hf://google/gemma-3-270m-it`, which
# keras-hub converts from the Transformers checkpoint), an `HF_TOKEN` and the license accepted on
# huggingface.co. A folder on disk written by `save_to_preset` loads with no network at all, which
# is how the tests check this section's code.

# %% [markdown]
# Before downloading anything, the notebook checks that the hub answers at all: by default
# `api.kaggle.com`, the host `kagglehub` (which keras-hub uses for `kaggle://` presets) downloads
# through. Any HTTP answer counts, even an error status: the host is there. No network, a failed
# name lookup or a timeout mean "not reachable"; the check never raises and never waits longer
# than `timeout`. A reachable hub is not yet a successful download (the account and license are
# checked only then), so the run below also reports a failed load instead of stopping on it.

# %% [export]
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

# %% [markdown]
# **Gemma's chat format.** The instruction-tuned Gemma checkpoints were trained on conversations
# written as turns: `<start_of_turn>`, the role (`user` or `model`), a newline, the text,
# `<end_of_turn>`. A prompt ends where the model's turn begins, so the most likely continuation is
# an answer; the model closes it with `<end_of_turn>`, where `generate` stops. This is the
# chapter's chat template with Gemma's markers instead of ours, and fine-tuning must use the same
# format the checkpoint was trained on, or it starts by unlearning it.
#
# For training, Gemma 3's preprocessor takes the prompt and the response separately
# (`{"prompts": [...], "responses": [...]}`): it packs them into one sequence and gives the loss
# a weight of 1 on response tokens only, so the model is trained to answer, not to predict the
# user's words. That is the prompt masking this chapter applied to the course GPT.

# %% [export]
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

# %% [markdown]
# **LoRA with one call.** `gemma_lm.backbone.enable_lora(rank=4)` does two things:
#
# 1. it **freezes every layer** of the backbone: the embedding (shared with the output layer),
#    all attention and MLP weights, every normalisation scale;
# 2. in each of the 18 decoder blocks, it calls Keras's own `layer.enable_lora(4)` on the
#    attention's **`query` and `value`** projections (keras-hub's default targets; the key,
#    output and MLP projections get no adapter). Each of these `EinsumDense` layers gains two
#    small trainable matrices, `lora_kernel_a` and `lora_kernel_b`, and computes
#    `x @ W + (x @ A @ B) * (alpha / rank)` with its pretrained kernel `W` frozen. `B` starts at
#    zero, so before the first step the model is exactly the pretrained one.
#
# This is what the chapter did by hand on the course GPT: freeze the model, call
# `layer.enable_lora(rank)` on the chosen projections, train only the adapters. keras-hub's
# backbone knows its own layer names, so choosing and freezing is one line; the adapters, their
# initialisation and the merged forward pass are the same Keras code. Well under 1% of the 268
# million parameters train (the run cell prints the exact count when a hub is reachable;
# keras-hub's `enable_lora` takes no alpha, so its scale alpha/r is 1), so the optimizer's state is
# small, and the adapters can be saved apart from the model, in a small file of their own
# (`backbone.save_lora_weights("gemma.lora.h5")`).
#
# The compile settings follow keras.io's Gemma LoRA example: AdamW with a little weight decay
# (none on biases and norm scales), a cross-entropy on the logits, and accuracy as a *weighted*
# metric so that padding and prompt tokens, whose weight is 0, do not count.

# %% [export]
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

# %% [markdown]
# **The run.** When a model hub is reachable and the profile is `cpu` or `gpu`, the next cell
# loads `gemma3_instruct_270m` with LoRA rank 4, asks it two questions, fine-tunes the adapters
# on about 100 instruction/response pairs from the course data, and asks again. At the `smoke`
# profile (the test suite) or without a hub it prints one line saying why it skipped; it never
# fails for lack of a network. Expect minutes of fine-tuning on 2 CPU cores, much less on a GPU.
# With so few pairs and steps, expect the answers to move toward the style of the training
# responses (length, phrasing), not to learn new facts.

# %%
# NBVAL_IGNORE_OUTPUT
profile = active_profile()
GEMMA_PRESET = "gemma3_instruct_270m"
# About 100 instruction/answer pairs from this chapter's mix, spread over the five tasks.
gemma_pairs = [(e["instruction"], e["response"])
               for e in train_examples[:: max(1, len(train_examples) // 100)]][:100]
gemma_questions = [
    "Explain what a tokenizer does, in two sentences.",
    "Give one tip for training a small language model on a laptop.",
]
GEMMA_EPOCHS = profile.pick(smoke=0, cpu=1, gpu=3)
GEMMA_LENGTH = profile.pick(smoke=64, cpu=128, gpu=256)  # training sequence and generation limit
GEMMA_NEEDS = ("network access to api.kaggle.com, a Kaggle account that has accepted the Gemma "
               "license, and its API token in KAGGLE_USERNAME/KAGGLE_KEY or ~/.kaggle/kaggle.json")


def show_replies(model, title):
    print(title)
    for question in gemma_questions:
        reply = generate_reply(model, question, max_length=GEMMA_LENGTH).strip()
        print(f"  Q: {question}\n  A: {reply}")


gemma_lm = None
if profile.is_smoke:
    print(f"Smoke profile: skipping the Gemma run (run at COURSE_PROFILE=cpu or gpu; "
          f"it needs {GEMMA_NEEDS}).")
elif not hub_reachable():
    print(f"No model hub is reachable from this machine: skipping the Gemma run "
          f"(it needs {GEMMA_NEEDS}).")
else:
    try:
        gemma_lm = load_causal_lm(
            GEMMA_PRESET,
            lora_rank=4,
            sequence_length=GEMMA_LENGTH,
            learning_rate=2e-4,  # LoRA takes a larger step than full fine-tuning; B starts at 0
            jit_compile=profile.pick(smoke=False, cpu=False, gpu=True),  # XLA pays off on a GPU
        )
    except Exception as error:  # no credentials, license not accepted, download cut short...
        first_line = (str(error).strip().splitlines() or ["no message"])[0][:160]
        print(f"Could not load {GEMMA_PRESET} ({type(error).__name__}: {first_line}): "
              f"skipping the Gemma run (it needs {GEMMA_NEEDS}).")

if gemma_lm is not None:
    gemma_trainable, gemma_total = parameter_counts(gemma_lm)
    print(f"{GEMMA_PRESET}: {gemma_total:,} parameters, {gemma_trainable:,} trainable with LoRA rank 4 "
          f"({gemma_trainable / gemma_total:.2%})")
    show_replies(gemma_lm, "Before fine-tuning:")
    start = time.perf_counter()
    history = gemma_lm.fit(instruction_examples(gemma_pairs), epochs=GEMMA_EPOCHS, batch_size=4,
                           shuffle=False, verbose=0)
    losses = ", ".join(f"{loss:.3f}" for loss in history.history["loss"])
    print(f"LoRA fine-tuning on {len(gemma_pairs)} pairs, {GEMMA_EPOCHS} epoch(s): "
          f"{time.perf_counter() - start:.0f} s, loss per epoch {losses}")
    show_replies(gemma_lm, "After fine-tuning:")

# %% [markdown]
# **Offline: the same code on a tiny Gemma.** `build_tiny_gemma_preset` writes a randomly
# initialised Gemma 3 with the real preset's architecture and file layout, about 30,000 parameters:
# two decoder blocks of width 32, and a SentencePiece tokenizer trained on a few sentences, with
# the pieces Gemma's tokenizer needs (`<pad>`, `<eos>`, `<bos>`, `<unk>`, and the turn markers as
# single tokens). It is what the course's tests load instead of the download, and the cell below
# runs the whole path on it in seconds: write the preset, `from_preset(folder)`, LoRA, one
# training step, `generate`. Its answers are noise (nothing was pretrained); what it shows is the
# preset's files, how few parameters LoRA trains, and that the frozen weights really do not move.

# %% [export]
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

# %%
# NBVAL_IGNORE_OUTPUT
with tempfile.TemporaryDirectory() as tmp:
    tiny_folder = build_tiny_gemma_preset(Path(tmp) / "tiny_gemma3")
    files = sorted(p.relative_to(tiny_folder).as_posix() for p in tiny_folder.rglob("*")
                   if p.is_file())
    print("Preset folder:", ", ".join(files))
    keras.utils.set_random_seed(0)  # the LoRA A matrices are drawn at random
    tiny_lm = load_causal_lm(str(tiny_folder), lora_rank=2, sequence_length=32, jit_compile=False)

tiny_trainable, tiny_total = parameter_counts(tiny_lm)
print(f"Tiny Gemma 3: {tiny_total:,} parameters, {tiny_trainable:,} trainable with LoRA rank 2 "
      f"({tiny_trainable / tiny_total:.1%})")
tiny_frozen = {w.path: np.array(w.numpy()) for w in tiny_lm.non_trainable_weights}
adapters_before = {w.path: np.array(w.numpy()) for w in tiny_lm.trainable_weights}
tiny_lm.fit(instruction_examples([("Name a colour.", "Blue."), ("Say hello.", "Hello!")]),
            batch_size=2, epochs=1, shuffle=False, verbose=0)
moved = [w.path for w in tiny_lm.non_trainable_weights
         if not np.array_equal(tiny_frozen[w.path], w.numpy())]
adapted = [w.path for w in tiny_lm.trainable_weights
           if not np.array_equal(adapters_before[w.path], w.numpy())]
print(f"After one training step: {len(moved)} of {len(tiny_frozen)} frozen weights moved, "
      f"{len(adapted)} of {len(adapters_before)} LoRA matrices did")
print("Its (untrained) answer:", repr(generate_reply(tiny_lm, "Name a colour.", max_length=24)))

# %% [markdown]
# ## 9. What this run shows, honestly
#
# - **Instruction tuning taught the format.** Shown up to three solved examples, the base
#   model does not pick up the pattern: it gives no sentiment label at all (every answer is
#   empty), and half its chat replies run on. A model of 5.9 million parameters has none of
#   the in-context learning that appears in much larger models. After 300 steps the same
#   weights answer all 50 sentiment questions with exactly "positive" or "negative" and stop,
#   and stop after every chat reply and every passage answer. Learning *how to answer*, in
#   the right shape and then stopping, is the part of instruction tuning this run shows
#   clearly. (Zhou et al., 2023, argue that this is most of what instruction tuning does even
#   for large models: the knowledge comes from pretraining.)
# - **Little content came with it.** Against the trivial answerer, which ignores the
#   question, the tuned model is ahead only on sentiment, and not clearly (60% against 50%,
#   intervals overlapping; rank classification, which reads its preference between the two
#   labels, gives 68% [54, 80] against the base model's 50%). It is level on chat replies,
#   behind on summaries (13.5 against 28.7 ROUGE-L: a fixed sentence with the speaker tags
#   scores well, and the tuned model loops on "#Person2# and #Person2# and …", stopping for only
#   12% of the dialogues although every reference fits the 48-token budget) and on reviews of
#   the asked sentiment (42%, against 50% for writing the same line every time). Passage QA
#   stays at 0 F1: the model gives 20 different answers to 50 questions, "the first time" 9
#   times, and has not learned to copy a span of the passage (chapter 11's span head learns
#   that faster because it only has to point). The reviews are barely English: the foundation
#   model never saw this kind of text (rt-polarity was kept out of its pretraining), and a
#   thousand examples teach the sentiment words, not the language.
# - **The intervals are wide.** With 50 test examples, a yes/no score such as accuracy is
#   uncertain by about ±14 points; the ROUGE-L and word-F1 intervals are narrower (±2 to 3).
#   The two halves of the phrasing table are different examples, so it is only a rough check:
#   it shows no sign that a new wording hurts, not that the model understands wordings.
# - **LoRA** trains 339 thousand weights (5.8% of the model) and keeps 4 MiB of gradients and
#   optimizer state instead of 67; it reaches the same validation answer loss (4.31 nats) and
#   scores within the noise of full fine-tuning on every task, while the weights of the base
#   model stay bit for bit as they were. Its steps are *not* faster here (559 ms against 504):
#   the frozen layers still pass the gradient back to the adapters, the activations dominate
#   the memory of a model this small, and the unmerged adapters add products of their own. On
#   a model of billions of weights the weights' gradients and optimizer state dominate
#   instead, and LoRA is what makes fine-tuning fit on one GPU.
# - **What would make it better** is what chapter 11 found for reading: a stronger base. A
#   model pretrained on far more text, including reviews and dialogues, starts knowing the
#   language and only has to learn the format. The keras-hub section above is that path.
#
# ## 10. Keeping the tuned model for chapter 16
#
# Chapter 16 starts from the fully fine-tuned model. We save it without optimizer state, with
# its tokenizer and a small record of the run (with the SHA-256 of both files, which chapter
# 16 checks before loading) into the course's `notebooks/artifacts/` folder.

# %%
# NBVAL_IGNORE_OUTPUT
artifacts = profile.pick(smoke=Path(tempfile.mkdtemp(prefix="ch15-artifacts-")),
                         cpu=REPO / "notebooks" / "artifacts",
                         gpu=REPO / "notebooks" / "artifacts" / "gpu")
artifacts.mkdir(parents=True, exist_ok=True)
clean = GPT(sft.config)  # no optimizer attached: the file holds weights and config only
clean.set_weights(sft.get_weights())
clean.save(artifacts / "sft_gpt.keras")
tokenizer.save(artifacts / "sft_tokenizer.json")
record = {
    "model": "course_lib.gpt.GPT",
    "config": sft.config.to_dict(),
    "start": "the course foundation model (artifacts/foundation), vocabulary grown by "
             f"{len(CHAT_TOKENS)} chat tokens",
    "foundation_sha256": foundation_run["files"]["model.keras"]["sha256"],
    "profile": profile.name,
    "seed": SEED,
    "steps": STEPS,
    "batch_size": BATCH,
    "peak_learning_rate": FULL_LR,
    "training_examples": {t: int(c) for t, c in train_counts.items()},
    "test_scores": {t: round(scores_ci[(t, "SFT, full fine-tuning")].estimate, 2) for t in PHRASINGS},
    "files": {name: hashlib.sha256((artifacts / name).read_bytes()).hexdigest()
              for name in ("sft_gpt.keras", "sft_tokenizer.json")},
    "keras": keras.__version__,
}
(artifacts / "sft_gpt.json").write_text(json.dumps(record, indent=1) + "\n")
for name in ("sft_gpt.keras", "sft_tokenizer.json", "sft_gpt.json"):
    print(f"{name:<22} {(artifacts / name).stat().st_size / 1e6:6.2f} MB")

# %% [markdown]
# ## Exercises
#
# Each exercise has a starter value to replace, and a check that says whether it is right and,
# if not, what to reconsider.
#
# **Exercise 1 (LoRA's size).** A `Dense` layer maps 256 inputs to 1,024 outputs. How many
# trainable weights does `enable_lora(rank=8)` give it (the two adapter matrices; the kernel
# and bias are frozen)?

# %%
answer_lora_weights = None  # your answer, an int
ex.check_lora_weights(answer_lora_weights)

# %% [markdown]
# **Exercise 2 (what the loss counts).** An example's prompt (`<|endoftext|><|A|>`, the
# instruction, `<|eot|><|B|>`) is 40 tokens, and its answer is 3 tokens (two words, then
# `<|eot|>`). The model is trained on inputs = tokens 1 to 42 and targets = tokens 2 to 43. What
# share of the 42 targets carries weight 1?

# %%
answer_share = None  # your answer, a fraction between 0 and 1
ex.check_weighted_share(answer_share)

# %% [markdown]
# **Exercise 3 (the template).** Write, character for character, the text `format_example`
# makes of the instruction "Name a colour." and the answer "Blue." (without calling it).

# %%
answer_template = None  # your answer, a str
ex.check_template(answer_template)

# %% [markdown]
# **Exercise 4 (write the loss).** Write `my_response_loss(targets, logits, weights)` in NumPy:
# `targets` `(B, T)` ints, `logits` `(B, T, V)`, `weights` `(B, T)` of 0s and 1s; return the
# mean cross-entropy over the weighted positions (in nats). The check compares it with
# `response_loss()` on random batches.

# %%
def my_response_loss(targets, logits, weights):
    return None  # your code


ex.check_response_loss(my_response_loss)

# %% [markdown]
# **Going further (no check).** Train on the *whole* sequence (set every weight to 1 in
# `pad_batch`'s output) for the same steps: what happens to the held-out answer loss, and to
# the sentiment accuracy, whose answer is 3 or 4 tokens of an example of about 70? Then try
# LoRA with rank 2 and rank 32: which scores move?
#
# ## Closing note
#
# The numbers of this run, in one place:

# %%
# NBVAL_IGNORE_OUTPUT
sft_scores = {t: scores_ci[(t, "SFT, full fine-tuning")].estimate for t in PHRASINGS}
base_scores = {t: scores_ci[(t, "base model, few-shot")].estimate for t in PHRASINGS}
display(Markdown(
    "**Instruction tuning of the course foundation model** (" + ", ".join(
        f"{t}: {base_scores[t]:.1f} → {sft_scores[t]:.1f}" for t in PHRASINGS)
    + f", base model few-shot → after {STEPS} steps of full fine-tuning). Answers that stop by "
    "themselves: " + ", ".join(
        f"{t} {format_ci[(t, 'base model, few-shot')].estimate:.0f}% → "
        f"{format_ci[(t, 'SFT, full fine-tuning')].estimate:.0f}%" for t in PHRASINGS)
    + ". LoRA trains "
    f"{trainable:,} weights ({trainable / total:.1%}) to a mean score of "
    f"{np.mean([r['score'] for r in results['SFT, LoRA']]):.1f}, against "
    f"{np.mean([r['score'] for r in results['SFT, full fine-tuning']]):.1f} for full fine-tuning."))

# %% [record]
# NBVAL_IGNORE_OUTPUT
_ = record_key_figures("15", {
    **{f"{t} ({METRIC[t]}), base few-shot": round(base_scores[t], 2) for t in PHRASINGS},
    **{f"{t} ({METRIC[t]}), SFT": round(sft_scores[t], 2) for t in PHRASINGS},
    **{f"{t} ({METRIC[t]}), LoRA": round(scores_ci[(t, "SFT, LoRA")].estimate, 2) for t in PHRASINGS},
    "format adherence, base few-shot (%)": round(100 * np.mean(
        [r["stopped"] for r in results["base model, few-shot"]]), 1),
    "format adherence, SFT (%)": round(100 * np.mean(
        [r["stopped"] for r in results["SFT, full fine-tuning"]]), 1),
    "LoRA trainable weights": trainable,
    "training steps per model": STEPS,
    "training seconds (full)": round(seconds["full fine-tuning"], 1),
    "training seconds (LoRA)": round(seconds["LoRA"], 1),
})
