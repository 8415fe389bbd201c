"""Self-checks for the exercises of chapter 12 (tools: TensorFlow, Keras, NLTK and friends).

Each ``check_*`` function takes the learner's answer, prints a one-line verdict (correct, or
what is wrong plus a hint) and returns ``True`` or ``False``. The expected values come from the
course library (`course_lib.ngram_lm`, `course_lib.metrics`) and, for the training step, from
Keras itself, so an exercise and the chapter can never disagree.

Example:

>>> check_laplace_probability(0.25)
✅ Correct: (c(cat, sat) + 1) / (c(cat) + V) = (1 + 1) / (2 + 6) = 0.250.
True
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.exercises.checks import as_number
from course_lib.exercises.checks import correct as _ok
from course_lib.exercises.checks import not_yet as _wrong
from course_lib.metrics import corpus_bleu, sentence_bleu
from course_lib.ngram_lm import NGramLM

__all__ = [
    "TOY_CORPUS",
    "BLEU_HYPOTHESES",
    "BLEU_REFERENCES",
    "CALLS",
    "NEEDS_DOWNLOAD",
    "laplace_probability",
    "check_laplace_probability",
    "check_nltk_bleu",
    "check_downloads",
    "sgd_step_inputs",
    "check_sgd_step",
]

TOY_CORPUS = "the cat sat on the mat the cat ran"
BLEU_HYPOTHESES = [
    "the cat sat on the mat",
    "there is a dog in the garden",
    "he reads a book every night",
]
BLEU_REFERENCES = [
    "the cat sat on a mat",
    "there is a big dog in the garden",
    "he reads a good book every night",
]
# Calls a learner meets in tutorials; the letters are the answers of exercise 3.
CALLS = {
    "a": 'nltk.word_tokenize("Hello there.")',
    "b": 'nltk.tokenize.TreebankWordTokenizer().tokenize("Hello there.")',
    "c": 'nltk.corpus.stopwords.words("english")',
    "d": "nltk.translate.bleu_score.corpus_bleu(references, hypotheses)",
    "e": 'keras_hub.models.GPT2Backbone.from_preset("gpt2_base_en")',
    "f": "keras_hub.models.GPT2Backbone(vocabulary_size=65, num_layers=4, num_heads=4, "
         "hidden_dim=128, intermediate_dim=512, max_sequence_length=64)",
    "g": 'transformers.AutoModel.from_pretrained("bert-base-uncased")',
    "h": 'spacy.blank("en")',
    "i": 'spacy.load("en_core_web_sm")',
}
# Why each downloading call downloads, for the hints.
NEEDS_DOWNLOAD = {
    "a": "word_tokenize first splits sentences with the Punkt model (nltk.download('punkt_tab'))",
    "c": "the stop-word lists are an NLTK data package (nltk.download('stopwords'))",
    "e": "from_preset fetches the pretrained weights and vocabulary",
    "g": "from_pretrained fetches weights and tokenizer files from the Hugging Face Hub",
    "i": "a trained spaCy pipeline is a separate package (python -m spacy download en_core_web_sm)",
}


def laplace_probability(corpus, previous, word):
    """P(word | previous) of an add-one bigram model of ``corpus`` (its distinct words are V).

    Args:
        corpus: a str of words separated by spaces.
        previous: the history word.
        word: the predicted word.

    Example:

    >>> laplace_probability("a b a c", "a", "b")     # (1 + 1) / (2 + 3)
    0.4
    """
    words = corpus.split()
    vocab = sorted(set(words))
    ids = {w: i for i, w in enumerate(vocab)}
    lm = NGramLM(order=2, vocab_size=len(vocab), k=1.0).fit([ids[w] for w in words])
    return lm.probability(ids[word], context=[ids[previous]])


def check_laplace_probability(answer):
    """Exercise 12.1: P(sat | cat) of an add-one bigram model of `TOY_CORPUS`.

    Args:
        answer: the learner's probability.

    Example:

    >>> check_laplace_probability(0.5)
    ❌ Not yet: 0.5 is the unsmoothed estimate c(cat, sat) / c(cat). Hint: Laplace adds 1 to the bigram count and V (the number of distinct words) to the history count.
    False
    """
    value = as_number(answer, "the probability")
    if value is None:
        return False
    words = TOY_CORPUS.split()
    v = len(set(words))
    pair = sum(a == "cat" and b == "sat" for a, b in zip(words, words[1:], strict=False))
    history = sum(a == "cat" for a in words[:-1])
    expected = laplace_probability(TOY_CORPUS, "cat", "sat")
    if math.isclose(value, expected, abs_tol=1e-3):
        return _ok(f"(c(cat, sat) + 1) / (c(cat) + V) = ({pair} + 1) / ({history} + {v}) = "
                   f"{expected:.3f}.")
    if math.isclose(value, pair / history, abs_tol=1e-3):
        return _wrong(f"{value:g} is the unsmoothed estimate c(cat, sat) / c(cat).",
                      "Laplace adds 1 to the bigram count and V (the number of distinct words) "
                      "to the history count.")
    if math.isclose(value, (pair + 1) / (history + len(words)), abs_tol=1e-3):
        return _wrong(f"V = {len(words)} counts every word of the corpus.",
                      f"V is the number of *distinct* words ({v}).")
    if math.isclose(value, pair / (history + v), abs_tol=1e-3):
        return _wrong("the denominator is right, the numerator is not smoothed.",
                      "add 1 to c(cat, sat) as well.")
    return _wrong(f"{value:g} is not P(sat | cat).",
                  "count how often 'cat' is followed by 'sat' and how often 'cat' is followed "
                  "by anything, then add 1 and V.")


def check_nltk_bleu(answer):
    """Exercise 12.2: NLTK's corpus BLEU of `BLEU_HYPOTHESES` on a 0-100 scale.

    The expected value is `course_lib.metrics.corpus_bleu(..., smooth="none")`, which equals
    NLTK's when every hypothesis has at least four words (chapter 12, section 4).

    Args:
        answer: the learner's score.

    Example:

    >>> check_nltk_bleu(0.4)
    ❌ Not yet: 0.4 is far from every form of this BLEU. Hint: pass NLTK token lists: references as [[ref.split()] for ref in ...], hypotheses as [h.split() for h in ...], and multiply by 100.
    False
    """
    value = as_number(answer, "the BLEU score")
    if value is None:
        return False
    expected = corpus_bleu(BLEU_HYPOTHESES, BLEU_REFERENCES, smooth="none").score
    if math.isclose(value, expected, abs_tol=0.01):
        return _ok(f"corpus BLEU = {expected:.2f} (NLTK's {expected / 100:.4f} x 100).")
    if math.isclose(value, expected / 100, abs_tol=1e-4):
        return _wrong(f"{value:.4f} is on NLTK's 0-1 scale.", "multiply by 100.")
    mean_sentence = float(np.mean([
        sentence_bleu(h, r, smooth="none", effective_order=False).score
        for h, r in zip(BLEU_HYPOTHESES, BLEU_REFERENCES, strict=True)
    ]))
    if (math.isclose(value, mean_sentence, abs_tol=0.01)
            or math.isclose(value, mean_sentence / 100, abs_tol=1e-4)):
        return _wrong("that is the mean of the sentence BLEUs.",
                      "corpus BLEU pools the n-gram counts of all sentences before dividing; "
                      "use corpus_bleu, not sentence_bleu in a loop.")
    return _wrong(f"{value:g} is far from every form of this BLEU.",
                  "pass NLTK token lists: references as [[ref.split()] for ref in ...], "
                  "hypotheses as [h.split() for h in ...], and multiply by 100.")


def check_downloads(answer):
    """Exercise 12.3: the letters of `CALLS` that need a download at run time.

    Args:
        answer: a set (or list, or str) of letters.

    Example:

    >>> check_downloads({"a", "c", "e", "g"})
    ❌ Not yet: you missed i. Hint: i) spacy.load("en_core_web_sm"): a trained spaCy pipeline is a separate package (python -m spacy download en_core_web_sm).
    False
    """
    if answer is None:
        return _wrong("expected a set of letters, got None.", 'write it like {"a", "b"}.')
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split() if len(answer) > 1 else [answer]
    try:
        letters = {str(a).strip().lower().rstrip(")") for a in answer}
    except TypeError:
        return _wrong(f"expected a set of letters, got {answer!r}.", 'write it like {"a", "b"}.')
    unknown = letters - set(CALLS)
    if unknown:
        return _wrong(f"{', '.join(sorted(unknown))} is not one of the calls.",
                      f"use the letters {', '.join(CALLS)}.")
    expected = set(NEEDS_DOWNLOAD)
    if letters == expected:
        return _ok(f"{', '.join(sorted(expected))} download data or weights; the others are "
                   "code that ships with the package.")
    missed, extra = sorted(expected - letters), sorted(letters - expected)
    if missed:
        first = missed[0]
        return _wrong(f"you missed {', '.join(missed)}.",
                      f"{first}) {CALLS[first]}: {NEEDS_DOWNLOAD[first]}.")
    first = extra[0]
    return _wrong(f"{', '.join(extra)} need(s) no download.",
                  f"{first}) {CALLS[first]} is rules or code only: nothing trained is loaded.")


def sgd_step_inputs(seed=0):
    """The inputs `check_sgd_step` passes: ``(w, b, x, y, learning_rate)``.

    Args:
        seed: NumPy seed.

    Example:

    >>> [a.shape for a in sgd_step_inputs()[:4]]
    [(5, 3), (3,), (8, 5), (8,)]
    """
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.5, size=(5, 3)).astype("float32")  # (features, classes)
    b = rng.normal(0, 0.1, size=(3,)).astype("float32")
    x = rng.normal(size=(8, 5)).astype("float32")  # (B, features)
    y = rng.integers(0, 3, size=(8,)).astype("int32")  # (B,)
    return w, b, x, y, 0.1


def _keras_step(w, b, x, y, learning_rate):
    import keras

    layer = keras.Sequential([keras.Input((w.shape[0],)), keras.layers.Dense(w.shape[1])])
    layer.set_weights([w, b])
    layer.compile(optimizer=keras.optimizers.SGD(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    layer.train_on_batch(x, y)
    new_w, new_b = layer.get_weights()
    return new_w, new_b


def _numpy_gradients(w, b, x, y):
    z = x @ w + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0  # d(mean CE)/dz = (softmax - one-hot) / B
    dz = p / len(y)
    return x.T @ dz, dz.sum(axis=0)


def check_sgd_step(fn):
    """Exercise 12.4: ``fn(w, b, x, y, learning_rate) -> (new_w, new_b)``, one SGD step of a
    linear softmax classifier, must match Keras's `Dense` + `SGD` + `train_on_batch`.

    Args:
        fn: the learner's function.

    Example:
    ```python
    check_sgd_step(lambda w, b, x, y, lr: (w, b))  # ❌ the weights did not move
    ```
    """
    if not callable(fn):
        return _wrong(f"expected a function, got {type(fn).__name__}.",
                      "pass the function itself: check_sgd_step(sgd_step).")
    w, b, x, y, lr = sgd_step_inputs()
    try:
        got = fn(w.copy(), b.copy(), x.copy(), y.copy(), lr)
    except Exception as error:  # the learner's code: report any error as a hint
        return _wrong(f"the function raised {type(error).__name__}: {error}.",
                      "run it on ex.sgd_step_inputs() and read the traceback.")
    if got is None:
        return _wrong("the function returns None.", "return (new_w, new_b).")
    try:
        new_w, new_b = (np.asarray(getattr(a, "numpy", lambda a=a: a)(), dtype=np.float64)
                        for a in got)
    except (TypeError, ValueError):
        return _wrong("expected a pair (new_w, new_b).", "return new_w, new_b.")
    if new_w.shape != w.shape or new_b.shape != b.shape:
        return _wrong(f"shapes {new_w.shape} and {new_b.shape}, expected {w.shape} and {b.shape}.",
                      "return arrays shaped like w and b.")
    ref_w, ref_b = _keras_step(w, b, x, y, lr)
    if np.allclose(new_w, ref_w, atol=1e-5) and np.allclose(new_b, ref_b, atol=1e-5):
        return _ok("your GradientTape step equals Keras's train_on_batch (to 1e-5).")
    gw, gb = _numpy_gradients(w.astype(np.float64), b.astype(np.float64), x, y)
    if np.allclose(new_w, w, atol=1e-7) and np.allclose(new_b, b, atol=1e-7):
        return _wrong("the weights did not move.",
                      "after tape.gradient, apply w - learning_rate * grad (or variable.assign_sub).")
    if np.allclose(new_w, w + lr * gw, atol=1e-5):
        return _wrong("the step goes uphill.", "subtract learning_rate * gradient.")
    if np.allclose(new_w, w - lr * len(y) * gw, atol=1e-5):
        return _wrong("the step is batch-size times too large: the loss is summed.",
                      "average the cross-entropy over the batch (tf.reduce_mean).")
    if np.allclose(new_w, ref_w, atol=1e-5):
        return _wrong("w is right, b is not.", "differentiate with respect to b as well and update it.")
    return _wrong("the new weights differ from Keras's.",
                  "logits = x @ w + b; loss = mean of "
                  "tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits); "
                  "take tape.gradient(loss, [w, b]) with w and b as tf.Variable.")
