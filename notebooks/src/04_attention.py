# %% [markdown]
# # 04 · Attention, one matrix at a time
#
# *Mirrors §4.1 of the source document (Transformer 模型的注意力机制, "The attention mechanism
# of the Transformer").*
#
# The source document puts the core of the Transformer in one line:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V$$
#
# where Q holds the **queries**, K the **keys**, V the **values** and d_k is the size of a
# key vector. It "lets the model focus on the parts of the input that matter for the current
# task". In words: every position asks a question (its query), compares it with what every
# position offers (its key) to get one score per pair, turns each row of scores into weights
# that sum to 1, and returns the weighted average of the values.
#
# This chapter takes that line apart:
#
# 1. the formula by hand on a 3-token example, every intermediate matrix shown, then in
#    NumPy, `keras.ops`, `course_lib` and Keras's own `MultiHeadAttention`: all equal;
# 2. why divide by √d_k: an experiment;
# 3. masks: padding and causal;
# 4. multi-head attention: split, attend, merge, with the shape at every step;
# 5. what a trained model attends to, on a line of Shakespeare.
#
# **Before you run it:** time: smoke ~30 s · cpu ~1 min (2 cores) · gpu ~1 min (estimated); memory: peak ~0.9 GB at cpu; data: tinyshakespeare (1.1 MB) (downloaded once, verified by SHA-256); it reuses chapter 06's trained model from `notebooks/artifacts/` when present, else trains a small one.

# %%
# NBVAL_IGNORE_OUTPUT
import math

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops

from course_lib.layers import (
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything

seed = seed_everything()
profile = active_profile()
np.set_printoptions(precision=3, suppress=True)
print(f"seed {seed}, profile {profile} ({profile.source}), Keras {keras.__version__} "
      f"on {keras.backend.backend()}")

# %%
# Sizes per profile: the √d_k experiment is cheap at any size; the model in section 5 is not.
D_K_VALUES = [4, 16, 64, 256, 1024]  # key sizes for the scaling experiment
PAIRS = 10_000  # random (q, k) pairs per key size: enough for a ±3% variance estimate
NUM_KEYS = 16  # keys per softmax in the saturation experiment
CONTEXT = 64  # characters the model reads
WIDTH = profile.pick(smoke=32, cpu=64, gpu=256)  # model width C: small, to train in minutes
LAYERS = profile.pick(smoke=1, cpu=2, gpu=4)  # Transformer blocks, if chapter 06's is missing
HEADS = 4  # attention heads per block
BATCH = profile.pick(smoke=8, cpu=32, gpu=64)  # windows per step
STEPS = profile.pick(smoke=4, cpu=500, gpu=3_000)  # training steps for the heatmaps
SENTENCE = "Heigh, my hearts! cheerly, cheerly, my hearts!"  # a line of the validation text

# %% [markdown]
# ## 1. The formula by hand
#
# Three tokens, keys and queries of size d_k = 2, values of size 2. In a real model Q, K and V
# are computed from the token vectors by three learned matrices; here we write them down.

# %%
# NBVAL_CHECK_OUTPUT
Q = [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]  # one query per token
K = [[1.0, 1.0], [2.0, 0.0], [0.0, 1.0]]  # one key per token
V = [[10.0, 0.0], [0.0, 10.0], [5.0, 5.0]]  # one value per token
d_k = len(K[0])


def show(name, m):
    print(f"{name} =")
    for row in m:
        print("   [" + "  ".join(f"{x:7.3f}" for x in row) + "]")


# 1) scores: S[i][j] = q_i · k_j, how well query i matches key j
S = [[sum(q * k for q, k in zip(qi, kj, strict=True)) for kj in K] for qi in Q]
show("S = Q Kᵀ", S)
# 2) scale by 1/√d_k
scaled = [[s / math.sqrt(d_k) for s in row] for row in S]
show("S / √d_k", scaled)
# 3) softmax over each row: exponentiate, divide by the row's sum
exps = [[math.exp(s) for s in row] for row in scaled]
A = [[e / sum(row) for e in row] for row in exps]
show("A = softmax(S / √d_k)  (each row sums to 1)", A)
# 4) output: each row is a weighted average of the value rows
out_by_hand = [[sum(A[i][j] * V[j][c] for j in range(3)) for c in range(2)] for i in range(3)]
show("A V", out_by_hand)

# %% [markdown]
# Read the weights row by row (tokens numbered 0, 1, 2). Token 1's query (0, 2) scores 2
# with keys 0 and 2 but 0 with key 1, so it splits its attention between tokens 0 and 2 and
# gives token 1 little weight: its output mixes their values (10, 0) and (5, 5). Token 0's
# query (1, 0) scores highest with key 1, so its output leans toward value (0, 10). The
# scaling by √2 keeps these preferences soft: no weight is 0 or 1.
#
# Now the same in NumPy (one line), in `keras.ops` (the backend-neutral operations every
# course model uses), and with `course_lib.layers.scaled_dot_product_attention`:

# %%
# NBVAL_CHECK_OUTPUT
q, k, v = (np.array(m) for m in (Q, K, V))


def attention_numpy(q, k, v):
    scores = q @ k.T / np.sqrt(k.shape[-1])
    weights = np.exp(scores - scores.max(-1, keepdims=True))  # subtract the max: no overflow
    weights /= weights.sum(-1, keepdims=True)
    return weights @ v


def attention_keras_ops(q, k, v):
    scores = ops.matmul(q, ops.transpose(k)) / ops.sqrt(ops.cast(k.shape[-1], "float32"))
    return ops.matmul(ops.softmax(scores, axis=-1), v)


q32, k32, v32 = (m.astype("float32") for m in (q, k, v))
results = {
    "NumPy": attention_numpy(q, k, v),
    "keras.ops": ops.convert_to_numpy(attention_keras_ops(q32, k32, v32)),
    "course_lib": ops.convert_to_numpy(scaled_dot_product_attention(q32, k32, v32)[0]),
}
for name, result in results.items():
    diff = np.abs(result - np.array(out_by_hand)).max()
    print(f"{name:>10} vs by hand: max abs diff < 1e-5: {diff < 1e-5}")

# %% [markdown]
# A real attention layer computes Q, K and V from the token vectors X with learned projections
# W_Q, W_K, W_V, and maps the result back to the model width with W_O. To check
# `course_lib.layers.MultiHeadAttention` and `keras.layers.MultiHeadAttention` against the
# hand computation, give them one head and choose the weights so the projections produce our
# Q, K and V: if X is the 3×3 identity (one-hot tokens), then X W_Q = W_Q, so W_Q = Q does it.
# W_O copies the two attention outputs into the first two of the three output columns.

# %%
# NBVAL_CHECK_OUTPUT
x = np.eye(3, dtype="float32")[None]  # (B=1, T=3, C=3): three one-hot tokens
ours = MultiHeadAttention(num_heads=1, key_dim=2)
ours(x)  # builds the weights
kernels = [q32[:, None, :], k32[:, None, :], v32[:, None, :]]  # (C, H=1, D=2) each
w_out = np.array([[[1, 0, 0], [0, 1, 0]]], "float32")  # (H=1, D=2, C=3)
for dense, kernel in zip([ours.query_dense, ours.key_dense, ours.value_dense], kernels,
                         strict=True):
    dense.set_weights([kernel, np.zeros((1, 2), "float32")])
ours.output_dense.set_weights([w_out, np.zeros(3, "float32")])

reference = keras.layers.MultiHeadAttention(num_heads=1, key_dim=2)
reference(x, x)  # builds it
ours.copy_weights_to_keras(reference)  # same weights, Keras's implementation

out_ours = ops.convert_to_numpy(ours(x))[0, :, :2]
out_keras = ops.convert_to_numpy(reference(x, x))[0, :, :2]
print("course_lib MultiHeadAttention vs by hand: max abs diff < 1e-5:",
      np.abs(out_ours - np.array(out_by_hand)).max() < 1e-5)
print("keras.layers.MultiHeadAttention vs by hand: max abs diff < 1e-5:",
      np.abs(out_keras - np.array(out_by_hand)).max() < 1e-5)

# %% [markdown]
# Five implementations, one answer. From here on we use `course_lib`'s layer, whose code is
# short enough to read in `course_lib/layers.py`.
#
# ## 2. Why divide by √d_k?
#
# If the entries of q and k are independent with mean 0 and variance 1, then q·k is a sum of
# d_k independent terms qᵢkᵢ, each with variance 1, so **Var(q·k) = d_k**: the scores spread
# out as the vectors get longer. Fed to a softmax, large scores make it **saturate**: nearly
# all the weight goes to one key, and the softmax's gradient (its Jacobian
# diag(p) − ppᵀ) goes to zero, so the model stops learning which keys to prefer. Dividing by
# √d_k brings the variance back to 1 for any d_k. An experiment with random vectors:

# %%
# NBVAL_IGNORE_OUTPUT
rng = np.random.default_rng(seed)


def softmax_stats(logits):
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    # Frobenius norm of the Jacobian diag(p) - p pᵀ: how much the weights respond to the scores
    jac = np.eye(p.shape[-1]) * p[:, :, None] - p[:, :, None] * p[:, None, :]
    return p.max(-1).mean(), np.sqrt((jac**2).sum((1, 2))).mean()


stats = {}
for d in D_K_VALUES:
    qs = rng.standard_normal((PAIRS, d))
    ks = rng.standard_normal((PAIRS, d))
    dots = np.einsum("nd,nd->n", qs, ks)
    logits = rng.standard_normal((PAIRS // 10, NUM_KEYS)) * np.sqrt(d)  # scores of std √d_k
    stats[d] = {"var": dots.var(), "var_scaled": (dots / np.sqrt(d)).var(),
                "raw": softmax_stats(logits), "scaled": softmax_stats(logits / np.sqrt(d))}
print(" d_k   Var(q·k)  Var(q·k/√d_k)   max weight: raw  scaled   |Jacobian|: raw   scaled")
for d, s in stats.items():
    print(f"{d:>4}  {s['var']:9.1f}  {s['var_scaled']:13.3f}   {s['raw'][0]:15.3f} "
          f"{s['scaled'][0]:7.3f}   {s['raw'][1]:15.4f} {s['scaled'][1]:8.4f}")

# %%
# NBVAL_CHECK_OUTPUT
print("Var(q·k) / d_k within 10% of 1 for every d_k:",
      all(abs(s["var"] / d - 1) < 0.1 for d, s in stats.items()))
print("Var(q·k / √d_k) within 10% of 1 for every d_k:",
      all(abs(s["var_scaled"] - 1) < 0.1 for s in stats.values()))
print("unscaled softmax saturates (mean max weight > 0.9 at d_k = 1024):",
      stats[1024]["raw"][0] > 0.9)

# %%
# NBVAL_IGNORE_OUTPUT
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
ds = np.array(D_K_VALUES)
axes[0].loglog(ds, [stats[d]["var"] for d in ds], "o-", label="q·k")
axes[0].loglog(ds, [stats[d]["var_scaled"] for d in ds], "s-", label="q·k / √d_k")
axes[0].loglog(ds, ds, "k:", lw=1, label="d_k")
axes[0].set(xlabel="d_k", ylabel="variance of the score", title="Scores spread out with d_k")
for key, label in (("raw", "softmax(q·k)"), ("scaled", "softmax(q·k / √d_k)")):
    axes[1].semilogx(ds, [stats[d][key][0] for d in ds], "o-", label=label)
    axes[2].semilogx(ds, [stats[d][key][1] for d in ds], "o-", label=label)
axes[1].axhline(1 / NUM_KEYS, color="gray", ls=":", lw=1, label="uniform (1/16)")
axes[1].set(xlabel="d_k", ylabel="mean largest weight", title=f"Saturation ({NUM_KEYS} keys)")
axes[2].set(xlabel="d_k", ylabel="mean ‖Jacobian‖", title="Gradient through the softmax")
for ax in axes:
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# For small keys the scaling hardly matters: at d_k = 4 the unscaled softmax is still soft
# (the largest of 16 weights is 0.47 on average) and its gradient (0.34) is even a little
# larger than the scaled one (0.31). The trouble grows with d_k. Without scaling, at d_k = 64
# (the head size of many real models) the softmax already puts most of its weight on one key
# (0.84) and its gradient has shrunk to 0.18; at d_k = 1024 almost all of it (0.97), with a
# gradient of 0.05. With scaling, the largest weight stays near 0.25 and the gradient near
# 0.31 whatever d_k is. That is the whole reason for the √d_k: it makes the softmax behave
# the same for every key size, so a wide head trains like a narrow one.
#
# ## 3. Masks
#
# A **mask** says which keys each query may look at; the forbidden scores are set to a very
# large negative number before the softmax, so their weights become exactly 0.
#
# - A **padding mask** hides padding tokens: sequences in a batch have different lengths, so
#   short ones are filled up with a padding id (here 0) that must not influence anything.
# - A **causal mask** hides the future: in a language model, position t predicts token t + 1,
#   so it must not see tokens after t. It is lower-triangular.
#
# Both as matrices (row = query, column = key, 1 = may attend), for the padded sequence
# `[5, 9, 2, 0, 0]`:

# %%
# NBVAL_CHECK_OUTPUT
ids = np.array([[5, 9, 2, 0, 0]])
pad = ops.convert_to_numpy(padding_mask(ids, pad_id=0))[0, 0, 0]  # (T,): which keys are real
causal = ops.convert_to_numpy(causal_mask(5))
print("padding mask (keys):", pad.astype(int))
print("as a matrix (every query sees the same keys):\n", np.broadcast_to(pad, (5, 5)).astype(int))
print("causal mask:\n", causal.astype(int))
print("both:\n", (causal & pad[None, :]).astype(int))

# %% [markdown]
# And their effect on the weights of random queries and keys: masked entries are exactly 0 and
# every row still sums to 1.

# %%
# NBVAL_CHECK_OUTPUT
qk_rng = np.random.default_rng(0)
q5, k5, v5 = (qk_rng.standard_normal((5, 4)).astype("float32") for _ in range(3))
for name, mask in (("no mask", None), ("padding", np.broadcast_to(pad, (5, 5))),
                   ("causal", causal), ("both", causal & pad[None, :])):
    _, w = scaled_dot_product_attention(q5, k5, v5, mask=mask)
    w = ops.convert_to_numpy(w)
    print(f"{name}:\n{np.round(w, 2)}")

# %%
# NBVAL_IGNORE_OUTPUT
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
for ax, (title, m) in zip(axes, [("padding", np.broadcast_to(pad, (5, 5))), ("causal", causal),
                                 ("padding and causal", causal & pad[None, :])], strict=True):
    ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
    ax.set(title=title, xlabel="key", ylabel="query", xticks=range(5), yticks=range(5))
plt.tight_layout()
plt.show()

# %% [markdown]
# What a mask guarantees can be tested: with the causal mask, changing the last token cannot
# change the outputs at earlier positions; with the padding mask, adding more padding cannot
# change the outputs at the real tokens.

# %%
# NBVAL_CHECK_OUTPUT
layer = MultiHeadAttention(num_heads=2, key_dim=4)
emb_rng = np.random.default_rng(1)
table = emb_rng.standard_normal((20, 8)).astype("float32")  # a toy embedding table
tokens = np.array([[5, 9, 2, 7, 3]])
changed = tokens.copy()
changed[0, -1] = 11
a = ops.convert_to_numpy(layer(table[tokens], use_causal_mask=True))
b = ops.convert_to_numpy(layer(table[changed], use_causal_mask=True))
print("causal: earlier outputs unchanged when the last token changes:",
      np.abs(a[:, :-1] - b[:, :-1]).max() < 1e-6, "| last output changed:",
      np.abs(a[:, -1] - b[:, -1]).max() > 1e-4)
short, long = np.array([[5, 9, 2, 0]]), np.array([[5, 9, 2, 0, 0, 0, 0]])
out_short = layer(table[short], attention_mask=padding_mask(short, 0))
out_long = layer(table[long], attention_mask=padding_mask(long, 0))
print("padding: real-token outputs unchanged by extra padding:",
      np.abs(ops.convert_to_numpy(out_short)[:, :3] - ops.convert_to_numpy(out_long)[:, :3]).max()
      < 1e-6)

# %% [markdown]
# ## 4. Multi-head attention: split, attend, merge
#
# One attention computes one weighted average per position: one "question" at a time.
# **Multi-head attention** asks H questions in parallel. The width C is split into H heads of
# size D = C / H; each head has its own projections and its own attention weights; the H
# results are concatenated and mixed by the output projection W_O. The cost is about the same
# as one head of full width.
#
# Here it is step by step with the weights of a `course_lib` layer (C = 32, H = 4, D = 8),
# printing the shape after each step, and compared with the layer itself and with Keras's.

# %%
# NBVAL_CHECK_OUTPUT
B, T, C, H = 2, 6, 32, 4
D = C // H
x = np.random.default_rng(2).standard_normal((B, T, C)).astype("float32")
mha = MultiHeadAttention(num_heads=H, key_dim=D)
expected = ops.convert_to_numpy(mha(x, use_causal_mask=True))


def project(dense, x):  # kernel (C, H, D): one C×D matrix per head
    kernel, bias = dense.get_weights()
    return np.einsum("btc,chd->bthd", x, kernel) + bias


print("x                      ", x.shape, "(B, T, C)")
q_, k_, v_ = (project(d, x) for d in (mha.query_dense, mha.key_dense, mha.value_dense))
print("split: q = x W_Q       ", q_.shape, "(B, T, H, D)")
q_, k_, v_ = (np.transpose(m, (0, 2, 1, 3)) for m in (q_, k_, v_))
print("heads first            ", q_.shape, "(B, H, T, D)")
scores = q_ @ np.swapaxes(k_, -1, -2) / np.sqrt(D)
print("scores q kᵀ / √D       ", scores.shape, "(B, H, T, T): one T×T map per head")
scores = np.where(np.tril(np.ones((T, T), bool)), scores, -np.inf)
weights = np.exp(scores - scores.max(-1, keepdims=True))
weights /= weights.sum(-1, keepdims=True)
heads = weights @ v_
print("attend: weights v      ", heads.shape, "(B, H, T, D)")
merged = np.transpose(heads, (0, 2, 1, 3))
print("merge: heads last      ", merged.shape, "(B, T, H, D) = concatenation (B, T, H·D)")
w_o, b_o = mha.output_dense.get_weights()
out = np.einsum("bthd,hdc->btc", merged, w_o) + b_o
print("mix: out = merged W_O  ", out.shape, "(B, T, C)")
print("step by step vs course_lib layer: max abs diff < 1e-5:",
      np.abs(out - expected).max() < 1e-5)
keras_mha = keras.layers.MultiHeadAttention(num_heads=H, key_dim=D)
keras_mha(x, x)
mha.copy_weights_to_keras(keras_mha)
print("course_lib layer vs keras.layers.MultiHeadAttention: max abs diff < 1e-5:",
      np.abs(ops.convert_to_numpy(keras_mha(x, x, use_causal_mask=True)) - expected).max() < 1e-5)

# %% [markdown]
# ## 5. What a trained model attends to
#
# Random weights attend almost uniformly. To see real patterns, we train a small character
# GPT on Tiny Shakespeare (the model chapter 06 studies in detail; here it is only a source of
# attention maps). If chapter 06 has already saved its model to
# `notebooks/artifacts/shakespeare_gpt.keras`, we load that one instead, and the stored run
# did: chapter 06's GPT has 4 blocks of 4 heads, width 128 and 809,856 parameters, trained for
# 2,000 steps. The sizes in the settings cell (2 blocks of width 64 at the cpu profile) apply
# only when that file is missing.

# %%
# NBVAL_IGNORE_OUTPUT
from pathlib import Path

from course_lib import data
from course_lib.gpt import GPT, GPTConfig
from course_lib.lm_data import split_tokens, window_batch
from course_lib.model_io import load_model
from course_lib.tokenizers import CharTokenizer
from course_lib.training import LMBatches, TrainConfig, Trainer, history_table

text = data.load_tiny_shakespeare()
tokenizer = CharTokenizer.from_text(text)
train_tokens, val_tokens = split_tokens(tokenizer.encode(text), 0.9)
assert SENTENCE in text[int(len(text) * 0.9):], "the sentence comes from the validation text"

saved = Path("artifacts/shakespeare_gpt.keras")
model = None
if saved.exists():
    try:
        candidate = load_model(saved)
        if (candidate.config.vocab_size == tokenizer.vocab_size
                and candidate.config.context_length >= len(SENTENCE)):
            model = candidate
            print(f"loaded {saved} ({candidate.count_params():,} parameters)")
    except Exception as exc:  # an incompatible or damaged file: train our own instead
        print(f"could not use {saved}: {exc}")
if model is None:
    config = GPTConfig(tokenizer.vocab_size, CONTEXT, LAYERS, HEADS, WIDTH)
    model = GPT(config)
    trainer = Trainer(model, TrainConfig(
        max_steps=STEPS, learning_rate=3e-3, min_learning_rate=3e-4,
        warmup_steps=max(1, STEPS // 20), eval_interval=max(1, STEPS // 4),
        eval_batches=profile.pick(smoke=1, cpu=10, gpu=20), verbose=0,
        jit_compile=profile.pick(smoke=False, cpu="auto", gpu="auto")))  # XLA: slow to start
    history = trainer.fit(LMBatches(train_tokens, CONTEXT, BATCH, seed=seed),
                          LMBatches(val_tokens, CONTEXT, BATCH, seed=seed + 1))
    print(f"trained {config.num_parameters():,} parameters for {STEPS} steps")
    print(history_table(history))

# The same yardstick for a trained or a loaded model: the mean loss on 10 validation batches.
context = model.config.context_length
losses = []
for step in range(10):
    x_val, y_val = window_batch(val_tokens, context, BATCH, seed=seed + 1, step=step)
    losses.append(float(ops.mean(keras.losses.sparse_categorical_crossentropy(
        y_val, model(x_val), from_logits=True))))
print(f"validation loss of the model used below: {np.mean(losses):.3f} "
      f"(uniform guessing: {np.log(tokenizer.vocab_size):.3f})")

# %% [markdown]
# A validation loss near 4.17 = ln 65 means guessing uniformly among the 65 characters; about
# 2.5 is what counting which character follows which achieves (chapter 05 measures it); below
# 2 the model spells words, and nanoGPT's full-size model reaches about 1.5. The attention maps of a model that has barely trained are mostly uniform or
# previous-character patterns; they sharpen as the loss drops.
#
# To read the weights out, we run the model block by block and ask each block's attention
# layer for its scores on our line (`return_attention_scores=True`).

# %%
# NBVAL_IGNORE_OUTPUT
sentence_ids = tokenizer.encode(SENTENCE)[None]  # (1, T)


def attention_maps(model, token_ids):
    """Each block's attention weights (H, T, T) on token_ids, by running the blocks one by one."""
    x = model.embedding(token_ids)
    maps = []
    for block in model.blocks:
        _, w = block.attention(block.attention_norm(x), use_causal_mask=True,
                               return_attention_scores=True)
        maps.append(ops.convert_to_numpy(w)[0])
        x = block(x)
    return maps


maps = attention_maps(model, sentence_ids)
print(f"{len(maps)} blocks × {maps[0].shape[0]} heads of {maps[0].shape[1]}×{maps[0].shape[2]} "
      "weights; rows sum to 1:", np.allclose([m.sum(-1) for m in maps], 1, atol=1e-5))

chars = [c if c != " " else "␣" for c in SENTENCE]
n_layers, n_heads = len(maps), maps[0].shape[0]
fig, axes = plt.subplots(n_layers, n_heads, figsize=(3.3 * n_heads, 3.8 * n_layers),
                         squeeze=False)
for layer_index, layer_maps in enumerate(maps):
    for head in range(n_heads):
        ax = axes[layer_index, head]
        ax.imshow(layer_maps[head], cmap="viridis", vmin=0, vmax=1)
        ax.set_title(f"block {layer_index}, head {head}", fontsize=9)
        ax.set_xticks(range(len(chars)), chars, fontsize=4.5)
        ax.set_yticks(range(len(chars)), chars, fontsize=4.5)
fig.suptitle(f"Attention weights on {SENTENCE!r} (row = query character, column = key)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Each small square is one head: row i shows where the character at position i looks. Three
# simple measurements summarise each head: the average weight on the **previous character**,
# on **itself**, and on the character at the **same place in the earlier copy** of a
# repeated word ("cheerly, cheerly", "my hearts! ... my hearts!"), where a head can look back
# to see what came next last time.

# %%
# NBVAL_IGNORE_OUTPUT
T = len(SENTENCE)
repeat_target = np.full(T, -1)
for i in range(T):  # for position i, the position after the last earlier occurrence of the
    for j in range(i - 1, 0, -1):  # same two characters (what followed them before)
        if SENTENCE[j - 1:j + 1] == SENTENCE[i - 1:i + 1]:
            repeat_target[i] = j + 1 if j + 1 < i else -1
            break
has_repeat = repeat_target >= 0
print("block head   previous   itself   after earlier copy   (uniform would be ~"
      f"{np.mean([1 / (i + 1) for i in range(T)]):.2f})")
for layer_index, layer_maps in enumerate(maps):
    for head, w in enumerate(layer_maps):
        previous = np.mean([w[i, i - 1] for i in range(1, T)])
        itself = np.mean(np.diag(w))
        induction = np.mean([w[i, repeat_target[i]] for i in np.flatnonzero(has_repeat)])
        print(f"{layer_index:>5} {head:>4} {previous:10.2f} {itself:8.2f} {induction:20.2f}")

# %% [markdown]
# What to look for in the maps and the table (a small model trained for minutes on a CPU is
# not a clean textbook case, and the details change with the seed):
#
# - the causal mask is visible everywhere: the upper triangle is empty;
# - some heads put much of their weight on the **previous character** (a bright line just
#   below the diagonal) or on the current one: they build a local, n-gram-like view;
# - others spread their weight over the word so far, or look back to spaces and punctuation,
#   which mark word boundaries;
# - in models of two or more blocks, a head in a later block may look at what followed an
#   **earlier copy** of the current characters: the "induction head" pattern, which lets a
#   model continue a phrase it has just seen. Two blocks are the fewest it needs, but depth
#   alone does not make one appear. In the stored run the four-block model shows none on this
#   line: no head puts more than 0.03 of its weight on the position after the earlier copy,
#   while every head puts 0.10 to 0.35 on the previous character and on itself. A model this
#   small and this briefly trained reads its context mostly locally.
#
# Attention weights show where information is read from, not how it is used afterwards, so
# they are a first look at a model's behaviour, not an explanation of it (chapter 13 comes
# back to interpretability).

# %% [record]
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("04", {
    "GPT validation loss": float(np.mean(losses)),
    "uniform loss": float(np.log(tokenizer.vocab_size)),
})
print(key_figures.read_text(encoding="utf-8"))

# %% [markdown]
# ## Exercises
#
# Replace each `None` with your answer; the check says whether it is right or gives a hint.
# Worked solutions: `notebooks/solutions/04_attention.ipynb`.
#
# **Exercise 1.** Compute softmax(QKᵀ/√d_k) for the queries `ATTENTION_Q` (2×2) and keys
# `ATTENTION_K` (3×2) with NumPy. The result is a 2×3 matrix.

# %%
from course_lib.exercises.ch04 import ATTENTION_K, ATTENTION_Q, check_attention_weights

my_weights = None  # your code here
check_attention_weights(my_weights)

# %% [markdown]
# **Exercise 2.** q and k are 64-dimensional, with independent entries of mean 0 and
# variance 1. What is the standard deviation of q·k? (Reason it out, then check it with the
# experiment of section 2 if you like.)

# %%
from course_lib.exercises.ch04 import check_dot_product_std

my_std = None  # your answer
check_dot_product_std(my_std)

# %% [markdown]
# **Exercise 3.** Build the 5×5 boolean mask for `MASK_IDS = [5, 9, 2, 0, 0]` (0 is padding)
# that is both causal and hides padding keys, with NumPy only: `mask[i, j]` is True when
# query i may attend to key j.

# %%
from course_lib.exercises.ch04 import MASK_IDS, check_padded_causal_mask

my_mask = None  # your code here
check_padded_causal_mask(my_mask)

# %% [markdown]
# ## Next
#
# `05_transformer.ipynb`: positions, the full Transformer block, GPT, BERT and the
# encoder-decoder, and a fair race between a Transformer, an LSTM, a GRU and a CNN.
