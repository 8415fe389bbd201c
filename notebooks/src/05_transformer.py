# %% [markdown]
# # 05 · The Transformer, and choosing a model
#
# *Mirrors §2.3 (Transformer 模型) and the model-choice half of §3.2 (模型选择与训练, "Model
# choice and training") of the source document.*
#
# §2.3 says the Transformer is an attention-based architecture that captures long-range
# dependencies and computes in parallel, which is what made large models trainable. §3.2
# lists the architectures one chooses from: Transformer-based models (GPT, BERT, XLNet),
# recurrent networks (LSTM, GRU) and convolutional networks (mainly for text
# classification). This chapter builds the Transformer from the attention layer of chapter 04
# and then puts those claims to a test:
#
# 1. position information: attention alone does not know word order; two ways to add it;
# 2. the Transformer block: attention, MLP, residual connections, layer normalisation;
# 3. GPT (decoder), BERT (encoder) and the encoder-decoder, side by side;
# 4. choosing a model: a Transformer, an LSTM, a GRU and a 1-D CNN with the same number of
#    parameters, trained the same way on the same task, measured in one table; then the same
#    four trained four times longer, put to a task that needs a memory of 40 positions and
#    more, and timed in characters per second.
#
# **Before you run it:** time: smoke ~1 min · cpu ~4.5 min (2 cores) · gpu ~15 min (estimated); memory: peak ~1.4 GB at cpu; data: tinyshakespeare (1.1 MB) (downloaded once, verified by SHA-256).

# %%
# NBVAL_IGNORE_OUTPUT
import time

import keras
import keras_hub
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from keras import ops

from course_lib.layers import SinusoidalPositionEncoding, TransformerBlock
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything

seed = seed_everything()
profile = active_profile()
print(f"seed {seed}, profile {profile} ({profile.source})")

# %%
# The model comparison (section 4) is the expensive part; everything else is instant.
CONTEXT = 64  # characters per training window, for every model
BUDGET = profile.pick(smoke=20_000, cpu=100_000, gpu=400_000)  # parameters per model
STEPS = profile.pick(smoke=6, cpu=300, gpu=3_000)  # optimizer steps, the same for every model
BATCH = profile.pick(smoke=8, cpu=32, gpu=64)  # windows per step
EVAL_INTERVAL = profile.pick(smoke=3, cpu=25, gpu=250)  # steps between validation losses
EVAL_BATCHES = profile.pick(smoke=1, cpu=10, gpu=20)  # batches per validation loss
LEARNING_RATE = 2e-3  # peak AdamW rate for every model (warm-up, then cosine decay)
JIT = profile.pick(smoke=False, cpu=True, gpu=True)  # XLA: faster steps, slow to compile
# Section 4.1: the same four models, trained longer.
LONG_STEPS = profile.pick(smoke=8, cpu=1_200, gpu=12_000)  # 4 × STEPS, from a fresh start
LONG_EVAL_INTERVAL = profile.pick(smoke=4, cpu=100, gpu=1_000)  # 12 points per curve
# Section 4.2: a task that needs a memory of 40 positions and more.
RECALL_STEPS = profile.pick(smoke=6, cpu=300, gpu=1_000)  # the same for every model
RECALL_EVAL_INTERVAL = profile.pick(smoke=3, cpu=25, gpu=50)  # steps between accuracy checks
RECALL_EVAL_SEQUENCES = profile.pick(smoke=16, cpu=256, gpu=1_024)  # held out, 8 questions each
# Section 4.3: training speed.
SPEED_STEPS = profile.pick(smoke=2, cpu=20, gpu=50)  # timed steps per model, after warm-up

# %% [markdown]
# ## 1. Position information
#
# Self-attention compares every position with every other by content only. Shuffle the input
# tokens and each output vector is the same as before, just at its token's new place: the
# layer is **permutation-equivariant**, and a sentence is a bag of words to it. We test that
# with a `course_lib` BERT-style encoder built with `position="none"`, and then with learned
# positions:

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.encoder import EncoderConfig, TransformerEncoder

keras.utils.set_random_seed(seed)
ids = np.array([[12, 7, 30, 4, 25, 9]])
perm = np.array([3, 0, 5, 1, 4, 2])
for position in ("none", "learned"):
    encoder = TransformerEncoder(EncoderConfig(vocab_size=40, max_length=16, num_layers=2,
                                               width=32, position=position))
    out = ops.convert_to_numpy(encoder(ids))
    out_perm = ops.convert_to_numpy(encoder(ids[:, perm]))
    equivariant = np.abs(out_perm - out[:, perm]).max() < 1e-5
    print(f"position={position!r:>10}: shuffling the input only shuffles the output: "
          f"{equivariant}")

# %% [markdown]
# So without positions, "dog bites man" and "man bites dog" look the same to the model once
# the vectors are pooled. The fix is to add to each token's vector a vector that depends on
# its position:
#
# - **sinusoidal** encodings (the original Transformer): fixed sines and cosines of
#   geometrically spaced frequencies, PE[p, 2i] = sin(p / 10000^(2i/C)),
#   PE[p, 2i+1] = cos(p / 10000^(2i/C));
# - **learned** embeddings (GPT, BERT): one trained vector per position.
#
# The sinusoidal formula in NumPy, `course_lib`'s layer and keras-hub's
# `SinePositionEncoding` must agree:

# %%
# NBVAL_CHECK_OUTPUT
T_PE, C_PE = 64, 32
p = np.arange(T_PE)[:, None]
i = np.arange(C_PE)[None, :]
angle = p / 10000 ** (2 * (i // 2) / C_PE)
pe_numpy = np.where(i % 2 == 0, np.sin(angle), np.cos(angle))
zeros = np.zeros((1, T_PE, C_PE), "float32")
pe_ours = ops.convert_to_numpy(SinusoidalPositionEncoding()(zeros))[0]
pe_hub = ops.convert_to_numpy(keras_hub.layers.SinePositionEncoding()(zeros))[0]
print("course_lib vs NumPy formula: max abs diff < 1e-5:", np.abs(pe_ours - pe_numpy).max() < 1e-5)
print("course_lib vs keras_hub.layers.SinePositionEncoding: max abs diff < 1e-5:",
      np.abs(pe_ours - pe_hub).max() < 1e-5)
for position in ("none", "sinusoidal"):
    encoder = TransformerEncoder(EncoderConfig(vocab_size=10, max_length=8, num_layers=1,
                                               width=32, position=position))
    a = ops.convert_to_numpy(ops.mean(encoder(np.array([[5, 6, 7]])), axis=1))
    b = ops.convert_to_numpy(ops.mean(encoder(np.array([[7, 6, 5]])), axis=1))
    print(f"position={position!r:>12}: mean vector of 'dog bites man' == 'man bites dog': "
          f"{np.abs(a - b).max() < 1e-5}")

# %%
# NBVAL_IGNORE_OUTPUT
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
im = axes[0].imshow(pe_ours.T, aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
axes[0].set(xlabel="position p", ylabel="dimension", title="Sinusoidal encoding PE[p, :]")
fig.colorbar(im, ax=axes[0])
for dim in (0, 4, 10, 20):
    axes[1].plot(pe_ours[:, dim], label=f"dimension {dim}")
axes[1].set(xlabel="position", title="A few dimensions: fast to slow waves")
axes[1].legend(fontsize=8)
similarity = pe_ours @ pe_ours.T
im = axes[2].imshow(similarity, cmap="viridis")
axes[2].set(xlabel="position", ylabel="position", title="PE[p] · PE[q]: depends on |p − q|")
fig.colorbar(im, ax=axes[2])
plt.tight_layout()
plt.show()

# %% [markdown]
# Each dimension pair is a clock hand turning at its own speed: the fast ones tell nearby
# positions apart, the slow ones far ones. The dot product of two encodings depends only on
# the distance between the positions (the bands parallel to the diagonal), which makes
# relative positions easy to read for attention. Learned embeddings can learn any such
# pattern; we plot one from a trained model at the end of section 4.
#
# ## 2. The Transformer block
#
# One block (the pre-norm layout of GPT-2, `course_lib.layers.TransformerBlock`) is two
# sub-layers, each wrapped the same way:
#
# ```
# x = x + Attention(LayerNorm(x))      # mix information across positions
# x = x + MLP(LayerNorm(x))            # transform each position on its own: C → 4C → C
# ```
#
# - **Attention** is the only place where positions exchange information.
# - The **MLP** (two dense layers with a GELU between them) holds two-thirds of the
#   parameters; it processes each position separately.
# - The **residual connections** (`x + ...`) let each sub-layer add a correction to a stream
#   that flows through the whole stack unchanged otherwise; gradients flow back along it,
#   which is what makes deep stacks trainable.
# - **Layer normalisation** rescales each position's vector to mean 0 and variance 1 (then a
#   learned scale and shift) before each sub-layer, so every sub-layer sees inputs of the same
#   size whatever the depth.
#
# The block computed sub-layer by sub-layer must equal the block itself, and its parameter
# count must match the formula 12C² + 13C:

# %%
# NBVAL_CHECK_OUTPUT
C = 64
block = TransformerBlock(width=C, num_heads=4)
x = np.random.default_rng(0).standard_normal((2, 10, C)).astype("float32")
expected = ops.convert_to_numpy(block(x))

h = block.attention_norm(x)
print("after LayerNorm: mean ≈ 0 and std ≈ 1 per position:",
      bool(np.allclose(ops.mean(h, -1), 0, atol=1e-4)) and
      bool(np.allclose(ops.std(h, -1), 1, atol=1e-2)))
x1 = x + block.attention(h, use_causal_mask=True)
x2 = x1 + block.mlp_out(block.mlp_in(block.mlp_norm(x1)))
print("sub-layer by sub-layer == block(x): max abs diff < 1e-5:",
      np.abs(ops.convert_to_numpy(x2) - expected).max() < 1e-5)

parts = {"attention (Q, K, V, O with biases)": block.attention,
         "MLP (C→4C→C with biases)": [block.mlp_in, block.mlp_out],
         "two LayerNorms (scale and shift)": [block.attention_norm, block.mlp_norm]}
total = 0
for name, layers in parts.items():
    layers = layers if isinstance(layers, list) else [layers]
    n = sum(layer.count_params() for layer in layers)
    total += n
    print(f"{name:>36}: {n:7,d}")
print(f"{'block':>36}: {total:7,d} = 12C² + 13C = {12 * C * C + 13 * C:,d}:",
      total == block.count_params() == 12 * C * C + 13 * C)

# %% [markdown]
# ## 3. GPT, BERT and the encoder-decoder
#
# The same blocks make three families of models. They differ in which positions attention may
# see and in what they are trained to predict:
#
# | model | attention | trained to | used for |
# |---|---|---|---|
# | **GPT** (decoder-only) | causal: each token sees itself and the past | predict the next token | generation, chat |
# | **BERT** (encoder-only) | bidirectional: every token sees every (non-padding) token | fill in masked tokens | classification, extraction |
# | **encoder-decoder** (original Transformer, T5) | encoder bidirectional; decoder causal + **cross-attention** to the encoder | predict the next target token given the source | translation, summarization |
#
# `course_lib` has all three: `gpt.GPT`, `encoder.TransformerEncoder` (with
# `TransformerClassifier` on top for labels) and `encoder.Seq2SeqTransformer`, whose decoder
# blocks (`TransformerBlock(cross_attention=True)`) add a cross-attention sub-layer between
# self-attention and the MLP. We build
# each with two blocks of width 64 and check the attention pattern each one promises.

# %%
# NBVAL_CHECK_OUTPUT
from course_lib.encoder import Seq2SeqConfig, Seq2SeqTransformer
from course_lib.gpt import GPT, GPTConfig

V = 65
keras.utils.set_random_seed(seed)
gpt = GPT(GPTConfig(vocab_size=V, context_length=32, num_layers=2, num_heads=4, width=64))
# num_segments=2: BERT adds a learned "sentence A / sentence B" embedding for pair tasks; with
# no segment ids given, every token is sentence A.
bert_config = EncoderConfig(vocab_size=V, max_length=32, num_layers=2, num_heads=4, width=64,
                            num_segments=2)
bert = TransformerEncoder(bert_config)
seq2seq_config = Seq2SeqConfig(source_vocab_size=V, target_vocab_size=V, source_max_length=32,
                               target_max_length=32, num_encoder_layers=2,
                               num_decoder_layers=2, num_heads=4, width=64)
seq2seq = Seq2SeqTransformer(seq2seq_config)

tokens = np.array([[20, 31, 42, 53, 11, 22, 33, 44]])
changed = tokens.copy()
changed[0, 5] = 60  # change the token at position 5
source = np.array([[7, 8, 9, 10, 0, 0]])  # a padded source sentence
other_source = np.array([[7, 8, 19, 10, 0, 0]])


def differs(a, b):
    return bool(np.abs(ops.convert_to_numpy(a) - ops.convert_to_numpy(b)).max() > 1e-5)


print("GPT: positions 0-4 change when token 5 changes:",
      differs(gpt(tokens)[:, :5], gpt(changed)[:, :5]))
print("BERT: position 0 changes when token 5 changes:", differs(bert(tokens)[:, 0],
                                                                 bert(changed)[:, 0]))
print("encoder-decoder: target positions 0-4 change when target token 5 changes:",
      differs(seq2seq((source, tokens))[:, :5], seq2seq((source, changed))[:, :5]))
print("encoder-decoder: target position 0 changes when a source token changes:",
      differs(seq2seq((source, tokens))[:, 0], seq2seq((other_source, tokens))[:, 0]))
rows = ["| model | parameters | = formula | input | output |", "|---|---:|---|---|---|"]
for name, model, formula, inp, outp in (
    ("GPT", gpt, gpt.config.num_parameters(), "token ids (B, T)", "next-token logits (B, T, V)"),
    ("BERT-style encoder", bert, bert_config.num_parameters(),
     "token ids + segment ids (B, T)", "contextual vectors (B, T, C)"),
    ("encoder-decoder", seq2seq, seq2seq_config.num_parameters(),
     "source ids (B, S), target ids (B, T)", "next-target-token logits (B, T, V)"),
):
    rows.append(f"| {name} | {model.count_params():,} | {model.count_params() == formula} | "
                f"{inp} | {outp} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ### The GPT, written out
#
# `course_lib.gpt.GPT` carries what the rest of the course needs (a key/value cache for fast
# generation, mixed precision, validated configs, model files), which hides the model itself.
# Here it is on one page, as in nanoGPT's `model.py`: a token embedding plus a position
# embedding, `num_layers` blocks, a final LayerNorm, and a head that reuses the token embedding
# matrix (weight tying). Every tensor line says its shape: B batch, T time, C width, H heads,
# D = C / H per head, V vocabulary. Chapters 04 and 05 built each piece; this is all of it.

# %% [export]
"""The GPT that chapter 05 writes in the open (notebooks/05_transformer.ipynb).

nanoGPT's ``model.py`` in Keras 3: token and position embeddings, ``num_layers`` pre-norm
blocks of causal self-attention and an MLP, a final LayerNorm and a head tied to the token
embedding. ``course_lib.gpt.GPT`` is the same model with what the rest of the course needs on
top; chapter 05 checks that the two give the same logits from the same weights
(:func:`copy_weights_from`). :class:`RecallTask` is the long-range recall task on which the
chapter compares the Transformer with an LSTM, a GRU and a CNN.

Example:

>>> model = MiniGPT(vocab_size=11, context_length=8, num_layers=1, num_heads=2, width=16)
>>> tuple(model(np.zeros((2, 5), "int32")).shape)
(2, 5, 11)
"""

import math

import keras
import numpy as np
from keras import ops


class CausalSelfAttention(keras.layers.Layer):
    """Multi-head self-attention in which each position reads only itself and earlier ones.

    Args:
        width: model width C.
        num_heads: heads H; must divide C.
    """

    def __init__(self, width, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.head_dim = num_heads, width // num_heads
        self.qkv = keras.layers.Dense(3 * width, name="qkv")  # Q, K and V of every head at once
        self.proj = keras.layers.Dense(width, name="proj")

    def call(self, x):
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        h, d = self.num_heads, self.head_dim
        q, k, v = ops.split(self.qkv(x), 3, axis=-1)  # 3 × (B, T, C)
        q = ops.transpose(ops.reshape(q, (b, t, h, d)), (0, 2, 1, 3))  # (B, H, T, D)
        k = ops.transpose(ops.reshape(k, (b, t, h, d)), (0, 2, 1, 3))  # (B, H, T, D)
        v = ops.transpose(ops.reshape(v, (b, t, h, d)), (0, 2, 1, 3))  # (B, H, T, D)
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / math.sqrt(d)  # (B, H, T, T)
        future = ops.triu(ops.ones((t, t)), k=1) > 0  # (T, T): True where the key comes later
        scores = ops.where(future, -1e9, scores)  # (B, H, T, T): the future gets no weight
        weights = ops.softmax(scores, axis=-1)  # (B, H, T, T): each row sums to 1
        y = ops.matmul(weights, v)  # (B, H, T, D)
        y = ops.reshape(ops.transpose(y, (0, 2, 1, 3)), (b, t, h * d))  # (B, T, C): heads side by side
        return self.proj(y)  # (B, T, C)


class Block(keras.layers.Layer):
    """A pre-norm Transformer block: attention, then an MLP, each added to the residual stream.

    Args:
        width: model width C.
        num_heads: attention heads H.
    """

    def __init__(self, width, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.ln_1 = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_1")
        self.attn = CausalSelfAttention(width, num_heads, name="attn")
        self.ln_2 = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_2")
        self.mlp_in = keras.layers.Dense(4 * width, activation="gelu", name="mlp_in")
        self.mlp_out = keras.layers.Dense(width, name="mlp_out")

    def call(self, x):
        x = x + self.attn(self.ln_1(x))  # (B, T, C)
        x = x + self.mlp_out(self.mlp_in(self.ln_2(x)))  # (B, T, 4C) -> (B, T, C)
        return x  # (B, T, C)


class MiniGPT(keras.Model):
    """A decoder-only Transformer language model: token ids (B, T) → next-token logits (B, T, V).

    Args:
        vocab_size: V.
        context_length: the longest input T (the size of the position table).
        num_layers: blocks N.
        num_heads: heads H per block; must divide `width`.
        width: model width C.

    Example:
    ```python
    model = MiniGPT(vocab_size=65, context_length=64, num_layers=4, num_heads=4, width=128)
    logits = model(token_ids)  # (B, T, 65)
    ```
    """

    def __init__(self, vocab_size, context_length, num_layers, num_heads, width, **kwargs):
        super().__init__(**kwargs)
        if width % num_heads:
            raise ValueError(f"width {width} is not divisible by num_heads {num_heads}; "
                             f"choose a multiple of {num_heads}")
        self.token_embedding = keras.layers.Embedding(vocab_size, width, name="wte")
        self.position_embedding = keras.layers.Embedding(context_length, width, name="wpe")
        self.blocks = [Block(width, num_heads, name=f"block_{i}") for i in range(num_layers)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_f")

    def call(self, token_ids):
        t = ops.shape(token_ids)[1]
        x = self.token_embedding(token_ids)  # (B, T, C)
        x = x + self.position_embedding(ops.arange(t))  # (B, T, C) + (T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        x = self.final_norm(x)  # (B, T, C)
        table = self.token_embedding.embeddings  # (V, C): the head reuses the embedding
        return ops.matmul(x, ops.transpose(table))  # (B, T, V)


# %% [markdown]
# The library keeps Q, K and V as three (C, H, D) kernels and the output projection as an
# (H, D, C) kernel; `MiniGPT` keeps one fused (C, 3C) matrix, as nanoGPT does. Copying the
# weights across is a matter of reshaping and concatenating:

# %% [export]
def copy_weights_from(mini, gpt):
    """Copies a built ``course_lib.gpt.GPT``'s weights into a built ``MiniGPT`` of the same size.

    Args:
        mini: the ``MiniGPT`` (call it once first, so its weights exist).
        gpt: the library ``GPT`` (tied embeddings, biases on).

    Example:
    ```python
    mini(token_ids)  # builds the weights
    copy_weights_from(mini, gpt)
    ```
    """
    def value(variable):
        return ops.convert_to_numpy(variable)

    mini.token_embedding.embeddings.assign(value(gpt.embedding.token_embedding.embeddings))
    mini.position_embedding.embeddings.assign(value(gpt.embedding.position_embedding.embeddings))
    for ours, theirs in zip(mini.blocks, gpt.blocks, strict=True):
        attention = theirs.attention
        c = value(attention.query_dense.kernel).shape[0]
        projections = (attention.query_dense, attention.key_dense, attention.value_dense)
        kernel = np.concatenate([value(p.kernel).reshape(c, c) for p in projections], axis=1)
        bias = np.concatenate([value(p.bias).reshape(c) for p in projections])
        ours.attn.qkv.set_weights([kernel, bias])  # (C, 3C), (3C,)
        ours.attn.proj.set_weights([value(attention.output_dense.kernel).reshape(c, c),
                                    value(attention.output_dense.bias)])  # (C, C), (C,)
        ours.ln_1.set_weights(theirs.attention_norm.get_weights())
        ours.ln_2.set_weights(theirs.mlp_norm.get_weights())
        ours.mlp_in.set_weights(theirs.mlp_in.get_weights())
        ours.mlp_out.set_weights(theirs.mlp_out.get_weights())
    mini.final_norm.set_weights(gpt.final_norm.get_weights())


# %% [markdown]
# Same weights in, same logits out, and the causal mask holds: changing token 5 changes no
# prediction before it.

# %%
# NBVAL_CHECK_OUTPUT
mini = MiniGPT(vocab_size=V, context_length=32, num_layers=2, num_heads=4, width=64)
mini(tokens)  # creates its weights
copy_weights_from(mini, gpt)
gap = np.abs(ops.convert_to_numpy(mini(tokens)) - ops.convert_to_numpy(gpt(tokens))).max()
print("same number of parameters:", mini.count_params() == gpt.count_params())
print("same logits as course_lib's GPT (max abs diff < 1e-4):", bool(gap < 1e-4))
print("positions 0-4 unchanged when token 5 changes:",
      not differs(mini(tokens)[:, :5], mini(changed)[:, :5]))

# %% [markdown]
# Back to the three families built before MiniGPT. Their four checks printed `False, True,
# False, True`: the GPT's first positions ignore a later token (causal), BERT's first position
# sees it (bidirectional), and the decoder ignores later target tokens but reads the source.
# In the table, the encoder-decoder has about twice the parameters of the other two: it has
# an encoder *and* a decoder, and each decoder block carries an extra attention
# (cross-attention). The masks behind these checks, for a 6-token source (2 of them padding)
# and a 6-token target:

# %%
# NBVAL_IGNORE_OUTPUT
T6 = 6
keep_source = np.array([1, 1, 1, 1, 0, 0], bool)
panels = [
    ("GPT: causal self-attention", np.tril(np.ones((T6, T6), bool)), "token", "token"),
    ("BERT: bidirectional + padding", np.broadcast_to(keep_source, (T6, T6)), "token", "token"),
    ("decoder: causal self-attention", np.tril(np.ones((T6, T6), bool)), "target", "target"),
    ("decoder: cross-attention", np.broadcast_to(keep_source, (T6, T6)), "source", "target"),
]
fig, axes = plt.subplots(1, 4, figsize=(14, 3.3))
for ax, (title, mask, key_label, query_label) in zip(axes, panels, strict=True):
    ax.imshow(mask, cmap="Blues", vmin=0, vmax=1)
    ax.set(title=title, xlabel=f"key ({key_label})", ylabel=f"query ({query_label})",
           xticks=range(T6), yticks=range(T6))
fig.suptitle("Which key each query may attend to (blue = allowed)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Choosing a model
#
# §3.2 names three families. Which one should you use? Claims are cheap, so we measure: four
# character-level language models on Tiny Shakespeare, each with **about the same number of
# parameters**, trained with the **same optimizer, learning-rate schedule, batches and number
# of steps** (the `course_lib.training.Trainer` of chapter 06), and evaluated on the same
# validation batches:
#
# - **Transformer**: `course_lib.gpt.GPT`, 2 blocks, 4 heads;
# - **LSTM** and **GRU**: `course_lib.baselines.RNNLanguageModel`, one recurrent layer: the
#   state carries everything read so far, one character at a time;
# - **1-D CNN**: `course_lib.baselines.CNNLanguageModel`, 5 causal convolutions of width 3
#   with dilations 1, 2, 4, 8, 16, so each prediction sees the last 63 characters (all of the
#   64-character window but its first character).
#
# `build_language_model` picks each model's width so that its parameter count is as close to
# the budget as the architecture allows. The task is next-character prediction; the measure
# is the validation cross-entropy in nats per character (lower is better; ln 65 = 4.17 is
# uniform guessing).

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib import data
from course_lib.baselines import KINDS, build_language_model
from course_lib.lm_data import split_tokens
from course_lib.tokenizers import CharTokenizer
from course_lib.training import LMBatches, TrainConfig, Trainer

text = data.load_tiny_shakespeare()
tokenizer = CharTokenizer.from_text(text)
train_tokens, val_tokens = split_tokens(tokenizer.encode(text), 0.9)
train_batches = LMBatches(train_tokens, CONTEXT, BATCH, seed=seed)
val_batches = LMBatches(val_tokens, CONTEXT, BATCH, seed=seed + 1)

# Two reference points that need no neural network: predict each character from the
# character frequencies alone (unigram), or from the previous character only (bigram), with
# counts from the training text (plus one, so no probability is 0).
V = tokenizer.vocab_size
unigram_counts = np.bincount(train_tokens, minlength=V) + 1.0
unigram_loss = -np.mean(np.log(unigram_counts / unigram_counts.sum())[val_tokens])
bigram_counts = np.ones((V, V))
np.add.at(bigram_counts, (train_tokens[:-1], train_tokens[1:]), 1)
bigram_probs = bigram_counts / bigram_counts.sum(1, keepdims=True)
bigram_loss = -np.mean(np.log(bigram_probs[val_tokens[:-1], val_tokens[1:]]))
print(f"reference validation losses: uniform {np.log(V):.3f}, unigram {unigram_loss:.3f}, "
      f"bigram {bigram_loss:.3f}")

results, histories, models = [], {}, {}
for kind in KINDS:
    keras.utils.set_random_seed(seed)  # the same initialisation stream for every model
    model = build_language_model(kind, tokenizer.vocab_size, BUDGET, CONTEXT)
    trainer = Trainer(model, TrainConfig(
        max_steps=STEPS, learning_rate=LEARNING_RATE, min_learning_rate=LEARNING_RATE / 10,
        warmup_steps=max(1, STEPS // 20), eval_interval=EVAL_INTERVAL,
        eval_batches=EVAL_BATCHES, verbose=0, jit_compile=JIT))
    start = time.perf_counter()
    history = trainer.fit(train_batches, val_batches)
    wall = time.perf_counter() - start
    step_ms = 1e3 * trainer.median_step_seconds(skip=min(10, STEPS // 2))
    width = getattr(model, "width", None) or model.config.width
    layers = getattr(model, "num_layers", None) or model.config.num_layers
    results.append({"model": kind, "width": width, "layers": layers,
                    "parameters": model.count_params(), "ms/step": step_ms,
                    "tokens/s": BATCH * CONTEXT / step_ms * 1e3, "wall s": wall,
                    "val loss": history[-1]["val_loss"],
                    "best val loss": min(r["val_loss"] for r in history)})
    histories[kind], models[kind] = history, model
    print(f"{kind:>11}: {model.count_params():,} parameters, {step_ms:.0f} ms/step, "
          f"final validation loss {history[-1]['val_loss']:.3f} ({wall:.0f} s)")

# %%
# NBVAL_IGNORE_OUTPUT
names = {"transformer": "Transformer (GPT)", "lstm": "LSTM", "gru": "GRU", "cnn": "1-D CNN"}
rows = ["| model | width × layers | parameters | time per step (ms) | tokens/s | final val loss "
        "| best val loss |", "|---|---|---:|---:|---:|---:|---:|"]
for r in sorted(results, key=lambda r: r["val loss"]):
    rows.append(f"| {names[r['model']]} | {r['width']} × {r['layers']} | {r['parameters']:,} | "
                f"{r['ms/step']:.0f} | {r['tokens/s']:,.0f} | {r['val loss']:.3f} | "
                f"{r['best val loss']:.3f} |")
display(Markdown("\n".join(rows)))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [2, 1]})
for kind, history in histories.items():
    ax1.plot([r["step"] for r in history], [r["val_loss"] for r in history], "o-", ms=3,
             label=names[kind])
for loss, label in ((unigram_loss, "unigram counts"), (bigram_loss, "bigram counts")):
    ax1.axhline(loss, color="gray", ls=":", lw=1)
    ax1.text(STEPS, loss, label, ha="right", va="bottom", fontsize=8, color="gray")
ax1.set(xlabel="training step", ylabel="validation loss (nats/char)",
        title=f"Same budget (~{BUDGET:,} parameters), same {STEPS} steps")
ax1.legend()
ax2.barh([names[r["model"]] for r in results], [r["ms/step"] for r in results], color="C2")
ax2.set(xlabel="median time per training step (ms)", title="Speed on this machine")
plt.tight_layout()
plt.show()

# %% [markdown]
# What the numbers say, for this run (about 100,000 parameters each, 300 steps, about 600,000
# characters seen: about 0.6 of an epoch), and what they do not:
#
# - **Quality.** The 1-D CNN reaches the lowest validation loss and the GRU is second; the
#   Transformer and the LSTM finish close to each other and close to the **bigram** line,
#   which means they have learned little more than which character tends to follow which.
#   For the Transformer this is a typical early plateau: its attention must first learn
#   *where* to look before it pays, whereas the CNN is built to look at the last few
#   characters and a recurrent state summarises them by construction. When steps and data are
#   scarce, built-in assumptions that fit the data (inductive biases) win.
# - **Speed.** Per step the CNN is the fastest; the Transformer comes next, a little ahead of
#   the recurrent models even on two CPU cores (the table; timings also vary with the
#   machine's load). Section 4.3 measures speed more carefully.
# - **What this run cannot show.** §2.3 credits the Transformer with two things this task
#   barely asks for: long-range dependencies (every position reads every earlier one
#   directly, a path of length 1, against up to 63 steps through a recurrent state) and
#   parallel computation. And whether the ranking survives longer training, a single run of
#   300 steps cannot tell. Sections 4.1 to 4.3 test each of these.
#
# First, the **learned position embeddings** of the trained Transformer (section 1
# promised them). Their cosine similarities show what the model made of positions:

# %%
# NBVAL_IGNORE_OUTPUT
keras.utils.set_random_seed(seed)  # the same seed as before training: the initial table
initial = build_language_model("transformer", tokenizer.vocab_size, BUDGET, CONTEXT)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, (title, model) in zip(axes, [("at initialisation", initial),
                                     (f"after {STEPS} steps", models["transformer"])],
                              strict=True):
    table = ops.convert_to_numpy(model.embedding.position_embedding.embeddings)  # (T, C)
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    im = ax.imshow(unit @ unit.T, cmap="viridis", vmin=-1, vmax=1)
    ax.set(xlabel="position", ylabel="position", title=f"Learned positions {title}")
fig.colorbar(im, ax=axes, label="cosine similarity")
plt.show()

# %% [markdown]
# At initialisation the table is random: only the diagonal (each position with itself)
# stands out. After training, positions close to each other have more similar vectors than
# distant ones: the early positions form one block, the late ones another, with a gradual
# change between. The model learned a sense of distance from data alone, in a few hundred
# steps; the sinusoidal encoding of section 1 builds one in from the start.
#
# ### 4.1 Training longer
#
# The same four models, from a fresh start, now trained for `LONG_STEPS` steps: four times as
# many, with the same batches in the same order for every model (the batches are a function
# of the step), the same parameter budget and the same schedule stretched over the longer
# run. Every model sees the same number of characters. The question is whether the curves
# cross: does the Transformer, third after 300 steps, catch up with the models ahead of it?

# %%
# NBVAL_IGNORE_OUTPUT
long_histories = {}
for kind in KINDS:
    keras.utils.set_random_seed(seed)
    model = build_language_model(kind, tokenizer.vocab_size, BUDGET, CONTEXT)
    trainer = Trainer(model, TrainConfig(
        max_steps=LONG_STEPS, learning_rate=LEARNING_RATE, min_learning_rate=LEARNING_RATE / 10,
        warmup_steps=max(1, LONG_STEPS // 20), eval_interval=LONG_EVAL_INTERVAL,
        eval_batches=EVAL_BATCHES, verbose=0, jit_compile=JIT))
    start = time.perf_counter()
    long_histories[kind] = trainer.fit(train_batches, val_batches)
    print(f"{kind:>11}: validation loss {long_histories[kind][-1]['val_loss']:.3f} after "
          f"{LONG_STEPS} steps ({time.perf_counter() - start:.0f} s)")
print(f"characters seen by each model: {LONG_STEPS * BATCH * CONTEXT:,} "
      f"({LONG_STEPS * BATCH * CONTEXT / len(train_tokens):.1f} passes over the training text)")


def crossing(ours, theirs):
    """The first evaluation step from which `ours` stays below `theirs`, or None."""
    below = [a["val_loss"] < b["val_loss"] for a, b in zip(ours, theirs, strict=True)]
    for i in range(len(below)):
        if all(below[i:]):
            return ours[i]["step"]
    return None


ours = long_histories["transformer"]
for kind in KINDS[1:]:
    theirs = long_histories[kind]
    gaps = [a["val_loss"] - b["val_loss"] for a, b in zip(ours, theirs, strict=True)]
    step = crossing(ours, theirs)
    verdict = (f"below from step {step} to the end" if step is not None
               else f"not below at the end of {LONG_STEPS} steps")
    print(f"Transformer vs {names[kind]:>8}: {verdict}; loss gap (Transformer minus "
          f"{names[kind]}) {gaps[0]:+.3f} at step {ours[0]['step']}, {gaps[-1]:+.3f} at the end")

fig, ax = plt.subplots(figsize=(9, 4))
for kind, history in long_histories.items():
    ax.plot([r["step"] for r in history], [r["val_loss"] for r in history], "o-", ms=3,
            label=names[kind])
for loss, label in ((unigram_loss, "unigram counts"), (bigram_loss, "bigram counts")):
    ax.axhline(loss, color="gray", ls=":", lw=1)
    ax.text(LONG_STEPS, loss, label, ha="right", va="bottom", fontsize=8, color="gray")
ax.axvline(STEPS, color="gray", lw=0.8)
ax.text(STEPS, ax.get_ylim()[1], f" {STEPS} steps (the table above)", va="top", fontsize=8,
        color="gray")
ax.set(xlabel="training step", ylabel="validation loss (nats/char)",
       title=f"Same budget (~{BUDGET:,} parameters), {LONG_STEPS} steps each")
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the curves against the printed lines. A negative gap means the Transformer is ahead.
#
# - **The LSTM.** The Transformer is ahead of it at step 100 (0.35 nats lower), the two
#   LSTM catches up somewhere between steps 100 and 600, and from step 600 to the end the
#   Transformer stays below it (0.09 nats lower at the end).
# - **The GRU and the CNN stay ahead.** The Transformer closes part of its gap to the CNN, but
#   not all of it, and within this run the GRU draws further ahead (0.01 nats at step 100,
#   0.10 at the end): within this budget those curves do not
#   cross. At about 100,000 parameters and a 64-character window, a GRU's gates and a CNN's
#   fixed local window are assumptions that fit character-level text well, and they pay at
#   every step.
# - **What it means.** On this task, at this size, "Transformer" is not the answer to "which
#   model is best?". Its advantages lie elsewhere: the next two sections test them.
#
# ### 4.2 A task that needs a long memory
#
# §2.3 says attention "captures long-range dependencies". Next-character prediction in
# Shakespeare mostly needs the last few characters, so it hardly tests that. Here is a task
# that needs nothing else: **recall**. Each sequence starts with 8 facts, each one token
# that stands for a key and its value (`C=5`: key C has value 5 in this sequence; the value
# changes from sequence to sequence). Then comes filler, then a question about every key, in
# a new order (`C?`), and at each question the model must output the fact about that key,
# which it saw 40 to 54 positions earlier. Only the answers count in the loss and in the
# accuracy. Without remembering this sequence's facts, a model can only guess a value:
# 1 chance in 8.
#
# Each fact is a single token on purpose: finding it is then one comparison of the question
# with each earlier token. Written as two tokens, `C` then `5`, the task would also ask the
# model to learn which value belongs to which key before it can look anything up (try it
# once you have run this section). `RecallTask` makes the sequences; the cell after it prints
# one and measures the distances between facts and questions.

# %% [export]
class RecallTask:
    """A long-range recall task: facts first, then filler, then a question about every fact.

    One sequence of ``length = 2 * num_facts - 1 + min_distance`` tokens reads, for example,

        C=5 K=2 A=7 ...   · · · · · · · · · ·   K? A? C? ...
        (num_facts facts)      (filler)        (the same keys asked, in a new order)

    A fact is one token that stands for a (key, value) pair: key ``C`` has value 5 in this
    sequence. The keys of a sequence are distinct and their values random. At each question
    ``K?`` the model must output the fact about K that it read earlier (``K=2``): a copy of a
    token at least ``min_distance`` positions back. A model that knows the key but not the
    facts of this sequence is right with probability ``1 / num_values`` (:attr:`chance`).

    Token ids: fact (k, v) is ``k * num_values + v``, the question about key k is
    ``num_keys * num_values + k``, and the filler is the last id. Labels are the fact ids at
    the question positions and :attr:`IGNORE` (-1) everywhere else, so a loss with
    ``ignore_class=-1`` counts the answers only.

    Args:
        num_facts: facts, and questions, per sequence; at most ``num_keys``.
        num_keys: distinct keys, written A, B, C, ... (at most 26).
        num_values: values per key, written 0, 1, 2, ... (at most 10).
        min_distance: the fewest positions between a fact and the question about it.

    Example:

    >>> task = RecallTask(num_facts=2, num_keys=3, num_values=4, min_distance=5)
    >>> task.length, task.vocab_size, task.chance
    (8, 16, 0.25)
    >>> x, y = task.sample(1, np.random.default_rng(4))
    >>> task.render(x[0])
    'B=3 A=0 ·×4 A? B?'
    >>> task.render(y[0][y[0] != task.IGNORE])
    'A=0 B=3'
    """

    IGNORE = -1

    def __init__(self, num_facts=8, num_keys=16, num_values=8, min_distance=40):
        for name, value, most in (("num_keys", num_keys, 26), ("num_values", num_values, 10),
                                  ("num_facts", num_facts, num_keys),
                                  ("min_distance", min_distance, None)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")
            if most is not None and value > most:
                raise ValueError(f"{name} is {value}, more than {most}; lower it"
                                 + (" or raise num_keys" if name == "num_facts" else ""))
        if num_values < 2:
            raise ValueError("num_values must be at least 2, or every answer is known in advance")
        self.num_facts, self.num_keys = int(num_facts), int(num_keys)
        self.num_values, self.min_distance = int(num_values), int(min_distance)
        self.first_question_id = self.num_keys * self.num_values
        self.filler_id = self.first_question_id + self.num_keys

    @property
    def length(self):
        """Tokens per sequence: the facts, the filler and the questions."""
        return 2 * self.num_facts - 1 + self.min_distance

    @property
    def vocab_size(self):
        """Fact tokens, question tokens and the filler token."""
        return self.filler_id + 1

    @property
    def chance(self):
        """Accuracy of a guess that knows the key but not the value: 1 / num_values."""
        return 1 / self.num_values

    def sample(self, batch_size, rng):
        """A batch of sequences and their labels.

        Args:
            batch_size: sequences B.
            rng: a ``np.random.Generator``; the same seed gives the same batch.

        Returns:
            ``(x, y)``, int32 arrays ``(B, length)``: token ids, and the fact each question
            asks for (``IGNORE`` where there is no question).
        """
        b, n, t = int(batch_size), self.num_facts, self.length
        keys = np.argsort(rng.random((b, self.num_keys)), axis=1)[:, :n]  # (B, n) distinct
        facts = keys * self.num_values + rng.integers(0, self.num_values, (b, n))  # (B, n)
        order = np.argsort(rng.random((b, n)), axis=1)  # (B, n): a new order for the questions
        asked = np.take_along_axis(facts, order, axis=1)  # (B, n): the fact each question wants
        x = np.full((b, t), self.filler_id, "int32")  # (B, T)
        x[:, :n] = facts
        x[:, t - n:] = self.first_question_id + asked // self.num_values  # the keys, as questions
        y = np.full((b, t), self.IGNORE, "int32")  # (B, T)
        y[:, t - n:] = asked
        return x, y

    def render(self, ids):
        """Token ids as text: ``C=5`` a fact, ``C?`` a question, ``·×40`` a run of filler."""
        words, run = [], 0
        for i in [int(i) for i in ids] + [None]:
            if i == self.filler_id:
                run += 1
                continue
            if run:
                words.append(f"·×{run}")
                run = 0
            if i is None:
                break
            if i < self.first_question_id:
                words.append(f"{chr(65 + i // self.num_values)}={i % self.num_values}")
            else:
                words.append(f"{chr(65 + i - self.first_question_id)}?")
        return " ".join(words)

# %%
# NBVAL_CHECK_OUTPUT
task = RecallTask(num_facts=8, num_keys=16, num_values=8, min_distance=40)
example_x, example_y = task.sample(1, np.random.default_rng(0))
print("sequence:", task.render(example_x[0]))
print("answers: ", task.render(example_y[0][example_y[0] != task.IGNORE]))
print(f"{task.length} tokens per sequence, {task.vocab_size} token ids, "
      f"chance accuracy 1/{task.num_values} = {task.chance:.1%}")
check_x, check_y = task.sample(1_000, np.random.default_rng(1))
rows, columns = np.nonzero(check_y != task.IGNORE)  # every question in 1,000 sequences
shown_at = np.argmax(check_x[rows] == check_y[rows, columns][:, None], axis=1)  # its fact
distances = columns - shown_at
print(f"fact-to-question distance over {len(distances):,} questions: "
      f"{distances.min()} to {distances.max()} positions")

# %% [markdown]
# The four model classes of section 4, built by `build_language_model` for this vocabulary
# and sequence length at the same budget of parameters, each trained for `RECALL_STEPS` steps
# on the same freshly drawn sequences, with the same optimizer and schedule as before. The
# loss ignores every position but the questions (`ignore_class=-1`). Every
# `RECALL_EVAL_INTERVAL` steps we measure the accuracy on held-out sequences: the share of
# questions whose most likely output is the right fact.

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.training import make_optimizer

eval_x, eval_y = task.sample(RECALL_EVAL_SEQUENCES, np.random.default_rng(seed + 1))
asked = eval_y != task.IGNORE  # (N, T): True at the questions


def recall_accuracy(model):
    """The share of held-out questions whose most likely output is the right fact."""
    logits = model.predict_on_batch(eval_x)  # (N, T, V)
    return float(np.mean(np.argmax(logits, axis=-1)[asked] == eval_y[asked]))


recall_curves, recall_results = {}, []
for kind in KINDS:
    keras.utils.set_random_seed(seed)
    model = build_language_model(kind, task.vocab_size, BUDGET, task.length)
    config = TrainConfig(max_steps=RECALL_STEPS, learning_rate=LEARNING_RATE,
                         min_learning_rate=LEARNING_RATE / 10,
                         warmup_steps=max(1, RECALL_STEPS // 20))
    model.compile(optimizer=make_optimizer(model, config),  # AdamW + schedule, as in Trainer
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True, ignore_class=task.IGNORE),  # only the answers count
                  jit_compile=JIT)
    rng = np.random.default_rng(seed)  # the same training sequences for every model
    curve = [(0, recall_accuracy(model))]
    start = time.perf_counter()
    for step in range(1, RECALL_STEPS + 1):
        x, y = task.sample(BATCH, rng)  # (B, T), (B, T)
        model.train_on_batch(x, y)
        if step % RECALL_EVAL_INTERVAL == 0 or step == RECALL_STEPS:
            curve.append((step, recall_accuracy(model)))
    recall_curves[kind] = curve
    recall_results.append({"model": kind, "parameters": model.count_params(),
                           "accuracy": curve[-1][1]})
    print(f"{kind:>11}: {model.count_params():,} parameters, accuracy on the questions "
          f"{curve[-1][1]:.1%} after {RECALL_STEPS} steps ({time.perf_counter() - start:.0f} s)")

# %%
# NBVAL_IGNORE_OUTPUT
rows = [f"| model | parameters | accuracy after {RECALL_STEPS} steps | chance |",
        "|---|---:|---:|---:|"]
for r in sorted(recall_results, key=lambda r: -r["accuracy"]):
    rows.append(f"| {names[r['model']]} | {r['parameters']:,} | {r['accuracy']:.1%} | "
                f"{task.chance:.1%} |")
display(Markdown("\n".join(rows)))

fig, ax = plt.subplots(figsize=(8, 3.8))
for kind, curve in recall_curves.items():
    ax.plot(*zip(*curve, strict=True), "o-", ms=3, label=names[kind])
ax.axhline(task.chance, color="gray", ls=":", lw=1)
ax.text(RECALL_STEPS, task.chance, "chance (1/8)", ha="right", va="bottom", fontsize=8,
        color="gray")
ax.set(xlabel="training step", ylabel="accuracy on the questions", ylim=(0, 1.05),
       title=f"Recall over {task.min_distance}+ positions, ~{BUDGET:,} parameters each")
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Every curve starts below chance: an untrained model does not yet know that the answer to
# `C?` is a fact about C. Within a few steps all four learn that much and reach chance.
# Then they part. The Transformer solves the task; the others do not, at the same size and
# the same number of steps. The reason is the path from a fact to its question:
#
# - **Attention** compares the question with every earlier position at once and copies the
#   one that matches; a single attention layer is enough in principle, however far back the
#   fact is.
# - **An LSTM or GRU** must carry all 8 facts, one of 128 possible each, through 40 or more
#   steps in one state vector, and learn to write and read them there. Nothing tells it which
#   facts will be asked, so it must keep all of them.
# - **The CNN** sees the whole sequence (its window covers it), but only through a fixed
#   stack of local filters that mix positions by where they are, not by what they hold;
#   finding *the* matching fact among 8 at a varying distance is not what convolutions do
#   naturally. It makes some progress, far from a solution.
#
# This is §2.3's "captures long-range dependencies", measured. It is also why next-character
# loss in section 4.1 moved the Transformer only slowly: that task rarely needs it.
#
# ### 4.3 Speed: is the Transformer parallel?
#
# §2.3's other claim is **parallel computation**. A Transformer computes every position of a
# window at once (matrix products over all T positions); an LSTM or GRU must step through the
# T positions one after another, because each state needs the previous one. A longer window
# means more sequential steps for a recurrent model, and more, but parallel, work for the
# Transformer. So we time a training step of each model at two window lengths, 64 and 256
# characters, with the same number of characters per step (batch × window = 2,048 at cpu),
# after the first steps (which compile the step) have run. The figures are this machine's:
# the cell prints what it has.

# %%
# NBVAL_IGNORE_OUTPUT
import os

from course_lib.training import compile_model

cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
gpus = len(keras.distribution.list_devices("gpu"))
print(f"measured on this machine: {cores} CPU cores, {gpus} GPUs")
chars_per_step = BATCH * CONTEXT  # the same work per step at both window lengths
windows = (CONTEXT, 4 * CONTEXT)
speed = {}
for window in windows:
    source = LMBatches(train_tokens, window, chars_per_step // window, seed=seed)
    x, y = next(iter(source(start_step=0, num_steps=1)))  # (B, T), (B, T)
    for kind in KINDS:
        keras.utils.set_random_seed(seed)
        model = build_language_model(kind, tokenizer.vocab_size, BUDGET, window)
        compile_model(model, TrainConfig(max_steps=10, warmup_steps=1, jit_compile=JIT))
        for _ in range(3):  # the first call compiles the step; the next two settle it
            model.train_on_batch(x, y)
        seconds = []
        for _ in range(SPEED_STEPS):
            start = time.perf_counter()
            model.train_on_batch(x, y)
            seconds.append(time.perf_counter() - start)
        speed[kind, window] = chars_per_step / float(np.median(seconds))

short, long = windows
rows = [f"| model | window {short} (batch {chars_per_step // short}) | window {long} "
        f"(batch {chars_per_step // long}) | change |", "|---|---:|---:|---:|"]
for kind in KINDS:
    rows.append(f"| {names[kind]} | {speed[kind, short]:,.0f} | {speed[kind, long]:,.0f} | "
                f"{speed[kind, long] / speed[kind, short]:.2f}× |")
display(Markdown("Training throughput, characters (tokens) per second, median of "
                 f"{SPEED_STEPS} steps after warm-up:\n\n" + "\n".join(rows)))

fig, ax = plt.subplots(figsize=(8, 3.6))
for i, window in enumerate(windows):
    ax.bar(np.arange(len(KINDS)) + 0.4 * i, [speed[kind, window] for kind in KINDS], 0.4,
           label=f"window {window}")
ax.set_xticks(np.arange(len(KINDS)) + 0.2, [names[kind] for kind in KINDS])
ax.set(ylabel="characters per second", title="Training throughput on this machine")
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The numbers belong to the machine that printed them: another CPU, a busier one, or a GPU
# gives others, and only the comparison within the table means anything.
#
# Read the **change** column. Going from 64 to 256 characters per window keeps the work per
# step about the same for the recurrent models, but spreads it over four times as many
# sequential steps, each on a batch four times smaller: whatever the hardware could do in
# parallel within a step shrinks, and their throughput falls. The Transformer's attention
# does more work at the longer window (every position against every earlier one), but all
# of it in large matrix products that run in parallel, so it loses less: in this run it keeps
# 0.47 of its speed where the LSTM and GRU keep 0.28 and 0.29, and at 256 characters it is
# half again as fast as either. The CNN, also parallel over positions and with a fixed
# window, even speeds up (1.18×) and is the fastest at 256. This is §2.3's claim in miniature: on two CPU cores there is little parallel
# hardware to use, and on a GPU, with thousands of cores, the gap between "all positions at
# once" and "one position after another" is what made training large Transformers on large
# data possible.
#
# ### Choosing a model
#
# The document's list is a menu, not a ranking: choose by task, data and compute (the advice
# chapter 14's FAQ repeats). On short-range next-character prediction at about 100,000
# parameters, a CNN or a GRU is a strong, cheap choice, and the Transformer needs more steps
# to catch up, if it does (sections 4 and 4.1). Where the task needs to find something far
# back, the Transformer wins outright (section 4.2); and as windows grow it slows down less
# than recurrent models, which must step through every position (section 4.3). Large
# language models need long windows, long-range recall and parallel hardware, which is why
# they are Transformers.


# %% [record]
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("05", {
    **{f"{r['model']} best val loss": float(r["best val loss"]) for r in results},
    **{f"{kind} long-run val loss": float(history[-1]["val_loss"])
       for kind, history in long_histories.items()},
    **{f"{r['model']} recall accuracy": r["accuracy"] for r in recall_results},
})
print(key_figures.read_text(encoding="utf-8"))

# %% [markdown]
# ## Exercises
#
# Replace each `None` with your answer; the check says whether it is right or gives a hint.
# Worked solutions: `notebooks/solutions/05_transformer.ipynb`.
#
# **Exercise 1.** How many trainable parameters does one `TransformerBlock(width=48,
# num_heads=4)` have (MLP ratio 4, biases everywhere)? Count them from the structure in
# section 2, without calling `count_params`.

# %%
from course_lib.exercises.ch05 import (
    check_block_parameters,
    check_receptive_field,
    check_sinusoid_value,
)

my_count = None  # your answer
check_block_parameters(my_count)

# %% [markdown]
# **Exercise 2.** A causal CNN has 6 layers of kernel size 2 with dilations 1, 2, 4, 8, 16
# and 32. How many characters does one output see (itself included)?

# %%
my_field = None  # your answer
check_receptive_field(my_field)

# %% [markdown]
# **Exercise 3.** Compute the sinusoidal encoding PE[position 5, dimension 2] for width
# C = 8 and base 10000, by hand or with NumPy.

# %%
my_value = None  # your answer
check_sinusoid_value(my_value)

# %% [markdown]
# ## Next
#
# `06_training_loop.ipynb`: the five training steps of §3.2 written out by hand, the loss
# functions of §4.2, and the course GPT trained properly, with checkpoints.
