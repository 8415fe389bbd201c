# %% [markdown]
# # 01 · Foundations: why language is hard, and a neural network from the ground up
#
# *Mirrors §1.1 (自然语言处理的挑战, "the challenge of NLP"), §1.2 (大语言模型的兴起, "the rise
# of LLMs") and §2.1 (深度学习与神经网络, "deep learning and neural networks") of the source
# document.*
#
# The document opens with two claims: human language is complex and diverse, so machines find
# it hard to understand; and large neural networks, with huge numbers of parameters, have
# become good at it anyway. This chapter makes both claims concrete.
#
# 1. **Why language is hard.** We look at the course's real corpora (Shakespeare, movie
#    reviews, news) and measure three difficulties: variety, ambiguity and long-range
#    dependency.
# 2. **A neural network from the ground up.** A two-layer network in NumPy: forward pass,
#    loss, and gradients derived by hand. Then the same gradients from TensorFlow's automatic
#    differentiation and from finite differences; all three must agree.
# 3. **The same network in Keras**, trained to tell positive from negative movie reviews.
# 4. **What a parameter is and how the counts grow**, from our network to BERT and GPT-3.
#
# Everything runs on a laptop CPU in a couple of minutes.
#
# **Before you run it:** time: smoke ~20 s · cpu ~1 min (2 cores) · gpu ~1 min (estimated); memory: peak ~0.9 GB at cpu; data: tinyshakespeare (1.1 MB), rt-polarity (1.2 MB), lee-corpus (0.4 MB) (downloaded once, verified by SHA-256).

# %%
# NBVAL_IGNORE_OUTPUT
import re
from collections import Counter

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Markdown, display
from sklearn.model_selection import train_test_split

from course_lib import data
from course_lib.exercises import ch01 as ex
from course_lib.profiles import active_profile
from course_lib.reproducibility import seed_everything
from course_lib.text_features import BagOfWords

SEED = seed_everything(1337)
profile = active_profile()
print(f"seed {SEED}, profile {profile} ({profile.source}), Keras {keras.__version__}")

# %% [markdown]
# All sizes live in one cell, with the reason for each. The `smoke` profile (used by the test
# suite) shrinks them so the whole notebook runs in seconds; its numbers mean nothing.

# %%
# Part 3: the Keras sentiment network.
VOCAB_SIZE = profile.pick(smoke=300, cpu=2000, gpu=5000)  # most frequent words used as features
N_HIDDEN = profile.pick(smoke=8, cpu=32, gpu=64)  # hidden units: enough to combine word cues
EPOCHS = profile.pick(smoke=2, cpu=10, gpu=10)  # validation loss bottoms out by epoch 2-4
BATCH_SIZE = 64  # small batches: more updates per epoch on a small data set
LEARNING_RATE = 1e-3  # Adam's usual default; stable here
DROPOUT = 0.5  # ~2,000 features for ~8,500 reviews: the network overfits quickly without it
# Part 2: the gradient check, kept tiny so finite differences (2 losses per parameter) are instant.
CHECK_WORDS = ["good", "bad", "best", "worst", "funny", "boring"]  # the input features
CHECK_REVIEWS = 8  # examples in the gradient-check batch
CHECK_HIDDEN = 4  # hidden units in the gradient-check network

# %% [markdown]
# ## 1. Why language is hard for machines
#
# The course uses three real English corpora. Let's load them and split them into words with
# a simple rule (runs of letters and apostrophes, lower-cased).

# %%
shakespeare = data.load_tiny_shakespeare()
reviews, labels = data.load_rt_polarity()
news = data.load_lee_corpus()

WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def words(text):
    return WORD.findall(text.lower())


corpora = {
    "Shakespeare": words(shakespeare),
    "movie reviews": [w for r in reviews for w in words(r)],
    "news (Lee)": [w for d in news for w in words(d)],
}
counts = {name: Counter(toks) for name, toks in corpora.items()}

# %% [markdown]
# ### 1.1 Variety: many words, most of them rare
#
# A machine learns a word from its examples. The table shows how few examples most words get:
# a large share of the distinct words (*types*) occur exactly once (*hapax legomena*), even
# in a million characters of text.

# %%
# NBVAL_CHECK_OUTPUT
rows = ["| corpus | words (tokens) | distinct words (types) | types seen once | top word |",
        "|---|---:|---:|---:|---|"]
for name, c in counts.items():
    once = sum(1 for v in c.values() if v == 1)
    top, n_top = c.most_common(1)[0]
    rows.append(f"| {name} | {sum(c.values()):,} | {len(c):,} | {once / len(c):.0%} | "
                f"{top!r} ({n_top / sum(c.values()):.1%}) |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# This is Zipf's law: plot each word's frequency against its rank on log-log axes and you get
# close to a straight line. A few words ("the", "and", "a") are everywhere; the long tail of
# rare words is where the meaning often is.

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for name, c in counts.items():
    freq = np.array(sorted(c.values(), reverse=True), dtype=float)
    ax.loglog(np.arange(1, len(freq) + 1), freq / freq.sum(), label=name)
ax.set_xlabel("rank of the word")
ax.set_ylabel("share of all tokens")
ax.set_title("Zipf's law in the three corpora")
ax.legend()
plt.show()

# %% [markdown]
# Variety also means that the *same language* uses different words in different places. A
# model that learned its vocabulary from one corpus meets many unknown words in another:

# %%
# NBVAL_CHECK_OUTPUT
for a in counts:
    for b in counts:
        if a != b:
            unseen = sum(n for w, n in counts[b].items() if w not in counts[a])
            print(f"vocabulary from {a:13s} -> {unseen / sum(counts[b].values()):5.1%} "
                  f"of {b} tokens unknown")
only_shakespeare = [w for w, _ in counts["Shakespeare"].most_common(200)
                    if w not in counts["news (Lee)"] and w not in counts["movie reviews"]]
print("frequent in Shakespeare, absent from news and reviews:", ", ".join(only_shakespeare[:10]))

# %% [markdown]
# ### 1.2 Ambiguity: one word, several meanings
#
# The same string can mean different things, and only the context tells which. A
# *concordance* (every occurrence with its neighbours) shows it in real text:

# %%
# NBVAL_CHECK_OUTPUT
def concordance(texts, word, n=4, width=45):
    """Prints up to n occurrences of word with `width` characters of context each side."""
    pattern = re.compile(rf"\b{word}\b", re.IGNORECASE)
    shown = 0
    for text in texts:
        for m in pattern.finditer(text):
            left = text[max(0, m.start() - width):m.start()].replace("\n", " ")
            right = text[m.end():m.end() + width].replace("\n", " ")
            print(f"  {left:>{width}} [{m.group()}] {right}")
            shown += 1
            if shown == n:
                return


print("'bank' in the news:")
concordance(data.load_lee_corpus("test"), "bank", n=1)
concordance(news, "bank", n=2)
print("'fire' in the news:")
concordance(news, "fire", n=2)
concordance([d for d in news if "opened fire" in d], "opened fire", n=2)
print("'bear' in Shakespeare:")
concordance([shakespeare], "bear", n=4)

# %% [markdown]
# A bank that cuts jobs and the *West Bank*; a bushfire and gunmen who *opened fire*; a
# love that people *bear* (carry) and a *bear* the animal. Ambiguity also hides in
# sentiment. The word "good" is not a reliable sign of a good review:

# %%
# NBVAL_CHECK_OUTPUT
for word in ("good", "bad"):
    has = np.array([word in words(r) for r in reviews])
    print(f"'{word}' occurs in {labels[has].sum()} positive and {(1 - labels[has]).sum()} "
          "negative reviews")
for word, lab in (("good", 0), ("bad", 1)):
    found = [r for r, y in zip(reviews, labels, strict=True) if y == lab and word in words(r)]
    print(f"\n{'positive' if lab else 'negative'} reviews with '{word}', e.g.:")
    for r in found[:3]:
        print("   ", r[:105])

# %% [markdown]
# "good" appears in nearly as many negative reviews as positive ones ("good intentions";
# "the truly good stuff" that comes too late), and "bad" appears in praise ("as good -- and
# bad -- as hollywood action epics"). Counting words is not enough; the order and
# combination of words matter.
#
# ### 1.3 Long-range dependency: the meaning depends on something far back
#
# To know who "I" is in a Shakespeare speech, a reader has to remember the speaker's name,
# given once at the start. To close a quotation correctly, a writer has to remember that one
# was opened. How far back is that, in words?

# %%
# NBVAL_CHECK_OUTPUT
speeches = [block.split("\n", 1) for block in shakespeare.split("\n\n") if "\n" in block]
speech_len = np.array([len(words(body)) for _, body in speeches])
print(f"{len(speeches):,} speeches; words between the speaker's name and the end of the speech: "
      f"median {np.median(speech_len):.0f}, 90th percentile {np.percentile(speech_len, 90):.0f}, "
      f"longest {speech_len.max():,}")
quote_dist = []
for doc in news:
    quotes = [m.start() for m in re.finditer('"', doc)]
    for open_, close in zip(quotes[::2], quotes[1::2], strict=False):
        quote_dist.append(len(words(doc[open_:close])))
quote_dist = np.array(quote_dist)
print(f"{len(quote_dist):,} quotations in the news; words between opening and closing quote: "
      f"median {np.median(quote_dist):.0f}, 90th percentile {np.percentile(quote_dist, 90):.0f}")

# %% [markdown]
# A model that only looks at the previous five or ten words cannot resolve most of these.
# This is why the Transformer (chapter 05) matters: attention lets every position look at
# every earlier one, however far back. The rest of this chapter builds the basic tool all
# these models share, the neural network.
#
# ## 2. A neural network from the ground up
#
# A neural network (§2.1) is layers of *neurons*. Each neuron computes a weighted sum of its
# inputs plus a bias, and passes it through a non-linear function. The weights decide how
# much of each input flows on: they are the network's *parameters*, and training means
# adjusting them.
#
# Our network has two layers. For a batch of inputs $X$ (one row per example) and class
# labels $y$:
#
# $$H = \tanh(X W_1 + b_1), \quad Z = H W_2 + b_2, \quad P = \mathrm{softmax}(Z), \quad
# L = -\frac{1}{n} \sum_i \log P_{i, y_i}$$
#
# $H$ is the hidden layer, $Z$ the *logits* (one score per class), $P$ the class
# probabilities and $L$ the cross-entropy loss: small when the network gives the true class a
# high probability.
#
# Our inputs are real: for 8 movie reviews that use at least one of six telling words, how
# often each of those words occurs.

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(SEED)
candidates = [i for i, r in enumerate(reviews) if set(words(r)) & set(CHECK_WORDS)]
pick = np.sort(rng.choice(candidates, CHECK_REVIEWS, replace=False))
X_small = np.array([[words(reviews[i]).count(w) for w in CHECK_WORDS] for i in pick], float)
y_small = labels[pick]
print("features:", CHECK_WORDS)
for x, label, i in zip(X_small, y_small, pick, strict=True):
    print(x.astype(int), "positive" if label else "negative", "|", reviews[i][:60])

# %% [markdown]
# ### 2.1 Forward pass and loss in NumPy
#
# The network is four arrays, kept in a dict: $W_1$ of shape (d_in, d_hidden), $b_1$,
# $W_2$ of shape (d_hidden, n_classes) and $b_2$. The weights start small and random, drawn
# with standard deviation $1/\sqrt{\text{fan-in}}$ so that every pre-activation starts with
# about unit variance: tanh is then neither flat (saturated) nor a straight line. The forward
# pass below is the formula above, line by line, and keeps every intermediate because the
# backward pass will need them. This code (and the rest of this part and of section 4) is the
# chapter's module, `course_lib.chapters.ch01_foundations`: the exercise checks and the tests
# import it from there.

# %% [export]
"""A two-layer neural network in NumPy, its gradients by hand, and parameter counts.

Written in notebooks/01_foundations.ipynb, which uses it to show what a framework does for
you: the forward pass, the loss, the backward pass derived with the chain rule, a
finite-difference check of those gradients, and formulas for the parameter counts of dense
networks and Transformers.

The network, for a batch X of shape (n, d_in) and integer labels y:

    H = tanh(X W1 + b1)             hidden layer, (n, d_hidden)
    Z = H W2 + b2                   logits, (n, n_classes)
    P = softmax(Z)                  class probabilities
    L = -(1/n) sum_i log P[i, y_i]  mean cross-entropy

Example:

>>> params = init_two_layer(3, 4, 2, seed=0)
>>> X = np.ones((5, 3)); y = np.array([0, 1, 0, 1, 1])
>>> grads = two_layer_gradients(params, X, y)
>>> sorted(grads) == sorted(params)
True
"""

from collections.abc import Callable, Sequence

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def init_two_layer(d_in: int, d_hidden: int, n_classes: int, seed: int = 0) -> dict:
    """Random float64 parameters for the two-layer network.

    Weights are drawn from N(0, 1/fan_in) so the pre-activations start with unit variance
    (tanh is then neither saturated nor linear); biases start at zero.

    Args:
        d_in: number of input features.
        d_hidden: number of hidden units.
        n_classes: number of output classes.
        seed: seed for NumPy's generator.

    Returns:
        ``{"W1": (d_in, d_hidden), "b1": (d_hidden,), "W2": (d_hidden, n_classes),
        "b2": (n_classes,)}``.

    Example:

    >>> {k: v.shape for k, v in init_two_layer(3, 4, 2).items()}
    {'W1': (3, 4), 'b1': (4,), 'W2': (4, 2), 'b2': (2,)}
    """
    for name, v in (("d_in", d_in), ("d_hidden", d_hidden), ("n_classes", n_classes)):
        if not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be a positive int; got {v!r}")
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0.0, 1.0 / np.sqrt(d_in), size=(d_in, d_hidden)),
        "b1": np.zeros(d_hidden),
        "W2": rng.normal(0.0, 1.0 / np.sqrt(d_hidden), size=(d_hidden, n_classes)),
        "b2": np.zeros(n_classes),
    }


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so exp never overflows.

    Args:
        z: logits, one row per example.

    Example:

    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])).round(3).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    z = z - z.max(axis=-1, keepdims=True)  # softmax is unchanged by a shift
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _check_inputs(params: dict, X: np.ndarray) -> None:
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params lacks {missing}; build it with init_two_layer(...)")
    if X.ndim != 2 or X.shape[1] != params["W1"].shape[0]:
        raise ValueError(f"X must be (n, {params['W1'].shape[0]}); got shape {X.shape}")


def two_layer_forward(params: dict, X: np.ndarray) -> dict:
    """The forward pass; returns every intermediate the backward pass needs.

    Args:
        params: the dict from :func:`init_two_layer`.
        X: (n, d_in) inputs.

    Returns:
        ``{"X", "H", "Z", "P"}``: inputs, hidden activations, logits, probabilities.

    Example:

    >>> out = two_layer_forward(init_two_layer(3, 4, 2), np.zeros((1, 3)))
    >>> out["P"].tolist()
    [[0.5, 0.5]]
    """
    _check_inputs(params, X)
    H = np.tanh(X @ params["W1"] + params["b1"])  # (n, d_hidden)
    Z = H @ params["W2"] + params["b2"]  # (n, n_classes)
    return {"X": X, "H": H, "Z": Z, "P": softmax(Z)}  # P: (n, n_classes)


def cross_entropy(P: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy -(1/n) sum log P[i, y_i] of integer labels under probabilities P.

    Args:
        P: (n, classes) probabilities.
        y: (n,) integer labels.

    Example:

    >>> round(cross_entropy(np.array([[0.5, 0.5]]), np.array([1])), 4)
    0.6931
    """
    y = np.asarray(y)
    if y.shape != (P.shape[0],):
        raise ValueError(f"y must have shape ({P.shape[0]},) to match P; got {y.shape}")
    # The tiny floor keeps a probability that underflowed to 0 from giving log(0) = -inf.
    return float(-np.mean(np.log(P[np.arange(len(y)), y] + 1e-300)))


def two_layer_loss(params: dict, X: np.ndarray, y: np.ndarray) -> float:
    """The network's mean cross-entropy on (X, y).

    Args:
        params: the dict from :func:`init_two_layer`.
        X: (n, d_in) inputs.
        y: (n,) integer labels.

    Example:

    >>> round(two_layer_loss(init_two_layer(3, 4, 2), np.zeros((2, 3)), np.array([0, 1])), 4)
    0.6931
    """
    return cross_entropy(two_layer_forward(params, X)["P"], y)

# %%
params = init_two_layer(len(CHECK_WORDS), CHECK_HIDDEN, 2, seed=SEED)
print(f"loss with random weights: {two_layer_loss(params, X_small, y_small):.4f}  (ln 2 = {np.log(2):.4f})")

# %% [markdown]
# With random weights the network is guessing, so the loss is close to ln 2: the
# cross-entropy of a 50/50 guess between two classes.
#
# ### 2.2 Gradients by hand
#
# Training needs the gradient of the loss with respect to every parameter. The chain rule
# gives it, working backwards from the loss (this is *backpropagation*):
#
# - softmax and cross-entropy together have a simple derivative: $\partial L / \partial Z =
#   (P - Y) / n$, with $Y$ the one-hot labels;
# - $Z = H W_2 + b_2$, so $\partial L / \partial W_2 = H^\top \, \partial L/\partial Z$ and
#   $\partial L / \partial b_2$ is the column sum of $\partial L/\partial Z$;
# - going back through $W_2$: $\partial L / \partial H = \partial L/\partial Z \; W_2^\top$;
# - $\tanh'(a) = 1 - \tanh(a)^2$, so $\partial L / \partial A = \partial L/\partial H \odot
#   (1 - H^2)$ for the pre-activation $A = X W_1 + b_1$;
# - and as before, $\partial L / \partial W_1 = X^\top \, \partial L/\partial A$.
#
# Each gradient has the shape of the parameter it belongs to; the shape comments let you check
# every product.

# %% [export]
def two_layer_gradients(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """Gradients of the mean cross-entropy, derived by hand with the chain rule.

    Working backwards through the forward pass:

    - dL/dZ  = (P - onehot(y)) / n       (softmax and cross-entropy together)
    - dL/dW2 = H^T dZ,   dL/db2 = sum_rows dZ
    - dL/dH  = dZ W2^T
    - dL/dA  = dH * (1 - H^2)            (tanh'(a) = 1 - tanh(a)^2, A = X W1 + b1)
    - dL/dW1 = X^T dA,   dL/db1 = sum_rows dA

    Args:
        params: the dict from :func:`init_two_layer`.
        X: (n, d_in) inputs.
        y: (n,) integer labels.

    Returns:
        A dict with the same keys and shapes as ``params``.

    Example:

    >>> g = two_layer_gradients(init_two_layer(3, 4, 2), np.ones((2, 3)), np.array([0, 1]))
    >>> g["W1"].shape
    (3, 4)
    """
    cache = two_layer_forward(params, X)
    n = X.shape[0]
    y = np.asarray(y)
    dZ = cache["P"].copy()  # (n, n_classes)
    dZ[np.arange(n), y] -= 1.0  # P - onehot(y)
    dZ /= n
    dH = dZ @ params["W2"].T  # (n, n_classes) @ (n_classes, d_hidden) -> (n, d_hidden)
    dA = dH * (1.0 - cache["H"] ** 2)  # (n, d_hidden)
    return {
        "W1": X.T @ dA,  # (d_in, n) @ (n, d_hidden) -> (d_in, d_hidden)
        "b1": dA.sum(axis=0),  # (d_hidden,)
        "W2": cache["H"].T @ dZ,  # (d_hidden, n) @ (n, n_classes) -> (d_hidden, n_classes)
        "b2": dZ.sum(axis=0),  # (n_classes,)
    }

# %%
hand = two_layer_gradients(params, X_small, y_small)
print("dL/dW2 =\n", hand["W2"].round(4))

# %% [markdown]
# ### 2.3 The same gradients from automatic differentiation
#
# Deriving gradients by hand does not scale to a 96-layer model. Frameworks record the
# forward pass and apply the chain rule for you. In TensorFlow, `tf.GradientTape` records the
# operations; `tape.gradient` runs them backwards.

# %%
tf_params = {k: tf.Variable(v) for k, v in params.items()}  # float64, like the NumPy ones
with tf.GradientTape() as tape:
    H = tf.tanh(X_small @ tf_params["W1"] + tf_params["b1"])
    Z = H @ tf_params["W2"] + tf_params["b2"]
    tf_loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y_small, logits=Z))
tape_grads = {k: g.numpy() for k, g in zip(tf_params, tape.gradient(tf_loss, list(tf_params.values())), strict=True)}

# %% [markdown]
# ### 2.4 And from finite differences
#
# A third, independent way needs no calculus at all: nudge one parameter up and down by a
# tiny $\varepsilon$ and watch the loss, $\partial L / \partial \theta \approx
# (L(\theta + \varepsilon) - L(\theta - \varepsilon)) / 2\varepsilon$. It is far too slow for
# training (two forward passes per parameter) but perfect for checking. The function works for
# any loss of a dict of float64 arrays; the step $\varepsilon = 10^{-6}$ balances the
# approximation error ($O(\varepsilon^2)$) against rounding (about $10^{-16}/\varepsilon$).

# %% [export]
def finite_difference_gradients(
    loss_fn: Callable[[dict], float], params: dict, eps: float = 1e-6
) -> dict:
    """Numerical gradients by central differences: (L(p + eps) - L(p - eps)) / (2 eps).

    Slow (two loss evaluations per parameter) but needs no calculus, so it is the
    independent check of hand-derived or autodiff gradients. The error is O(eps^2) plus
    rounding of order 1e-16 / eps; eps = 1e-6 balances the two in float64.

    Args:
        loss_fn: maps a params dict to a scalar loss.
        params: dict of float64 arrays (left unchanged on return).
        eps: the step size.

    Returns:
        A dict of gradient arrays shaped like ``params``.

    Example:

    >>> g = finite_difference_gradients(lambda p: float((p["w"] ** 2).sum()), {"w": np.array([3.0])})
    >>> g["w"].round(6).tolist()
    [6.0]
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive; got {eps}")
    grads = {}
    for name, value in params.items():
        if value.dtype != np.float64:
            raise ValueError(
                f"params[{name!r}] is {value.dtype}; use float64 for finite differences"
            )
        g = np.zeros_like(value)
        # Views into the arrays: nudging flat[i] nudges the parameter the loss reads.
        flat, gflat = value.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss_fn(params)
            flat[i] = old - eps
            down = loss_fn(params)
            flat[i] = old
            gflat[i] = (up - down) / (2 * eps)
        grads[name] = g
    return grads

# %%
numeric = finite_difference_gradients(lambda p: two_layer_loss(p, X_small, y_small), params, eps=1e-6)

# %% [markdown]
# All three must agree. We compare them with the largest difference relative to the
# gradient's size; in 64-bit floats, anything below $10^{-6}$ means "equal up to rounding".

# %% [export]
def max_relative_error(a: dict, b: dict) -> float:
    """Largest gradient difference, relative to the gradient's size, over two gradient dicts.

    For each array: max |a - b| / max(max |a|, max |b|). Scaling by the whole array (not by
    each entry) keeps tiny entries, where finite differences are mostly rounding noise, from
    dominating. Below about 1e-6 in float64 means "the same gradient"; a wrong derivation
    gives errors of order 1e-2 to 1.

    Args:
        a: gradients, name -> array.
        b: gradients with the same names and shapes.

    Example:

    >>> max_relative_error({"w": np.array([1.0, 2.0])}, {"w": np.array([1.0, 2.002])}) < 1e-3
    True
    """
    if a.keys() != b.keys():
        raise ValueError(f"keys differ: {sorted(a)} vs {sorted(b)}")
    worst = 0.0
    for k in a:
        x, z = np.asarray(a[k], np.float64), np.asarray(b[k], np.float64)
        if x.shape != z.shape:
            raise ValueError(f"{k}: shapes differ, {x.shape} vs {z.shape}")
        scale = max(np.abs(x).max(), np.abs(z).max(), 1e-12)
        worst = max(worst, float(np.abs(x - z).max() / scale))
    return worst

# %%
# NBVAL_CHECK_OUTPUT
pairs = {
    "by hand  vs finite differences": (hand, numeric),
    "GradientTape vs finite differences": (tape_grads, numeric),
    "by hand  vs GradientTape": (hand, tape_grads),
}
for name, (a, b) in pairs.items():
    err = max_relative_error(a, b)
    print(f"{name:36s} agree: {err < 1e-6}")
print(f"loss: NumPy and TensorFlow agree: {abs(two_layer_loss(params, X_small, y_small) - float(tf_loss)) < 1e-12}")

# %%
# NBVAL_IGNORE_OUTPUT
for name, (a, b) in pairs.items():
    print(f"{name:36s} max relative error {max_relative_error(a, b):.1e}")

# %% [markdown]
# ## 3. The same network in Keras, trained on a real task
#
# Now the real thing: classify the 10,662 movie-review snippets of the sentence-polarity
# data set as positive or negative. Each review becomes a *bag of words*: a vector with one
# entry per vocabulary word, counting how often it occurs (chapter 02 builds this
# featuriser; here we just use it). We split the reviews 80/10/10 into training, validation
# and test sets, stratified so each has half positive reviews, and fit the vocabulary on the
# training part only.

# %%
idx_train, idx_rest = train_test_split(np.arange(len(reviews)), test_size=0.2,
                                       stratify=labels, random_state=SEED)
idx_val, idx_test = train_test_split(idx_rest, test_size=0.5, stratify=labels[idx_rest],
                                     random_state=SEED)
bow = BagOfWords(max_features=VOCAB_SIZE).fit([reviews[i] for i in idx_train])


def featurize(idx):
    return bow.transform([reviews[i] for i in idx]).toarray().astype("float32"), labels[idx]


(X_train, y_train), (X_val, y_val), (X_test, y_test) = map(featurize, (idx_train, idx_val, idx_test))
print(f"train {X_train.shape}, validation {X_val.shape}, test {X_test.shape}")

# %% [markdown]
# The model is the same two-layer network, written with Keras layers: a `Dense` layer with
# tanh, then a `Dense` layer producing two logits. Keras computes softmax and cross-entropy
# inside the loss (`from_logits=True`) for numerical stability, and one dropout layer
# randomly zeroes half the hidden units during training to curb overfitting.
#
# First a check that Keras computes exactly our network: load the NumPy weights into a Keras
# model of the gradient-check size and compare the loss.

# %%
# NBVAL_CHECK_OUTPUT
def two_layer_model(d_in, d_hidden, dropout=0.0):
    return keras.Sequential([
        keras.Input(shape=(d_in,)),
        keras.layers.Dense(d_hidden, activation="tanh", name="hidden"),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(2, name="logits"),
    ])


xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
small = two_layer_model(len(CHECK_WORDS), CHECK_HIDDEN)
small.get_layer("hidden").set_weights([params["W1"], params["b1"]])
small.get_layer("logits").set_weights([params["W2"], params["b2"]])
keras_loss = float(xent(y_small, small(X_small.astype("float32"))))
print(f"Keras loss equals the NumPy loss (float32 precision): "
      f"{abs(keras_loss - two_layer_loss(params, X_small, y_small)) < 1e-5}")

# %% [markdown]
# Now train the full-size network. Expect a training loss that keeps falling and a
# validation loss that stops improving after two or three epochs: from then on the network
# memorises the training reviews, so we keep the weights of the best validation epoch. With only word counts as input, about 75% test accuracy
# is typical for this data set. Chapter 02's linear model on TF-IDF features does a little
# better (78%), and in chapter 08 that simple baseline stays ahead of every small neural
# model trained on these 10,662 snippets, a Transformer encoder included.

# %%
# NBVAL_IGNORE_OUTPUT
seed_everything(SEED)
model = two_layer_model(VOCAB_SIZE, N_HIDDEN, DROPOUT)
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=xent, metrics=["accuracy"])
# Train all epochs (to see the whole curve), then go back to the weights of the epoch with
# the lowest validation loss: the test set is only used once, on that model.
keep_best = keras.callbacks.EarlyStopping(monitor="val_loss", patience=EPOCHS,
                                          restore_best_weights=True)
history = model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=EPOCHS,
                    batch_size=BATCH_SIZE, callbacks=[keep_best], verbose=0)
best = int(np.argmin(history.history["val_loss"]))
test_loss, test_acc = model.evaluate(X_test, y_test, verbose=0)
print(f"lowest validation loss at epoch {best + 1}: {history.history['val_loss'][best]:.3f} "
      f"(validation accuracy {history.history['val_accuracy'][best]:.1%})")
print(f"test accuracy of that model: {test_acc:.1%}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
epochs = np.arange(1, EPOCHS + 1)
ax.plot(epochs, history.history["loss"], "o-", label="training loss")
ax.plot(epochs, history.history["val_loss"], "o-", label="validation loss")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.set_title("Two-layer network on movie-review sentiment")
ax.legend()
plt.show()

# %% [markdown]
# The widening gap between the two curves is overfitting. The usual remedies (more data,
# fewer parameters, more dropout, stopping at the best validation epoch as we did) all
# reappear in later chapters. What the network learned can be read off its first layer: which words push a
# review towards "positive"? A quick probe: feed each word alone and compare the two logits.

# %%
# NBVAL_IGNORE_OUTPUT
single = np.eye(VOCAB_SIZE, dtype="float32")
logits = model.predict(single, verbose=0, batch_size=1024)
score = logits[:, 1] - logits[:, 0]
names = np.array(bow.feature_names)
print("most positive words:", ", ".join(names[np.argsort(-score)[:12]]))
print("most negative words:", ", ".join(names[np.argsort(score)[:12]]))

# %% [markdown]
# ## 4. What a parameter is, and how the counts grow
#
# Every weight and every bias is a *parameter*: a number set by training. A dense layer from
# $n$ inputs to $m$ units has $n \times m$ weights plus $m$ biases. Counting by that formula
# and asking Keras must give the same answer:

# %% [export]
def dense_param_count(layer_sizes: Sequence[int]) -> int:
    """Parameters of a stack of dense layers: sum of (fan_in * fan_out + fan_out).

    Args:
        layer_sizes: widths from input to output, e.g. ``[784, 128, 10]``.

    Example:

    >>> dense_param_count([784, 128, 10])  # 784*128+128 + 128*10+10
    101770
    """
    sizes = list(layer_sizes)
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"layer_sizes needs at least two positive widths; got {sizes}")
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False)))

# %%
# NBVAL_IGNORE_OUTPUT
by_formula = dense_param_count([VOCAB_SIZE, N_HIDDEN, 2])
print(f"formula: {VOCAB_SIZE}*{N_HIDDEN} + {N_HIDDEN} + {N_HIDDEN}*2 + 2 = {by_formula:,}")
print(f"Keras: {model.count_params():,}")

# %%
# NBVAL_CHECK_OUTPUT
print(f"Keras model.count_params() equals the formula: {model.count_params() == by_formula}")

# %% [markdown]
# §1.2 of the document calls large language models "neural networks with huge numbers of
# parameters". They are built from the same parts, stacked. A Transformer block (chapter 05)
# of width $d$ holds four $d \times d$ attention projections and a feed-forward network
# $d \to 4d \to d$, each with biases, and two LayerNorms: $12d^2 + 13d$ parameters. Add
# token and position embeddings and you can compute the size of famous models from the
# shapes their papers publish. The three functions below are those formulas: one block, a GPT
# (whose output layer reuses the token embedding, so it adds nothing) and a BERT encoder
# (which adds segment embeddings, an embedding LayerNorm and a pooler).

# %% [export]
def transformer_layer_params(d_model: int, d_ff: int | None = None) -> dict:
    """Parameters of one standard Transformer block (GPT-2/GPT-3/BERT layout).

    Attention: Q, K, V and output projections, each d*d weights + d biases. Feed-forward:
    d*d_ff + d_ff, then d_ff*d + d. Two LayerNorms with a scale and a shift each (2d).
    The number of heads does not matter: heads split d_model, they do not add weights.

    Args:
        d_model: the model (residual stream) width.
        d_ff: the feed-forward width; 4 * d_model when ``None``.

    Returns:
        ``{"attention", "feed_forward", "layer_norms", "total"}``.

    Example:

    >>> transformer_layer_params(768)["total"]
    7087872
    """
    d = int(d_model)
    ff = 4 * d if d_ff is None else int(d_ff)
    if d < 1 or ff < 1:
        raise ValueError(f"d_model and d_ff must be positive; got {d_model}, {d_ff}")
    parts = {
        "attention": 4 * (d * d + d),
        "feed_forward": d * ff + ff + ff * d + d,
        "layer_norms": 2 * 2 * d,
    }
    parts["total"] = sum(parts.values())
    return parts


def gpt_param_count(
    n_layers: int, d_model: int, vocab_size: int, context_length: int, d_ff: int | None = None
) -> dict:
    """Parameters of a GPT-style decoder (GPT-2 / GPT-3 layout, tied input/output embedding).

    Token embedding (vocab * d) + learned positions (context * d) + n_layers blocks + a final
    LayerNorm (2d). The output layer reuses the token embedding, so it adds nothing.

    Args:
        n_layers: number of Transformer blocks.
        d_model: model width.
        vocab_size: number of tokens.
        context_length: number of learned positions.
        d_ff: feed-forward width (default 4 * d_model).

    Returns:
        ``{"embeddings", "layers", "final_norm", "total"}``.

    Example:

    >>> gpt_param_count(12, 768, 50257, 1024)["total"]  # GPT-2 small, published 124M
    124439808
    """
    d = int(d_model)
    parts = {
        "embeddings": vocab_size * d + context_length * d,
        "layers": n_layers * transformer_layer_params(d, d_ff)["total"],
        "final_norm": 2 * d,
    }
    parts["total"] = sum(parts.values())
    return parts


def bert_param_count(
    n_layers: int,
    d_model: int,
    vocab_size: int = 30522,
    max_positions: int = 512,
    type_vocab_size: int = 2,
    d_ff: int | None = None,
    pooler: bool = True,
) -> dict:
    """Parameters of a BERT encoder (as released by Google, without the pre-training heads).

    Token + position + segment ("type") embeddings and their LayerNorm, n_layers blocks, and
    the pooler (a d*d dense layer on the [CLS] vector).

    Args:
        n_layers: number of Transformer blocks (12 for base, 24 for large).
        d_model: hidden width (768 base, 1024 large).
        vocab_size: WordPiece vocabulary (30522 for the uncased English models).
        max_positions: learned positions (512).
        type_vocab_size: segment embeddings (2: sentence A / B).
        d_ff: feed-forward width (default 4 * d_model).
        pooler: include the pooler layer.

    Returns:
        ``{"embeddings", "layers", "pooler", "total"}``.

    Example:

    >>> bert_param_count(12, 768)["total"]  # BERT-base, published "110M"
    109482240
    """
    d = int(d_model)
    parts = {
        "embeddings": (vocab_size + max_positions + type_vocab_size) * d + 2 * d,
        "layers": n_layers * transformer_layer_params(d, d_ff)["total"],
        "pooler": (d * d + d) if pooler else 0,
    }
    parts["total"] = sum(parts.values())
    return parts

# %%
# NBVAL_CHECK_OUTPUT
MODELS = [
    # name, parts from the formula, published size, source of the shapes
    ("BERT-base", bert_param_count(n_layers=12, d_model=768), "110M",
     "Devlin et al. 2019: L=12, H=768, vocab 30,522, 512 positions"),
    ("BERT-large", bert_param_count(n_layers=24, d_model=1024), "340M",
     "L=24, H=1024"),
    ("GPT-3 175B", gpt_param_count(n_layers=96, d_model=12288, vocab_size=50257,
                                      context_length=2048), "175.0B",
     "Brown et al. 2020: 96 layers, d_model 12,288, context 2,048, vocab 50,257"),
]
rows = ["| model | by formula | published | embeddings share | shapes |", "|---|---:|---:|---:|---|"]
for name, parts, published, shapes in MODELS:
    rows.append(f"| {name} | {parts['total']:,} | {published} | "
                f"{parts['embeddings'] / parts['total']:.1%} | {shapes} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# The formula lands within 1.5% of every published figure. The small differences are
# rounding in the papers ("340M" for BERT-large is 335M when you count; GPT-3's paper rounds
# 174.6B to 175B). Two lessons:
#
# - **Counts grow with the square of the width.** A block has about $12d^2$ parameters, so
#   doubling $d$ quadruples them; GPT-3 is $96 \times 12 \times 12288^2 \approx 174$ billion.
# - **At that scale the embeddings hardly matter**: GPT-3's vocabulary table is 0.4% of its
#   parameters, BERT-base's is a fifth.
#
# At 4 bytes per parameter, GPT-3's weights alone take 700 GB, before any training state;
# that is why chapter 13 looks at smaller and more efficient models. The chart puts the
# sizes on one (logarithmic) scale:

# %%
fig, ax = plt.subplots(figsize=(6, 3))
bar_names = ["our network"] + [m[0] for m in MODELS]
sizes = [by_formula] + [m[1]["total"] for m in MODELS]
ax.barh(bar_names, sizes, color=["tab:gray", "tab:blue", "tab:blue", "tab:red"])
ax.set_xscale("log")
ax.set_xlabel("parameters (log scale)")
for i, s in enumerate(sizes):
    exponent = min(int(np.log10(s)) // 3, 3)
    ax.text(s, i, f" {s / 1000**exponent:.3g}{['', 'K', 'M', 'B'][exponent]}", va="center")
ax.set_xlim(1e4, 1e13)
plt.show()

# %% [record]
# NBVAL_IGNORE_OUTPUT
# The chapter's headline numbers, for the course runner's table (RESULTS.md).
from course_lib.tooling.results import record_key_figures

key_figures = record_key_figures("01", {
    "test accuracy": float(test_acc),
    "best validation loss": float(history.history["val_loss"][best]),
    "parameters": int(model.count_params()),
})
print(key_figures.read_text(encoding="utf-8"))

# %% [markdown]
# ## Exercises
#
# Each exercise has a cell where you replace `None` with your answer, and a check that tells
# you whether it is right or gives a hint. Worked solutions:
# `notebooks/solutions/01_foundations.ipynb`.
#
# **Exercise 1.** How many parameters has a dense network with 784 inputs (a 28×28 image),
# one hidden layer of 256 units and 10 outputs? Compute it by the formula, not with Keras.

# %%
answer = None  # your answer
ex.check_mlp_params(answer)

# %% [markdown]
# **Exercise 2.** One sigmoid neuron, $p = \sigma(w x + b)$, with cross-entropy loss
# $L = -\log p$ for a positive example ($y = 1$). For $x = 2$, $w = 0.5$, $b = -0.5$,
# compute $\partial L / \partial w$ by hand (use $\partial L / \partial z = p - y$ for
# $z = wx + b$). Check your derivation with a finite difference if you like.

# %%
x, w, b, y = ex.NEURON["x"], ex.NEURON["w"], ex.NEURON["b"], ex.NEURON["y"]
answer = None  # your answer
ex.check_neuron_gradient(answer)

# %% [markdown]
# **Exercise 3.** GPT-2 small has 12 layers, $d = 768$, a vocabulary of 50,257 tokens and a
# context of 1,024 positions, and reuses its token embedding as the output layer. Count its
# parameters with the formulas of section 4 (by hand or with `transformer_layer_params`).

# %%
answer = None  # your answer
ex.check_gpt2_params(answer)

# %% [markdown]
# ## Summary
#
# - Language is hard for machines in measurable ways: most words are rare, corpora differ in
#   vocabulary, words are ambiguous, and meaning depends on context dozens of words back.
# - A neural network is layers of weighted sums and non-linearities. Its gradients follow
#   from the chain rule; automatic differentiation computes the same numbers, and finite
#   differences check both.
# - Keras builds and trains the same network in a few lines; on bag-of-words features it
#   reaches roughly 75% on movie-review sentiment, and overfits without care.
# - Parameter counts follow from layer shapes: about $12 L d^2$ for a Transformer, which is
#   how GPT-3 reaches 175 billion.
#
# **Next:** chapter 02 turns text into vectors properly: bag-of-words and TF-IDF built from
# scratch, then word embeddings (Word2Vec, GloVe) that place similar words close together.
