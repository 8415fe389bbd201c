# %% [markdown]
# # 09 · Text generation and dialogue
#
# *Mirrors §6 of the source document (实际应用场景, "application scenarios"): 文本生成
# ("text generation: poems, code, e-mails …") and 对话系统 ("dialogue systems: talking with
# users in natural language").*
#
# A language model gives a probability for every possible next token. Generation is the loop
# around it: pick a token, append it, ask again. *How* the token is picked (the **decoding
# strategy**) changes the text as much as the model does. This chapter:
#
# 1. takes the course GPT trained on Tiny Shakespeare and looks at one next-token distribution
#    and how **temperature**, **top-k** and **top-p** reshape it, and how **greedy decoding** and
#    **beam search** use it;
# 2. measures each strategy over many samples: variety (**distinct-n**), loops
#    (**repetition rate**), and how likely the model itself finds its samples (**perplexity**),
#    in one table, and says which setting to pick for what;
# 3. writes **verse** (the Shakespeare model) and **code** (a second model, trained on the
#    Python standard library's own source files, with a subword tokenizer);
# 4. trains a **dialogue** model on Topical-Chat conversations and talks to it with a `chat()`
#    helper that keeps the conversation inside the model's context window;
# 5. measures how much the **key/value cache** speeds generation up;
# 6. lets the **course foundation model**, one GPT pretrained on all the course's English text,
#    write in four domains, and compares it with this chapter's specialists on their own
#    held-out text, in **bits per byte** (a measure that does not depend on the tokenizer);
# 7. is honest about what a model trained for minutes can do, and what grows with scale.
#
# **Before you run it:** time: smoke ~40 s · cpu ~10 min (2 cores) · gpu ~8 min (estimated); memory: peak ~1.8 GB at cpu; data: tinyshakespeare (1.1 MB), topical-chat (7.6 MB) (downloaded once, verified by SHA-256); plus the Python standard library's own source files, chapter 06's trained model (`notebooks/artifacts/`) and the course foundation model (`artifacts/foundation/`).

# %%
# NBVAL_IGNORE_OUTPUT
import ast
import time
from pathlib import Path

import keras
import keras_hub
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Markdown, display
from keras import ops

import course_lib
from course_lib.data import load_tiny_shakespeare, load_topical_chat
from course_lib.exercises import ch09 as ex
from course_lib.generation import (
    beam_search,
    generate_text,
    perplexity,
    sample_batch,
    token_log_probs,
    top_k_filter,
    top_p_filter,
)
from course_lib.gpt import GPT, GPTConfig
from course_lib.lm_data import split_tokens
from course_lib.metrics import distinct_n, log_softmax, repetition_rate, word_tokens
from course_lib.model_io import load_model
from course_lib.pretraining import load_corpus, load_foundation, token_byte_lengths
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything
from course_lib.tokenizers import BPETokenizer, CharTokenizer
from course_lib.training import LMBatches, TrainConfig, Trainer, history_table

tf.get_logger().setLevel("ERROR")  # several models retrace Keras's train step: expected here
SEED = seed_everything(9)
profile = active_profile()
print(f"seed {SEED}, profile {profile} ({profile.source}), Keras {keras.__version__}")

# %% [markdown]
# All sizes live in this cell, with the reason for each. The `smoke` profile (the test suite)
# shrinks everything so the notebook runs in under a minute; its numbers mean nothing. The
# stored outputs come from the `cpu` profile (about 10 minutes on 2 cores).

# %%
JIT = profile.pick(smoke=False, cpu=True, gpu=True)  # XLA for training: compile once, faster steps
# Decoding: False traces a graph once per model and batch shape (a second or two), True also
# compiles it with XLA: more compile time, faster steps, worth it for long runs.
DECODE_JIT = profile.pick(smoke=False, cpu=False, gpu=True)
# Part 1: the Shakespeare model. Chapter 06 saves one; if it is missing we train our own.
SHAKESPEARE_SIZE = profile.pick(smoke="tiny", cpu="nanogpt_cpu", gpu="nanogpt_gpu")
SHAKESPEARE_STEPS = profile.pick(smoke=4, cpu=1000, gpu=5000)  # half of nanoGPT's CPU run
SHAKESPEARE_BATCH = profile.pick(smoke=8, cpu=12, gpu=64)  # nanoGPT: 12 on a CPU, 64 on a GPU
# Part 2: the decoding study. Every strategy continues the same prompts from the validation text.
NUM_PROMPTS = profile.pick(smoke=3, cpu=16, gpu=64)  # samples per strategy (one per prompt)
PROMPT_CHARS = 32  # characters of real text each continuation starts from
NEW_CHARS = profile.pick(smoke=16, cpu=200, gpu=300)  # characters generated per sample
BEAM_WIDTH = profile.pick(smoke=2, cpu=4, gpu=4)  # beams; 4-5 is the usual choice
# Part 3: the code model: the standard library's source, a byte-level BPE tokenizer.
CODE_CHARS = profile.pick(smoke=20_000, cpu=600_000, gpu=6_000_000)  # characters of source read
CODE_VOCAB = profile.pick(smoke=300, cpu=768, gpu=4096)  # BPE ids: 256 bytes + merges + 1 special
CODE_MODEL = profile.pick(  # context in BPE tokens (~3.2 characters each)
    smoke=dict(context_length=32, num_layers=1, num_heads=2, width=32),
    cpu=dict(context_length=128, num_layers=4, num_heads=4, width=128),
    gpu=dict(context_length=256, num_layers=6, num_heads=6, width=384, dropout=0.1),
)
CODE_STEPS = profile.pick(smoke=4, cpu=600, gpu=5000)
CODE_NEW_TOKENS = profile.pick(smoke=12, cpu=80, gpu=120)  # tokens per completion
# Part 4: the dialogue model on Topical-Chat (the registry's valid split: 539 conversations).
CHAT_CONVERSATIONS = profile.pick(smoke=30, cpu=539, gpu=539)  # conversations read
CHAT_HELD_OUT = 0.1  # share of conversations kept out of training, for validation perplexity
CHAT_VOCAB = profile.pick(smoke=300, cpu=1024, gpu=2048)  # BPE ids, 4 special tokens included
CHAT_MODEL = profile.pick(
    smoke=dict(context_length=48, num_layers=1, num_heads=2, width=32),
    cpu=dict(context_length=128, num_layers=4, num_heads=4, width=128),
    gpu=dict(context_length=256, num_layers=6, num_heads=6, width=384, dropout=0.2),
)
CHAT_STEPS = profile.pick(smoke=4, cpu=400, gpu=5000)
CHAT_REPLY_TOKENS = profile.pick(smoke=10, cpu=40, gpu=60)  # longest reply, in tokens
BATCH = profile.pick(smoke=4, cpu=12, gpu=64)  # batch of the code and dialogue models
EVAL_BATCHES = profile.pick(smoke=1, cpu=10, gpu=20)  # validation batches per evaluation
# Part 5: speed.
SPEED_TOKENS = profile.pick(smoke=16, cpu=300, gpu=500)  # tokens generated per timing
# Part 6: the course foundation model (loaded, never trained here).
FOUNDATION_NEW_TOKENS = profile.pick(smoke=8, cpu=48, gpu=64)  # short samples: a few lines each
# The chapter's setting for open-ended text, with top-k (GPT-2's k = 40) instead of top-p.
FOUNDATION_SAMPLING = dict(temperature=0.8, top_k=40)
# Held-out characters scored per domain, with forward passes only: at the cpu profile 20 K
# tokens for the character model and about 6 K for each BPE model, some 30 s in all.
BPB_CHARS = profile.pick(smoke=2_000, cpu=20_000, gpu=100_000)


def train_config(steps, eval_batches):
    """nanoGPT's schedule (warm-up, cosine decay from 1e-3 to 1e-4) at this chapter's sizes."""
    return TrainConfig(max_steps=steps, warmup_steps=max(1, steps // 20),
                       eval_interval=max(1, steps // 4), eval_batches=eval_batches,
                       jit_compile=JIT, verbose=0)


# %% [markdown]
# ## 1. The Shakespeare model
#
# Chapter 06 trains the course GPT on Tiny Shakespeare (1.1 million characters, one token per
# character, 65 characters in all) and saves it in `notebooks/artifacts/`. We reuse that model
# when it is there; otherwise (or at the smoke profile) we train one here with the same
# recipe: nanoGPT's configuration and schedule, with the course `Trainer`.

# %%
# NBVAL_IGNORE_OUTPUT
REPO = Path(course_lib.__file__).resolve().parents[1]
text = load_tiny_shakespeare()
# Chapter 06 saves its cpu run in notebooks/artifacts/ and its gpu run in artifacts/gpu/.
artifacts = REPO / "notebooks" / "artifacts" / profile.pick(smoke="", cpu="", gpu="gpu")
saved_model = artifacts / "shakespeare_gpt.keras"
saved_tokenizer = artifacts / "shakespeare_char_tokenizer.json"
if not profile.is_smoke and saved_model.exists() and saved_tokenizer.exists():
    char_tokenizer = CharTokenizer.load(saved_tokenizer)
    shakespeare = load_model(saved_model)
    print(f"loaded chapter 06's model from {saved_model.relative_to(REPO)}")
else:
    char_tokenizer = CharTokenizer.from_text(text)
    V = char_tokenizer.vocab_size
    config = (GPTConfig(V, context_length=32, num_layers=1, num_heads=2, width=32)
              if SHAKESPEARE_SIZE == "tiny" else getattr(GPTConfig, SHAKESPEARE_SIZE)(V))
    shakespeare = GPT(config)
    char_ids = char_tokenizer.encode(text)
    train_ids, _ = split_tokens(char_ids, 0.9)
    start = time.perf_counter()
    shakespeare_history = Trainer(shakespeare, train_config(SHAKESPEARE_STEPS, EVAL_BATCHES)).fit(
        LMBatches(train_ids, config.context_length, SHAKESPEARE_BATCH, seed=0))
    print(f"no saved model in {artifacts.relative_to(REPO)}: trained one for {SHAKESPEARE_STEPS} "
          f"steps in {time.perf_counter() - start:.0f} s")
char_ids = char_tokenizer.encode(text)
_, val_ids = split_tokens(char_ids, 0.9)
val_text = char_tokenizer.decode(val_ids)
cfg = shakespeare.config
print(f"GPT: {cfg.num_layers} layers, width {cfg.width}, context {cfg.context_length} "
      f"characters, {shakespeare.count_params():,} parameters")
val_ppl = perplexity(shakespeare, val_ids[:profile.pick(smoke=2000, cpu=30_000, gpu=100_000)],
                     jit_compile=DECODE_JIT)
print(f"validation perplexity {val_ppl:.2f} per character (loss {np.log(val_ppl):.3f}); "
      f"a uniform guess would be {char_tokenizer.vocab_size}")

# %% [markdown]
# The validation perplexity is computed with `course_lib.generation.perplexity`, which slides a
# window of `context_length` characters over the text (section 2.3 explains it). A perplexity of
# about 6 means the model is, on average, as unsure as if it chose among 6 equally likely
# characters: far from the 65 of a uniform guess, far from certain.
#
# ## 2. Decoding strategies
#
# ### 2.1 One next-token distribution, reshaped four ways
#
# Here is what the model predicts after a line of verse that stops in the middle of a word.
# Every decoding strategy starts from these probabilities, `softmax(logits)`, and changes them
# before it picks:
#
# - **greedy** takes the most likely token, every time;
# - **temperature** T divides the logits by T before the softmax: T < 1 sharpens the
#   distribution (the likely get likelier), T > 1 flattens it; T → 0 is greedy;
# - **top-k** keeps the k most likely tokens and renormalises; the long tail of unlikely
#   tokens, each rare but together likely to be hit now and then, is cut off;
# - **top-p** (nucleus sampling) keeps the smallest set of most likely tokens whose
#   probabilities add up to at least p, so it keeps few tokens when the model is sure and many
#   when it is not.

# %%
# NBVAL_IGNORE_OUTPUT
probe = "KING RICHARD III:\nNow is the winter of our disc"
probe_ids = char_tokenizer.encode(probe)[-shakespeare.config.context_length:]
logits = ops.convert_to_numpy(shakespeare(probe_ids[None], training=False))[0, -1].astype(np.float64)


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z[np.isfinite(z)].max())
    return e / e.sum()


shapes = {
    "T = 1 (the model)": softmax(logits),
    "T = 0.5": softmax(logits / 0.5),
    "T = 1.5": softmax(logits / 1.5),
    "top-k, k = 5": softmax(top_k_filter(logits, 5)),
    "top-p, p = 0.9": softmax(top_p_filter(logits, 0.9)),
}
order = np.argsort(-shapes["T = 1 (the model)"], kind="stable")[:15]
labels = [repr(char_tokenizer.decode([i]))[1:-1] or "␣" for i in order]
labels = ["␣" if c == " " else c for c in labels]
fig, axes = plt.subplots(1, len(shapes), figsize=(17, 3.2), sharey=True)
for ax, (name, p) in zip(axes, shapes.items(), strict=True):
    ax.bar(range(len(order)), p[order], color="tab:blue" if name.startswith("T = 1 ") else "tab:orange")
    ax.set_xticks(range(len(order)), labels, fontsize=8)
    kept = int((p > 0).sum())
    entropy = -np.sum(p[p > 0] * np.log(p[p > 0]))
    ax.set_title(f"{name}\n{kept} tokens can be drawn, entropy {entropy:.2f}", fontsize=9)
axes[0].set_ylabel("probability of the next character")
fig.suptitle(f"Next character after {probe[-24:]!r}: the 15 most likely", fontsize=10)
fig.tight_layout()
plt.show()
print("greedy picks", repr(char_tokenizer.decode([int(np.argmax(logits))])))

# %% [markdown]
# Read the panels left to right. The model's own distribution puts most of its mass on a few
# characters that continue the word, and a thin tail on all the others: every character has
# some probability, so pure sampling does now and then draw an absurd one. Lowering the
# temperature piles the mass onto the leader; raising it spreads it (higher entropy). Top-k
# and top-p remove the tail outright; top-p adapts the number it keeps to how sure the model
# is, which is why it is the usual default.
#
# These reshapings are a few lines of NumPy each. Written from scratch, they give exactly
# what `course_lib.generation` computes, and the samplers of keras-hub, the reference,
# agree: its `TopKSampler` and `TopPSampler` never draw a token outside our top-k set or
# nucleus, and its temperature is the same division of the logits.

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
z = rng.normal(0.0, 2.0, size=30)  # fixed logits, so this check prints the same everywhere


def scratch_temperature(z, t):
    return softmax(z / t)


def scratch_top_k(z, k):
    keep = np.argsort(-z, kind="stable")[:k]
    p = np.zeros_like(z)
    p[keep] = softmax(z[keep])
    return p


def scratch_top_p(z, p_min):
    probs = softmax(z)
    order = np.argsort(-probs, kind="stable")
    n = int(np.argmax(np.cumsum(probs[order]) >= p_min)) + 1  # first prefix reaching p_min
    out = np.zeros_like(probs)
    out[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
    return out


ours_k, ours_p = softmax(top_k_filter(z, 5)), softmax(top_p_filter(z, 0.9))
print("temperature: scratch == course_lib:",
      np.allclose(scratch_temperature(z, 0.7), softmax(z / 0.7)))
print("top-k:       scratch == course_lib:", np.allclose(scratch_top_k(z, 5), ours_k))
print("top-p:       scratch == course_lib:", np.allclose(scratch_top_p(z, 0.9), ours_p))
hub_temp = keras_hub.samplers.GreedySampler(temperature=0.7).compute_probabilities(z[None])
print("temperature: keras-hub == course_lib:",
      np.allclose(ops.convert_to_numpy(hub_temp)[0], softmax(z / 0.7), atol=1e-6))
draws = 4000
rows = ops.convert_to_tensor(np.tile(softmax(z), (draws, 1)).astype("float32"))
hub_k = set(ops.convert_to_numpy(keras_hub.samplers.TopKSampler(k=5, seed=0).get_next_token(rows)).tolist())
hub_p = set(ops.convert_to_numpy(keras_hub.samplers.TopPSampler(p=0.9, seed=0).get_next_token(rows)).tolist())
print(f"keras-hub TopKSampler, {draws} draws: its tokens == our top-k set:",
      hub_k == set(np.flatnonzero(ours_k).tolist()))
print(f"keras-hub TopPSampler, {draws} draws: its tokens == our nucleus:",
      hub_p == set(np.flatnonzero(ours_p).tolist()))
print(f"nucleus size at p = 0.9: {np.count_nonzero(ours_p)} of {z.size} tokens")

# %% [markdown]
# ### 2.2 Beam search
#
# Greedy decoding commits to the best token at each step, but the best *sequence* can start
# with a token that was only second best. **Beam search** keeps the `W` most likely partial
# sequences (the beams) at every step: it extends each beam by every token, scores each
# candidate by its summed log-probability, and keeps the best `W`. With `W = 1` it is greedy
# decoding; with `W = V^(n−1)` it would be an exhaustive search over n tokens. Exercise 3 works
# one example by hand.
#
# Below, a from-scratch beam search of a dozen lines, next to `course_lib.generation.beam_search`
# and keras-hub's `BeamSampler`, on a small GPT with random weights (so that this check prints
# the same on every machine). The course version adds what a real search needs: the beams are
# one batch, the key/value cache is reordered to follow each beam's parent, hypotheses that
# emit a stop token leave the beam (the search ends once `W` have finished and no live beam
# still ranks above the best of them; Hugging Face's `generate` compares with the worst of
# them instead, so it searches a little longer), and a **length penalty** ranks finished
# hypotheses by `log p / length^α` (without it, short hypotheses are favoured, since every
# extra token lowers the summed log-probability).

# %%
# NBVAL_CHECK_OUTPUT
keras.utils.set_random_seed(0)
toy = GPT(GPTConfig(vocab_size=11, context_length=16, num_layers=2, num_heads=2, width=16))
for v in toy.weights:  # large random weights, so the distributions are far from uniform
    if v.name in ("kernel", "embeddings"):
        v.assign(np.random.default_rng(1).normal(0, 0.5, v.shape).astype("float32"))


def scratch_beam_search(model, prompt, steps, width):
    beams = [(list(prompt), 0.0)]
    for _ in range(steps):
        # One forward pass for all beams: row b holds the next-token log-probs of beam b.
        logits = ops.convert_to_numpy(model(np.array([seq for seq, _ in beams]), training=False))
        logp = log_softmax(logits[:, -1])
        candidates = [(seq + [t], score + logp[b, t])
                      for b, (seq, score) in enumerate(beams) for t in range(logp.shape[1])]
        beams = sorted(candidates, key=lambda c: -c[1])[:width]  # sorted() is stable
    return beams[0][0][len(prompt):]


def hub_beam_search(model, prompt, steps, width):
    ids = np.zeros((1, len(prompt) + steps), "int32")
    ids[0, :len(prompt)] = prompt

    def next_logits(tokens, cache, index):  # keras-hub asks for the logits at index - 1
        return ops.take(model(tokens, training=False), index - 1, axis=1), None, cache

    out = keras_hub.samplers.BeamSampler(num_beams=width)(next_logits, ops.convert_to_tensor(ids),
                                                          index=len(prompt))
    return ops.convert_to_numpy(out)[0, len(prompt):].tolist()


prompt, steps = [3, 1, 4], 6
for width in (1, 3):
    a = scratch_beam_search(toy, prompt, steps, width)
    b = beam_search(toy, prompt, steps, beam_width=width, use_cache=False)
    c = hub_beam_search(toy, prompt, steps, width)
    print(f"width {width}: scratch {a}, course_lib == scratch: {a == b}, keras-hub == scratch: {a == c}")
for alpha in (0.0, 1.0):
    best = beam_search(toy, prompt, 12, beam_width=3, stop_token=7, length_penalty=alpha,
                                use_cache=False, return_all=True)[0]
    print(f"stop token 7, length penalty α = {alpha}: best {best[0]} "
          f"(log p {best[1]:.2f}, {best[1] / len(best[0]):.2f} per token)")

# %% [markdown]
# The last two lines show the length penalty at work: with α = 0 the best hypothesis is a short
# one that stops early; with α = 1 (rank by mean log-probability per token) a longer one wins.
#
# ### 2.3 Measuring generated text
#
# Three numbers, each computed over a set of samples:
#
# - **distinct-n** (Li et al., 2016): the number of *different* n-grams divided by the number
#   of n-grams, pooled over all the samples. Low means the decoder keeps saying the same
#   things. It rewards variety only: random words score high too.
# - **repetition rate** (seq-rep-4 of Welleck et al., 2020): within one sample, the share of its
#   word 4-grams that already occurred earlier in the same sample, averaged over samples.
#   Human text scores near 0; a decoder stuck in a loop, near 1.
# - **model perplexity of the samples**: exp of the mean negative log-probability the model
#   gives to each generated token. Low means the model finds its own text very likely, which
#   is what greedy and beam search aim for (greedy one step at a time, beam search over whole
#   sequences) and also what loops look like. Human text sits at the
#   model's validation perplexity, which makes a useful target.
#
# Each is short enough to write out. Here are the from-scratch versions, the course's, and
# NLTK's n-grams as the reference, on two fixed sentences; and perplexity from its formula,
# from `perplexity` (sliding window) and from keras-hub's `Perplexity` metric.

# %%
# NBVAL_CHECK_OUTPUT
from nltk.tokenize import wordpunct_tokenize
from nltk.util import ngrams as nltk_ngrams

samples = ["To be, or not to be: that is the question.",
           "To be or not to be, to be or not to be!"]


def scratch_distinct(samples, n):
    grams = [tuple(w[i:i + n]) for s in samples for w in [s.split()] for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams)


words = [wordpunct_tokenize(s) for s in samples]
for n in (1, 2):
    ref = len({g for w in words for g in nltk_ngrams(w, n)}) / sum(len(list(nltk_ngrams(w, n))) for w in words)
    scratch = scratch_distinct([" ".join(w) for w in words], n)
    ours = distinct_n(samples, n)
    print(f"distinct-{n}: scratch {scratch:.4f}, course_lib {ours:.4f}, NLTK {ref:.4f}")
rep_ref = [1 - len(set(nltk_ngrams(w, 4))) / len(list(nltk_ngrams(w, 4))) for w in words]
print("repetition rate (4-grams) per sample:",
      [round(r, 4) for r in rep_ref], "mean", round(repetition_rate(samples, 4), 4))
print("course_lib word_tokens == NLTK wordpunct_tokenize:",
      all(word_tokens(s) == w for s, w in zip(samples, words, strict=True)))

seq = np.array([[5, 2, 9, 1, 1, 7, 3, 0, 4, 2, 8, 6]], "int32")  # 12 tokens: fits toy's context
logp = log_softmax(ops.convert_to_numpy(toy(seq, training=False)))[0]
scratch_ppl = np.exp(-np.mean(logp[np.arange(11), seq[0, 1:]]))
metric = keras_hub.metrics.Perplexity(from_logits=True)
metric.update_state(seq[:, 1:], toy(seq)[:, :-1])
print(f"perplexity: scratch {scratch_ppl:.2f}, course_lib {perplexity(toy, seq[0]):.2f}, "
      f"keras-hub {float(metric.result()):.2f}")
long_seq = np.random.default_rng(2).integers(0, 11, 200)  # longer than the context of 16
by_hand = np.stack([long_seq[t - 15:t + 1] for t in range(15, 200)])  # token t and 15 before it
by_hand_lp = log_softmax(ops.convert_to_numpy(toy(by_hand)))[:, -2, :]
exact = by_hand_lp[np.arange(len(by_hand)), long_seq[15:]]
windowed = token_log_probs(toy, long_seq, stride=1)[14:]
print("sliding window, stride 1 == a full 16-token context for every token:",
      bool(np.allclose(windowed, exact, atol=1e-5)))

# %% [markdown]
# The second sentence repeats itself: its distinct-2 pulls the pooled value down, and its
# repetition rate is high. `perplexity` reads a text longer than the context in
# overlapping windows (`stride` tokens apart); with `stride = 1` every token gets the full
# context, which the last line checks against reading each window by hand.
#
# ### 2.4 The decoding table
#
# Now the real experiment. We take `NUM_PROMPTS` prompts of 32 characters from the validation
# text (each starts at a speaker's name), let every strategy continue each prompt by
# `NEW_CHARS` characters, and measure the continuations. The last row is the real text that
# followed each prompt: the target a good decoder should resemble. A fourth column suits a
# model that writes one character at a time, and can therefore spell words that do not exist:
# **real words**, the share of the generated words that occur anywhere in the training text.
#
# Sampling strategies run as one batch per strategy with `sample_batch`, whose row
# `i` draws exactly what `generate(..., seed=seed + i)` would; beam search runs per prompt, its
# beams as a batch.

# %%
# NBVAL_IGNORE_OUTPUT
starts = [m + 2 for m in range(len(val_text)) if val_text.startswith("\n\n", m)]
starts = [s for s in starts if s + PROMPT_CHARS + NEW_CHARS <= len(val_text)]
picked = [starts[i] for i in np.linspace(0, len(starts) - 1, NUM_PROMPTS).astype(int)]
prompts = np.stack([char_tokenizer.encode(val_text[s:s + PROMPT_CHARS]) for s in picked])
human = [char_tokenizer.encode(val_text[s + PROMPT_CHARS:s + PROMPT_CHARS + NEW_CHARS]).tolist()
         for s in picked]

STRATEGIES = {  # name: keyword arguments of sample_batch, or "beam"
    "greedy": dict(temperature=0),
    f"beam search, W = {BEAM_WIDTH}": "beam",
    "temperature 0.7": dict(temperature=0.7),
    "temperature 1.0 (pure sampling)": dict(temperature=1.0),
    "temperature 1.3": dict(temperature=1.3),
    "top-k, k = 10": dict(temperature=1.0, top_k=10),
    "top-p, p = 0.9": dict(temperature=1.0, top_p=0.9),
    "top-p 0.9, temperature 0.8": dict(temperature=0.8, top_p=0.9),
}
outputs, seconds = {}, {}
for name, kw in STRATEGIES.items():
    start = time.perf_counter()
    if kw == "beam":
        outputs[name] = [beam_search(shakespeare, p, NEW_CHARS, beam_width=BEAM_WIDTH,
                                     jit_compile=DECODE_JIT) for p in prompts]
    else:
        outputs[name] = sample_batch(shakespeare, prompts, NEW_CHARS, seed=SEED,
                                     jit_compile=DECODE_JIT, **kw)
    seconds[name] = time.perf_counter() - start
outputs["human text (the real continuation)"] = human


# Words of the training text (lower-cased): a generated word outside this set is not a word.
known_words = {w.lower() for w in word_tokens(text[:int(0.9 * len(text))]) if w.isalpha()}


def measure(conts):
    texts = [char_tokenizer.decode(c) for c in conts]
    ppl = perplexity(shakespeare, [list(p) + list(c) for p, c in zip(prompts, conts, strict=True)],
                     start=PROMPT_CHARS, jit_compile=DECODE_JIT)
    # The first word usually finishes a word the prompt began; it is left out of the count.
    words = [w.lower() for t in texts for w in word_tokens(t)[1:] if w.isalpha()]
    return {"distinct-1": distinct_n(texts, 1), "distinct-2": distinct_n(texts, 2),
            "repetition rate": repetition_rate(texts, 4), "model perplexity": ppl,
            "real words": np.mean([w in known_words for w in words]) if words else 0.0}


table = {name: measure(conts) for name, conts in outputs.items()}
rows = ["| strategy | distinct-1 | distinct-2 | repetition rate ↓ | real words ↑ | model perplexity "
        "| seconds |", "|---|---:|---:|---:|---:|---:|---:|"]
for name, m in table.items():
    secs = f"{seconds[name]:.1f}" if name in seconds else "–"
    rows.append(f"| {name} | {m['distinct-1']:.3f} | {m['distinct-2']:.3f} | "
                f"{m['repetition rate']:.3f} | {m['real words']:.1%} | {m['model perplexity']:.2f} "
                f"| {secs} |")
decoding_table = "\n".join(rows)
display(Markdown(decoding_table))
print(f"{NUM_PROMPTS} prompts x {NEW_CHARS} characters per strategy; distinct-n and repetition "
      f"over words, perplexity per character")

# %% [markdown]
# Here is one prompt and what each strategy made of it:

# %%
# NBVAL_IGNORE_OUTPUT
show = 1 if NUM_PROMPTS > 1 else 0
print("PROMPT:", repr(char_tokenizer.decode(prompts[show])))
for name, conts in outputs.items():
    print(f"\n--- {name} ---")
    print(char_tokenizer.decode(conts[show])[:160])

# %% [markdown]
# **How to read the table, and what to pick.** (The stored run: chapter 06's model, 16
# prompts of 200 characters. The sample is small: differences of a few points are noise.)
#
# - **Greedy and beam search** write the text the model finds most likely: a perplexity of
#   about 3 and 2.4, far *below* the 6.3 of the real text, and almost only real words (98–99%).
#   For that very reason they loop: greedy repeats 73% of its word 4-grams ("the the son the
#   the son"), and both use so few different words that distinct-1 is about 0.05 against
#   0.46 for the real text. Beam search finds even likelier text than greedy; it cycles among
#   a few words in a longer period, so its 4-gram repetition is lower and its distinct-2 a
#   little higher, but still far below the real text's. Pick them when there is one right answer and the output is short (the completion of
#   a few tokens, translation, a label), not for open-ended text.
# - **Pure sampling (T = 1)** reproduces the model's own distribution, so its perplexity (6.6)
#   is close to that of the real text (6.3); but now and then it draws from the long tail of
#   unlikely characters and derails a word: only 59% of its words are real. **T = 1.3**
#   derails constantly (46% real words, perplexity 10.8).
# - **Cutting the tail** (top-k, top-p, or a temperature below 1) keeps the variety and loses
#   the derailments: no repeated 4-grams, distinct-2 near that of sampling, and 68–77% real
#   words. The rows with a temperature below 1 lead on real words (**top-p 0.9 with
#   temperature 0.8**: 77%, perplexity 4.0); top-k 10 and top-p 0.9 alone are about equal.
#   **For open-ended text (stories, verse, dialogue), pick top-p ≈ 0.9 with T ≈ 0.7–0.9**:
#   here it does as well as any row, and top-p adapts the number of candidates to how sure the
#   model is, where a fixed k does not.
# - Read distinct-n together with the real-word rate: the rows that sample from the whole
#   distribution (T = 1 and above) are *more* varied than Shakespeare partly because every
#   misspelled word is a new word; the rows that cut the tail sit near the real text's
#   distinct-1 of 0.46.
# - No row matches the human one on every column: the real text has 95% real words at a
#   perplexity of 6.3, and this model gets real words only by playing safe. That gap is the
#   model's, not the decoder's: a decoder can only choose among what the model offers.
#
# ## 3. Poems
#
# The document's first example of text generation is poetry. Our Shakespeare model has read
# the plays one character at a time; here is its verse, with the setting the table recommends.

# %%
# NBVAL_IGNORE_OUTPUT
for i, opening in enumerate(["JULIET:\nO gentle night,", "HAMLET:\nShall I compare thee"]):
    print(generate_text(shakespeare, char_tokenizer, opening, profile.pick(smoke=30, cpu=300, gpu=400),
                        temperature=0.8, top_p=0.9, seed=SEED + i, jit_compile=False))
    print("-" * 60)

# %% [markdown]
# It has the *form* of the plays: speakers' names in capitals with a colon (real ones such as
# KING RICHARD II and SICINIUS next to invented ones), lines of roughly verse length that start
# with a capital, blank lines between speeches, "thee" and "Therefore". It does not have
# meaning: sentences wander, and many words are only almost words. That is what about a
# million characters, read one and a half times by a model of 0.8 million parameters, buys.
#
# ## 4. Code
#
# The document's second example is code. Every Python installation carries a corpus of good
# Python: the standard library's own `.py` files. We read them from the running
# interpreter's library folder, in a fixed order, up to a size the profile chooses. The code
# belongs to the Python Software Foundation and is used here under the PSF License Version 2
# (SPDX `PSF-2.0`); nothing is copied into the course repository.
#
# The code this chapter writes also becomes a module,
# `course_lib/chapters/ch09_generation_and_dialogue.py`, which the tests and the exercises
# import. The folded cell below starts it: the module's description and imports (which serve
# the notebook too: `generate`, the loop that samples one token after another), then the
# reading of the standard library (which files, in which order, how many characters), which is
# plumbing; open it if you like. The chapter's own subject, the chat format, comes in section 5.

# %% [export] fold
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

# %%
# NBVAL_IGNORE_OUTPUT
corpus = load_stdlib_code(CODE_CHARS)
print(f"Python {corpus.python_version}'s standard library")
print(f"{len(corpus.files)} files, {len(corpus.text):,} characters: {', '.join(corpus.files[:6])}, …")
print(f"license: {corpus.license}. {LICENSE_NOTE}")
license_lines = license_text().splitlines()
print(next((line for line in license_lines if "LICENSE VERSION 2" in line), license_lines[0]))

# %% [markdown]
# (The last printed line is the heading of that license in the interpreter's own
# `LICENSE.txt`: the file is there to read. Without the file, that line repeats the note
# above.)
#
# Characters are a poor unit for code: indentation alone is 4, 8 or 12 spaces. A **byte-level
# BPE** tokenizer (chapter 03) learns merges such as runs of spaces, ` self`, ` return` and
# ` def`, so one token carries about three characters and the same context sees three times
# more code. The file separator `<|endoftext|>` is a special token that is never split.
# Every tenth file (in the corpus order) is held out for validation.

# %%
# NBVAL_IGNORE_OUTPUT
documents = corpus.documents()
val_files = set(range(9, len(documents), 10)) or {len(documents) - 1}  # every tenth file
train_docs = [d for i, d in enumerate(documents) if i not in val_files]
val_docs = [d for i, d in enumerate(documents) if i in val_files]
code_tokenizer = BPETokenizer.from_text(train_docs, CODE_VOCAB, special_tokens=[FILE_SEPARATOR])
sep_id = code_tokenizer.token_to_id(FILE_SEPARATOR)


def encode_files(docs):
    return np.concatenate([np.r_[code_tokenizer.encode(d), sep_id] for d in docs]).astype("int32")


code_train, code_val = encode_files(train_docs), encode_files(val_docs)
print(f"vocabulary {code_tokenizer.vocab_size}; train {len(code_train):,} tokens, "
      f"validation {len(code_val):,} tokens; {len(corpus.text) / (len(code_train) + len(code_val)):.2f} "
      f"characters per token")
example = "    def __init__(self, name):\n        self.name = name\n"
pieces = [code_tokenizer.decode([t]) for t in code_tokenizer.encode(example)]
print(f"{len(example)} characters -> {len(pieces)} tokens:", pieces)

# %%
# NBVAL_IGNORE_OUTPUT
code_model = GPT(GPTConfig(code_tokenizer.vocab_size, **CODE_MODEL))
start = time.perf_counter()
code_trainer = Trainer(code_model, train_config(CODE_STEPS, EVAL_BATCHES))
code_history = code_trainer.fit(LMBatches(code_train, code_model.config.context_length, BATCH, seed=0),
                                LMBatches(code_val, code_model.config.context_length, BATCH, seed=1))
print(f"{code_model.count_params():,} parameters, {CODE_STEPS} steps in {time.perf_counter() - start:.0f} s")
print(history_table(code_history))
code_ppl = perplexity(code_model, code_val[:profile.pick(smoke=500, cpu=20_000, gpu=200_000)],
                      jit_compile=DECODE_JIT)
print(f"validation perplexity {code_ppl:.1f} per BPE token (uniform guess: {code_tokenizer.vocab_size})")

# %% [markdown]
# Now the test the document has in mind: give the model the signature of a function and let it
# write the body. One detail of subword tokens matters here. BPE glues a newline to the
# indentation after it (`"\n   "` then `" with"`), so a prompt that ends with a bare newline
# ends on a token the model has mostly seen before lines at column 0, and it would start a new
# module-level statement. The prompt therefore ends with the first word of the body, `with`,
# where the token boundary is the one the model knows.
#
# Greedy decoding first, then three samples with top-p 0.9 and temperature 0.7. Finally we ask
# Python itself whether the completions are code: each completion is cut where the function
# ends (the first line back at column 0) and parsed with `ast.parse`.

# %%
# NBVAL_IGNORE_OUTPUT
signature = "def read_lines(path, encoding='utf-8'):\n    \"\"\"Return the lines of a file.\"\"\"\n"
code_prompt = signature + "    with"
sig_ids = code_tokenizer.encode(code_prompt)
print("the prompt ends with the tokens", [code_tokenizer.decode([t]) for t in sig_ids[-3:]])
greedy_code = generate(code_model, sig_ids, CODE_NEW_TOKENS, temperature=0, jit_compile=False)
print("=== greedy ===")
print(code_prompt + code_tokenizer.decode(greedy_code))
samples_code = sample_batch(code_model, np.tile(sig_ids, (profile.pick(smoke=2, cpu=16, gpu=32), 1)),
                            CODE_NEW_TOKENS, temperature=0.7, top_p=0.9, seed=SEED,
                            jit_compile=DECODE_JIT)
for i, s in enumerate(samples_code[:3]):
    print(f"=== top-p sample {i + 1} ===")
    print(code_prompt + code_tokenizer.decode(s))


def function_part(completion):
    """The completion up to where the function ends, or None if it never ends."""
    lines = completion.split("\n")
    for i, line in enumerate(lines):
        if line and not line[0].isspace():
            return "\n".join(lines[:i])
    return None


def parses(source):
    try:
        ast.parse(source)
        return True
    except SyntaxError:
        return False


def indented_by_four(texts):
    """Share of the non-blank lines whose indentation is a multiple of four spaces."""
    lines = [ln for t in texts for ln in t.split("\n") if ln.strip()]
    return np.mean([(len(ln) - len(ln.lstrip(" "))) % 4 == 0 for ln in lines])


completions = [code_tokenizer.decode(s) for s in samples_code]
finished = [f for c in completions if (f := function_part(c)) is not None]
valid = sum(parses(code_prompt + f) for f in finished)
print(f"\nform: {indented_by_four(completions):.0%} of the generated lines are indented by a multiple "
      f"of four spaces (the real code held out: {indented_by_four(val_docs):.0%})")
print(f"syntax: of {len(samples_code)} sampled completions, {len(finished)} finish the function "
      f"within {CODE_NEW_TOKENS} tokens, and {valid} of those parse as Python")

# %% [markdown]
# The model has learned the *look* of standard-library code: `def name(self, …):` lines,
# `return self._…`, docstrings in triple quotes, comments, names in `snake_case` built from
# pieces it has seen (`_loop`, `_buffer`, `get_…`), and indentation in steps of four for
# most lines (real code: nearly all; the exceptions are continuation lines aligned with a
# bracket). It has not learned the grammar: almost no completion closes the function, and
# none of those parses, let alone reads lines from a file. Greedy decoding loops here too
# (`Recreate_precreate_…`). With 600 steps on 600 KB of code (a validation perplexity of
# about 26 per token) this is form without syntax, and syntax without meaning would be the
# next step up.
#
# ## 5. Dialogue
#
# ### 5.1 Conversations as one token stream
#
# Topical-Chat (Gopalakrishnan et al., 2019; Amazon, CDLA-Sharing 1.0) has conversations
# between two crowd workers about a topic. The registry holds the `valid` split: 539
# conversations, about 11,700 turns. A language model knows nothing about turns, so we write a
# conversation as one stream of text with **speaker tokens** and an **end-of-turn token**.

# %% [markdown]
# Four special tokens carry the structure. The two speakers are `<|A|>` (whoever speaks first;
# in a chat, the user) and `<|B|>` (the other; in a chat, the model); `<|eot|>` closes every
# turn; and `<|endoftext|>`, the token that already separates the files of the code corpus,
# marks where a conversation starts. Topical-Chat sometimes has one speaker write two messages
# in a row; they are merged into one turn, so that the speakers always alternate.

# %% [export]
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


# %% [markdown]
# The first four turns of the first conversation, and the size of the data:

# %%
# NBVAL_IGNORE_OUTPUT
conversations = load_topical_chat("valid")[:CHAT_CONVERSATIONS]
print(format_conversation(conversations[0][:4]))
turn_counts = [len(merge_consecutive_turns(c)) for c in conversations]
print(f"\n{len(conversations)} conversations, {sum(turn_counts):,} turns "
      f"(consecutive messages of one speaker merged), median {int(np.median(turn_counts))} per conversation")

# %% [markdown]
# `<|endoftext|>` marks where a conversation starts, `<|A|>` and `<|B|>` who speaks, and
# `<|eot|>` where a turn ends. These four are special tokens of the BPE tokenizer, so each is
# one id and never split. A model trained on this stream learns both what to say and when its
# turn is over: to chat, we append `<|B|>` to the conversation so far and let it write until
# it emits `<|eot|>`. A tenth of the conversations (not of the text, so no conversation is
# split between the two) is held out to measure validation perplexity.

# %% [markdown]
# The training stream is every conversation formatted and encoded, one after the other. The
# tokenizer must know the four special tokens (`BPETokenizer.from_text(...,
# special_tokens=SPECIAL_TOKENS)`); otherwise `<|eot|>` would be split into `<`, `|`, `eot` …
# and the model would have to learn to spell it.

# %% [export]
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


# %%
# NBVAL_IGNORE_OUTPUT
# The split is drawn over all the registry's conversations, so the held-out ones are the same
# at every profile (smaller profiles read fewer of each side), and are ones the course
# foundation model never trained on (section 7 checks it).
all_conversations = load_topical_chat("valid")
order = np.random.default_rng(SEED).permutation(len(all_conversations))
n_held = max(1, int(round(CHAT_HELD_OUT * len(all_conversations))))
n_held_read = max(1, int(round(CHAT_HELD_OUT * CHAT_CONVERSATIONS)))
held_out = [all_conversations[i] for i in order[:n_held]][:n_held_read]
train_convs = [all_conversations[i] for i in order[n_held:]][:CHAT_CONVERSATIONS - n_held_read]
chat_tokenizer = BPETokenizer.from_text([format_conversation(c) for c in train_convs], CHAT_VOCAB,
                                        special_tokens=SPECIAL_TOKENS)
chat_train = conversations_to_ids(chat_tokenizer, train_convs)
chat_val = conversations_to_ids(chat_tokenizer, held_out)
print(f"vocabulary {chat_tokenizer.vocab_size}; {len(train_convs)} training conversations "
      f"({len(chat_train):,} tokens), {len(held_out)} held out ({len(chat_val):,} tokens)")

chat_model = GPT(GPTConfig(chat_tokenizer.vocab_size, **CHAT_MODEL))
start = time.perf_counter()
chat_history = Trainer(chat_model, train_config(CHAT_STEPS, EVAL_BATCHES)).fit(
    LMBatches(chat_train, chat_model.config.context_length, BATCH, seed=0),
    LMBatches(chat_val, chat_model.config.context_length, BATCH, seed=1))
print(f"{chat_model.count_params():,} parameters, {CHAT_STEPS} steps in {time.perf_counter() - start:.0f} s "
      f"({CHAT_STEPS * BATCH * chat_model.config.context_length / len(chat_train):.1f} passes over the data)")
print(history_table(chat_history))

# %% [markdown]
# How good is that? Perplexity needs a yardstick. The simplest is a **unigram** model that
# ignores context and predicts every token with its frequency in the training stream
# (add-one smoothed). Both are scored on every token of the held-out conversations.

# %%
# NBVAL_IGNORE_OUTPUT
counts = np.bincount(chat_train, minlength=chat_tokenizer.vocab_size) + 1.0
unigram_ppl = float(np.exp(-np.mean(np.log(counts / counts.sum())[chat_val[1:]])))
chat_ppl = perplexity(chat_model, chat_val, jit_compile=DECODE_JIT)
print(f"held-out perplexity per BPE token: unigram {unigram_ppl:.1f}, dialogue GPT {chat_ppl:.1f}")

# %% [markdown]
# ### 5.2 The chat prompt, inside the context window
#
# To chat, the conversation so far is written exactly as in training, the user as speaker A
# and the model as speaker B, and `<|B|>` is appended: the model's continuation is its reply.
# One limit shapes this prompt. A model reads at most `context_length` tokens, and the reply
# must fit in the same window, so a long conversation cannot be sent whole. The prompt keeps
# the **newest turns that fit** in `context_length − max_new_tokens − 1` tokens (the 1 is
# `<|B|>`) and drops the oldest first. Turns go whole: half a turn would start without its
# speaker token, a shape the model never saw in training.
#
# `turns_that_fit` does the counting, from the newest turn back (exercise 4 does it by hand).
# `build_chat_prompt` encodes the turns and applies it, with two details: a new message too
# long for the budget on its own keeps its speaker token and its *end*, which is what the
# reply answers; and a prompt that dropped nothing starts with `<|endoftext|>`, as every
# conversation did in training.

# %% [export]
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

# %% [markdown]
# ### 5.3 Talking to it
#
# `chat(model, tokenizer, history, message)` builds that prompt with `max_new_tokens` kept free
# (so generation never has to slide its window), samples with top-p until the model writes
# `<|eot|>`, and returns the reply and the longer history. Any other special token in the
# reply ends it too: a model that starts the user's turn has finished its own.

# %% [export]
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

# %% [markdown]
# Three short conversations:

# %%
# NBVAL_IGNORE_OUTPUT
scripts = [
    ["Hi! Do you like football?", "Who is your favourite team?", "Do you watch it on TV?"],
    ["Have you read any good books lately?", "I love science fiction. Do you?"],
    ["Did you know that dogs can smell fear?", "That's amazing. Do you have a dog?"],
]
for k, script in enumerate(scripts):
    history = []
    for j, message in enumerate(script):
        reply, history = chat(chat_model, chat_tokenizer, history, message,
                              max_new_tokens=CHAT_REPLY_TOKENS, temperature=0.8, top_p=0.9,
                              seed=SEED + 10 * k + j)
        print(f"USER: {message}\nBOT:  {reply}")
    print()

# %% [markdown]
# The replies *sound* like Topical-Chat: they take their turn and stop, use its phrases ("Do
# you know…", "I don't know…", "I guess…"), and drift to its favourite subjects (football, the
# NFL, coaches and their earnings, left-handed quarterbacks), whatever the user asked. Most
# words are real, the sentences are not grammatical, and nothing is a fact: this is a
# 0.9-million-parameter model that has read about 10,000 turns less than twice. Its held-out
# perplexity is still far below the unigram's: it has learned a lot about *how* people chat.
#
# ### 5.4 A long conversation
#
# Section 5.2's rule at work: the longest conversation of the held-out set, replayed through
# `build_chat_prompt` with the user's messages as new messages. Only the first turns fit
# whole; later the prompt holds only its newest turns, and the oldest are gone.

# %%
# NBVAL_IGNORE_OUTPUT
long_conv = max(held_out, key=len)
replay = [("user" if i % 2 == 0 else "bot", m)
          for i, (_, m) in enumerate(merge_consecutive_turns(long_conv))]
context = chat_model.config.context_length
last = (len(replay) - 1) // 2 * 2  # the user speaks at the even turns
for upto in (2, 6, last):
    ids, kept = build_chat_prompt(chat_tokenizer, replay[:upto], replay[upto][1],
                                  context, CHAT_REPLY_TOKENS)
    print(f"after {upto:>2} turns: the prompt keeps {kept:>2} of them, {len(ids):>3} tokens "
          f"(limit {context} - {CHAT_REPLY_TOKENS} for the reply)")
print("\nthe model sees, at the end:\n" + chat_tokenizer.decode(ids)[-300:])
reply, _ = chat(chat_model, chat_tokenizer, replay[:last], replay[last][1],
                max_new_tokens=CHAT_REPLY_TOKENS, seed=SEED)
print("\nBOT:", reply)

# %% [markdown]
# The model has no memory beyond its window: whatever was said in the dropped turns is gone.
# Real assistants have the same limit, with windows of many thousands of tokens, and summarise
# or retrieve old turns when a conversation outgrows them.
#
# ## 6. Speed: the key/value cache
#
# Without a cache, every new token reads the whole window again: the cost of a token grows
# with the context. With the **key/value cache** of `course_lib.gpt`, the keys and values of
# earlier tokens are kept (`GPT.call_with_cache`), and each step feeds one token.
# Below, `generate(..., use_cache=True/False)` with the same seed (the same tokens) on two
# models: the Shakespeare model (context 64 at the cpu profile) and the dialogue model
# (context 128). Each timing is the best of two runs, after a warm-up that traces the graphs.

# %%
# NBVAL_IGNORE_OUTPUT
speed_rows, speed = [], {}
for name, model, prompt in [("Shakespeare (chars)", shakespeare, char_tokenizer.encode("ROMEO:")),
                            ("dialogue (BPE)", chat_model, chat_tokenizer.encode("<|endoftext|><|A|>"))]:
    results = {}
    for use_cache in (True, False):
        kw = dict(temperature=1.0, top_k=10, seed=0, use_cache=use_cache, jit_compile=False)
        generate(model, prompt, 8, **kw)  # warm-up: traces the prefill and the step
        best, tokens = np.inf, None
        for _ in range(2):
            start = time.perf_counter()
            tokens = generate(model, prompt, SPEED_TOKENS, **kw)
            best = min(best, time.perf_counter() - start)
        results[use_cache] = (SPEED_TOKENS / best, tokens)
    speed[name] = {"cached": results[True][0], "uncached": results[False][0]}
    speed_rows.append(f"| {name} | {model.config.context_length} | {results[True][0]:.0f} | "
                      f"{results[False][0]:.0f} | {results[True][0] / results[False][0]:.1f}× | "
                      f"{results[True][1] == results[False][1]} |")
speed_table = "\n".join(["| model | context | cached tokens/s | uncached tokens/s | speed-up | same tokens |",
                         "|---|---:|---:|---:|---:|---|"] + speed_rows)
display(Markdown(speed_table))
print(f"{SPEED_TOKENS} tokens per run, batch 1, no XLA, on this machine's CPU (shared: timings are noisy)")

# %% [markdown]
# The cache gives the same tokens and is faster: an uncached step costs a forward pass over
# the whole window, a cached step over one token (plus attention over the cached keys), so
# the advantage grows with the context (the two models here differ in more than context, so
# their two ratios only hint at it). At these tiny sizes much of a step is fixed overhead
# (a Python loop and a graph call per token), which hides part of the gain; XLA
# (`jit_compile=True`, the default of `generate`) removes some of that overhead. For a model with a context of thousands of tokens the
# cache is what makes generation usable at all.
#
# ## 7. A general model: the course foundation model
#
# Every model so far was trained in this chapter, on one kind of text. The course also has a
# **foundation model**: one GPT pretrained once on the English text of all the course's
# datasets (the sources it trained on are printed below), with a byte-level BPE tokenizer of
# its own. Each dataset's evaluation part was held out of its training text; for this chapter
# that is the last 10% of Tiny Shakespeare and the tenth of the Topical-Chat conversations that
# section 5 holds out. We load it as it was saved (`load_foundation()` first checks its files
# against the hashes recorded when it was trained), and never train it here.
#
# ### 7.1 Four domains, one model
#
# A specialist writes one kind of text; a general model has to be told by the prompt which kind
# to continue. Four prompts, in the forms its corpus has them: a speaker's name as in the plays,
# a turn of a conversation (its corpus writes a conversation as lines that start with `A:` and
# `B:`), and the start of an encyclopedia-like and of a news-like sentence. The decoding loop is
# the chapter's, `generate_text`, with temperature 0.8 and top-k 40 and a fixed seed per prompt;
# a sample ends early if the model ends the document (`<|endoftext|>`).

# %%
# NBVAL_IGNORE_OUTPUT
foundation, foundation_tokenizer, foundation_record = load_foundation()
fcfg = foundation.config
print(f"foundation model: {foundation.count_params():,} parameters, {fcfg.num_layers} layers, "
      f"width {fcfg.width}, context {fcfg.context_length} tokens, BPE vocabulary {fcfg.vocab_size}")
trained_on = [s["source"] for s in foundation_record["corpus"] if s["train_chars"]]
print(f"pretrained on {foundation_record['tokens_seen']:,} tokens ({foundation_record['passes']:.1f} "
      f"passes) of: {', '.join(trained_on)}")
eot = foundation_tokenizer.token_to_id(END_OF_TEXT)
FOUNDATION_PROMPTS = {
    "a speaker of the plays": "JULIET:\n",
    "a turn of a conversation": "A: Do you like football?\nB:",
    "an encyclopedia sentence": "The university was founded in",
    "a news sentence": "Police said on Tuesday that",
}
print(f"\n{FOUNDATION_NEW_TOKENS} tokens at most per sample, temperature "
      f"{FOUNDATION_SAMPLING['temperature']}, top-k {FOUNDATION_SAMPLING['top_k']}\n")
for i, (domain, prompt) in enumerate(FOUNDATION_PROMPTS.items()):
    sample = generate_text(foundation, foundation_tokenizer, prompt, FOUNDATION_NEW_TOKENS,
                           seed=SEED + i, stop_token=eot, jit_compile=False, **FOUNDATION_SAMPLING)
    print(f"--- {domain} (seed {SEED + i}) ---\n{sample.replace(END_OF_TEXT, '')}\n")

# %% [markdown]
# Read the samples for their form first: the prompt is all that tells the model which of its
# sources to continue. The form of each domain is what to look for: short lines and speakers'
# names in capitals after a speaker of the plays, a reply and then `A:` and `B:` turns after a
# conversation, prose in the register of an encyclopedia or a newspaper after the other two.
# Do not expect facts or sense from a model of this size: read any date, name or number in
# these samples as invented.
#
# In this run the form comes through for two prompts and slips for the other two. After
# `JULIET:` come verse lines and a new speaker's name in capitals (LEONTES); after the
# conversation turn come `A:`/`B:` turns about the NFL, the subject its chats are full of, with
# an invented score. The encyclopedia prompt loses its form at once and falls into a run of
# short "The ..." sentences, the shape of the image captions; the news prompt turns at once
# into short English sentences about Tom, the shape of the translation pairs' English side.
# Captions and short sentences are a large share of what it read, and a prompt of a few words
# is not enough to hold it to the rarer styles.
#
# ### 7.2 Specialist or generalist? Bits per byte on held-out text
#
# Which model predicts Shakespeare better: section 1's character model, trained on nothing
# else, or the foundation model, larger but spread over all its sources? And which predicts
# held-out conversations better: section 5's dialogue model or the foundation model?
#
# Perplexity per token cannot say. The character model's token is one character; a BPE token is
# several, so it carries more information and is harder to guess: the same model's perplexity
# per token grows with the length of its tokens. What does not depend on the tokenizer is the
# total surprise over *the same text*: add the negative log-likelihoods of all the tokens (in
# nats), divide by the number of bytes the text takes in UTF-8, and by ln 2. The result is
# **bits per byte**: how many bits a compressor driven by the model's probabilities would spend
# per byte of the text. Eight is no knowledge at all (a byte is 8 bits); lower is better.
#
# `text_bits_per_byte` computes it with `token_log_probs` (section 2.3: windows of the context
# length, overlapping by half): the total surprise in nats, divided by the bytes and by ln 2
# (`course_lib.metrics.bits_per_unit`, the formula the foundation's run record uses). The first token of a
# sequence has no prediction, so the bytes that count are those of the text the *other* tokens
# spell: a sequence that starts with `<|endoftext|>` (a token that spells nothing, and the way
# both the foundation's documents and section 5's conversations start) has all its text scored.

# %% [export]
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


# %% [markdown]
# Both models must meet the text for the first time. For Shakespeare it is the start of the
# chapter's validation text (section 1); for dialogue, section 5's held-out conversations,
# whole and in order. The cell checks both against the foundation's corpus: every text must lie
# on the held-out side of its dataset's split and nowhere in its training side. It reads
# `BPB_CHARS` characters per domain (20,000 at the cpu profile) and runs forward passes only,
# well under a minute in all.
#
# One detail of the dialogue: the two models write a conversation differently. Section 5's model
# reads speaker tokens (`<|A|>`, `<|B|>`, `<|eot|>`), the foundation model `A:` and `B:` lines
# (`plain_conversation`). Each reads the conversations in its own format, and both totals are
# divided by the bytes of the same plain text: both pay for the same conversations, who speaks
# when included. Section 5's format also folds runs of spaces into one, so its model never has
# to predict a few of the bytes it is charged for (the share is printed below the table): a
# slight advantage to it.

# %%
# NBVAL_IGNORE_OUTPUT
sources = {s.name: s for s in load_corpus()}  # the foundation corpus's splits, uncapped


def held_out_only(texts, source):
    """True when every text lies in a held-out document of `source` and in no training one."""
    return (all(any(t in doc for doc in source.heldout) for t in texts)
            and not any(t in doc for t in texts for doc in source.train))


shakespeare_text = val_text[:BPB_CHARS]
chat_eval, chat_plain = [], []
for conv in held_out:  # whole conversations, in section 5's order, up to BPB_CHARS characters
    plain = plain_conversation(conv)
    if chat_plain and sum(map(len, chat_plain)) + len(plain) > BPB_CHARS:
        break
    chat_eval.append(conv)
    chat_plain.append(plain)
assert held_out_only([shakespeare_text], sources["tinyshakespeare"]), \
    "the Shakespeare text is not on the foundation corpus's held-out side"
assert held_out_only(chat_plain, sources["topical-chat"]), \
    "a conversation is not on the foundation corpus's held-out side"


def foundation_ids(documents):
    # As in its corpus: every document starts with <|endoftext|>, which spells no text.
    return np.concatenate([np.r_[eot, foundation_tokenizer.encode(d)] for d in documents]).astype("int32")


shakespeare_bytes = len(shakespeare_text.encode("utf-8"))
chat_bytes = sum(len(d.encode("utf-8")) for d in chat_plain)
f_shakespeare, f_chat = foundation_ids([shakespeare_text]), foundation_ids(chat_plain)
byte_lengths = token_byte_lengths(foundation_tokenizer)  # bytes each id spells (0: special)
assert byte_lengths[f_shakespeare[1:]].sum() == shakespeare_bytes  # the scored tokens spell
assert byte_lengths[f_chat[1:]].sum() == chat_bytes                # exactly the text's bytes

start = time.perf_counter()
bpb = {  # (domain, model) -> text_bits_per_byte's dict
    ("Shakespeare", "section 1's character GPT"): text_bits_per_byte(
        shakespeare, char_tokenizer.encode(shakespeare_text),
        len(shakespeare_text[1:].encode("utf-8")),  # the first character is not scored
        jit_compile=DECODE_JIT),
    ("Shakespeare", "foundation model"): text_bits_per_byte(
        foundation, f_shakespeare, shakespeare_bytes, jit_compile=DECODE_JIT),
    ("dialogue", "section 5's dialogue GPT"): text_bits_per_byte(
        chat_model, conversations_to_ids(chat_tokenizer, chat_eval), chat_bytes,
        jit_compile=DECODE_JIT),
    ("dialogue", "foundation model"): text_bits_per_byte(
        foundation, f_chat, chat_bytes, jit_compile=DECODE_JIT),
}
seconds_bpb = time.perf_counter() - start
params = {"section 1's character GPT": shakespeare.count_params(),
          "section 5's dialogue GPT": chat_model.count_params(),
          "foundation model": foundation.count_params()}
rows = ["| held-out text | model | parameters | tokens scored | bytes per token | perplexity per token "
        "| bits per byte ↓ |", "|---|---|---:|---:|---:|---:|---:|"]
for (domain, name), r in bpb.items():
    rows.append(f"| {domain} | {name} | {params[name]:,} | {r['tokens']:,} | "
                f"{r['bytes'] / r['tokens']:.2f} | {np.exp(r['nats_per_token']):.1f} | "
                f"{r['bits_per_byte']:.3f} |")
bpb_table = "\n".join(rows)
display(Markdown(bpb_table))
folded = sum(len(m.encode("utf-8")) - len(" ".join(m.split()).encode("utf-8"))
             for conv in chat_eval for _, m in conv)  # spaces section 5's format drops
print(f"Shakespeare: the first {len(shakespeare_text):,} characters of the validation text; "
      f"dialogue: {len(chat_eval)} held-out conversation{'s' * (len(chat_eval) != 1)}, "
      f"{chat_bytes:,} bytes, of which {folded / chat_bytes:.1%} are spaces section 5's format "
      f"folds away; {seconds_bpb:.0f} s in all")
record_bpb = foundation_record["heldout_bpb"]
print(f"the foundation's own evaluation when it was saved (first {record_bpb['tokens_per_source']:,} "
      f"held-out tokens of each source): Shakespeare {record_bpb['by_source']['tinyshakespeare']:.3f}, "
      f"Topical-Chat {record_bpb['by_source']['topical-chat']:.3f} bits per byte")

# %% [markdown]
# Compare within a domain, in the last column: the lower number belongs to the model that
# predicts that held-out text better. The perplexity column shows why the comparison needs
# bytes: a model's perplexity per token is 2^(bits per byte × bytes per token), so the BPE
# models, whose tokens hold several bytes, have perplexities per token far above the
# character model's whatever their bits per byte. The last line is a cross-check: the run
# record scored the start of the same held-out sources (the Shakespeare text starts at the same
# character; its Topical-Chat text is other held-out conversations), so its figures should be
# close to the table's.
#
# Two forces pull against each other here. The foundation model is several times larger and
# has read far more text, including these datasets' training parts; but only a share of that
# text, and so of its capacity, is Shakespeare or conversation. The specialist spends all of
# its capacity on one domain, but it is small and was trained for minutes. Which wins is an
# empirical question, and the table is its answer for these sizes.
#
# In this run the foundation model wins on both domains: 2.40 bits per byte on the held-out
# Shakespeare against 2.70 for the character GPT (0.30 fewer), and 1.65 on the held-out
# conversations against 1.92 for the dialogue GPT (0.27 fewer). Note the per-token
# perplexities: 88.8 for the foundation against 6.5 for the character model looks like a rout
# the other way, and means nothing, because a foundation token spells 2.7 characters. At this
# scale breadth costs nothing on domains that are part of the mix: the foundation model is
# six to seven times larger and read both domains' training text along with five other
# sources, and what it learnt about English in general carries over. The comparison is not
# controlled (size, tokenizer and training time all differ); chapter 06 holds everything but
# the starting weights fixed.
#
# ## 8. Honest expectations, and what grows with scale
#
# | | what the stored (cpu) run has | what it lacks |
# |---|---|---|
# | verse | speaker names, line lengths, archaic words, punctuation | meaning, rhyme, metre |
# | code | indentation, keywords, `self.`, docstrings | working bodies, defined names |
# | dialogue | turn-taking, the tone of Topical-Chat, stopping at the end of a turn | facts, memory, consistency |
#
# Sections 1 to 6 use models of about a million parameters trained for minutes on two CPU
# cores. The `gpu` profile runs the same notebook with models of nanoGPT's GPU size (6 layers,
# width 384, a context of 256, about 11 million parameters), 5,000 steps on each corpus, and
# ten times more code. We have not stored a gpu run, so here is what is documented: on Tiny
# Shakespeare, nanoGPT's own run of that configuration reaches a validation loss of about 1.47
# (perplexity about 4.3) against 1.87 (perplexity 6.5) for the model used here, and its samples
# are mostly real words in mostly grammatical lines. Expect the same direction on the other
# two corpora: more real words and identifiers, more completions that parse, replies that stay
# on topic longer; the tables of this chapter are the way to check it. Meaning, facts and
# reasoning come only at far larger scale (billions of parameters and tokens) plus
# instruction tuning, which no notebook here can reach; the decoding strategies, the measures
# and the `chat()` loop stay exactly the same.

# %% [record]
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("09", {
    "Shakespeare val perplexity": float(val_ppl),
    "code val perplexity": float(code_ppl),
    "dialogue perplexity": float(chat_ppl),
    "dialogue unigram perplexity": float(unigram_ppl),
    **{f"{domain} bits/byte, {'foundation' if name == 'foundation model' else 'chapter model'}":
       float(r["bits_per_byte"]) for (domain, name), r in bpb.items()},
})
print(key_figures.read_text(encoding="utf-8"))

# %% [markdown]
# ## Exercises
#
# Each exercise has a starter value to replace, and a check that says whether it is right and,
# if not, what to reconsider. Worked solutions:
# `notebooks/solutions/09_generation_and_dialogue.ipynb`.
#
# **Exercise 1 (distinct-n).** Compute distinct-2 of these two samples by hand (words split
# on spaces): the number of different bigrams divided by the number of bigrams, pooled over
# both samples.

# %%
print(ex.DISTINCT_SAMPLES)
answer_distinct_2 = None  # your answer, e.g. 5 / 8
ex.check_distinct_2(answer_distinct_2)

# %% [markdown]
# **Exercise 2 (top-p).** A model gives these probabilities for the next word. How many words
# does top-p sampling with p = 0.75 keep?

# %%
print(ex.NUCLEUS_PROBS, "p =", ex.NUCLEUS_P)
answer_nucleus = None  # your answer (a count)
ex.check_nucleus_size(answer_nucleus)

# %% [markdown]
# **Exercise 3 (beam search by hand).** A toy model gives the probability of the first word,
# and of the second word given the first. Greedy decoding picks "good night". Which two words
# does beam search with width 2 return? (Keep the two best first words, extend both, and
# compare the probabilities of the whole two-word sequences.)

# %%
for first, (p, nxt) in ex.BEAM_TREE.items():
    print(f"p({first}) = {p}:", {w: q for w, q in nxt.items()})
answer_beam = None  # your answer: the two words, e.g. "fair lady"
ex.check_beam_choice(answer_beam)

# %% [markdown]
# **Exercise 4 (the context window).** A model has a context of 64 tokens; `chat()` keeps 16
# free for the reply and one for the bot's speaker token. The conversation's turns, oldest
# first, take these numbers of tokens (the last one is the user's new message). How many turns
# does the prompt keep? (Use `turns_that_fit` to check your reasoning afterwards.)

# %%
print("turn lengths:", ex.TURN_LENGTHS, "context:", ex.CONTEXT_LENGTH, "reserved:", ex.REPLY_RESERVE)
answer_turns = None  # your answer (a count)
ex.check_kept_turns(answer_turns)

# %% [markdown]
# ## Closing note
#
# The numbers of this run, gathered in one place:

# %%
# NBVAL_IGNORE_OUTPUT
display(Markdown(f"**Decoding strategies** (Shakespeare model, validation perplexity "
                 f"{val_ppl:.2f} per character):\n\n{decoding_table}\n\n"
                 f"**Generation speed** ({SPEED_TOKENS} tokens, batch 1, CPU):\n\n{speed_table}\n\n"
                 f"**Code model**: validation perplexity {code_ppl:.1f} per BPE token; "
                 f"{valid} of {len(samples_code)} sampled completions finish and parse.  \n"
                 f"**Dialogue model**: held-out perplexity {chat_ppl:.1f} per BPE token "
                 f"(unigram baseline {unigram_ppl:.1f}).\n\n"
                 f"**Specialists and the foundation model** on the same held-out text:\n\n"
                 f"{bpb_table}"))
