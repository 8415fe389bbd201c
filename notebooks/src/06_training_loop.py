# %% [markdown]
# # 06 · The training loop
#
# *Mirrors §3.2 (模型选择与训练, "model choice and training": the five training steps) and §4.2
# (损失函数, "loss functions") of the source document.*
#
# The document lists five steps for training a large language model:
#
# 1. **initialise** the parameters (randomly, or from a pre-trained model);
# 2. **forward pass**: feed the input through the model to get its output;
# 3. **loss**: compare the output with the true labels, e.g. with cross-entropy;
# 4. **backpropagation**: compute the gradients of the loss and update the parameters;
# 5. **iterate**: repeat steps 2–4 until the model converges.
#
# and, in §4.2, two loss functions: cross-entropy, L = −Σᵢ yᵢ log ŷᵢ, and mean squared error.
# This chapter turns each of these into code you can run and check:
#
# 1. **Initialisation**: why a good initialisation starts at a loss of exactly ln V, and what a
#    bad one does.
# 2. **The five steps written out** with `tf.GradientTape`; then the same training with the
#    course's `Trainer` and with Keras's `model.fit`, which must give *the same losses*.
# 3. **Cross-entropy** from its formula, equal to Keras's; why Keras wants logits rather than
#    probabilities; mean squared error for contrast.
# 4. **What makes training work**: warm-up and cosine decay, gradient clipping, weight decay,
#    mixed precision, and a small ablation that switches each one off.
# 5. **Training the course GPT on Tiny Shakespeare** with nanoGPT's configuration, with a
#    line per evaluation, loss curves, a checkpoint, a resume after a simulated crash, and samples of
#    its Shakespeare at several points of training.
# 6. **Step 1's other option: a pretrained model.** The course foundation model, pretrained
#    once on all the course's English text: its run record (loss curve, bits per byte beside
#    n-gram baselines, samples along the way), then a race on Shakespeare between a copy
#    started from its weights and one started random, with the same recipe.
#
# **Before you run it:** time: smoke ~1.5 min · cpu ~10 min (2 idle cores; ~4 min of it training the character GPT) · gpu ~5 min (estimated); memory: peak ~2.4 GB at cpu; data: tinyshakespeare (1.1 MB) (downloaded once, verified by SHA-256).

# %%
# NBVAL_IGNORE_OUTPUT
import dataclasses
import json
import math
import shutil
import tempfile
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Markdown, display

import course_lib
from course_lib import metrics, plots
from course_lib.data import load_tiny_shakespeare
from course_lib.exercises import ch06 as ex
from course_lib.generation import generate_text
from course_lib.gpt import GPT, GPTConfig, no_decay_variables
from course_lib.lm_data import split_tokens
from course_lib.pretraining import corpus_markdown, corpus_tokens, load_foundation
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything
from course_lib.tokenizers import CharTokenizer
from course_lib.training import (
    LMBatches,
    TrainConfig,
    Trainer,
    WarmupCosineSchedule,
    compile_model,
    history_table,
    make_optimizer,
)

tf.get_logger().setLevel("ERROR")  # quiet "retracing" notes: the ablation compiles many models
SEED = seed_everything(1337)
profile = active_profile()
print(f"seed {SEED}, profile {profile} ({profile.source}), Keras {keras.__version__}")

# %% [markdown]
# All sizes live in this cell, with the reason for each. The `smoke` profile (the test suite)
# shrinks everything so the notebook runs in well under a minute; its numbers mean nothing.
# The stored outputs come from the `cpu` profile.

# %%
# Parts 1, 2 and 4: a small GPT for the demonstrations, so each run takes seconds.
DEMO = profile.pick(
    smoke=dict(context_length=16, num_layers=1, num_heads=2, width=32),
    cpu=dict(context_length=64, num_layers=2, num_heads=4, width=64),
    gpu=dict(context_length=64, num_layers=2, num_heads=4, width=64),
)
DEMO_BATCH = profile.pick(smoke=4, cpu=12, gpu=12)  # nanoGPT's CPU batch
INIT_STEPS = profile.pick(smoke=4, cpu=200, gpu=300)  # good vs bad initialisation race
ABLATION_STEPS = profile.pick(smoke=2, cpu=200, gpu=1000)  # steps per ablation run
ABLATION_RUNS = profile.pick(smoke=(0, 4, 6), cpu=range(7), gpu=range(7))  # which of the 7 variants
EVAL_BATCHES = profile.pick(smoke=2, cpu=10, gpu=20)  # validation batches per evaluation
JIT = profile.pick(smoke=False, cpu=True, gpu=True)  # XLA: seconds to compile, faster steps
# Part 2: the three loops are compared at one tiny, fixed size at every profile, without XLA,
# so the comparison prints the same on any machine.
EQUAL = dict(context_length=16, num_layers=1, num_heads=2, width=32)
EQUAL_BATCH, EQUAL_STEPS = 4, 5
# Part 5: the course GPT, with nanoGPT's configurations for Tiny Shakespeare.
GPT_SIZE = profile.pick(smoke="tiny", cpu="nanogpt_cpu", gpu="nanogpt_gpu")
BATCH = profile.pick(smoke=4, cpu=12, gpu=64)  # nanoGPT: 12 on a CPU, 64 on a GPU
TRAIN = profile.pick(  # TrainConfig() is nanoGPT's CPU run: 2000 steps, lr 1e-3 -> 1e-4
    smoke=TrainConfig(max_steps=6, warmup_steps=1, eval_interval=2, eval_batches=2,
                      jit_compile=False),
    cpu=TrainConfig(),
    gpu=TrainConfig(max_steps=5000, eval_batches=200),  # nanoGPT's GPU run
)
STOPS = profile.pick(smoke=(2, 4), cpu=(250, 1000), gpu=(250, 2500))  # sample here; crash at 2nd
SAMPLE_CHARS = profile.pick(smoke=40, cpu=300, gpu=500)  # characters per sample
# Part 6: the course foundation model (loaded, never retrained here), fine-tuned on Shakespeare
# from its pretrained weights and from a random start, with one recipe for both.
FT_STEPS = profile.pick(smoke=4, cpu=100, gpu=300)  # ~0.7 passes over the play's BPE tokens at cpu
FT_BATCH = profile.pick(smoke=2, cpu=8, gpu=32)  # sequences of 256 tokens per step
FT_LR = 5e-4  # peak, after 10% warm-up; near the pretraining peak (6e-4), so both starts move
FT_EVAL = profile.pick(smoke=2, cpu=20, gpu=50)  # steps between held-out evaluations
FT_EVAL_BATCHES = profile.pick(smoke=1, cpu=4, gpu=16)  # fixed held-out batches per evaluation

# %% [markdown]
# ## 0. The data
#
# Every language model in this chapter reads Tiny Shakespeare (1.1 million characters of the
# plays) one character at a time, like nanoGPT's `shakespeare_char`: the vocabulary is the 65
# distinct characters, the first 90% of the text is for training and the last 10% for
# validation.

# %%
# NBVAL_CHECK_OUTPUT
text = load_tiny_shakespeare()
tokenizer = CharTokenizer.from_text(text)
ids = tokenizer.encode(text)
train_ids, val_ids = split_tokens(ids, 0.9)
V = tokenizer.vocab_size
print(f"{len(text):,} characters, vocabulary V = {V}")
print(f"train {len(train_ids):,} tokens, validation {len(val_ids):,} tokens")
print(repr(text[:60]))

# %% [markdown]
# The demonstrations draw random windows of the training text with `LMBatches`: batch `x` is
# `DEMO_BATCH` windows of characters, and `y` is the same windows shifted by one, so at every
# position the label is the next character.

# %%
train_batches = LMBatches(train_ids, DEMO["context_length"], DEMO_BATCH, seed=0)
val_batches = LMBatches(val_ids, DEMO["context_length"], DEMO_BATCH, seed=1)
x_val, y_val = next(iter(val_batches(start_step=0, num_steps=1)))


def demo_model(weights=None, *, policy=None):
    """A small course GPT; `weights` copies another model's starting point."""
    if policy:
        keras.mixed_precision.set_dtype_policy(policy)
    try:
        model = GPT(GPTConfig(vocab_size=V, **DEMO))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    if weights is not None:
        model.set_weights(weights)
    return model


def demo_config(steps, **overrides):
    """The nanoGPT recipe (warm-up, cosine decay, clipping, weight decay) for a short run."""
    base = dict(max_steps=steps, warmup_steps=max(1, steps // 10), eval_interval=max(1, steps // 10),
                eval_batches=EVAL_BATCHES, jit_compile=JIT, verbose=0)
    return TrainConfig(**{**base, **overrides})


loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
print(x_val.shape, "->", y_val.shape)

# %% [markdown]
# ## 1. Step 1: initialise the parameters
#
# Before training, the model knows nothing, and the best it can honestly do is spread its bet
# evenly over the V possible next characters: probability 1/V each. The cross-entropy of that
# guess is −log(1/V) = **ln V**, which for V = 65 is ln 65 ≈ 4.17. A well-initialised network
# starts right there.
#
# The course GPT is initialised as nanoGPT's: every weight matrix ~ N(0, 0.02²). With weights
# that small the logits are all close to 0, the softmax is close to uniform, and the first
# loss is ln V plus a little.

# %%
# NBVAL_CHECK_OUTPUT
good = demo_model()
start_weights = good.get_weights()  # every later demo starts from this exact point
first_loss = float(loss_fn(y_val, good(x_val)))
print(f"ln V = ln {V} = {math.log(V):.4f}")
print(f"first loss within 0.05 of ln V: {abs(first_loss - math.log(V)) < 0.05}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"first loss of the well-initialised model: {first_loss:.4f}")

# %% [markdown]
# What if we draw the weights from N(0, 1), the "obvious" choice? Each logit is then a sum of
# many large random terms, some characters get huge logits, and the model is *confidently
# wrong*: it gives the true next character a tiny probability, and the loss is far above ln V.

# %%
bad = demo_model(start_weights)
for i, variable in enumerate(bad.trainable_variables):
    if variable.name in ("kernel", "embeddings"):  # the matrices; biases and norms stay as they are
        variable.assign(keras.random.normal(variable.shape, stddev=1.0, seed=i))
bad_start = bad.get_weights()
bad_first_loss = float(loss_fn(y_val, bad(x_val)))

# %%
# NBVAL_CHECK_OUTPUT
print(f"bad initialisation starts above 3 × ln V: {bad_first_loss > 3 * math.log(V)}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"first loss with N(0, 1) weights: {bad_first_loss:.2f} (ln V = {math.log(V):.2f})")

# %% [markdown]
# Both models now train for the same steps with the same recipe. The badly initialised one
# spends its first steps undoing its confident mistakes, and its huge gradients are clipped
# (section 4), so it falls behind and stays behind for a long time.

# %%
# NBVAL_IGNORE_OUTPUT
init_runs = {}
for name, model in [("N(0, 0.02²) init", good), ("N(0, 1) init", bad)]:
    trainer = Trainer(model, demo_config(INIT_STEPS))
    init_runs[name] = trainer.fit(train_batches, val_batches)
    print(f"{name:>18}: validation loss after {INIT_STEPS} steps {init_runs[name][-1]['val_loss']:.3f}")

_, ax = plt.subplots(figsize=(7, 4))
for name, history in init_runs.items():
    plots.plot_loss_curves(history, ax=ax, label=name, log_y=True, title="Good vs bad initialisation")
ax.axhline(math.log(V), color="grey", linestyle=":", label="ln V")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. Steps 2–5 written out, then three ways to run them
#
# Here are steps 2 to 5 as plain code. `tf.GradientTape` records the forward pass so that
# TensorFlow can run it backwards and return the gradient of the loss with respect to every
# weight (backpropagation); the optimizer then moves each weight a small step against its
# gradient. The optimizer is the one the course trains with, AdamW with warm-up and cosine
# decay, gradient clipping and weight decay, all explained in section 4.
#
# To compare fairly, every run below starts from the same weights and sees the same batches.

# %%
equal_config = GPTConfig(vocab_size=V, **EQUAL)
equal_recipe = TrainConfig(max_steps=EQUAL_STEPS, warmup_steps=2, eval_interval=1, eval_batches=1,
                           jit_compile=False, verbose=0)
equal_batches = LMBatches(train_ids, EQUAL["context_length"], EQUAL_BATCH, seed=0)
seed_everything(SEED)
equal_start = GPT(equal_config).get_weights()


def fresh_equal_model():
    model = GPT(equal_config)
    model.set_weights(equal_start)  # step 1: initialise (here: the same start for every run)
    return model


model = fresh_equal_model()
optimizer = make_optimizer(model, equal_recipe)


def train_step(x, y):  # decorate with @tf.function to compile it into a graph: faster, same numbers
    with tf.GradientTape() as tape:
        logits = model(x, training=True)  # step 2: forward pass, (B, T) ids -> (B, T, V) logits
        loss = loss_fn(y, logits)  # step 3: the loss, mean cross-entropy over B × T positions
    grads = tape.gradient(loss, model.trainable_variables)  # step 4a: backpropagation
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))  # step 4b: update
    return loss


tape_losses = []
for x, y in equal_batches(start_step=0, num_steps=EQUAL_STEPS):  # step 5: iterate
    tape_losses.append(float(train_step(x, y)))

# %% [markdown]
# The course's `Trainer` runs the same steps (with `model.train_on_batch`), adding evaluation,
# checkpoints and a printed line per evaluation; `model.fit` is Keras's own loop. With one epoch of one step
# each, `fit`'s history holds the loss of every step.

# %%
trainer = Trainer(fresh_equal_model(), equal_recipe)
trainer_losses = [row["train_loss"] for row in trainer.fit(equal_batches)]

fit_model = compile_model(fresh_equal_model(), equal_recipe)
history = fit_model.fit(equal_batches(start_step=0, num_steps=EQUAL_STEPS), epochs=EQUAL_STEPS,
                        steps_per_epoch=1, shuffle=False, verbose=0)
fit_losses = history.history["loss"]

# %%
# NBVAL_IGNORE_OUTPUT
print("step   GradientTape   Trainer   model.fit")
for step, losses in enumerate(zip(tape_losses, trainer_losses, fit_losses, strict=True), 1):
    print(f"{step:>4}   {losses[0]:>12.5f}   {losses[1]:>7.5f}   {losses[2]:>9.5f}")

# %%
# NBVAL_CHECK_OUTPUT
print(f"{EQUAL_STEPS} steps each; the losses agree to 1e-5:")
print(f"  GradientTape vs Trainer:   {np.allclose(tape_losses, trainer_losses, atol=1e-5)}")
print(f"  GradientTape vs model.fit: {np.allclose(tape_losses, fit_losses, atol=1e-5)}")

# %% [markdown]
# Three loops, one computation. From here on the chapter uses the `Trainer`; when you need
# something unusual (two models, a custom gradient), the `GradientTape` loop is what you write.
#
# ## 3. The loss: cross-entropy, and why from logits
#
# §4.2 of the document gives cross-entropy as L = −Σᵢ yᵢ log ŷᵢ. For one prediction, ŷ is the
# model's probability for each of the V classes and y the true distribution. With a one-hot y
# (the next character is exactly one character), every term but one is zero, and
# L = −log ŷ[true class]: the negative log of the probability the model gave the right answer.
# The training loss is the mean of that over all B × T positions of a batch.
#
# Three ways to compute it on the untrained N(0, 1) model's logits (large ones, which makes the
# check harder):
# the formula with an explicit one-hot y, `course_lib.metrics.sparse_cross_entropy`, and
# Keras's `sparse_categorical_crossentropy(from_logits=True)`.

# %%
logits = keras.ops.convert_to_numpy(demo_model(bad_start)(x_val)).astype(np.float64)  # (B, T, V)
labels = np.asarray(y_val)  # (B, T)
shifted = logits - logits.max(axis=-1, keepdims=True)
probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)  # ŷ = softmax(logits)
one_hot = np.eye(V)[labels]  # y, (B, T, V)
per_position = -(one_hot * np.log(probs)).sum(axis=-1)  # L = −Σᵢ yᵢ log ŷᵢ, (B, T)
formula = float(per_position.mean())
ours = metrics.sparse_cross_entropy(labels, logits)
reference = float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(
    labels, logits.astype("float32"), from_logits=True)))

# %%
# NBVAL_CHECK_OUTPUT
print(f"formula vs course_lib: relative difference < 1e-6: {abs(formula - ours) / ours < 1e-6}")
print(f"course_lib vs Keras:   relative difference < 1e-5: {abs(ours - reference) / ours < 1e-5}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"mean cross-entropy of the untrained N(0, 1) model: formula {formula:.4f}, course_lib {ours:.4f}, "
      f"Keras {reference:.4f}")

# %% [markdown]
# ### Why Keras wants logits
#
# A model's last layer outputs *logits*, unnormalised scores; softmax turns them into
# probabilities. You could apply softmax in the model and give the loss probabilities, but in
# floating point that loses information. Take logits (100, 0, −100) and a true class 2, whose
# exact loss is −log softmax = 100 + log(1 + e⁻¹⁰⁰ + e⁻²⁰⁰) + 100 = 200.0:

# %%
# NBVAL_CHECK_OUTPUT
z = np.array([[100.0, 0.0, -100.0]], dtype=np.float32)
label = np.array([2])
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    naive = np.exp(z) / np.exp(z).sum()  # float32: e^100 overflows to inf, inf/inf = nan
    safe_probs = np.exp(z - z.max()) / np.exp(z - z.max()).sum()  # e^-200 underflows to 0
    rows = {
        "softmax, then -log (naive)": float(-np.log(naive[0, 2])),
        "stable softmax, then -log": float(-np.log(safe_probs[0, 2])),
    }
rows["Keras, from probabilities"] = float(keras.losses.sparse_categorical_crossentropy(
    label, safe_probs, from_logits=False)[0])
rows["Keras, from logits"] = float(keras.losses.sparse_categorical_crossentropy(
    label, z, from_logits=True)[0])
rows["course_lib log-softmax"] = metrics.sparse_cross_entropy(label, z)
print(f"naive softmax probabilities: {naive[0]}")
for name, value in rows.items():
    print(f"{name:>28}: {value:.4f}")

# %% [markdown]
# The naive softmax overflows: e¹⁰⁰ is beyond float32's range (about 3.4 × 10³⁸), so the
# "probabilities" come out as `nan` and 0. The stable softmax (maximum subtracted first) is
# right for the large probabilities, but e⁻²⁰⁰ underflows to 0, and −log 0 = ∞. Keras from
# probabilities quietly gives **16.12**: it clips probabilities to [10⁻⁷, 1 − 10⁻⁷] to avoid
# log 0, so its loss can never exceed −ln 10⁻⁷ ≈ 16.12, and a model that is confidently wrong
# gets far too little blame (and almost no gradient). From logits, the loss is computed as
# `logsumexp(z) − z[label]` with the maximum subtracted first, which never overflows and never
# takes log 0: exactly 200. That is why the course's models output logits and every loss is
# built with `from_logits=True`.
#
# ### Mean squared error, for contrast
#
# §4.2's other loss, mean squared error, (1/V) Σᵢ (yᵢ − ŷᵢ)², is the natural loss for
# regression (predicting a number). Applied to class probabilities it works poorly, and the
# gradient shows why. Below, a 3-class prediction whose probability for the true class p goes
# from almost 0 (confidently wrong) to almost 1; we take the gradient of each loss with respect
# to the true class's logit.

# %%
def loss_and_gradient(p_true, kind):
    # logits (log p, log q, log q) with q = (1 - p) / 2: softmax gives exactly (p, q, q)
    q = (1 - p_true) / 2
    z = tf.Variable(np.log([[p_true, q, q]]).astype("float32"))
    with tf.GradientTape() as tape:
        if kind == "cross-entropy":
            loss = keras.losses.sparse_categorical_crossentropy(np.array([0]), z, from_logits=True)[0]
        else:
            loss = keras.ops.mean((tf.one_hot([0], 3) - tf.nn.softmax(z)) ** 2)
    return float(loss), float(tape.gradient(loss, z)[0, 0])


p_grid = np.linspace(0.001, 0.999, 200)
curves = {kind: np.array([loss_and_gradient(p, kind) for p in p_grid])
          for kind in ("cross-entropy", "mean squared error")}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for kind, values in curves.items():
    axes[0].plot(p_grid, values[:, 0], label=kind)
    axes[1].plot(p_grid, values[:, 1], label=kind)
axes[0].set(xlabel="probability of the true class", ylabel="loss", title="Loss", ylim=(0, 5))
axes[1].set(xlabel="probability of the true class", ylabel="d loss / d true logit",
            title="Gradient on the true class's logit")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
print("p(true)   CE gradient   MSE gradient")
for p in (0.001, 0.1, 0.5, 0.9):
    print(f"{p:>7}   {loss_and_gradient(p, 'cross-entropy')[1]:>11.3f}   "
          f"{loss_and_gradient(p, 'mse')[1]:>12.3f}")

# %% [markdown]
# Cross-entropy's gradient on the true logit is simply p − 1: when the model is confidently
# wrong (p ≈ 0) it pushes with full force (−1). Mean squared error's gradient *vanishes* there
# (≈ 0 at p = 0.001): the softmax is saturated, and a model that starts out confidently wrong
# barely learns. Cross-entropy is also the negative log-likelihood, so minimising it is
# maximum-likelihood training, and its value is directly the perplexity's logarithm
# (chapter 07). For classification and language modelling, use cross-entropy; keep MSE for
# regression targets.
#
# ## 4. What makes training work
#
# The five steps are the whole algorithm, yet a plain loop with a fixed learning rate often
# trains badly, or diverges. Four additions, all in nanoGPT and in the course's `Trainer`, make
# it robust.
#
# **Learning-rate warm-up and cosine decay.** At the start, Adam's estimates of the gradient's
# scale are based on a handful of steps and the weights are random, so large steps are risky:
# the rate rises linearly over the first 100 steps (warm-up). Later, smaller steps let the
# model settle into a minimum instead of bouncing around it: the rate follows half a cosine
# down to a tenth of its peak at the last step. Here is nanoGPT's CPU schedule, the one part 5
# trains with:

# %%
# NBVAL_CHECK_OUTPUT
schedule = WarmupCosineSchedule(peak=1e-3, minimum=1e-4, warmup_steps=100, decay_steps=2000)
for step in (0, 50, 99, 100, 1050, 1999):
    print(f"step {step:>4}: learning rate {float(schedule(step)):.3e}")

# %%
plots.plot_lr_schedule(schedule, 2000, label="nanoGPT CPU: warm-up 100, cosine to step 2000")
plt.show()

# %% [markdown]
# **Gradient clipping.** One unlucky batch can produce a gradient many times larger than usual,
# and one huge step can wreck weights that took hours to learn. Clipping by global norm
# rescales the whole gradient (all weights together, so its direction is kept) whenever its
# length ‖g‖ = √(Σ g²) exceeds a threshold, 1.0 here. The badly initialised model of part 1
# shows why it matters:

# %%
# NBVAL_IGNORE_OUTPUT
def gradient_norm(model):
    with tf.GradientTape() as tape:
        loss = loss_fn(y_val, model(x_val, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    return float(tf.linalg.global_norm(grads))


print(f"gradient norm at the start, N(0, 0.02²) weights: {gradient_norm(demo_model(start_weights)):8.2f}")
print(f"gradient norm at the start, N(0, 1) weights:     {gradient_norm(demo_model(bad_start)):8.2f}")
print("with clipping at 1.0, any gradient longer than 1 is scaled down to length 1")

# %% [markdown]
# Even the well-initialised model's first gradients are longer than 1, so clipping is active in
# the first steps of every run; for the badly initialised one it shortens every step for a long
# time, which is part of why it fell behind in part 1.

# %% [markdown]
# **Weight decay.** AdamW shrinks every weight matrix a little at each step, towards 0
# (*decoupled* from the gradient, unlike an L2 term in the loss). It keeps weights from growing
# without need, a mild regulariser. As in nanoGPT, only matrices (kernels and embedding tables)
# are decayed; biases and LayerNorm parameters are not, since pulling those towards 0 fights the
# normalisation instead of regularising. For the course GPT in nanoGPT's CPU configuration:

# %%
# NBVAL_CHECK_OUTPUT
cpu_gpt = GPT(GPTConfig.nanogpt_cpu(V))
excluded = {id(v) for v in no_decay_variables(cpu_gpt)}
decayed = [v for v in cpu_gpt.trainable_variables if id(v) not in excluded]
kept = [v for v in cpu_gpt.trainable_variables if id(v) in excluded]


def count(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


print(f"decayed:     {len(decayed):>2} tensors, {count(decayed):>7,} parameters (kernels, embeddings)")
print(f"not decayed: {len(kept):>2} tensors, {count(kept):>7,} parameters (biases, LayerNorm)")

# %% [markdown]
# **Mixed precision.** Computing in 16-bit floats (bfloat16) instead of 32-bit halves memory
# traffic and, on GPUs and TPUs with matrix units, runs several times faster. The weights stay
# in float32 (tiny updates would vanish when rounded to 16 bits), each layer casts them to
# bfloat16 to compute, and the course GPT keeps its final LayerNorm and logits in float32 so the
# softmax over V classes keeps its resolution. One line switches it on, before building the
# model:

# %%
# NBVAL_CHECK_OUTPUT
mixed = demo_model(policy="mixed_bfloat16")
block = mixed.blocks[0]
print(f"policy {mixed.dtype_policy.name}: variables {block.variable_dtype}, "
      f"computation {block.compute_dtype}, logits {mixed(x_val[:1]).dtype.name}")

# %% [markdown]
# On a CPU without bfloat16 matrix units (most laptops) mixed precision is *slower*, because
# every cast costs time and there is no fast 16-bit arithmetic to win it back; it is in the
# ablation below to show that it does not hurt the loss.
#
# ### A small ablation
#
# What does each trick buy at this scale? Seven short runs of the demonstration GPT, identical
# except for one setting each: the same starting weights, the same batches, `ABLATION_STEPS`
# steps. The last two rows raise the learning rate tenfold, where the safety features matter
# most.

# %%
# NBVAL_IGNORE_OUTPUT
VARIANTS = {
    "nanoGPT recipe (baseline)": {},
    "no gradient clipping": dict(grad_clip=0.0),
    "no weight decay": dict(weight_decay=0.0),
    "no warm-up": dict(warmup_steps=0),
    "mixed precision (bfloat16)": dict(policy="mixed_bfloat16"),
    "lr × 10": dict(learning_rate=1e-2, min_learning_rate=1e-3),
    "lr × 10, no warm-up, no clipping": dict(learning_rate=1e-2, min_learning_rate=1e-3,
                                            warmup_steps=0, grad_clip=0.0),
}
ablation = []
for name, change in [list(VARIANTS.items())[i] for i in ABLATION_RUNS]:
    change = dict(change)
    model = demo_model(start_weights, policy=change.pop("policy", None))
    trainer = Trainer(model, demo_config(ABLATION_STEPS, eval_interval=ABLATION_STEPS, **change))
    final = trainer.fit(train_batches, val_batches)[-1]
    ablation.append((name, final["train_loss"], final["val_loss"],
                     1000 * trainer.median_step_seconds(skip=min(10, ABLATION_STEPS - 1))))

table = ["| variant | train loss (mean of all steps) | validation loss | ms / step |",
         "|---|---:|---:|---:|"]
table += [f"| {n} | {t:.3f} | {v:.3f} | {ms:.0f} |" for n, t, v, ms in ablation]
display(Markdown("\n".join(table)))

# %% [markdown]
# First, what the columns are. The trainer evaluates only once here, at the end, and its
# training loss is the mean over all the steps since the previous evaluation: all 200 steps,
# the first, high-loss ones included. That is why it sits above the validation loss, which is
# measured on the finished model. Compare rows within a column, not one column with the other.
#
# Read the table honestly: a few hundred steps of a tiny model is a short, gentle run. At the
# recipe's learning rate, switching off weight decay, warm-up or full precision changes the
# validation loss by a few thousandths, less than the run-to-run noise of another seed; weight
# decay in particular regularises over *long* runs and cannot show in 200 steps. Switching off
# clipping costs a little. The last two rows are the instructive ones: for so short a run the
# recipe's rate is cautious, and ten times that rate learns faster *with* warm-up and clipping,
# but the same rate without them ends up clearly worse than the baseline, because the first,
# large, unclipped steps throw the random model far off. That is the job of warm-up and
# clipping: insurance that lets you train at a higher rate, and that matters more as models
# grow. Mixed precision leaves the loss unchanged to three decimals (2.589 both ways) and on
# this CPU saves no time: its steps are a little slower (20 ms against 17 for the baseline),
# as the casts predicted. Single timings vary with whatever else the machine is doing.
#
# ## 5. Training the course GPT on Tiny Shakespeare
#
# Now the real run: the course GPT with nanoGPT's configuration for the profile. On the `cpu`
# profile that is nanoGPT's CPU run: 4 layers, 4 heads, width 128, context 64 characters,
# batch 12, 2,000 steps, learning rate 10⁻³ with 100 warm-up steps and cosine decay to 10⁻⁴,
# clipping at 1.0, weight decay 0.1. nanoGPT reports a validation loss of about **1.88** for
# this run.

# %%
# NBVAL_IGNORE_OUTPUT
if GPT_SIZE == "tiny":
    config = GPTConfig(vocab_size=V, context_length=16, num_layers=1, num_heads=2, width=32)
else:
    config = getattr(GPTConfig, GPT_SIZE)(V)
seed_everything(SEED)
model = GPT(config)
gpt_train = LMBatches(train_ids, config.context_length, BATCH, seed=0)
gpt_val = LMBatches(val_ids, config.context_length, BATCH, seed=1)
print(f"{GPT_SIZE}: {config.num_layers} layers, {config.num_heads} heads, width {config.width}, "
      f"context {config.context_length}; {model.count_params():,} parameters")
print(f"{TRAIN.max_steps} steps of {BATCH} × {config.context_length} = "
      f"{BATCH * config.context_length} characters: {TRAIN.max_steps * BATCH * config.context_length:,} "
      f"characters, {TRAIN.max_steps * BATCH * config.context_length / len(train_ids):.1f} passes "
      "over the training text")


def sample(model, seed=0):
    return generate_text(model, tokenizer, "ROMEO:", SAMPLE_CHARS, temperature=0.8, seed=seed,
                         jit_compile=False)


samples = {0: sample(model)}
print("--- step 0, untrained ---")
print(samples[0])

# %% [markdown]
# Training runs in stages so that we can look at the model along the way. Each stage is a
# `Trainer` with `checkpoint_dir`: every `eval_interval` steps it writes a checkpoint (the model
# with its optimizer state), and a new trainer pointed at the same folder resumes from the last
# one. The learning-rate schedule always spans the full run (`decay_steps`), so stopping early
# does not change it.

# %%
# NBVAL_IGNORE_OUTPUT
checkpoint_dir = Path(tempfile.mkdtemp(prefix="ch06-checkpoints-"))


def train_until(model, step):
    config = dataclasses.replace(TRAIN, max_steps=step, decay_steps=TRAIN.decay_steps)
    trainer = Trainer(model, config, checkpoint_dir=checkpoint_dir)
    trainer.fit(gpt_train, gpt_val)
    return trainer


t0 = time.perf_counter()
trainer = train_until(model, STOPS[0])
samples[STOPS[0]] = sample(model)
print(f"\n--- step {STOPS[0]} ---")
print(samples[STOPS[0]])

# %%
# NBVAL_IGNORE_OUTPUT
trainer = train_until(model, STOPS[1])
samples[STOPS[1]] = sample(model)
print(f"\n--- step {STOPS[1]} ---")
print(samples[STOPS[1]])
print("\ncheckpoint folder:", sorted(p.name for p in checkpoint_dir.iterdir()))

# %% [markdown]
# ### A crash, and a resume
#
# Suppose the machine dies now. We throw the model away and build a **new, untrained one**, as
# a fresh Python process would. Its loss on a validation batch is back at ln V. A trainer given
# the checkpoint folder finds the last checkpoint, restores the weights *and* the optimizer
# state (Adam's moment estimates and the step counter, which drives the learning-rate
# schedule), and carries on from where the first run stopped.

# %%
# NBVAL_IGNORE_OUTPUT
del model, trainer  # the "crash"
model = GPT(config)  # a new process builds a new, randomly initialised model
x_check, y_check = next(iter(gpt_val(start_step=0, num_steps=1)))
print(f"new model, before resuming: validation-batch loss {float(loss_fn(y_check, model(x_check))):.3f}")
trainer = Trainer(model, TRAIN, checkpoint_dir=checkpoint_dir)  # the full run's configuration
trainer.fit(gpt_train, gpt_val)
train_seconds = time.perf_counter() - t0
samples[TRAIN.max_steps] = sample(model)

# %% [markdown]
# The trainer picked up at the checkpoint's step, not at 0. The history below is the
# whole run: the rows before the resume came back from the checkpoint's `state.json`, the
# rows after were produced by the new trainer, and the loss continues smoothly across the
# restart instead of jumping back to ln V. (`elapsed_s` counts from the start of each stage.)

# %%
# NBVAL_IGNORE_OUTPUT
history = trainer.history
print(history_table(history))
final = history[-1]
print(f"\noptimizer step after the run: {int(model.optimizer.iterations)}; "
      f"learning rate {final['lr']:.2e}")
print(f"training time {train_seconds / 60:.1f} min (3 stages, XLA compile and evaluations included)")
print(f"final validation loss {final['val_loss']:.4f}, perplexity {metrics.perplexity(final['val_loss']):.2f} "
      f"(nanoGPT reports 1.88 for its CPU run)")

# %%
ax = plots.plot_loss_curves(history, reference=math.log(V), reference_label="ln V (uniform guess)",
                            title="Course GPT on Tiny Shakespeare")
ax.axvline(STOPS[1], color="red", linestyle=":", linewidth=1, label="crash + resume")
ax.legend()
plt.show()

# %% [markdown]
# Both curves fall fast from ln V ≈ 4.17 and then ever more slowly. (The first training point
# is higher than the validation point because it averages the first 250 steps, untrained start
# included.) Towards the end the validation loss stays a little above the training loss: the
# model fits the plays it trains on better than the unseen ones at the end of the text, a
# small generalisation gap rather than real overfitting after 1.5 passes over the data. The
# validation loss here is the mean over 20 random validation batches (nanoGPT's
# `estimate_loss`); chapter 07 evaluates the same model on the whole validation text and
# compares it with n-gram baselines.
#
# ### Samples along the way
#
# Each sample starts from the prompt `ROMEO:` and draws characters with temperature 0.8.

# %%
# NBVAL_IGNORE_OUTPUT
for step, text_sample in samples.items():
    print(f"=== after {step} steps ===")
    print(text_sample)
    print()

# %% [markdown]
# At step 0 the characters are uniform noise. After a few hundred steps the model has learned
# which characters are common, spaces and line breaks, and lines of verse length, in
# pronounceable nonsense; by a thousand steps short real words appear ("thou", "not", "my",
# "and"); by the end most words are real, with capitals and punctuation in plausible places,
# but there is little meaning: a 0.8-million-parameter model that read the text one and a half
# times has learned spelling and layout, not sense.
#
# ### Saving the model for later chapters
#
# Chapters 07 (evaluation), 04 and 09 reuse this model rather than training their own. We save
# a copy **without the optimizer state** (a third of the size of a checkpoint), the tokenizer,
# and a small JSON file describing the run. Only the `cpu` profile writes into the repository's
# `notebooks/artifacts/`; the smoke test writes to a temporary folder.

# %%
# NBVAL_IGNORE_OUTPUT
REPO = Path(course_lib.__file__).resolve().parents[1]
artifacts = profile.pick(smoke=Path(tempfile.mkdtemp(prefix="ch06-artifacts-")),
                         cpu=REPO / "notebooks" / "artifacts",
                         gpu=REPO / "notebooks" / "artifacts" / "gpu")
artifacts.mkdir(parents=True, exist_ok=True)
clean = GPT(config)  # no optimizer attached: saving it stores weights and config only
clean.set_weights(model.get_weights())
model_path = artifacts / "shakespeare_gpt.keras"
clean.save(model_path)
tokenizer.save(artifacts / "shakespeare_char_tokenizer.json")
run_info = {
    "model": "course_lib.gpt.GPT",
    "config": config.to_dict(),
    "parameters": int(model.count_params()),
    "profile": profile.name,
    "seed": SEED,
    "data": "tinyshakespeare/input.txt, characters; split_tokens(ids, 0.9): first 90% train",
    "tokenizer": "shakespeare_char_tokenizer.json (CharTokenizer)",
    "batch_size": BATCH,
    "train_config": {k: v for k, v in TRAIN.to_dict().items() if k != "extra"},
    "steps": final["step"],
    "train_loss": round(final["train_loss"], 4),
    "val_loss": round(final["val_loss"], 4),
    "val_loss_note": f"mean over {TRAIN.eval_batches} random validation batches (estimate_loss)",
    "train_minutes": round(train_seconds / 60, 1),
    "keras": keras.__version__,
}
(artifacts / "shakespeare_gpt.json").write_text(json.dumps(run_info, indent=1) + "\n")
for path in sorted(artifacts.glob("shakespeare*")):
    print(f"{path.name:<34} {path.stat().st_size / 1e6:6.2f} MB")

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.model_io import load_model

reloaded = load_model(model_path)
same = np.allclose(keras.ops.convert_to_numpy(reloaded(x_check)),
                   keras.ops.convert_to_numpy(model(x_check)), atol=1e-5)
print(f"the reloaded model gives the same logits: {same}")
print(f"the reloaded tokenizer round-trips: "
      f"{CharTokenizer.load(artifacts / 'shakespeare_char_tokenizer.json') == tokenizer}")
shutil.rmtree(checkpoint_dir)  # the checkpoints were for the resume demonstration only

# %% [markdown]
# ## 6. The course foundation model, and §3.2's other start: a pretrained model
#
# Step 1 of §3.2 says: initialise the parameters *randomly, or from a pre-trained model*. So
# far every model started random. The course also has a pretrained one, the **course
# foundation model**: a GPT of 5.9 million parameters (6 layers, width 256, 4 heads, a
# context of 256 tokens and a byte-level BPE vocabulary of 4,096 ids), trained once with the
# same `Trainer` as above, by one command that checkpoints and resumes:
#
# ```
# python -m course_lib pretrain --profile cpu
# ```
#
# It read all the English text the course uses, except the parts that chapters validate or
# test on. Training it took about an hour on two CPU cores, so chapters **load** it; none
# trains it again. Its run record travels with it; here is what it says.

# %%
# NBVAL_IGNORE_OUTPUT
foundation, bpe, run = load_foundation()  # checks the files' SHA-256 against the run record
print(f"{run['parameters']:,} parameters; {run['steps']:,} steps of "
      f"{run['config']['batch_size']} × {run['config']['context_length']} tokens = "
      f"{run['tokens_seen']:,} tokens ({run['passes']:.1f} passes over the training text)")
print(f"{run['wall_s'] / 60:.0f} min of training on {run['machine']['cores']} CPU cores")
display(Markdown(corpus_markdown(run["corpus"])))

# %% [markdown]
# Every source counts: plays, Wikipedia articles (from SQuAD), short English sentences (from
# the translation pairs), image captions, news, everyday dialogues and chats. The sentence-
# polarity reviews have no training tokens at all: chapters 02, 07, 08, 13 and 14 test on
# different splits of them, so all of them are held out.
#
# **Bits per byte.** Losses in nats per token cannot be compared between tokenizers: a model
# with longer tokens has fewer, harder predictions. Dividing the total loss by the number of
# *bytes* of text, and using log base 2, gives a unit every language model shares: **bits per
# byte** (BPB). A model that knows nothing about bytes needs 8; a good compressor of English
# needs about 2; large LLMs reach well under 1. The curve below is the held-out BPB during
# pretraining, next to n-gram models trained on the same tokens.

# %%
# NBVAL_IGNORE_OUTPUT
steps = [r["step"] for r in run["history"]]
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
axes[0].plot([r["step"] for r in run["history"]], [r["train_loss"] for r in run["history"]],
             "o-", label="training loss")
axes[0].plot(steps, [r["val_loss"] for r in run["history"]], "o-", label="held-out loss")
axes[0].axhline(math.log(bpe.vocab_size), color="gray", ls=":", label="ln V (uniform guess)")
axes[0].set(xlabel="step", ylabel="nats per token", title="Foundation model: loss")
axes[0].legend()
axes[1].plot([r["step"] for r in run["bpb_curve"]], [r["val_bpb"] for r in run["bpb_curve"]],
             "o-", label="GPT, held-out")
for (order, r), style in zip(run["ngram_bpb"].items(), ["--", "-.", ":"], strict=False):
    axes[1].axhline(r["all"], color="k", ls=style, lw=1, label=f"{order}-gram")
axes[1].set(xlabel="step", ylabel="bits per byte", title="Held-out bits per byte")
axes[1].legend()
plt.tight_layout()
plt.show()

rows = [("GPT (foundation)", run["heldout_bpb"])] + [
    (f"{order}-gram (add-{r['k']:g})", r) for order, r in run["ngram_bpb"].items()]
sources = list(run["heldout_bpb"]["by_source"])
table = "| model | " + " | ".join(sources) + " | all |\n|---|" + "--:|" * (len(sources) + 1)
for name, r in rows:
    table += (f"\n| {name} | " + " | ".join(f"{r['by_source'][s]:.2f}" for s in sources)
              + f" | **{r['all']:.3f}** |")
display(Markdown(table + "\n\nBits per byte on the first "
                 f"{run['heldout_bpb']['tokens_per_source']:,} held-out tokens of each source."))

# %% [markdown]
# On the held-out text of all eight sources the GPT needs **1.93 bits per byte**, against
# 2.10 for the best n-gram model, the bigram (the trigram is worse, 2.33: in 2.9 million
# training tokens most of its three-token contexts were seen once or never). It does best on
# short, regular sentences (the translation pairs' English 1.51, captions 1.44, chats 1.57,
# dialogues 1.60) and worst on the movie reviews (2.72), a kind of text it never saw. The
# held-out curve on the right is measured on a smaller sample of batches than the table, so
# its last point and the table's figure differ a little. The training loss ends well below
# the held-out loss: part of that gap is the reviews, part is the ordinary gap between text
# read twice and text never read.
#
# ### Samples along the way
#
# Every few hundred steps the run wrote continuations of the same prompts (top-p 0.9 at
# temperature 0.8, fixed seeds), so we can watch the model learn without running it.

# %%
# NBVAL_IGNORE_OUTPUT
for snapshot in run["samples"]:
    print(f"=== after {snapshot['step']:,} steps ===")
    for s in snapshot["samples"][:3]:
        print(repr(s["prompt"] + s["top_p"]))
    print()

# %% [markdown]
# After 350 steps the model already has each source's layout (speakers' names and verse
# lines, sentences that end in full stops, `A:`/`B:` turns) in half-formed words ("younce
# shallce"). By 1,050 steps more words are real, though invented ones remain ("Fordine",
# "Kiants"), and the play extract has the right shape, ending on a new speaker, JULIET. At the
# end most short stretches read as English, many sentences still do not parse ("The job of
# Sciate wasna."), and nothing means anything as a whole: "The history of the city" drifts into short caption-like sentences ("The first
# time."), because captions and short sentences are much of what it read. A model of 5.9
# million parameters that read 5.7 million tokens learns form, not facts.
#
# ### Random or pretrained: the same recipe from two starts
#
# Now §3.2's choice as an experiment. Two copies of the same architecture train on Tiny
# Shakespeare's training part with the same recipe (steps, batches, learning-rate schedule,
# seed): one starts from the foundation model's weights, the other from a random
# initialisation, as every model in this chapter did so far. Both are scored on the held-out
# last 10% of the play text, the same text the character model above was validated on, so
# their bits per byte compare with its loss too.

# %%
# NBVAL_IGNORE_OUTPUT
tokens = corpus_tokens()  # the corpus as the foundation tokenizer's ids
shakespeare = {side: tokens.ids(side, "tinyshakespeare") for side in ("train", "heldout")}
heldout_bytes_per_token = (tokens.num_bytes("heldout", "tinyshakespeare")
                           / len(shakespeare["heldout"]))
ft_config = TrainConfig(max_steps=FT_STEPS, learning_rate=FT_LR, min_learning_rate=FT_LR / 10,
                        warmup_steps=max(1, FT_STEPS // 10), eval_interval=FT_EVAL,
                        eval_batches=FT_EVAL_BATCHES, jit_compile=JIT, verbose=0)
context = foundation.config.context_length
ft_val = LMBatches(shakespeare["heldout"], context, FT_BATCH, seed=1)  # the same batches each time
seed_everything(SEED)
starts = {"pretrained": foundation.get_weights(), "random": GPT(foundation.config).get_weights()}
runs = {}
for name, weights in starts.items():
    seed_everything(SEED)  # the same data order and dropout draws for both
    model_ft = GPT(foundation.config)
    model_ft.set_weights(weights)
    start_loss = np.mean([float(loss_fn(y, model_ft(x)))  # trainer.evaluate's batches, step 0
                          for x, y in ft_val(start_step=0, num_steps=FT_EVAL_BATCHES)])
    trainer = Trainer(model_ft, ft_config)
    t0 = time.perf_counter()
    trainer.fit(LMBatches(shakespeare["train"], context, FT_BATCH, seed=0), ft_val)
    runs[name] = {"history": [{"step": 0, "val_loss": start_loss}] + trainer.history,
                  "seconds": time.perf_counter() - t0}


def to_bpb(nats_per_token):
    return nats_per_token / math.log(2) / heldout_bytes_per_token


for name, r in runs.items():
    first, last = r["history"][0], r["history"][-1]
    print(f"{name:>10s} start: held-out {to_bpb(first['val_loss']):.2f} bits per byte at step "
          f"{first['step']}, {to_bpb(last['val_loss']):.2f} after {last['step']} steps "
          f"({r['seconds']:.0f} s)")
print(f"the character GPT of part 5 after {final['step']:,} steps: "
      f"{final['val_loss'] / math.log(2):.2f} bits per byte (one byte per character)")

# %%
# NBVAL_IGNORE_OUTPUT
fig, ax = plt.subplots(figsize=(7, 4))
for name, r in runs.items():
    h = r["history"]
    ax.plot([row["step"] for row in h], [to_bpb(row["val_loss"]) for row in h], "o-",
            label=f"{name} start")
ax.axhline(final["val_loss"] / math.log(2), color="gray", ls="--",
           label=f"character GPT, {final['step']:,} steps")
ax.set(xlabel="fine-tuning step", ylabel="held-out bits per byte",
       title="Tiny Shakespeare: pretrained vs random start")
ax.legend()
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Same architecture, same data, same steps; only the starting weights differ. The pretrained
# copy starts at 2.47 bits per byte before a single fine-tuning step, already better than the
# character GPT of part 5 after its 2,000 steps (2.75), and improves to 2.37. The random copy
# starts at 4.49, the uniform guess over 4,096 tokens (12 bits per token, about 2.7 bytes per
# token), and after the same 100 steps is at 2.95, behind both. The gap between the two
# copies, 0.59 bits per byte, is what pretraining bought. (The untouched foundation model
# scores 2.47 here and 2.42 in the table above: the race measures on 4 random batches of the
# held-out plays, the table on their first 16,384 tokens.) Two cautions when reading it: the
# foundation model read the plays' first 90% during pretraining, so this is more training on
# familiar text than transfer to a new domain (chapter 08 measures transfer to text the model
# never saw); and the character GPT differs in size and tokenizer, so the comparison with it
# is a landmark, not a controlled experiment.

# %% [record]
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("06", {
    "val loss": float(final["val_loss"]),
    "val perplexity": float(metrics.perplexity(final["val_loss"])),
    "training minutes": train_seconds / 60,
    "Shakespeare bpb, pretrained start": to_bpb(runs["pretrained"]["history"][-1]["val_loss"]),
    "Shakespeare bpb, random start": to_bpb(runs["random"]["history"][-1]["val_loss"]),
})
print(key_figures.read_text(encoding="utf-8"))

# %% [markdown]
# ## Exercises
#
# Fill in each `None`, run the cell, and read the verdict. Worked solutions:
# `notebooks/solutions/06_training_loop.ipynb`.
#
# **Exercise 6.1.** GPT-2's tokenizer has 50,257 tokens. What loss (in nats) should a freshly,
# well-initialised GPT-2 report at its first step?

# %%
answer = None  # your answer
ex.check_initial_loss(answer)

# %% [markdown]
# **Exercise 6.2.** Write `cross_entropy(logits, labels)` in NumPy: logits `(N, V)`, integer
# labels `(N,)`, one loss per row. The check tries ordinary logits, then logits of ±1000,
# where the naive formula fails.

# %%
def cross_entropy(logits, labels):
    return None  # your code here


ex.check_cross_entropy_function(cross_entropy)

# %% [markdown]
# **Exercise 6.3.** With nanoGPT's CPU schedule (peak 10⁻³ after 100 warm-up steps, cosine
# decay to 10⁻⁴ at step 2,000), what is the learning rate at step 1,500? Work it out from the
# formula, not with `WarmupCosineSchedule`.

# %%
answer = None  # your answer
ex.check_learning_rate(answer)

# %% [markdown]
# ## Summary
#
# - The five steps of §3.2 are a dozen lines with `tf.GradientTape`; the course `Trainer` and
#   `model.fit` run the same computation and give the same losses, step for step.
# - A well-initialised model starts at loss ln V (4.17 for 65 characters); a model initialised
#   with large weights starts confidently wrong, far higher, and stays behind.
# - Cross-entropy L = −Σ yᵢ log ŷᵢ reduces to −log ŷ[true class]; compute it from logits
#   (log-softmax), never by taking the log of probabilities. MSE's gradient vanishes exactly
#   when a classifier is most wrong.
# - Warm-up, cosine decay, clipping, weight decay and mixed precision are what make long, large
#   runs safe and fast; in a short, small run their effects are small.
# - The course GPT, trained with nanoGPT's CPU configuration (2,000 steps of 12 × 64
#   characters; about 4 minutes of training on two CPU cores in the stored run), reaches
#   a **validation loss of 1.907, perplexity 6.73** (estimated on 20 random validation batches;
#   nanoGPT reports 1.88 for the same run), and resumes from a checkpoint exactly where it
#   stopped.
# - Step 1's other option, a pretrained start: the course foundation model (5.9 M parameters,
#   5.7 M tokens of pretraining, 1.93 bits per byte on held-out text of eight sources against
#   2.10 for the best n-gram) fine-tuned on Shakespeare for 100 steps reaches 2.37 bits per byte
#   on the held-out plays; the same network from random weights, with the same recipe, 2.95.
#
# Next, chapter 07 measures this model: perplexity against n-gram baselines, and the metrics for
# classification, translation and summarization.
