# %% [markdown]
# # 12 · Tools — exercise solutions
#
# Worked solutions to the exercises of `12_tools.ipynb`. Each solution cell shows the working a
# student would write; the check cell after it runs the same self-check as the chapter. Try the
# exercises in the chapter first.

# %%
import tensorflow as tf
from nltk.translate.bleu_score import corpus_bleu as nltk_corpus_bleu

from course_lib.exercises import ch12 as ex

# %% [markdown]
# **Exercise 1 (Laplace bigram).** In the toy corpus, what probability does a bigram model
# with add-one smoothing give to "sat" after "cat"? The vocabulary is the corpus's distinct
# words.
#
# P(w | h) = (c(h, w) + 1) / (c(h) + V).

# %% [solution] ex1
### BEGIN SOLUTION
words = ex.TOY_CORPUS.split()
pairs = list(zip(words, words[1:], strict=False))
c_pair = pairs.count(("cat", "sat"))  # 1
c_history = sum(1 for h, _ in pairs if h == "cat")  # 2: "cat sat", "cat ran"
V = len(set(words))  # 6 distinct words
answer_laplace = (c_pair + 1) / (c_history + V)
print(f"({c_pair} + 1) / ({c_history} + {V}) = {answer_laplace:.3f}")
### END SOLUTION

# %% [check] ex1_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_laplace_probability(answer_laplace)

# %% [markdown]
# **Exercise 2 (NLTK BLEU).** Score the hypotheses with NLTK's `corpus_bleu` (token lists, no
# smoothing), on the 0–100 scale.
#
# NLTK wants, per hypothesis, a *list* of tokenized references, and reports 0–1.

# %% [solution] ex2
### BEGIN SOLUTION
references = [[r.split()] for r in ex.BLEU_REFERENCES]  # one reference each, as a list
hypotheses = [h.split() for h in ex.BLEU_HYPOTHESES]
answer_nltk_bleu = 100 * nltk_corpus_bleu(references, hypotheses)
print(f"BLEU = {answer_nltk_bleu:.2f}")
### END SOLUTION

# %% [check] ex2_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_nltk_bleu(answer_nltk_bleu)

# %% [markdown]
# **Exercise 3 (downloads).** Which calls need data that `pip install` does not bring?
#
# Anything *trained* (a sentence splitter, a pipeline, model weights) or a word list ships as
# data; rules, formulas and randomly initialised architectures are code.

# %% [solution] ex3
### BEGIN SOLUTION
for letter, call in ex.CALLS.items():
    print(f"{letter}) {call}")
answer_downloads = {"a", "c", "e", "g", "i"}  # Punkt, stop words, preset, Hub weights, spaCy model
### END SOLUTION

# %% [check] ex3_check points=1
# NBVAL_CHECK_OUTPUT
assert ex.check_downloads(answer_downloads)

# %% [markdown]
# **Exercise 4 (a training step in raw TensorFlow).** One SGD step of a linear softmax
# classifier with `tf.GradientTape`, equal to Keras's `Dense` + `SGD` + `train_on_batch`.

# %% [solution] ex4
### BEGIN SOLUTION
def sgd_step(w, b, x, y, learning_rate):
    """One SGD step with tf.GradientTape; returns (new_w, new_b) as NumPy arrays."""
    w, b = tf.Variable(w), tf.Variable(b)  # the tape watches variables
    with tf.GradientTape() as tape:
        logits = tf.matmul(x, w) + b  # (B, classes)
        loss = tf.reduce_mean(  # mean over the batch, as Keras's loss does
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    grad_w, grad_b = tape.gradient(loss, [w, b])
    w.assign_sub(learning_rate * grad_w)
    b.assign_sub(learning_rate * grad_b)
    return w.numpy(), b.numpy()
### END SOLUTION

# %% [check] ex4_check points=2
# NBVAL_CHECK_OUTPUT
assert ex.check_sgd_step(sgd_step)
