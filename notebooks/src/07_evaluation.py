# %% [markdown]
# # 07 · Evaluation: perplexity, accuracy, F1, BLEU and ROUGE
#
# *Mirrors §3.3 (模型评估, "model evaluation") of the source document.*
#
# Once a model is trained, the document says, it must be evaluated, and it names four metrics:
# **perplexity** (how well a model predicts text), **accuracy** (the share of right answers on
# a classification task), **F1** (which combines precision and recall) and **BLEU** (how close a
# machine translation is to reference translations). This chapter computes each from its
# definition, checks it against the reference implementation the field uses, and shows where
# each one misleads:
#
# 1. **Perplexity** of the GPT trained in chapter 06, against unigram and bigram baselines on
#    the same validation text; per token and per character; and why perplexities under
#    different tokenizers cannot be compared directly.
# 2. **Accuracy, precision, recall, F1**, binary and multi-class (macro, micro), equal to
#    scikit-learn's; a confusion matrix; why accuracy misleads on imbalanced labels.
# 3. **BLEU**: clipped n-gram precision, the brevity penalty, corpus versus sentence BLEU,
#    smoothing; equal to sacrebleu's and compared with NLTK's; what BLEU misses.
# 4. **ROUGE**, the summarization metric used in chapter 10, checked against Google's
#    `rouge-score`.
# 5. **Uncertainty**: bootstrap confidence intervals, because a score on one test set is an
#    estimate, not a fact.
#
# Every metric lives in `course_lib.metrics` (n-gram models in `course_lib.ngram_lm`), so later
# chapters use the same, tested code.
#
# **Before you run it:** time: smoke ~35 s · cpu ~4 min (2 cores) · gpu ~2 min (estimated); memory: peak ~1.1 GB at cpu; data: tinyshakespeare (1.1 MB), rt-polarity (1.2 MB), multi30k (1.3 MB), dialogsum (1.1 MB) (downloaded once, verified by SHA-256); plus chapter 06's trained model (`notebooks/artifacts/`, in the repository).

# %%
# NBVAL_IGNORE_OUTPUT
import json
import math
import re
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import nltk.translate.bleu_score as nltk_bleu
import numpy as np
import sacrebleu
import sklearn.metrics as skm
import tensorflow as tf
from IPython.display import Markdown, display
from nltk.lm import Lidstone
from nltk.util import everygrams, ngrams
from rouge_score import rouge_scorer

import course_lib
from course_lib import data, metrics, plots
from course_lib.exercises import ch07 as ex
from course_lib.gpt import GPT, GPTConfig
from course_lib.lm_data import split_tokens
from course_lib.ngram_lm import NGramLM
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything
from course_lib.tokenizers import BPETokenizer, CharTokenizer
from course_lib.training import LMBatches, TrainConfig, Trainer

tf.get_logger().setLevel("ERROR")
SEED = seed_everything(1337)
profile = active_profile()
print(f"seed {SEED}, profile {profile} ({profile.source}), Keras {keras.__version__}")

# %% [markdown]
# All sizes live in this cell. The `smoke` profile (the test suite) evaluates on slices so the
# notebook runs in well under a minute; the stored outputs come from the `cpu` profile, which
# uses every example.

# %%
VAL_CHARS = profile.pick(smoke=3_000, cpu=None, gpu=None)  # None: the whole validation text
EVAL_BATCH = 64  # windows per forward pass when scoring the GPT
K_GRID = (1.0, 0.1, 0.01, 0.001)  # add-k constants tried for the n-gram models
BPE_VOCAB = profile.pick(smoke=300, cpu=1024, gpu=1024)  # byte-level BPE: 256 bytes + merges
BPE_TRAIN_CHARS = profile.pick(smoke=50_000, cpu=None, gpu=None)  # None: all training text
CLASSIFIER_EPOCHS = profile.pick(smoke=1, cpu=8, gpu=8)  # the sentiment model converges by ~6
VOCAB = 10_000  # word features of the sentiment classifier (tf-idf of the most frequent words)
MT_SENTENCES = profile.pick(smoke=100, cpu=None, gpu=None)  # None: all 1,014 Multi30k val
SUMMARIES = profile.pick(smoke=30, cpu=500, gpu=500)  # DialogSum test dialogues
N_RESAMPLES = profile.pick(smoke=100, cpu=2000, gpu=2000)  # bootstrap resamples
FALLBACK_STEPS = profile.pick(smoke=10, cpu=600, gpu=600)  # only if chapter 06's model is missing

# %% [markdown]
# ## 1. Perplexity
#
# A language model assigns a probability to every next token. Its loss on a text is the mean
# negative log-probability it gave the tokens that really came next (chapter 06). Perplexity
# is that loss exponentiated:
#
# $$\text{PPL} = \exp\Big(-\frac{1}{N}\sum_{t=1}^{N} \ln p(x_t \mid x_{<t})\Big)$$
#
# It reads as an *effective number of choices*: a perplexity of 6 means the model is, on
# average, as unsure as if it were choosing uniformly among 6 tokens. A model that knows
# nothing and spreads its bet evenly over V tokens has loss ln V and perplexity exactly V;
# a perfect model has perplexity 1.

# %%
# NBVAL_CHECK_OUTPUT
print(f"uniform guess over 65 characters: perplexity {metrics.perplexity(math.log(65)):.1f}")
print(f"loss 1.0 nat per token:           perplexity {metrics.perplexity(1.0):.4f}")
print(f"perfect prediction (loss 0):      perplexity {metrics.perplexity(0.0):.1f}")

# %% [markdown]
# ### The model from chapter 06
#
# Chapter 06 trained the course GPT on Tiny Shakespeare (nanoGPT's CPU configuration) and saved
# it to `notebooks/artifacts/`. We load it with its character tokenizer and the same 90/10
# split of the text. (If the file is missing, a smaller model is trained here instead.)

# %%
# NBVAL_IGNORE_OUTPUT
from course_lib.model_io import load_model

ARTIFACTS = Path(course_lib.__file__).resolve().parents[1] / "notebooks" / "artifacts"
text = data.load_tiny_shakespeare()
model_path = ARTIFACTS / "shakespeare_gpt.keras"
if model_path.exists():
    gpt = load_model(model_path)
    tokenizer = CharTokenizer.load(ARTIFACTS / "shakespeare_char_tokenizer.json")
    run_info = json.loads((ARTIFACTS / "shakespeare_gpt.json").read_text())
    print(f"loaded {model_path.name}: {run_info['parameters']:,} parameters, trained "
          f"{run_info['steps']} steps on the '{run_info['profile']}' profile; its training run "
          f"estimated a validation loss of {run_info['val_loss']}")
else:
    tokenizer = CharTokenizer.from_text(text)
    ids = tokenizer.encode(text)
    tr, va = split_tokens(ids, 0.9)
    gpt = GPT(GPTConfig(tokenizer.vocab_size, context_length=64, num_layers=2, num_heads=4, width=64))
    Trainer(gpt, TrainConfig(max_steps=FALLBACK_STEPS, warmup_steps=FALLBACK_STEPS // 10,
                             eval_interval=FALLBACK_STEPS, eval_batches=2, verbose=0,
                             jit_compile=not profile.is_smoke)).fit(
        LMBatches(tr, 64, 12), LMBatches(va, 64, 12, seed=1))
    print(f"{model_path} not found: trained a small fallback GPT for {FALLBACK_STEPS} steps")
ids = tokenizer.encode(text)
train_ids, val_ids = split_tokens(ids, 0.9)
val_ids = val_ids[:VAL_CHARS] if VAL_CHARS else val_ids
V, T = tokenizer.vocab_size, gpt.config.context_length
print(f"validation text: {len(val_ids):,} characters; vocabulary {V}; context {T}")

# %% [markdown]
# To score the whole validation text, we cut it into windows of T = 64 characters and ask the
# model for the next character at every position. Every character after the first is a
# *target* and is scored exactly once. With windows side by side (stride T), the first
# targets of each window see almost no context; with overlapping windows (stride T/2) each
# target is scored in the window that gives it the most context, at twice the cost.

# %%
def gpt_scores(model, tokens, stride):
    """Per-target NLL (nats) and argmax prediction for tokens[1:], each target scored once."""
    t = model.config.context_length
    starts = np.arange(0, len(tokens) - t, stride)
    windows = tokens[starts[:, None] + np.arange(t + 1)]  # (n, T + 1)
    nll, predictions, covered = [], [], 0
    for b in range(0, len(windows), EVAL_BATCH):
        batch = windows[b : b + EVAL_BATCH]
        logits = model(batch[:, :-1], training=False)  # (B, T, V)
        losses = keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(
            batch[:, 1:], logits, from_logits=True))  # (B, T)
        argmax = keras.ops.convert_to_numpy(keras.ops.argmax(logits, axis=-1))
        for row, start in enumerate(starts[b : b + EVAL_BATCH]):
            new = max(0, covered - start)  # positions whose targets an earlier window scored
            nll.append(losses[row, new:])
            predictions.append(argmax[row, new:])
            covered = start + t
    return np.concatenate(nll).astype(np.float64), np.concatenate(predictions)


nll_side, pred_side = gpt_scores(gpt, val_ids, stride=T)
nll_overlap, _ = gpt_scores(gpt, val_ids, stride=T // 2)
n_targets = min(len(nll_side), len(nll_overlap))  # the same targets for every model below
nll_side, pred_side, nll_overlap = nll_side[:n_targets], pred_side[:n_targets], nll_overlap[:n_targets]
targets = val_ids[1 : n_targets + 1]
scored_text = val_ids[: n_targets + 1]  # the first character is given, the rest are scored

# %% [markdown]
# First, the definition three ways on one batch: from scratch (log-softmax in NumPy, mean,
# exp), with `course_lib.metrics`, and with Keras's loss.

# %%
# NBVAL_CHECK_OUTPUT
x = val_ids[: 8 * T].reshape(8, T)
y = val_ids[1 : 8 * T + 1].reshape(8, T)
logits = keras.ops.convert_to_numpy(gpt(x)).astype(np.float64)
z = logits - logits.max(-1, keepdims=True)
log_probs = z - np.log(np.exp(z).sum(-1, keepdims=True))
scratch = math.exp(-np.take_along_axis(log_probs, y[..., None], -1).mean())
library = metrics.perplexity(metrics.sparse_cross_entropy(y, logits))
reference = math.exp(float(keras.ops.mean(keras.losses.sparse_categorical_crossentropy(
    y, logits.astype("float32"), from_logits=True))))
print(f"scratch vs course_lib vs Keras agree to 1e-5 (relative): "
      f"{math.isclose(scratch, library, rel_tol=1e-5) and math.isclose(library, reference, rel_tol=1e-5)}")

# %% [markdown]
# ### Baselines: unigram and bigram models
#
# A perplexity means little on its own; it needs baselines. The classic ones count: a
# **unigram** model predicts each character from its frequency in the training text, ignoring
# context; a **bigram** model predicts it from the one character before (and a trigram from
# two). Add-k smoothing gives unseen pairs a little probability (`course_lib.ngram_lm`
# documents the formula). We pick k on a development slice, the last 10% of the training
# text, never on the validation text.

# %%
dev_cut = int(len(train_ids) * 0.9)


def fit_ngram(order, train, vocab_size):
    """Chooses k on the last 10% of `train`, then refits on all of it."""
    cut = int(len(train) * 0.9)
    dev_ppl = {k: NGramLM(order, vocab_size, k).fit(train[:cut]).perplexity(train[cut:])
               for k in K_GRID}
    best = min(dev_ppl, key=dev_ppl.get)
    return NGramLM(order, vocab_size, best).fit(train)


char_models = {name: fit_ngram(order, train_ids, V)
               for name, order in [("unigram", 1), ("bigram", 2), ("trigram", 3)]}

# %% [markdown]
# Is `NGramLM` right? NLTK's `nltk.lm.Lidstone` is the same add-k model; on a slice of the text
# (NLTK is slow) the two give the same perplexity. NLTK's vocabulary adds an `<UNK>` entry, so
# ours gets the same size for the check.

# %%
# NBVAL_CHECK_OUTPUT
small_train, small_val = text[:20_000], text[20_000:22_000]
reference_lm = Lidstone(0.1, 2)
reference_lm.fit([list(everygrams(list(small_train), max_len=2))], vocabulary_text=list(text))
ours_lm = NGramLM(2, len(reference_lm.vocab), k=0.1).fit(tokenizer.encode(small_train))
ours_ppl = ours_lm.perplexity(tokenizer.encode(small_val))
nltk_ppl = reference_lm.perplexity(list(ngrams(list(small_val), 2)))
print(f"bigram perplexity, course_lib vs NLTK Lidstone, agree to 1e-9: "
      f"{math.isclose(ours_ppl, nltk_ppl, rel_tol=1e-9)}")

# %% [markdown]
# Now every model on the same validation targets. Since this tokenizer has one token per
# character, the GPT's per-token and per-character figures coincide here.

# %%
# NBVAL_IGNORE_OUTPUT
rows = [("uniform guess", "-", len(targets) * math.log(V))]
for name, lm in char_models.items():
    rows.append((f"{name} (k = {lm.k:g})", f"{lm.order - 1} char", lm.nll(scored_text)[0]))
rows.append(("course GPT, windows side by side", f"0–{T - 1} chars", nll_side.sum()))
rows.append(("course GPT, overlapping windows", f"{T // 2}–{T - 1} chars", nll_overlap.sum()))
lines = ["| model | context | loss (nats / char) | perplexity | bits / char |",
         "|---|---|---:|---:|---:|"]
for name, context, total in rows:
    lines.append(f"| {name} | {context} | {total / len(targets):.4f} | "
                 f"{metrics.perplexity_from_total(total, len(targets)):.2f} | "
                 f"{metrics.bits_per_unit(total, len(targets)):.3f} |")
display(Markdown("\n".join(lines)))
gpt_val_loss = float(nll_side.mean())
print(f"GPT on {len(targets):,} validation characters: loss {gpt_val_loss:.4f} nats, "
      f"perplexity {metrics.perplexity(gpt_val_loss):.2f}")

# %% [markdown]
# Each step of context helps: the unigram model knows only that `e` and spaces are common; the
# bigram model knows that `q` is followed by `u`; the trigram model spells a little. The GPT,
# reading up to 63 characters back, beats the three n-gram models of this table (perplexity
# 6.65 against 7.73 for the trigram), but its lead over the trigram is modest: it is a small
# model that read its training text one and a half times (nanoGPT's larger GPU configuration
# reaches about 1.47 nats per character, perplexity 4.3). These n-gram models see at most two
# characters back; a longer-context n-gram can beat this small GPT: chapter 14's 5-gram, with
# four characters of context, scores 5.55 against the GPT's 6.37 on a slice of the same
# validation text, and the BPE bigram below beats it too. Note also how the GPT's
# figure depends on the *evaluation protocol*: with overlapping windows every target sees at
# least 32 characters of context and the perplexity drops. When you compare perplexities,
# check that they were measured the same way.
#
# ### Per token or per character? Why tokenizers must match
#
# Perplexity is *per token*, and what a token is depends on the tokenizer. Here is the same
# validation text under a byte-level BPE tokenizer (chapter 03) trained on the training text:
# fewer, longer tokens. We fit unigram and bigram models on BPE tokens and score the same
# validation text.

# %%
bpe_train_text = text[: int(len(text) * 0.9)]
bpe = BPETokenizer.from_text(bpe_train_text[:BPE_TRAIN_CHARS] if BPE_TRAIN_CHARS else bpe_train_text,
                             vocab_size=BPE_VOCAB)
val_text = tokenizer.decode(scored_text)
bpe_train_ids = bpe.encode(bpe_train_text)
bpe_val_ids = bpe.encode(val_text)
bpe_models = {name: fit_ngram(order, bpe_train_ids, bpe.vocab_size)
              for name, order in [("unigram", 1), ("bigram", 2)]}

# %%
# NBVAL_IGNORE_OUTPUT
chars_scored = len(val_text) - len(bpe.decode(bpe_val_ids[:1]))  # the first token is given
rows = []
for tok_name, models_, val_tokens, n_chars in [
    ("characters", {k: char_models[k] for k in ("unigram", "bigram")}, scored_text, len(targets)),
    (f"BPE, {bpe.vocab_size} tokens", bpe_models, bpe_val_ids, chars_scored),
]:
    for name, lm in models_.items():
        total, count = lm.nll(val_tokens)
        rows.append((f"{name}, {tok_name}", count, n_chars, total))
rows.append(("course GPT, characters", len(targets), len(targets), nll_side.sum()))
lines = ["| model, tokenizer | tokens | characters | perplexity per token | perplexity per character | bits / char |",
         "|---|---:|---:|---:|---:|---:|"]
for name, count, n_chars, total in rows:
    lines.append(f"| {name} | {count:,} | {n_chars:,} | {metrics.perplexity_from_total(total, count):.2f} | "
                 f"{metrics.perplexity_from_total(total, n_chars):.2f} | "
                 f"{metrics.bits_per_unit(total, n_chars):.3f} |")
display(Markdown("\n".join(lines)))
print(f"BPE: {len(val_text) / len(bpe_val_ids):.2f} characters per token on the validation text")

# %% [markdown]
# Per token, the BPE bigram model looks several times *worse* than the character bigram model,
# and ten times worse than the GPT. It is not: each BPE token carries more than two
# characters, so each prediction is harder, but there are fewer of them. The total cost of the
# text, in nats, is what the models really compete on, and spreading it over the same unit,
# characters (or bits per character, or per byte), makes the numbers comparable again. Per
# character, the BPE bigram model is in fact better than the character bigram, because its one
# token of context spans several characters, and in the stored run it is even a little better
# than our small GPT. A per-token comparison would have hidden that completely.
#
# The rule: **compare perplexities only under the same tokenizer**, or convert them to a
# tokenizer-free unit first. The conversion is exact, because both are the same total:

# %%
# NBVAL_CHECK_OUTPUT
total, count = bpe_models["bigram"].nll(bpe_val_ids)
per_token = metrics.perplexity_from_total(total, count)
per_char = metrics.perplexity_from_total(total, chars_scored)
print(f"per-character PPL = per-token PPL ** (tokens / characters): "
      f"{math.isclose(per_char, per_token ** (count / chars_scored), rel_tol=1e-9)}")

# %% [markdown]
# ## 2. Accuracy, precision, recall and F1
#
# For classification, the document names accuracy and F1. We need predictions to score: a
# small Keras sentiment classifier on the rt-polarity movie reviews (a logistic regression on
# TF-IDF word weights, trained in seconds; chapter 08 does classification properly), evaluated
# on a held-out 20% of the reviews.

# %%
# NBVAL_IGNORE_OUTPUT
reviews, labels = data.load_rt_polarity()
order = np.random.default_rng(0).permutation(len(reviews))
cut = int(0.8 * len(reviews))
train_idx, test_idx = order[:cut], order[cut:]
train_text = tf.constant([reviews[i] for i in train_idx])
test_text = tf.constant([reviews[i] for i in test_idx])
vectorizer = keras.layers.TextVectorization(max_tokens=VOCAB, output_mode="tf_idf")
vectorizer.adapt(train_text)
train_ds = (tf.data.Dataset.from_tensor_slices((train_text, labels[train_idx]))
            .shuffle(len(train_idx), seed=SEED).batch(64).map(lambda t, y: (vectorizer(t), y)))
classifier = keras.Sequential([keras.Input((VOCAB,)), keras.layers.Dense(1, activation="sigmoid")])
classifier.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
classifier.fit(train_ds, epochs=CLASSIFIER_EPOCHS, verbose=0)
test_ds = tf.data.Dataset.from_tensor_slices(test_text).batch(256).map(vectorizer)
y_true = labels[test_idx]
y_pred = (classifier.predict(test_ds, verbose=0)[:, 0] > 0.5).astype(int)
print(f"{len(train_idx):,} training and {len(test_idx):,} test reviews")

# %% [markdown]
# The four counts say everything: true positives (TP, positive reviews called positive),
# false positives (FP), false negatives (FN) and true negatives (TN). Then
#
# - accuracy = (TP + TN) / all: the share of right answers;
# - precision = TP / (TP + FP): of the reviews we *called* positive, the share that were;
# - recall = TP / (TP + FN): of the reviews that *were* positive, the share we found;
# - F1 = 2 · precision · recall / (precision + recall), their harmonic mean, which is high only
#   when both are.
#
# From scratch, with `course_lib.metrics`, and with scikit-learn:

# %%
tp = int(np.sum((y_pred == 1) & (y_true == 1)))
fp = int(np.sum((y_pred == 1) & (y_true == 0)))
fn = int(np.sum((y_pred == 0) & (y_true == 1)))
tn = int(np.sum((y_pred == 0) & (y_true == 0)))
scratch = ((tp + tn) / len(y_true), tp / (tp + fp), tp / (tp + fn), 2 * tp / (2 * tp + fp + fn))
library = (metrics.accuracy(y_true, y_pred), *metrics.precision_recall_f1(y_true, y_pred))
reference = (skm.accuracy_score(y_true, y_pred), skm.precision_score(y_true, y_pred),
             skm.recall_score(y_true, y_pred), skm.f1_score(y_true, y_pred))

# %%
# NBVAL_CHECK_OUTPUT
print(f"accuracy, precision, recall, F1: scratch = course_lib = scikit-learn: "
      f"{np.allclose(scratch, library, atol=1e-12) and np.allclose(library, reference, atol=1e-12)}")
print(f"confusion matrix equals scikit-learn's: "
      f"{np.array_equal(metrics.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))}")

# %%
# NBVAL_IGNORE_OUTPUT
print(f"TP {tp}, FP {fp}, FN {fn}, TN {tn}")
print("accuracy {:.3f}, precision {:.3f}, recall {:.3f}, F1 {:.3f}".format(*library))
plots.plot_confusion_matrix(metrics.confusion_matrix(y_true, y_pred), ["negative", "positive"],
                            title="Sentiment classifier, test reviews")
plt.show()

# %% [markdown]
# ### Many classes: macro and micro averages
#
# With more than two classes, precision, recall and F1 are computed per class and then
# averaged. **Macro** averaging takes the plain mean over classes, so a rare class counts as
# much as a common one; **micro** averaging pools the counts of all classes first, so it
# follows the common classes (for one label per example it equals accuracy); **weighted**
# averaging weights each class by its number of examples.
#
# A 65-class problem is at hand: the GPT's next-character predictions on the validation text
# (its most likely character at each position).

# %%
# NBVAL_CHECK_OUTPUT
same = all(
    np.allclose(metrics.precision_recall_f1(targets, pred_side, average=avg),
                skm.precision_recall_fscore_support(targets, pred_side, average=avg,
                                                    zero_division=0.0)[:3], atol=1e-12)
    for avg in ("macro", "micro", "weighted", None))
print(f"macro, micro, weighted and per-class P/R/F1 equal scikit-learn's: {same}")
print(f"micro F1 equals accuracy: "
      f"{math.isclose(metrics.f1_score(targets, pred_side, average='micro'), metrics.accuracy(targets, pred_side))}")

# %%
# NBVAL_IGNORE_OUTPUT
def show(char):
    return {" ": "␣", "\n": "⏎"}.get(char, char)


print(f"next-character accuracy {metrics.accuracy(targets, pred_side):.3f}")
for avg in ("micro", "macro", "weighted"):
    print(f"{avg:>8} F1 {metrics.f1_score(targets, pred_side, average=avg):.3f}")
classes = np.unique(np.concatenate([targets, pred_side]))
_, _, f1_per_class = metrics.precision_recall_f1(targets, pred_side, average=None, labels=classes)
support = np.array([np.sum(targets == c) for c in classes])
by_support = np.argsort(-support)
print("\nper-class F1, most and least frequent characters:")
for i in list(by_support[:5]) + list(by_support[-5:]):
    print(f"  {show(tokenizer.decode([classes[i]])):>2}  {support[i]:>6,} examples   F1 {f1_per_class[i]:.3f}")

top = classes[by_support[:10]]
plots.plot_confusion_matrix(metrics.confusion_matrix(targets, pred_side, labels=top),
                            [show(tokenizer.decode([c])) for c in top], normalize="true",
                            title="GPT next character, 10 most frequent (rows sum to 1)")
plt.show()

# %% [markdown]
# Micro F1 (= accuracy) is dominated by the frequent classes, spaces, `e`, `t`, `o`, which the
# model predicts best; macro F1 is dragged down by rare characters (`z`, `J`, `Q`) that it
# never predicts.
# Which average is right depends on the question: "how often is it right?" (micro) or "is it
# good at every class?" (macro).
#
# ### Why accuracy misleads on imbalanced labels
#
# Suppose 5% of messages are spam and a "classifier" always answers "not spam":

# %%
# NBVAL_CHECK_OUTPUT
y_true_imb = np.array([0] * 950 + [1] * 50)  # 5% positives
always_negative = np.zeros(1000, dtype=int)
print(f"accuracy                 {metrics.accuracy(y_true_imb, always_negative):.3f}")
print("precision / recall / F1 of the positive class: "
      "{:.3f} / {:.3f} / {:.3f}".format(*metrics.precision_recall_f1(y_true_imb, always_negative)))
print(f"macro F1                 {metrics.f1_score(y_true_imb, always_negative, average='macro'):.3f}")

# %% [markdown]
# 95% accuracy, from a model that has learned nothing and never finds a single spam message.
# F1 of the rare class (0.0) and macro F1 (0.487, the chance level of two classes) tell the
# truth. Always compare accuracy with the majority-class baseline, and report per-class or
# macro scores when classes are imbalanced.
#
# ## 3. BLEU
#
# BLEU (Papineni et al., 2002) scores a machine translation against one or more human
# references by counting shared n-grams (runs of n words), for n = 1 to 4.
#
# **Clipped ("modified") n-gram precision.** Plain precision would reward repeating a likely
# word: the candidate "the the the the the the the" has every word in the reference. BLEU
# counts each candidate n-gram at most as many times as it appears in a reference. The
# paper's own example:

# %%
# NBVAL_CHECK_OUTPUT
candidate = "the the the the the the the"
references = ["the cat is on the mat", "there is a cat on the mat"]
stats = metrics.bleu_statistics([candidate], [references], max_order=1)[0]
print(f"unclipped unigram precision 7/7; clipped: {stats[2]}/{stats[3]} = {stats[2] / stats[3]:.4f}")

# %% [markdown]
# **Brevity penalty.** Precision alone rewards saying little: "the cat" has perfect precision.
# BLEU multiplies by BP = exp(1 − r/c) when the candidate (c words) is shorter than the
# reference (r words), and 1 otherwise. **BLEU** = BP · exp(¼ Σₙ log pₙ), the geometric mean of
# the four clipped precisions, times the penalty, reported from 0 to 100. One sentence,
# step by step:

# %%
# NBVAL_CHECK_OUTPUT
score = metrics.sentence_bleu("the cat sat on the red mat", ["the cat sat on the mat"])
print("precisions p1..p4:", [f"{p:.1f}" for p in score.precisions])
print(f"c = {score.hyp_len}, r = {score.ref_len}, BP = {score.brevity_penalty:.3f}")
geometric = math.exp(sum(math.log(p / 100) for p in score.precisions) / 4)
print(f"BLEU = {score.brevity_penalty:.3f} × {geometric:.4f} × 100 = {score.score:.2f}")

# %% [markdown]
# ### Corpus BLEU, checked against sacrebleu and NLTK
#
# BLEU is meant for a whole test set: the n-gram counts of all sentences are added up first,
# then the formula is applied once. To have systems of different quality without training a
# translator (that is chapter 10), we take the 1,014 English captions of Multi30k's validation
# set as references and make three synthetic "systems" by damaging them: one drops 10% of the
# words, one replaces 20% with random words, one swaps neighbouring words. These are not real
# translations; they only give BLEU something of known quality to measure.

# %%
pairs = data.load_multi30k("val")
mt_refs = [en for en, _ in pairs][:MT_SENTENCES]
vocabulary = sorted({w for s in mt_refs for w in s.split()})
rng = np.random.default_rng(0)


def drop(sentence, p=0.1):
    words = sentence.split()
    kept = [w for w in words if rng.random() >= p]
    return " ".join(kept or words[:1])


def replace(sentence, p=0.2):
    return " ".join(w if rng.random() >= p else str(rng.choice(vocabulary)) for w in sentence.split())


def swap(sentence, p=0.3):
    words = sentence.split()
    for i in range(len(words) - 1):
        if rng.random() < p:
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


systems = {name: [fn(s) for s in mt_refs] for name, fn in
           [("drop 10% of words", drop), ("replace 20% of words", replace), ("swap neighbours", swap)]}
print(mt_refs[0])
for name, hyps in systems.items():
    print(f"  {name:>22}: {hyps[0]}")

# %% [markdown]
# `course_lib.metrics.corpus_bleu` takes one list of references *per hypothesis*; sacrebleu
# takes reference *streams* (one list per reference set), hence the `[mt_refs]` below. Both
# tokenize with the `13a` rules of WMT's official script. NLTK's `corpus_bleu` takes token lists
# and reports 0–1 with no smoothing, so we give it the `13a` tokens and compare with
# `smooth="none"`.

# %%
bleu_rows = []
for name, hyps in systems.items():
    ours = metrics.corpus_bleu(hyps, mt_refs, tokenize="13a")
    sacre = sacrebleu.corpus_bleu(hyps, [mt_refs])  # default: 13a tokens, exp smoothing
    pre_h = [metrics.tokenize_13a(h) for h in hyps]
    pre_r = [metrics.tokenize_13a(r) for r in mt_refs]
    sacre_none = sacrebleu.corpus_bleu(pre_h, [pre_r], tokenize="none")  # already tokenized
    ours_none = metrics.corpus_bleu(pre_h, pre_r, smooth="none")
    nltk_score = 100 * nltk_bleu.corpus_bleu([[r.split()] for r in pre_r], [h.split() for h in pre_h])
    bleu_rows.append((name, ours.score, sacre.score, sacre_none.score, ours_none.score, nltk_score))

# %%
# NBVAL_CHECK_OUTPUT
print("course_lib = sacrebleu (13a) within 0.01:        ",
      all(abs(r[1] - r[2]) < 0.01 for r in bleu_rows))
print("course_lib = sacrebleu (pre-tokenized) within 0.01:",
      all(abs(r[1] - r[3]) < 0.01 for r in bleu_rows))
print("course_lib (no smoothing) = NLTK within 0.01:    ",
      all(abs(r[4] - r[5]) < 0.01 for r in bleu_rows))

# %%
# NBVAL_IGNORE_OUTPUT
lines = ["| system | course_lib | sacrebleu | sacrebleu, tokenize='none' | NLTK × 100 |",
         "|---|---:|---:|---:|---:|"]
lines += [f"| {n} | {a:.2f} | {b:.2f} | {c:.2f} | {e:.2f} |" for n, a, b, c, _, e in bleu_rows]
display(Markdown("\n".join(lines)))
print(metrics.corpus_bleu(systems["drop 10% of words"], mt_refs, tokenize="13a"))

# %% [markdown]
# Dropping words costs recall, which BLEU sees only through the brevity penalty; replacing
# words breaks every n-gram that contains them; swapping neighbours keeps all unigrams but
# breaks bigrams and longer n-grams.
#
# ### Corpus BLEU is not the mean of sentence BLEUs, and smoothing
#
# Pooling the counts weights long sentences more, and a sentence with no matching 4-gram
# drags nothing to zero. The average of per-sentence scores is a different number:

# %%
# NBVAL_IGNORE_OUTPUT
for name, hyps in systems.items():
    sentence_scores = [metrics.sentence_bleu(h, [r], tokenize="13a").score for h, r in zip(hyps, mt_refs, strict=True)]
    print(f"{name:>22}: corpus BLEU {metrics.corpus_bleu(hyps, mt_refs, tokenize='13a').score:5.2f}, "
          f"mean sentence BLEU {np.mean(sentence_scores):5.2f}")

# %% [markdown]
# For a single short sentence, some n-gram order often has no match at all, and then the
# geometric mean, and BLEU, is 0 however good the rest is. Sentence-level BLEU therefore uses
# **smoothing** (Chen & Cherry, 2014), which replaces the zero precisions by small values.
# sacrebleu's default, `exp`, halves the pseudo-count for each successive empty order:

# %%
# NBVAL_CHECK_OUTPUT
hyp, ref = "a man rides a bike", ["a man is riding a bike"]
for smooth in ("none", "floor", "add-k", "exp"):
    ours = metrics.sentence_bleu(hyp, ref, smooth=smooth)
    theirs = sacrebleu.sentence_bleu(hyp, ref, smooth_method=smooth, tokenize="none")
    print(f"{smooth:>6}: BLEU {ours.score:6.2f} (sacrebleu {theirs.score:6.2f})")

# %% [markdown]
# ### What BLEU misses
#
# BLEU counts surface overlap. It cannot see meaning, so paraphrases score low and small
# changes that flip the meaning score high:

# %%
# NBVAL_CHECK_OUTPUT
reference_sentence = "the cat sat on the mat"
candidates = {
    "identical": "the cat sat on the mat",
    "paraphrase": "a feline was sitting on the rug",
    "one synonym": "the cat sat on the rug",
    "negated": "the cat did not sit on the mat",
    "word salad": "mat the on sat cat the",
}
print(f"{'candidate':>12}  {'sentence BLEU':>13}  {'ROUGE-L F':>9}")
for name, cand in candidates.items():
    bleu = metrics.sentence_bleu(cand, [reference_sentence]).score
    rouge_l = metrics.rouge_l(cand, reference_sentence).fmeasure
    print(f"{name:>12}  {bleu:13.1f}  {rouge_l:9.2f}")

# %% [markdown]
# The paraphrase means the same and scores 13; the negation means the opposite and scores
# twice as much (26); one synonym costs a quarter of the score; the word salad has every word
# right and scores as much as the paraphrase. BLEU correlates with human
# judgement only on average over many sentences, and only with several references (more ways
# of saying it). That is why newer metrics compare meaning with learned embeddings (BERTScore,
# COMET), and why the applications chapters also look at outputs, not only at scores.
#
# Real evidence, from DialogSum, where every test dialogue has three human summaries: score one
# human summary against the other two, as if it were a system. Human summaries are good by
# construction, yet they agree only partly in their words:

# %%
# NBVAL_IGNORE_OUTPUT
dialogues = data.load_dialogsum("test")[:SUMMARIES]
human = [d["summary1"] for d in dialogues]
others = [[d["summary2"], d["summary3"]] for d in dialogues]
human_bleu = metrics.corpus_bleu(human, others, tokenize="13a")
print(f"human summary vs two other human summaries, {len(dialogues)} dialogues: "
      f"BLEU {human_bleu.score:.1f}")
print("e.g.:", human[0], "\n  vs:", others[0][0])

# %% [markdown]
# ## 4. ROUGE, for summarization
#
# ROUGE (Lin, 2004) is BLEU's counterpart for summaries, built around *recall*: how much of
# the reference summary the system summary recovers.
#
# - **ROUGE-N**: overlapping n-grams (clipped) divided by the reference's n-grams (recall) or by
#   the hypothesis's (precision); papers report the F-measure of the two.
# - **ROUGE-L**: the longest common subsequence (words in the same order, gaps allowed).
#
# Lin's own example: the reference "police killed the gunman" against "police kill the gunman"
# and "the gunman kill police". Both share one bigram ("the gunman") with the reference, so
# ROUGE-2 cannot tell them apart; ROUGE-L prefers the first, whose word order is right:

# %%
# NBVAL_CHECK_OUTPUT
reference_summary = "police killed the gunman"
for cand in ("police kill the gunman", "the gunman kill police"):
    r = metrics.rouge(cand, reference_summary)
    print(f"{cand:>24}: ROUGE-1 {r['rouge1'].fmeasure:.3f}  ROUGE-2 {r['rouge2'].fmeasure:.3f}  "
          f"ROUGE-L {r['rougeL'].fmeasure:.3f}")

# %% [markdown]
# On DialogSum, three simple summarizers that read the dialogue and copy from it: the first
# two turns (*lead-2*), the longest turn, and, for scale, the human summary from before. Each
# is scored against the other two human summaries with `course_lib.metrics` and with Google's
# `rouge-score` package (which takes the reference first).

# %%
def turns(dialogue):
    return [re.sub(r"^#\w+#:\s*", "", line) for line in dialogue.splitlines() if line.strip()]


summarizers = {
    "lead-2 (first two turns)": [" ".join(turns(d["dialogue"])[:2]) for d in dialogues],
    "longest turn": [max(turns(d["dialogue"]), key=len) for d in dialogues],
    "human summary": human,
}
scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
rouge_rows, max_difference = [], 0.0
for name, summaries in summarizers.items():
    ours = metrics.corpus_rouge(summaries, others)
    for summary, refs in zip(summaries, others, strict=True):
        mine = metrics.rouge(summary, refs)
        theirs = scorer.score_multi(refs, summary)
        max_difference = max(max_difference, *(abs(mine[k].fmeasure - theirs[k].fmeasure)
                                                for k in theirs))
    rouge_rows.append((name, ours))

# %%
# NBVAL_CHECK_OUTPUT
print(f"course_lib ROUGE-1/2/L equal rouge-score's on every summary (max difference < 1e-12): "
      f"{max_difference < 1e-12}")

# %%
# NBVAL_IGNORE_OUTPUT
lines = ["| summarizer | ROUGE-1 F | ROUGE-2 F | ROUGE-L F |", "|---|---:|---:|---:|"]
lines += [f"| {n} | {s['rouge1']:.3f} | {s['rouge2']:.3f} | {s['rougeL']:.3f} |" for n, s in rouge_rows]
display(Markdown("\n".join(lines)))

# %% [markdown]
# Copying turns from the dialogue gets some credit (names and topic words overlap), but the
# human summary, written in the third person ("#Person1# asks …"), scores far higher. Chapter
# 10 trains a summarizer and places it on this scale.
#
# ## 5. Uncertainty: bootstrap confidence intervals
#
# A score on a test set is an estimate: another test set of the same size, drawn from the same
# source, would give a somewhat different number. The **bootstrap** estimates how much: draw
# n examples *with replacement* from the n test examples, recompute the metric, repeat a
# thousand or more times, and take the middle 95% of the recomputed values as the interval.
# It works for any metric, including corpus-level ones like BLEU, where the pairs
# (prediction, truth) or the sentence statistics are resampled together.

# %%
# NBVAL_IGNORE_OUTPUT
accuracy_ci = metrics.bootstrap_ci(metrics.accuracy, y_true, y_pred, n_resamples=N_RESAMPLES)
print(f"sentiment accuracy on {len(y_true):,} reviews: {accuracy_ci}")

hyps = systems["drop 10% of words"]
rows_all = metrics.bleu_statistics(hyps, mt_refs, tokenize="13a")


def bleu_of(rows):
    return metrics.bleu_from_statistics(rows.sum(axis=0)).score


few = max(10, len(rows_all) // 10)
bleu_ci = metrics.bootstrap_ci(bleu_of, rows_all, n_resamples=N_RESAMPLES)
bleu_ci_few = metrics.bootstrap_ci(bleu_of, rows_all[:few], n_resamples=N_RESAMPLES)
print(f"BLEU on {len(rows_all):,} sentences:  {bleu_ci}")
print(f"BLEU on {few:,} sentences:    {bleu_ci_few}")

plt.figure(figsize=(6, 3))
plt.hist(bleu_ci.distribution, bins=40, alpha=0.7, label=f"{len(rows_all)} sentences")
plt.hist(bleu_ci_few.distribution, bins=40, alpha=0.7, label=f"{few} sentences")
plt.xlabel("BLEU of a bootstrap resample")
plt.ylabel("resamples")
plt.legend()
plt.title("Bootstrap distribution of corpus BLEU")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
print(f"each interval contains its estimate: "
      f"{all(r.low <= r.estimate <= r.high for r in (accuracy_ci, bleu_ci, bleu_ci_few))}")
print(f"a tenth of the sentences gives a wider interval: "
      f"{bleu_ci_few.high - bleu_ci_few.low > bleu_ci.high - bleu_ci.low}")

# %% [markdown]
# Comparing two systems on the same test set is a *paired* question: resample sentences once
# and score both systems on the same resample, then look at the difference. If the interval of
# the difference excludes 0, the ranking is unlikely to be an accident of this test set.

# %%
# NBVAL_IGNORE_OUTPUT
rows_a = metrics.bleu_statistics(systems["drop 10% of words"], mt_refs, tokenize="13a")
rows_b = metrics.bleu_statistics(systems["swap neighbours"], mt_refs, tokenize="13a")
difference = metrics.bootstrap_ci(lambda a, b: bleu_of(a) - bleu_of(b), rows_a, rows_b,
                                  n_resamples=N_RESAMPLES)
print(f"BLEU(drop) − BLEU(swap): {difference}")
print(f"'drop' wins in {np.mean(difference.distribution > 0):.1%} of the resamples")

# %% [markdown]
# Rules of thumb from these numbers: with about 2,000 test examples, an accuracy is known to
# roughly ±2 points; a BLEU score on 1,000 sentences to about ±1–2 points, and on 100 sentences
# to several points. Differences smaller than that are not evidence. The interval covers
# test-set sampling only, not a different domain, and not the variation between training runs
# with different seeds, which you measure by training again.

# %% [record]
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("07", {
    "GPT val loss (nats/char)": gpt_val_loss,
    "GPT perplexity": float(metrics.perplexity(gpt_val_loss)),
    "next-char accuracy": float(metrics.accuracy(targets, pred_side)),
})
print(key_figures.read_text(encoding="utf-8"))

# %% [markdown]
# ## Exercises
#
# Fill in each `None`, run the cell, and read the verdict. Worked solutions:
# `notebooks/solutions/07_evaluation.ipynb`.
#
# **Exercise 7.1.** A character-level model has a validation loss of 1.2 nats per character.
# Words average 5.5 characters, the space included. What is its perplexity *per word*?

# %%
answer = None  # your answer
ex.check_word_perplexity(answer)

# %% [markdown]
# **Exercise 7.2.** A spam filter's test counts are TP = 30, FP = 10, FN = 20, TN = 940. What
# is its F1 score for the spam class? (And why is its accuracy, 0.97, not impressive?)

# %%
answer = None  # your answer
ex.check_f1(answer)

# %% [markdown]
# **Exercise 7.3.** What is BLEU's clipped unigram precision of the candidate
# "the the the cat" against the reference "the cat is on the mat"?

# %%
answer = None  # your answer
ex.check_modified_precision(answer)

# %% [markdown]
# **Exercise 7.4.** And its brevity penalty?

# %%
answer = None  # your answer
ex.check_brevity_penalty(answer)

# %% [markdown]
# ## Summary
#
# - **Perplexity** = exp(mean cross-entropy). On the whole Tiny Shakespeare validation text
#   (111,488 scored characters), chapter 06's GPT (nanoGPT's CPU configuration, 2,000 steps)
#   has a **validation loss of 1.894 nats per character, perplexity 6.65** (2.73 bits per
#   character; 6.49 with overlapping windows), against 28.4 for the unigram, 12.0 for the
#   bigram and 7.7 for the trigram baseline (a 5-gram, chapter 14, does better than this small
#   GPT). Perplexities are per token: compare them only
#   under the same tokenizer, or convert to per-character (or bits per character), and measure
#   them with the same protocol.
# - **Accuracy, precision, recall, F1** in `course_lib.metrics` equal scikit-learn's. Macro F1
#   treats every class equally, micro F1 (= accuracy) follows the frequent classes; on
#   imbalanced data accuracy alone misleads.
# - **BLEU** = brevity penalty × geometric mean of clipped 1–4-gram precisions, pooled over the
#   corpus; `course_lib`'s equals sacrebleu's to 0.01 and NLTK's without smoothing. It rewards
#   surface overlap, not meaning.
# - **ROUGE-1/2/L** equal `rouge-score`'s; chapter 10 uses them.
# - **Bootstrap intervals** turn a score into an estimate with error bars; use them before
#   claiming that one model beats another.
