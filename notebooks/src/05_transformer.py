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
#    parameters, trained the same way on the same task, measured in one table.
#
# **Before you run it:** time: smoke ~35 s · cpu ~1.5 min (2 cores) · gpu ~5 min (estimated); memory: peak ~1.4 GB at cpu; data: tinyshakespeare (1.1 MB) (downloaded once, verified by SHA-256).

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
(:func:`copy_weights_from`).

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
        eval_batches=EVAL_BATCHES, verbose=0,
        jit_compile=profile.pick(smoke=False, cpu="auto", gpu="auto")))  # XLA: slow to start
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
#   machine's load). Its parallelism (§2.3) shows fully on parallel hardware: a GPU processes
#   the 64 positions of a window at once, while an LSTM or GRU must still step through them
#   one after another.
# - **What this run cannot show.** The advantages that made the Transformer the architecture
#   of large language models appear with scale: every position reads every earlier one
#   directly (a path of length 1, against up to 63 steps through a recurrent state, or the
#   CNN's fixed window), and its loss keeps falling as parameters, data and context grow.
#   Whether the ranking above survives longer training, a single run of 300 steps cannot
#   tell; the `gpu` profile trains four times larger models ten times longer.
#
# So the document's list is a menu, not a ranking: choose by task, data and compute (the
# advice chapter 14's FAQ repeats). For a small model trained briefly on a CPU, a CNN is a
# strong, cheap baseline (the GRU is strong too, but the slowest per step); for anything meant
# to scale, start from a Transformer.
#
# Finally, the **learned position embeddings** of the trained Transformer (section 1
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

# %%
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("05", {
    f"{r['model']} best val loss": float(r["best val loss"]) for r in results
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
