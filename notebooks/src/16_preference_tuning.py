# %% [markdown]
# # 16 · Preference tuning: teaching a model what people prefer
#
# *Mirrors §8 of the source document, which names among the field's next steps "更好的可解释性
# 和可控性 … 控制其输出结果" ("better interpretability and controllability … controlling the
# model's outputs"). Like chapter 15, it goes one step past the document, to the stage that
# follows instruction tuning in every assistant model.*
#
# Instruction tuning (chapter 15) shows a model *good answers*. Many qualities are easier to
# judge than to write: it is hard to write the best movie review, easy to say which of two is
# warmer. **Preference tuning** learns from such judgements: for a prompt, two answers, one
# marked better. RLHF (Ouyang et al., 2022) trains a reward model on the judgements and then
# the language model with reinforcement learning against it; **DPO**, Direct Preference
# Optimization (Rafailov et al., 2023), reaches the same goal with one loss on the pairs and
# no reinforcement learning. This chapter:
#
# 1. loads chapter 15's instruction-tuned model, and a frozen copy of it as the
#    **reference**;
# 2. makes **preference pairs** inside the course: the model writes two reviews for each
#    "write a positive review" prompt, and a **judge** (chapter 08's sentiment classifier)
#    prefers the more positive one;
# 3. writes the **DPO loss** from its formula, checks it against a hand computation, and
#    trains with it;
# 4. measures on **held-out prompts**: the judge's reward and the win rate against the
#    instruction-tuned model, the **KL divergence** from the reference and the answers'
#    **perplexity** under it (fluency): the gain and its price, including any **reward
#    hacking**;
# 5. opens a **chat window** on the tuned model, streaming its replies token by token.
#
# **Before you run it:** time: smoke ~2 min · cpu ~10 min (2 cores) · gpu ~3 min (estimated); memory: peak ~2.5 GB at cpu; data: rt-polarity (downloaded once, verified by SHA-256, for the judge) and chapter 15's tuned model (in the course's files, checked against its recorded SHA-256).

# %%
# NBVAL_IGNORE_OUTPUT
import hashlib
import json
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from sklearn.model_selection import train_test_split

from course_lib import data
from course_lib.chapters.ch09_generation_and_dialogue import chat
from course_lib.chapters.ch15_instruction_tuning import (
    ADJECTIVE,
    PHRASINGS,
    SentimentJudge,
    format_prompt,
    pad_batch,
)
from course_lib.exercises import ch16 as ex
from course_lib.generation import sample_batch
from course_lib.metrics import bootstrap_ci, repetition_rate
from course_lib.model_io import check_tokenizer_matches, load_model
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything
from course_lib.tokenizers import BPETokenizer
from course_lib.tooling.results import record_key_figures

SEED = seed_everything(16)
profile = active_profile()
REPO = Path.cwd().resolve().parent if Path.cwd().name == "notebooks" else Path.cwd().resolve()
print(f"seed {SEED}, profile {profile} ({profile.source}), Keras {keras.__version__}")

# %% [markdown]
# All sizes live in this cell, with the reason for each. The `smoke` profile (the test suite)
# shrinks everything so the notebook runs in about a minute; its numbers mean nothing. The
# stored outputs come from the `cpu` profile.

# %%
PAIRS = profile.pick(smoke=16, cpu=768, gpu=3072)  # preference pairs to train on
BETA = 0.1  # DPO's β, the KL penalty's strength in its objective (Rafailov et al.: 0.1-0.5)
BATCH = profile.pick(smoke=4, cpu=16, gpu=32)  # pairs per step
EPOCHS = profile.pick(smoke=1, cpu=2, gpu=2)  # passes over the pairs: ~76 steps at cpu
LEARNING_RATE = 5e-5  # small: DPO starts from a good model and should move it a little
MAX_ANSWER = 48  # tokens per review; rt-polarity reviews average about 25
TEMPERATURE = 1.0  # sample from the model's own distribution: the KL estimate below needs it
EVAL_SAMPLES = profile.pick(smoke=4, cpu=64, gpu=256)  # reviews per held-out prompt and model
N_RESAMPLES = profile.pick(smoke=100, cpu=2000, gpu=2000)  # bootstrap resamples
JIT = profile.pick(smoke=False, cpu=True, gpu=True)

# %% [markdown]
# ## 1. The policy and its reference
#
# We load chapter 15's instruction-tuned model twice. One copy, the **policy** π_θ, will be
# trained. The other, the **reference** π_ref, stays frozen: DPO measures every change of the
# policy relative to it, and we will use it to measure how far the policy moved.

# %%
artifacts = REPO / "notebooks" / "artifacts"
sft_record = json.loads((artifacts / "sft_gpt.json").read_text())
for name, digest in sft_record["files"].items():
    actual = hashlib.sha256((artifacts / name).read_bytes()).hexdigest()
    if actual != digest:
        raise RuntimeError(f"{name} does not match the SHA-256 chapter 15 recorded; re-run "
                           "chapter 15 at the cpu profile to rebuild it")
tokenizer = BPETokenizer.load(artifacts / "sft_tokenizer.json")
policy = load_model(artifacts / "sft_gpt.keras", compile=False)
reference = load_model(artifacts / "sft_gpt.keras", compile=False)
reference.trainable = False
check_tokenizer_matches(policy, tokenizer)
eot = tokenizer.token_to_id("<|eot|>")
specials = {tokenizer.token_to_id(t) for t in tokenizer.special_tokens}
print(f"chapter 15's model: {policy.count_params():,} parameters, vocabulary "
      f"{tokenizer.vocab_size:,}, tuned for {sft_record['steps']} steps; files verified")

# %% [markdown]
# ## 2. The judge, and the prompts
#
# Our "people" are a classifier: chapter 15's judge, chapter 08's TF-IDF + logistic-regression
# sentiment model, trained on chapter 08's training split of rt-polarity. Its reward for a
# review is the probability it gives to *positive*. It is a stand-in for human raters, with
# one property real raters share: it can be fooled, because it scores words, not meaning.
#
# The prompts ask for positive reviews. Training uses the three phrasings chapter 15 trained
# on; the **held-out prompts** are chapter 15's held-out phrasing and three wordings no model
# has seen. One more prompt asks for a **negative** review: the preference is for positive
# reviews *when asked for one*, so a model that now praises everything has over-learned.

# %%
rt_texts, rt_labels = data.load_rt_polarity()
rt_train, _ = train_test_split(np.arange(len(rt_texts)), test_size=0.2, stratify=rt_labels,
                               random_state=1337)  # chapter 08's split
judge = SentimentJudge([rt_texts[i] for i in rt_train], rt_labels[rt_train])
fields = {"label": "positive", "adjective": ADJECTIVE["positive"]}
train_prompts = [p.format(**fields) for p in PHRASINGS["write a review"][:-1]]
heldout_prompts = [PHRASINGS["write a review"][-1].format(**fields),
                   "Write a short review of a film you loved.",
                   "Tell me, in one sentence, about a great movie.",
                   "Recommend a movie to a friend in one sentence."]
negative_prompt = PHRASINGS["write a review"][0].format(label="negative", adjective="bad")
print("training prompts:", train_prompts)
print("held-out prompts:", heldout_prompts)
print("control prompt:  ", negative_prompt)

# %% [markdown]
# `write` samples many reviews for one prompt in a single batched decoding (chapter 09's
# `sample_batch`, with the KV cache): every row reads the same prompt and draws its own
# tokens. A review ends at the model's `<|eot|>`; the tokens it wrote, `<|eot|>` included, are
# what the models are trained and scored on.

# %%
def write(model, prompt, count, seed):
    """`count` sampled reviews for one prompt: (texts, token lists)."""
    ids = tokenizer.encode(format_prompt(prompt))
    rows = sample_batch(model, np.tile(ids, (count, 1)), MAX_ANSWER, temperature=TEMPERATURE,
                        seed=seed, stop_token=eot, jit_compile=JIT, batch_size=64)
    texts = [tokenizer.decode([t for t in r if t not in specials]).strip() for r in rows]
    return texts, rows


texts, _ = write(policy, train_prompts[0], 4, seed=SEED)
rewards = judge.positive_probability(texts)
for text, reward in zip(texts, rewards, strict=True):
    print(f"  P(positive) {reward:.2f}  {text}")

# %% [markdown]
# ## 3. Preference pairs
#
# For each training pair: one of the training prompts, two reviews sampled from the
# instruction-tuned model, and the judge's verdict. The review with the higher reward is
# **chosen** (y_w, "winner"), the other **rejected** (y_l). Pairs whose two rewards are within
# 0.05 of each other say little and are dropped, as near-ties in human data often are.
#
# Expect the reviews to read as near-random text: chapter 15's model learned the format and
# some sentiment words, not the language. The judge decides on single words, so a pair is
# often won by one word such as "positive" or "film". We sample at temperature 1 here and in
# section 6 because the KL estimate of section 6 needs samples from the model's own
# distribution.

# %%
# NBVAL_IGNORE_OUTPUT
pairs = []
per_prompt = -(-PAIRS // len(train_prompts))
for k, prompt in enumerate(train_prompts):
    texts, rows = write(policy, prompt, 2 * per_prompt, seed=SEED + 1000 * k)
    rewards = judge.positive_probability(texts)
    for a, b in zip(range(0, len(rows), 2), range(1, len(rows), 2), strict=True):
        if abs(rewards[a] - rewards[b]) < 0.05:
            continue
        win, lose = (a, b) if rewards[a] > rewards[b] else (b, a)
        pairs.append({"prompt": prompt, "chosen": rows[win], "rejected": rows[lose],
                      "chosen_text": texts[win], "rejected_text": texts[lose],
                      "margin": float(rewards[win] - rewards[lose])})
print(f"{len(pairs)} pairs kept of {per_prompt * len(train_prompts)} (near-ties dropped); "
      f"mean reward gap {np.mean([p['margin'] for p in pairs]):.2f}")
for p in pairs[:3]:
    print(f"\n  prompt:   {p['prompt']}\n  chosen:   {p['chosen_text']}\n  rejected: {p['rejected_text']}")

# %% [markdown]
# ## 4. The DPO loss
#
# DPO starts from the RLHF objective (maximise the reward, minus β times the KL divergence
# from the reference) and shows that its optimum can be written with the policy itself as
# the reward model: the **implicit reward** of an answer is
# $r_\theta(x, y) = \beta \log \frac{\pi_\theta(y \mid x)}{\pi_\text{ref}(y \mid x)}$ (plus a
# term β log Z(x) that depends only on the prompt and cancels in a difference). Plugging
# this into the Bradley-Terry model of preferences, $P(y_w \succ y_l) = \sigma(r(y_w) - r(y_l))$,
# and maximising the likelihood of the observed preferences gives the loss
#
# $$\mathcal{L}_\text{DPO} = -\log \sigma\Big(\beta \big[\big(\log \pi_\theta(y_w \mid x) - \log \pi_\text{ref}(y_w \mid x)\big) - \big(\log \pi_\theta(y_l \mid x) - \log \pi_\text{ref}(y_l \mid x)\big)\big]\Big)$$
#
# where $\log \pi(y \mid x)$ is the sum of the log-probabilities of the answer's tokens given
# the prompt and the tokens before. The loss falls when the policy raises the chosen answer's
# probability *relative to the reference* more than the rejected one's. β is the strength of
# the KL penalty in the objective DPO was derived from: at the loss's optimum, a small β
# allows a policy far from the reference, a large β keeps it close. Along the way nothing
# holds the policy back: the loss sees only the *difference* between the two answers'
# log-ratios, so changes that both answers share, or that touch text outside the pairs (a
# longer review, say), cost nothing. Section 6 measures how far the policy really moved.
#
# In code: `sequence_log_probs` is the log-probability of each answer (prompt tokens weighted
# 0, as in chapter 15), `dpo_loss` the formula, and `DPOObjective` a Keras model whose output
# is the bracket times β, so that Keras's binary cross-entropy with label 1, −log σ(z), is
# exactly the DPO loss and `fit` can train it.

# %% [export] fold
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

# %% [markdown]
# Two checks. The formula against a hand computation: with β = 0.1, log π_θ(y_w) = −10,
# log π_θ(y_l) = −12 and both reference log-probabilities −11, the bracket is (−10 + 11) −
# (−12 + 11) = 2, z = 0.2 and the loss is −log σ(0.2) = log(1 + e^−0.2) = 0.5981. And
# `DPOObjective` with Keras's binary cross-entropy must give the same number as `dpo_loss` on
# a real batch of pairs.

# %%
by_hand = np.log1p(np.exp(-0.1 * ((-10 + 11) - (-12 + 11))))
print(f"dpo_loss {float(dpo_loss(-10.0, -12.0, -11.0, -11.0, beta=0.1)):.6f}, by hand {by_hand:.6f}")


def pair_batch(chunk):
    """Chosen rows, then rejected rows, padded to one length, with the reference's log-probs."""
    encoded = []
    for key in ("chosen", "rejected"):
        for p in chunk:
            prompt = tokenizer.encode(format_prompt(p["prompt"]))
            ids = np.concatenate([prompt, p[key]]).astype("int32")
            encoded.append((ids, np.r_[np.zeros(len(prompt)), np.ones(len(p[key]))]))
    batch = pad_batch(encoded, tokenizer.token_to_id("<|endoftext|>"), 16,
                      policy.config.context_length)
    batch["reference"] = keras.ops.convert_to_numpy(sequence_log_probs(
        reference, batch["inputs"], batch["targets"], batch["weights"]))  # (2B,)
    return batch


demo = pair_batch(pairs[:BATCH])
objective = DPOObjective(policy, beta=BETA)
z = objective(demo)  # (B,)
bce = float(keras.losses.BinaryCrossentropy(from_logits=True)(np.ones(len(z)), z))
log_p = keras.ops.convert_to_numpy(sequence_log_probs(policy, demo["inputs"], demo["targets"],
                                                      demo["weights"]))  # (2B,)
half = len(log_p) // 2
formula = float(dpo_loss(log_p[:half], log_p[half:], demo["reference"][:half],
                         demo["reference"][half:], beta=BETA))
print(f"on {half} real pairs before training: Keras objective {bce:.6f}, dpo_loss {formula:.6f}, "
      f"log 2 = {np.log(2):.6f} (policy = reference, so z = 0)")

# %% [markdown]
# ## 5. Training
#
# The reference's log-probabilities are computed once for every pair (it never changes). The
# policy then trains on batches of pairs; the metric "preference accuracy" is the share of
# pairs with z > 0, those the policy already ranks as the judge did.

# %%
# NBVAL_IGNORE_OUTPUT
import time  # noqa: E402

heldout_pairs = max(BATCH, len(pairs) // 10)  # a tenth of the pairs to watch the DPO loss
batches = [pair_batch(pairs[i:i + BATCH]) for i in range(0, len(pairs) - BATCH + 1, BATCH)]
val_batches, train_batches = batches[: heldout_pairs // BATCH], batches[heldout_pairs // BATCH:]
import tensorflow as tf  # noqa: E402  (tf.data feeds Keras's fit)

rng = np.random.default_rng(SEED)
order = np.concatenate([rng.permutation(len(train_batches)) for _ in range(EPOCHS)])
spec = {"inputs": tf.TensorSpec((None, None), tf.int32), "targets": tf.TensorSpec((None, None), tf.int32),
        "weights": tf.TensorSpec((None, None), tf.float32), "reference": tf.TensorSpec((None,), tf.float32)}


def stream(indices, source):
    def gen():
        for i in indices:
            b = source[i]
            yield {k: b[k] for k in spec}, np.ones(len(b["reference"]) // 2, "float32")
    return tf.data.Dataset.from_generator(gen, output_signature=(spec, tf.TensorSpec((None,), tf.float32)))


objective.compile(keras.optimizers.AdamW(LEARNING_RATE, weight_decay=0.0, clipnorm=1.0),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="preference_accuracy")],
                  jit_compile=JIT)
before = objective.evaluate(stream(range(len(val_batches)), val_batches), steps=len(val_batches),
                            verbose=0, return_dict=True)
start = time.perf_counter()
history = objective.fit(stream(order, train_batches), epochs=1, steps_per_epoch=len(order),
                        shuffle=False, verbose=0,
                        validation_data=stream(range(len(val_batches)), val_batches),
                        validation_steps=len(val_batches))
dpo_seconds = time.perf_counter() - start
after = {k.removeprefix("val_"): v[-1] for k, v in history.history.items() if k.startswith("val_")}
print(f"{len(order)} steps of {BATCH} pairs in {dpo_seconds:.0f} s")
print(f"held-out pairs: DPO loss {before['loss']:.3f} -> {after['loss']:.3f}; preference "
      f"accuracy {before['preference_accuracy']:.2f} -> {after['preference_accuracy']:.2f}")

# %% [markdown]
# ## 6. The gain, and its price
#
# On each held-out prompt, both models (the instruction-tuned reference and the DPO policy)
# write the same number of reviews with the same seeds. We measure:
#
# - **reward**: the judge's mean P(positive), and the share of reviews it calls positive;
# - **win rate**: review i of the DPO model against review i of the reference for the same
#   prompt, won when the judge gives it the higher reward (ties count half). It uses the same
#   judge the policy was trained against, so it restates the reward rather than confirming it;
#   in practice win rates come from people or from a separate judge;
# - **KL divergence** from the reference, KL(π_θ ‖ π_ref) = E_{y∼π_θ}[log π_θ(y|x) − log
#   π_ref(y|x)], estimated by averaging that difference over the policy's own samples (in nats
#   per review; it is 0 for the reference itself);
# - **how unusual the text looks to the reference**: the perplexity of the reviews under the
#   reference model. It is our only view of fluency, and a partial one: it rises with the KL
#   by construction, and the reference itself writes poorly;
# - **length** and **repetition** (the share of repeated 4-word sequences), where reward
#   hacking usually shows first.

# %%
# NBVAL_IGNORE_OUTPUT
def answer_log_probs(model, prompt, rows):
    """log π(y|x) and the answer's token count for every sampled review of one prompt."""
    prompt_ids = tokenizer.encode(format_prompt(prompt))
    encoded = [(np.concatenate([prompt_ids, r]).astype("int32"),
                np.r_[np.zeros(len(prompt_ids)), np.ones(len(r))]) for r in rows]
    out = []
    for i in range(0, len(encoded), 32):
        b = pad_batch(encoded[i:i + 32], tokenizer.token_to_id("<|endoftext|>"), 16,
                      model.config.context_length)
        out.append(keras.ops.convert_to_numpy(sequence_log_probs(
            model, b["inputs"], b["targets"], b["weights"])))
    return np.concatenate(out), np.array([len(r) for r in rows])


def measure(model, prompts, seed):
    rows = {"reward": [], "text": [], "kl": [], "ref_log_p": [], "tokens": [], "prompt": []}
    for k, prompt in enumerate(prompts):
        texts, samples = write(model, prompt, EVAL_SAMPLES, seed=seed + 100 * k)
        own, n = answer_log_probs(model, prompt, samples)
        ref, _ = answer_log_probs(reference, prompt, samples)
        rows["reward"] += list(judge.positive_probability(texts))
        rows["text"] += texts
        rows["kl"] += list(own - ref)
        rows["ref_log_p"] += list(ref)
        rows["tokens"] += list(n)
        rows["prompt"] += [prompt] * len(texts)
    return {k: np.array(v) if k not in ("text", "prompt") else v for k, v in rows.items()}


start = time.perf_counter()
evaluation = {"instruction-tuned (reference)": measure(reference, heldout_prompts, SEED + 7),
              "after DPO": measure(policy, heldout_prompts, SEED + 7)}
control = {name: measure(m, [negative_prompt], SEED + 9)
           for name, m in (("instruction-tuned (reference)", reference), ("after DPO", policy))}
print(f"{len(heldout_prompts)} held-out prompts × {EVAL_SAMPLES} reviews per model, and the control "
      f"prompt, in {time.perf_counter() - start:.0f} s")

# %%
ref_rows, dpo_rows = evaluation["instruction-tuned (reference)"], evaluation["after DPO"]
wins = np.where(dpo_rows["reward"] > ref_rows["reward"], 1.0,
                np.where(dpo_rows["reward"] == ref_rows["reward"], 0.5, 0.0))
win_rate = bootstrap_ci(np.mean, wins, n_resamples=N_RESAMPLES, seed=SEED)
lines = ["| | reward (mean P(positive)) | judged positive | win rate vs reference | KL to reference (nats) "
         "| perplexity under reference | tokens per review | repeated 4-grams | "
         "'write a negative review': judged positive |", "|---|" + "--:|" * 8]
figures = {}
for name, r in evaluation.items():
    reward = bootstrap_ci(np.mean, r["reward"], n_resamples=N_RESAMPLES, seed=SEED)
    kl = bootstrap_ci(np.mean, r["kl"], n_resamples=N_RESAMPLES, seed=SEED)
    ppl = float(np.exp(-r["ref_log_p"].sum() / r["tokens"].sum()))
    figures[name] = {"reward": reward, "kl": kl, "perplexity": ppl,
                     "positive": float(np.mean(r["reward"] > 0.5)),
                     "control_positive": float(np.mean(control[name]["reward"] > 0.5))}
    win = "(itself)" if name.startswith("instruction") else f"{win_rate.estimate:.0%} [{win_rate.low:.0%}, {win_rate.high:.0%}]"
    lines.append(
        f"| {name} | {reward.estimate:.3f} [{reward.low:.3f}, {reward.high:.3f}] | "
        f"{figures[name]['positive']:.0%} | {win} | {kl.estimate:.2f} [{kl.low:.2f}, {kl.high:.2f}] | "
        f"{ppl:.1f} | {r['tokens'].mean():.1f} | {repetition_rate(r['text'], 4):.3f} | "
        f"{figures[name]['control_positive']:.0%} |")
display(Markdown("\n".join(lines)))

# %% [markdown]
# The reviews' rewards, before and after, as distributions:

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.2))
bins = np.linspace(0, 1, 21)
for name, r in evaluation.items():
    ax.hist(r["reward"], bins=bins, alpha=0.6, label=name)
ax.set(xlabel="judge's P(positive)", ylabel="reviews",
       title=f"Held-out prompts: {len(ref_rows['reward'])} reviews per model")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Reviews written by both models for the same held-out prompt, with the same seeds:

# %%
for i in range(0, len(ref_rows["text"]), max(1, len(ref_rows["text"]) // 6))[:6]:
    print(f"[{ref_rows['prompt'][i]}]")
    print(f"  reference  ({ref_rows['reward'][i]:.2f}): {ref_rows['text'][i]}")
    print(f"  after DPO  ({dpo_rows['reward'][i]:.2f}): {dpo_rows['text'][i]}")

# %% [markdown]
# Which words did DPO learn to use more? The judge is a linear model over words, so the words
# with the largest positive weights are the easiest reward to collect. If the policy's new
# favourite words are exactly the judge's favourites, and the reviews read worse, that is
# **reward hacking**: optimising the judge, not the quality it stands for.

# %%
from collections import Counter  # noqa: E402

from course_lib.text_features import tokenize  # noqa: E402


def word_rates(texts):
    counts = Counter(w for t in texts for w in set(tokenize(t)))
    return {w: c / len(texts) for w, c in counts.items()}


before_rates, after_rates = word_rates(ref_rows["text"]), word_rates(dpo_rows["text"])
rising = sorted(after_rates, key=lambda w: after_rates[w] - before_rates.get(w, 0.0), reverse=True)[:10]
weights = dict(zip(judge.vectorizer.vocabulary_, judge.classifier.coef_[0][
    list(judge.vectorizer.vocabulary_.values())], strict=True))
rank = {w: i for i, w in enumerate(sorted(weights, key=weights.get, reverse=True))}
display(Markdown("| word | reviews using it, before → after | judge's weight (rank of "
                 f"{len(weights):,}) |\n|---|--:|--:|\n" + "\n".join(
                     f"| {w} | {before_rates.get(w, 0):.0%} → {after_rates[w]:.0%} | "
                     f"{weights.get(w, float('nan')):+.2f} ({rank.get(w, '—')}) |" for w in rising)))

# %% [markdown]
# ## 7. A chat window
#
# Finally, talk to the model. The window below keeps the conversation and, when it grows past
# the model's 256-token context, drops the oldest turns, exactly as chapter 09's `chat()`
# does (`build_chat_prompt`); each reply streams in token by token from the one decoding loop
# (with the KV cache). `generate` calls a function after every token (`on_token`), and the
# window redraws the reply so far.
#
# The model is small and was tuned mostly on single exchanges about movies, passages and
# dialogues: expect short answers, a liking for films, and little memory of what was said.
# The widget needs a running kernel: in a rendered copy of the notebook you see a recorded
# exchange instead (the cell after it).

# %% [export]
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

# %%
# NBVAL_IGNORE_OUTPUT
window = chat_window(policy, tokenizer, greeting="Hi! Ask me about a movie.")
window

# %% [markdown]
# A recorded exchange, made with chapter 09's `chat()` and the same seeds the window uses:

# %%
history = []
for k, message in enumerate(["Can you recommend a good movie?", "What do you like about it?"]):
    reply, history = chat(policy, tokenizer, history, message, seed=k, jit_compile=False)
    print(f"You: {message}\nBot: {reply}")

# %% [markdown]
# ## 8. What this run shows, honestly
#
# - **The judge's reward went up.** On prompts it never trained on, the DPO model's reviews
#   get a mean judge reward of 0.60 against 0.46, the judge calls 66% of them positive against
#   44%, and review for review (same prompt, same seed) it beats the instruction-tuned model
#   66% [60%, 72%] of the time. These three figures are one measurement, by the judge that was
#   optimised, seen three ways.
# - **The policy moved much further than its loss did.** On the held-out pairs the DPO loss
#   moved only from 0.693 to 0.683 (z ≈ 0.02 on average; before training z is 0 for every
#   pair, so the "accuracy" of 0.42 then is rounding noise, and 0.56 after is within chance
#   for 64 pairs). Yet its samples are 6.2 nats per review away from the reference (KL), and
#   50% longer (27 → 40 tokens; many now end at the 48-token limit, so the true change is
#   larger). This is the point of section 4: the loss only compares the two answers of a
#   pair, so whatever it changes in both, or outside them, it changes for free.
# - **Its text looks stranger to the reference** (perplexity 126 → 210); part of that rise
#   is the KL itself, so read it as "moved far", not as a separate measure of quality.
# - **Consistent with exploiting the judge.** The judge is a linear model over words and word
#   pairs. "and", its single most positive feature (weight +5.0, first of 24,172 in the
#   table's ranking, counted from 0), went from 24% to 54% of the reviews, and "with" (rank
#   28) and "of" (181) doubled; but longer reviews use every common word more often, and
#   neutral words ("the", "be", "his") rose too, so the table is a hint, not proof. The
#   reviews read no better (they were barely English before). Asked for a *negative* review,
#   the DPO model writes one the judge calls positive 78% of the time (64 samples), against
#   55% before: the instruction-tuned model never followed the asked sentiment well, and the
#   pairs asked only for positive reviews, so this shows that positivity spread, not a skill
#   that was lost.
# - **Why real preference tuning works better.** Its judgements come from people or from a
#   strong reward model that reads meaning, over many kinds of prompt (including "write a
#   negative review"); β, the learning rate and the number of steps are chosen by watching
#   the KL and quality judged by someone other than the reward model. Our judge reads words,
#   our prompts ask one thing, and the model tuned in chapter 15 was weak to begin with: the
#   run shows the mechanism, the gain as the judge sees it, and how far a model moves to get
#   it.
#
# ## Exercises
#
# Each exercise has a starter value to replace, and a check that says whether it is right and,
# if not, what to reconsider.
#
# **Exercise 1 (the loss by hand).** With β = 0.1, log π_θ(y_w) = −20, log π_ref(y_w) = −23,
# log π_θ(y_l) = −25 and log π_ref(y_l) = −24, what is the DPO loss of this pair (in nats)?

# %%
answer_loss = None  # your answer, a number
ex.check_pair_loss(answer_loss)

# %% [markdown]
# **Exercise 2 (implicit reward).** For the same pair, what is the implicit reward margin
# r(y_w) − r(y_l) = β[(log π_θ(y_w) − log π_ref(y_w)) − (log π_θ(y_l) − log π_ref(y_l))]? Is
# the policy already ranking the pair as the judge did?

# %%
answer_margin = None  # your answer, a number
ex.check_reward_margin(answer_margin)

# %% [markdown]
# **Exercise 3 (a KL estimate).** The policy wrote three reviews; their log-probabilities
# under the policy are −30, −22 and −41, under the reference −33, −22.5 and −44. Estimate
# KL(π_θ ‖ π_ref) in nats per review.

# %%
answer_kl = None  # your answer, a number
ex.check_kl_estimate(answer_kl)

# %% [markdown]
# **Exercise 4 (write the loss).** Write `my_dpo_loss(policy_chosen, policy_rejected,
# reference_chosen, reference_rejected, beta)` in NumPy (arrays of log-probabilities of
# shape `(B,)`; return the mean loss). The check compares it with `dpo_loss`, including
# pairs with large margins, where a naive `-np.log(1 / (1 + np.exp(-z)))` overflows.

# %%
def my_dpo_loss(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta):
    return None  # your code


ex.check_dpo_loss(my_dpo_loss)

# %% [markdown]
# **Going further (no check).** Set `BETA = 0.5`, then `BETA = 0.02`, and re-run the
# notebook from section 1 (the objective is built with β in section 4, and the policy must
# start again from chapter 15's model): how do the reward, the KL and the perplexity move
# together? With so few steps the loss stays near its start, so expect small differences;
# train longer to see β's pull. Then train with a
# judge that has a blind spot (drop every review containing "film" from its training data):
# does the policy find the blind spot?
#
# ## Closing note
#
# The numbers of this run, in one place:

# %%
# NBVAL_IGNORE_OUTPUT
r, d = figures["instruction-tuned (reference)"], figures["after DPO"]
display(Markdown(
    f"**DPO on judge-ranked pairs** ({len(pairs)} pairs, β = {BETA}, {len(order)} steps): on "
    f"held-out prompts the judge's reward rose from {r['reward'].estimate:.3f} to "
    f"{d['reward'].estimate:.3f} (reviews judged positive {r['positive']:.0%} → "
    f"{d['positive']:.0%}; win rate against the instruction-tuned model "
    f"{win_rate.estimate:.0%}), at a KL of {d['kl'].estimate:.2f} nats per review from it and a "
    f"perplexity under it of {r['perplexity']:.1f} → {d['perplexity']:.1f}. Asked for a negative "
    f"review, {r['control_positive']:.0%} → {d['control_positive']:.0%} came out positive."))

# %% [record]
# NBVAL_IGNORE_OUTPUT
_ = record_key_figures("16", {
    "preference pairs": len(pairs),
    "DPO steps": len(order),
    "held-out DPO loss before": round(before["loss"], 4),
    "held-out DPO loss after": round(after["loss"], 4),
    "reward (reference)": round(r["reward"].estimate, 4),
    "reward (DPO)": round(d["reward"].estimate, 4),
    "win rate vs reference": round(win_rate.estimate, 4),
    "KL to reference (nats)": round(d["kl"].estimate, 3),
    "perplexity under reference (reference)": round(r["perplexity"], 2),
    "perplexity under reference (DPO)": round(d["perplexity"], 2),
    "negative prompt judged positive (reference)": round(r["control_positive"], 3),
    "negative prompt judged positive (DPO)": round(d["control_positive"], 3),
    "DPO training seconds": round(dpo_seconds, 1),
})
