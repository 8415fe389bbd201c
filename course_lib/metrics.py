"""Evaluation metrics, written from their definitions: the numbers of chapter 07 (§3.3).

Every metric here is checked in ``tests/test_metrics.py`` against the reference that the field
uses, on ordinary inputs and on the edge cases (empty hypothesis, no overlap, perfect match, one
class):

- cross-entropy and **perplexity**: against ``keras.losses.sparse_categorical_crossentropy``;
- **accuracy, precision, recall, F1** (binary, macro, micro, weighted) and the **confusion
  matrix**: equal to scikit-learn's;
- **BLEU** (corpus and sentence level, with sacrebleu's four smoothing methods and its ``13a``
  tokenizer): equal to ``sacrebleu`` on the same input, scores on sacrebleu's 0–100 scale;
- **ROUGE-1/2/L**: equal to Google's ``rouge-score`` package (scores in 0–1, as there);
- **bootstrap confidence intervals** for any of them (percentile method).

Conventions: every function takes the model's output first and the reference second
(``hypothesis, reference`` / ``y_true, y_pred`` follow scikit-learn). Natural logarithms
throughout; ``bits_per_unit`` converts to bits.

Example:

>>> round(perplexity(math.log(65)), 6)   # a uniform guess over 65 characters
65.0
>>> round(corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"]).score, 1)
100.0
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from course_lib.config import check_int

__all__ = [
    # cross-entropy and perplexity
    "log_softmax",
    "sparse_cross_entropy",
    "perplexity",
    "perplexity_from_total",
    "bits_per_unit",
    # classification
    "accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "precision_score",
    "recall_score",
    "f1_score",
    # BLEU
    "tokenize_13a",
    "BLEUScore",
    "bleu_statistics",
    "bleu_from_statistics",
    "corpus_bleu",
    "sentence_bleu",
    # ROUGE
    "RougeScore",
    "rouge_tokenize",
    "rouge_n",
    "rouge_l",
    "rouge",
    "corpus_rouge",
    # uncertainty
    "BootstrapResult",
    "bootstrap_ci",
    # diversity and repetition of generated text
    "word_tokens",
    "ngrams",
    "distinct_n",
    "repetition_rate",
]


# ---------------------------------------------------------------------------------------------
# Cross-entropy and perplexity
# ---------------------------------------------------------------------------------------------


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """``log softmax(z) = z − logsumexp(z)``, computed without overflow, in float64.

    Subtracting the maximum first keeps every ``exp`` at most 1, so logits of any size give
    finite log-probabilities; computing ``log(softmax(z))`` instead overflows for large logits
    and gives ``log(0) = −inf`` for tokens whose probability underflows.

    Args:
        logits: array of unnormalised scores; the classes lie along ``axis``.
        axis: the class axis.

    Returns:
        A float64 array of the same shape: log-probabilities that sum (after ``exp``) to 1.

    Example:

    >>> log_softmax([1000.0, 0.0]).round(3).tolist()
    [0.0, -1000.0]
    """
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def sparse_cross_entropy(labels, logits, *, reduction: str = "mean"):
    """Cross-entropy ``L = −Σᵢ yᵢ log ŷᵢ`` with integer labels, from logits.

    With a one-hot ``y`` the sum keeps one term, ``−log ŷ[label]``: the negative log of the
    probability the model gave the right class. This equals
    ``keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)``.

    Args:
        labels: integer class ids, shape ``(...)``.
        logits: scores of shape ``(..., V)``.
        reduction: ``"mean"`` (Keras's default), ``"sum"``, or ``"none"`` for one loss per label.

    Returns:
        A float (``mean``/``sum``) or a float64 array shaped like ``labels`` (``none``).

    Example:

    >>> round(sparse_cross_entropy([0], [[0.0, 0.0]]), 4)   # two equally likely classes
    0.6931
    """
    labels = np.asarray(labels)
    logp = log_softmax(logits)
    if logp.shape[:-1] != labels.shape:
        raise ValueError(
            f"logits {logp.shape} must be labels {labels.shape} plus one class axis; for a "
            "language model pass labels (B, T) and logits (B, T, V)."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= logp.shape[-1]):
        raise ValueError(f"labels must lie in [0, {logp.shape[-1]}), the number of classes")
    nll = -np.take_along_axis(logp, labels[..., None].astype(np.int64), axis=-1)[..., 0]
    if reduction == "none":
        return nll
    if reduction == "sum":
        return float(nll.sum())
    if reduction == "mean":
        if nll.size == 0:
            raise ValueError("no labels to average over")
        return float(nll.mean())
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def perplexity(mean_nll: float) -> float:
    """Perplexity from the mean cross-entropy (in nats): ``PPL = exp(mean NLL)``.

    A perplexity of P means the model is, on average, as unsure as if it picked uniformly among
    P tokens. A uniform model over V tokens has mean NLL ``ln V`` and perplexity V.

    Args:
        mean_nll: the mean negative log-likelihood per token, natural log (Keras's loss).

    Returns:
        The perplexity (``inf`` when ``mean_nll`` is ``inf``).

    Example:

    >>> round(perplexity(1.5), 3)
    4.482
    """
    mean_nll = float(mean_nll)
    if math.isnan(mean_nll) or mean_nll < 0:
        raise ValueError(
            f"mean_nll must be a non-negative number of nats, got {mean_nll}; a cross-entropy "
            "of a probability model can never be negative."
        )
    return math.exp(mean_nll) if mean_nll < 700 else math.inf


def perplexity_from_total(total_nll: float, count: int) -> float:
    """Perplexity per unit of your choice: ``exp(total NLL / count)``.

    The same total log-likelihood of a text gives a per-token perplexity when divided by the
    number of tokens, and a per-character one when divided by the number of characters. Only the
    per-character (or per-byte, per-word) figure can be compared between tokenizers.

    Args:
        total_nll: summed negative log-likelihood of the text, in nats.
        count: the number of units (tokens, characters, words) to share it among.

    Returns:
        The perplexity per unit.

    Example:

    >>> round(perplexity_from_total(100.0, 50), 4), round(perplexity_from_total(100.0, 200), 4)
    (7.3891, 1.6487)
    """
    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    return perplexity(float(total_nll) / count)


def bits_per_unit(total_nll: float, count: int) -> float:
    """Cross-entropy in bits per unit: ``total NLL / (count · ln 2)`` (e.g. bits per character).

    Args:
        total_nll: summed negative log-likelihood, in nats.
        count: the number of units (characters for bits per character).

    Returns:
        Bits per unit; ``2 ** bits`` is the perplexity per unit.

    Example:

    >>> round(bits_per_unit(math.log(2) * 10, 10), 6)
    1.0
    """
    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    return float(total_nll) / (count * math.log(2))


# ---------------------------------------------------------------------------------------------
# Classification: accuracy, confusion matrix, precision / recall / F1
# ---------------------------------------------------------------------------------------------


def _check_pair(y_true, y_pred):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D label arrays, got shapes {y_true.shape} and "
            f"{y_pred.shape}; for logits take argmax(axis=-1) first."
        )
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty; there is nothing to score")
    return y_true, y_pred


def accuracy(y_true, y_pred) -> float:
    """The share of predictions equal to the true label.

    Args:
        y_true: 1-D array of true labels.
        y_pred: 1-D array of predicted labels, same length.

    Returns:
        A float in [0, 1]; equals ``sklearn.metrics.accuracy_score``.

    Example:

    >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def _labels_for(y_true, y_pred, labels):
    if labels is None:
        return np.unique(np.concatenate([y_true, y_pred]))
    labels = np.asarray(labels)
    if len(np.unique(labels)) != len(labels):
        raise ValueError("labels contains duplicates")
    return labels


def confusion_matrix(y_true, y_pred, *, labels=None) -> np.ndarray:
    """Counts of (true label, predicted label) pairs: row = truth, column = prediction.

    Args:
        y_true: 1-D array of true labels.
        y_pred: 1-D array of predicted labels.
        labels: the label order of rows and columns; default: the sorted labels present in
            either array. Pairs with a label outside ``labels`` are not counted.

    Returns:
        An int64 array ``(L, L)``; equals ``sklearn.metrics.confusion_matrix``.

    Example:

    >>> confusion_matrix([0, 1, 1, 0], [0, 1, 0, 0]).tolist()
    [[2, 0], [1, 1]]
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = _labels_for(y_true, y_pred, labels)
    index = {label: i for i, label in enumerate(labels.tolist())}
    rows = np.array([index.get(t, -1) for t in y_true.tolist()], dtype=np.int64)
    cols = np.array([index.get(p, -1) for p in y_pred.tolist()], dtype=np.int64)
    keep = (rows >= 0) & (cols >= 0)
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, (rows[keep], cols[keep]), 1)
    return matrix


def _divide(numerator, denominator, zero_division):
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(numerator.shape, float(zero_division))
    ok = denominator != 0
    out[ok] = numerator[ok] / denominator[ok]
    return out


def precision_recall_f1(
    y_true,
    y_pred,
    *,
    average: str | None = "binary",
    pos_label=1,
    labels=None,
    zero_division: float = 0.0,
):
    """Precision, recall and F1, averaged the way scikit-learn averages them.

    For one class c: precision = TP / (TP + FP) (of what we called c, how much was c), recall =
    TP / (TP + FN) (of the real c, how much we found), F1 = 2·TP / (2·TP + FP + FN), the
    harmonic mean of the two.

    - ``"binary"``: the scores of ``pos_label`` alone (at most two labels allowed).
    - ``"macro"``: the plain mean over labels; every class counts the same, rare or not.
    - ``"micro"``: pool TP, FP, FN over labels first; for single-label multi-class data it
      equals accuracy.
    - ``"weighted"``: the mean over labels weighted by each label's number of true examples.
    - ``None``: one score per label, in ``labels`` order.

    Args:
        y_true: 1-D array of true labels.
        y_pred: 1-D array of predicted labels.
        average: ``"binary"``, ``"macro"``, ``"micro"``, ``"weighted"`` or ``None``.
        pos_label: the positive class for ``"binary"``.
        labels: the labels to score (default: every label in either array, sorted).
        zero_division: the value of a ratio whose denominator is 0 (e.g. precision of a class
            never predicted); scikit-learn's default behaves as 0.0.

    Returns:
        ``(precision, recall, f1)``: floats, or arrays of per-label scores when ``average`` is
        ``None``. Equal to ``sklearn.metrics.precision_recall_fscore_support``.

    Example:

    >>> p, r, f = precision_recall_f1([1, 1, 0, 0], [1, 0, 1, 0])
    >>> p, r, f
    (0.5, 0.5, 0.5)
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    if average not in ("binary", "macro", "micro", "weighted", None):
        raise ValueError(
            f"average must be 'binary', 'macro', 'micro', 'weighted' or None, got {average!r}"
        )
    present = np.unique(np.concatenate([y_true, y_pred]))
    if average == "binary":
        if len(present) > 2:
            raise ValueError(
                f"average='binary' needs at most two labels, found {len(present)}; use "
                "average='macro', 'micro' or 'weighted' for multi-class data."
            )
        if pos_label not in present.tolist() and len(present) == 2:
            raise ValueError(f"pos_label={pos_label!r} is not a label; use one of {present}")
        labels = np.asarray([pos_label])
    else:
        labels = _labels_for(y_true, y_pred, labels)
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in labels], dtype=np.float64)
    predicted = np.array([np.sum(y_pred == c) for c in labels], dtype=np.float64)
    actual = np.array([np.sum(y_true == c) for c in labels], dtype=np.float64)
    if average == "micro":
        tp, predicted, actual = (
            tp.sum(keepdims=True),
            predicted.sum(keepdims=True),
            actual.sum(keepdims=True),
        )
    precision = _divide(tp, predicted, zero_division)
    recall = _divide(tp, actual, zero_division)
    # F1 from the counts, not from P and R: it stays defined when one of them is not.
    f1 = _divide(2 * tp, actual + predicted, zero_division)
    if average is None:
        return precision, recall, f1
    if average == "weighted":
        if actual.sum() == 0:
            return (float(zero_division),) * 3
        weights = actual
    else:
        weights = None
    return tuple(float(np.average(v, weights=weights)) for v in (precision, recall, f1))


def precision_score(y_true, y_pred, **kwargs):
    """Precision alone; the arguments are those of :func:`precision_recall_f1`.

    Example:

    >>> precision_score([1, 1, 0], [1, 1, 1])
    0.6666666666666666
    """
    return precision_recall_f1(y_true, y_pred, **kwargs)[0]


def recall_score(y_true, y_pred, **kwargs):
    """Recall alone; the arguments are those of :func:`precision_recall_f1`.

    Example:

    >>> recall_score([1, 1, 0], [1, 0, 0])
    0.5
    """
    return precision_recall_f1(y_true, y_pred, **kwargs)[1]


def f1_score(y_true, y_pred, **kwargs):
    """F1 alone; the arguments are those of :func:`precision_recall_f1`.

    Example:

    >>> round(f1_score([0, 1, 2, 2], [0, 2, 2, 2], average="macro"), 4)
    0.6
    """
    return precision_recall_f1(y_true, y_pred, **kwargs)[2]


# ---------------------------------------------------------------------------------------------
# BLEU
# ---------------------------------------------------------------------------------------------

# mteval-v13a's rules (as in sacrebleu): split off punctuation and symbols, then periods and
# commas unless they sit between digits, then a dash after a digit.
_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tokenize_13a(line: str) -> str:
    """The ``13a`` tokenizer of WMT's mteval script, as sacrebleu applies it by default.

    Args:
        line: one segment of text.

    Returns:
        The segment with punctuation split off, tokens separated by single spaces.

    Example:

    >>> tokenize_13a("Hello, world! It costs $3.50.")
    'Hello , world ! It costs $ 3.50 .'
    """
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, char in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
            line = line.replace(entity, char)
    line = f" {line} "
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return " ".join(line.split())


def _bleu_tokens(text, tokenize, lowercase):
    if not isinstance(text, str):
        raise TypeError(
            f"BLEU takes each hypothesis and reference as a string, got {type(text).__name__}; "
            "join pre-tokenized text with spaces and pass tokenize='none'."
        )
    if lowercase:
        text = text.lower()
    text = text.rstrip()
    if callable(tokenize):
        return list(tokenize(text))
    if tokenize == "none":
        return text.split()
    if tokenize == "13a":
        return tokenize_13a(text).split()
    raise ValueError(f"tokenize must be 'none', '13a' or a callable, got {tokenize!r}")


def _ngrams(tokens, max_order):
    return Counter(
        tuple(tokens[i : i + n])
        for n in range(1, max_order + 1)
        for i in range(len(tokens) - n + 1)
    )


def _references_of(refs):
    if isinstance(refs, str):
        return [refs]
    refs = list(refs)
    if not refs:
        raise ValueError("every hypothesis needs at least one reference")
    return refs


@dataclass
class BLEUScore:
    """A BLEU result on sacrebleu's 0–100 scale, with the numbers it was computed from.

    Attributes:
        score: BLEU, 0–100.
        precisions: modified n-gram precisions (0–100), n = 1..max_order.
        brevity_penalty: ``exp(1 − r/c)`` when the output is shorter than the references, else 1.
        hyp_len: total hypothesis tokens c.
        ref_len: total closest-reference tokens r.
        counts: matched (clipped) n-gram counts per order.
        totals: hypothesis n-gram counts per order.
    """

    score: float
    precisions: list[float]
    brevity_penalty: float
    hyp_len: int
    ref_len: int
    counts: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)

    def __str__(self):
        precisions = "/".join(f"{p:.1f}" for p in self.precisions)
        return (
            f"BLEU = {self.score:.2f} {precisions} (BP = {self.brevity_penalty:.3f} "
            f"ratio = {self.hyp_len / max(self.ref_len, 1):.3f} hyp_len = {self.hyp_len} "
            f"ref_len = {self.ref_len})"
        )


def bleu_statistics(
    hypotheses: Sequence[str],
    references: Sequence,
    *,
    max_order: int = 4,
    tokenize: str | Callable = "none",
    lowercase: bool = False,
) -> np.ndarray:
    """BLEU's sufficient statistics, one row per sentence.

    A row holds ``[hyp_len, ref_len, matches_1..matches_N, totals_1..totals_N]``. The corpus
    statistics are the column sums, which makes bootstrap resampling cheap: resample rows, sum,
    call :func:`bleu_from_statistics`.

    Matches are clipped: a hypothesis n-gram counts at most as often as it appears in any one
    reference (the maximum over references). ``ref_len`` is the reference length closest to
    the hypothesis length (the shorter one on a tie).

    Args:
        hypotheses: system outputs, one string per sentence.
        references: for each hypothesis, one reference string or a list of them. (sacrebleu
            takes reference *streams* instead: ``list(zip(*references))``.)
        max_order: the largest n-gram order N.
        tokenize: ``"none"`` (split on whitespace: the text is already tokenized), ``"13a"``
            (sacrebleu's default) or a callable returning a token list.
        lowercase: lowercase before tokenizing.

    Returns:
        An int64 array of shape ``(len(hypotheses), 2 + 2 * max_order)``.

    Example:

    >>> bleu_statistics(["a b c"], ["a b d"], max_order=2).tolist()
    [[3, 3, 2, 1, 3, 2]]
    """
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses but {len(references)} reference entries; give one "
            "entry (a string or a list of strings) per hypothesis."
        )
    if max_order < 1:
        raise ValueError(f"max_order must be at least 1, got {max_order}")
    rows = np.zeros((len(hypotheses), 2 + 2 * max_order), dtype=np.int64)
    for row, (hyp, refs) in enumerate(zip(hypotheses, references, strict=True)):
        hyp_tokens = _bleu_tokens(hyp, tokenize, lowercase)
        ref_counts: Counter = Counter()
        ref_lens = []
        for ref in _references_of(refs):
            tokens = _bleu_tokens(ref, tokenize, lowercase)
            ref_lens.append(len(tokens))
            for gram, count in _ngrams(tokens, max_order).items():
                ref_counts[gram] = max(ref_counts[gram], count)
        hyp_len = len(hyp_tokens)
        ref_len = min(ref_lens, key=lambda r: (abs(r - hyp_len), r))
        rows[row, 0], rows[row, 1] = hyp_len, ref_len
        for gram, count in _ngrams(hyp_tokens, max_order).items():
            n = len(gram)
            rows[row, 1 + max_order + n] += count
            rows[row, 1 + n] += min(count, ref_counts.get(gram, 0))
    return rows


_SMOOTH_DEFAULTS = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}


def bleu_from_statistics(
    stats,
    *,
    max_order: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
) -> BLEUScore:
    """BLEU from summed statistics: ``BP · exp(mean over n of log p_n)``.

    Smoothing (Chen & Cherry, 2014), as in sacrebleu, decides what a zero precision becomes
    (without it one order with no match makes BLEU 0):

    - ``"none"``: nothing; BLEU is 0 when any order has no match.
    - ``"floor"``: a zero match count becomes ``smooth_value`` (default 0.1).
    - ``"add-k"``: add ``smooth_value`` (default 1) to matches and totals for n ≥ 2.
    - ``"exp"``: the k-th zero precision becomes ``1 / (2^k · total_n)`` (mteval's method).

    Args:
        stats: one row of :func:`bleu_statistics` or its column sums.
        max_order: N, as used for the statistics.
        smooth: ``"none"``, ``"floor"``, ``"add-k"`` or ``"exp"``.
        smooth_value: the value for ``floor`` and ``add-k``.
        effective_order: average only over the orders the hypothesis has n-grams for (use it for
            sentence BLEU of sentences shorter than N).

    Returns:
        A :class:`BLEUScore`.

    Example:

    >>> round(bleu_from_statistics([3, 3, 2, 1, 3, 2], max_order=2, smooth="none").score, 2)
    57.74
    """
    if smooth not in _SMOOTH_DEFAULTS:
        raise ValueError(f"smooth must be one of {sorted(_SMOOTH_DEFAULTS)}, got {smooth!r}")
    stats = np.asarray(stats, dtype=np.float64).reshape(-1)
    if stats.size != 2 + 2 * max_order:
        raise ValueError(
            f"stats has {stats.size} numbers; with max_order={max_order} it needs "
            f"{2 + 2 * max_order} (sum the rows of bleu_statistics first)"
        )
    if smooth_value is None:
        smooth_value = _SMOOTH_DEFAULTS[smooth]
    hyp_len, ref_len = int(stats[0]), int(stats[1])
    correct = stats[2 : 2 + max_order].tolist()
    total = stats[2 + max_order :].tolist()
    if hyp_len < ref_len:
        bp = math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0
    else:
        bp = 1.0
    precisions = [0.0] * max_order
    if not any(correct):
        return BLEUScore(0.0, precisions, bp, hyp_len, ref_len, correct, total)
    halvings = 1.0
    order = max_order
    for n in range(1, max_order + 1):
        if smooth == "add-k" and n > 1:
            correct[n - 1] += smooth_value
            total[n - 1] += smooth_value
        if total[n - 1] == 0:
            break
        if effective_order:
            order = n
        if correct[n - 1] == 0:
            if smooth == "exp":
                halvings *= 2
                precisions[n - 1] = 100.0 / (halvings * total[n - 1])
            elif smooth == "floor":
                precisions[n - 1] = 100.0 * smooth_value / total[n - 1]
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    # A zero precision contributes log 0: sacrebleu uses -9999999999, which makes BLEU 0.
    logs = [math.log(p) if p > 0 else -9999999999.0 for p in precisions[:order]]
    score = bp * math.exp(sum(logs) / order)
    return BLEUScore(score, precisions, bp, hyp_len, ref_len, correct, total)


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence,
    *,
    max_order: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    tokenize: str | Callable = "none",
    lowercase: bool = False,
    effective_order: bool = False,
) -> BLEUScore:
    """Corpus BLEU (Papineni et al., 2002): n-gram statistics pooled over all sentences.

    Pooling is not averaging: corpus BLEU is not the mean of sentence BLEUs. With the same
    arguments it equals ``sacrebleu.corpus_bleu(hypotheses, list(zip(*references)),
    tokenize=...)`` (sacrebleu's default tokenizer is ``"13a"``; here the default ``"none"``
    means "already tokenized, split on spaces").

    Args:
        hypotheses: system outputs, one string per sentence.
        references: for each hypothesis, one reference string or a list of them.
        max_order: the largest n-gram order (4 is standard).
        smooth: see :func:`bleu_from_statistics` (``"exp"`` is sacrebleu's default).
        smooth_value: for ``floor`` and ``add-k``.
        tokenize: ``"none"``, ``"13a"`` or a callable (see :func:`bleu_statistics`).
        lowercase: lowercase before tokenizing.
        effective_order: see :func:`bleu_from_statistics`.

    Returns:
        A :class:`BLEUScore` (``.score`` in 0–100).

    Example:

    >>> hyps = ["the cat sat on the mat", "a dog ran"]
    >>> refs = [["the cat sat on the mat"], ["the dog ran away"]]
    >>> round(corpus_bleu(hyps, refs).score, 2)
    79.07
    """
    stats = bleu_statistics(
        hypotheses, references, max_order=max_order, tokenize=tokenize, lowercase=lowercase
    )
    return bleu_from_statistics(
        stats.sum(axis=0),
        max_order=max_order,
        smooth=smooth,
        smooth_value=smooth_value,
        effective_order=effective_order,
    )


def sentence_bleu(
    hypothesis: str,
    references,
    *,
    max_order: int = 4,
    smooth: str = "exp",
    smooth_value: float | None = None,
    tokenize: str | Callable = "none",
    lowercase: bool = False,
    effective_order: bool = True,
) -> BLEUScore:
    """BLEU of one sentence, smoothed (a short sentence often has no matching 4-gram).

    Equals ``sacrebleu.sentence_bleu(hypothesis, references, tokenize=...)``: smoothing ``exp``
    and ``effective_order`` on by default, as there.

    Args:
        hypothesis: one system output.
        references: one reference string or a list of them.
        max_order, smooth, smooth_value, tokenize, lowercase, effective_order: as in
            :func:`corpus_bleu`.

    Returns:
        A :class:`BLEUScore`.

    Example:

    >>> round(sentence_bleu("the cat sat", "the cat sat on the mat").score, 2)
    36.79
    """
    return corpus_bleu(
        [hypothesis],
        [references],
        max_order=max_order,
        smooth=smooth,
        smooth_value=smooth_value,
        tokenize=tokenize,
        lowercase=lowercase,
        effective_order=effective_order,
    )


# ---------------------------------------------------------------------------------------------
# ROUGE
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RougeScore:
    """Precision, recall and F-measure of one ROUGE variant (each in 0–1).

    Attributes:
        precision: overlap / hypothesis size.
        recall: overlap / reference size (ROUGE was recall-oriented at first).
        fmeasure: their harmonic mean, the number usually reported.
    """

    precision: float
    recall: float
    fmeasure: float


def _fmeasure(precision, recall):
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def rouge_tokenize(text: str) -> list[str]:
    """ROUGE's tokenizer (as in ``rouge-score`` without stemming): lowercase, keep ``[a-z0-9]``
    runs, drop everything else.

    Non-ASCII letters are dropped too, so use another tokenizer for, e.g., Chinese text.

    Args:
        text: the text.

    Returns:
        A list of tokens.

    Example:

    >>> rouge_tokenize("The gunman's 2 guns!")
    ['the', 'gunman', 's', '2', 'guns']
    """
    return _NON_ALPHANUMERIC.sub(" ", text.lower()).split()


def _tokens(text, tokenizer):
    if isinstance(text, str):
        return (tokenizer or rouge_tokenize)(text)
    return list(text)  # already tokens


def rouge_n(hypothesis, reference, n: int = 1, *, tokenizer=None) -> RougeScore:
    """ROUGE-N: overlap of n-grams between a hypothesis and a reference.

    The overlap counts each n-gram at most as often as it occurs on either side.

    Args:
        hypothesis: the system summary (a string, or a list of tokens).
        reference: the human summary (a string, or a list of tokens).
        n: the n-gram order (1 for ROUGE-1, 2 for ROUGE-2).
        tokenizer: a callable ``str -> list[str]``; default :func:`rouge_tokenize`.

    Returns:
        A :class:`RougeScore`; 0s when either side is empty.

    Example:

    >>> rouge_n("police kill the gunman", "police killed the gunman", 2).recall
    0.3333333333333333
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    hyp = _tokens(hypothesis, tokenizer)
    ref = _tokens(reference, tokenizer)
    hyp_grams = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
    ref_grams = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
    overlap = sum(min(count, hyp_grams[gram]) for gram, count in ref_grams.items())
    precision = overlap / max(sum(hyp_grams.values()), 1)
    recall = overlap / max(sum(ref_grams.values()), 1)
    return RougeScore(precision, recall, _fmeasure(precision, recall))


def _lcs_length(a, b):
    # One row of the dynamic-programming table at a time: O(len(a)·len(b)) time, O(len(b)) memory.
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(hypothesis, reference, *, tokenizer=None) -> RougeScore:
    """ROUGE-L: the longest common subsequence (in order, gaps allowed) of the two texts.

    Unlike ROUGE-2 it rewards the right word order over any distance: "police killed the gunman"
    vs "the gunman kill police" share the bigram "the gunman" but an LCS of only 2 words.

    Args:
        hypothesis: the system summary (string or tokens).
        reference: the human summary (string or tokens).
        tokenizer: a callable ``str -> list[str]``; default :func:`rouge_tokenize`.

    Returns:
        A :class:`RougeScore`: LCS / hypothesis length, LCS / reference length, and F.

    Example:

    >>> rouge_l("the gunman kill police", "police killed the gunman").fmeasure
    0.5
    """
    hyp = _tokens(hypothesis, tokenizer)
    ref = _tokens(reference, tokenizer)
    if not hyp or not ref:
        return RougeScore(0.0, 0.0, 0.0)
    lcs = _lcs_length(ref, hyp)
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return RougeScore(precision, recall, _fmeasure(precision, recall))


_ROUGE_TYPES = re.compile(r"^rouge([1-9]|L)$")


def rouge(hypothesis, references, types=("rouge1", "rouge2", "rougeL"), *, tokenizer=None):
    """ROUGE scores of one hypothesis; with several references, the best (by F) for each type.

    Same numbers as ``rouge_score.rouge_scorer.RougeScorer(types).score_multi(references,
    hypothesis)`` (mind the order: rouge-score takes the reference first).

    Args:
        hypothesis: the system summary.
        references: one reference string (or token list) or a list of reference strings.
        types: any of ``"rouge1"`` … ``"rouge9"`` and ``"rougeL"``.
        tokenizer: a callable ``str -> list[str]``; default :func:`rouge_tokenize`.

    Returns:
        A dict ``{type: RougeScore}``.

    Example:

    >>> round(rouge("police kill the gunman", "police killed the gunman")["rougeL"].fmeasure, 2)
    0.75
    """
    if isinstance(references, str):
        references = [references]
    references = list(references)
    if not references:
        raise ValueError("give at least one reference")
    result = {}
    for kind in types:
        match = _ROUGE_TYPES.match(kind)
        if not match:
            raise ValueError(f"unknown ROUGE type {kind!r}; use 'rouge1', 'rouge2', or 'rougeL'")
        order = match.group(1)
        scores = [
            rouge_l(hypothesis, ref, tokenizer=tokenizer)
            if order == "L"
            else rouge_n(hypothesis, ref, int(order), tokenizer=tokenizer)
            for ref in references
        ]
        result[kind] = max(scores, key=lambda s: s.fmeasure)  # first best on ties, like np.argmax
    return result


def corpus_rouge(hypotheses, references, types=("rouge1", "rouge2", "rougeL"), *, tokenizer=None):
    """Mean ROUGE F-measure over a corpus (the usual way summarization papers report it).

    Args:
        hypotheses: system summaries.
        references: for each, a reference string or a list of them.
        types: ROUGE types, as in :func:`rouge`.
        tokenizer: a callable ``str -> list[str]``; default :func:`rouge_tokenize`.

    Returns:
        A dict ``{type: mean F-measure}`` (0–1).

    Example:

    >>> scores = corpus_rouge(["a b c", "x y"], ["a b d", "x y"], types=("rouge1",))
    >>> round(scores["rouge1"], 4)
    0.8333
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    if not hypotheses:
        raise ValueError("no hypotheses to score")
    per_example = [
        rouge(h, r, types, tokenizer=tokenizer) for h, r in zip(hypotheses, references, strict=True)
    ]
    return {kind: float(np.mean([s[kind].fmeasure for s in per_example])) for kind in types}


# ---------------------------------------------------------------------------------------------
# Uncertainty: bootstrap confidence intervals
# ---------------------------------------------------------------------------------------------


@dataclass
class BootstrapResult:
    """A point estimate with a percentile bootstrap confidence interval.

    Attributes:
        estimate: the statistic on the original data.
        low: the lower end of the interval.
        high: the upper end of the interval.
        confidence: the interval's nominal coverage (e.g. 0.95).
        distribution: the statistic on each resample.
    """

    estimate: float
    low: float
    high: float
    confidence: float
    distribution: np.ndarray = field(repr=False)

    def __str__(self):
        return f"{self.estimate:.4g} ({self.confidence:.0%} CI {self.low:.4g} – {self.high:.4g})"


def bootstrap_ci(
    statistic: Callable,
    *samples,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapResult:
    """Percentile bootstrap confidence interval of any statistic of paired samples.

    Draw ``n`` examples with replacement from the ``n`` test examples, recompute the statistic,
    repeat; the middle ``confidence`` share of the recomputed values is the interval. It says how
    much the score would move on another test set of the same size from the same source; it does
    not cover a different source.

    Args:
        statistic: a function of the resampled arrays returning a number, e.g.
            ``lambda t, p: accuracy(t, p)`` or, for BLEU, ``lambda rows:
            bleu_from_statistics(rows.sum(0)).score`` with rows from :func:`bleu_statistics`.
        *samples: arrays with the same first dimension (the examples); rows are resampled
            together, which keeps pairs (truth, prediction) intact.
        n_resamples: how many resamples (1000 gives intervals stable to about ±0.1 points).
        confidence: the interval's coverage, in (0, 1).
        seed: the resampling seed.

    Returns:
        A :class:`BootstrapResult`.

    Example:

    >>> t, p = np.array([1, 0, 1, 1, 0, 1]), np.array([1, 0, 0, 1, 0, 1])
    >>> result = bootstrap_ci(accuracy, t, p, n_resamples=200, seed=0)
    >>> round(result.estimate, 3), result.low <= result.estimate <= result.high
    (0.833, True)
    """
    if not samples:
        raise ValueError("give at least one sample array")
    arrays = [np.asarray(s) for s in samples]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"all samples must have the same length; got {[len(a) for a in arrays]}")
    if n == 0:
        raise ValueError("the samples are empty")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 10:
        raise ValueError(f"n_resamples must be at least 10, got {n_resamples}")
    rng = np.random.default_rng(seed)
    estimate = float(statistic(*arrays))
    values = np.empty(n_resamples)
    for i in range(n_resamples):
        index = rng.integers(0, n, n)
        values[i] = statistic(*(a[index] for a in arrays))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return BootstrapResult(estimate, float(low), float(high), confidence, values)


# ---------------------------------------------------------------------------------------------
# Diversity and repetition of generated text


_WORD = re.compile(r"\w+|[^\w\s]+")


def word_tokens(text):
    """Splits text into words and runs of punctuation (what `nltk.wordpunct_tokenize` does).

    Args:
        text: a str.

    Returns:
        A list of str.

    Example:
    ```python
    word_tokens("Nay, my lord!")  # ['Nay', ',', 'my', 'lord', '!']
    ```
    """
    return _WORD.findall(text)


def _as_tokens(sample):
    return word_tokens(sample) if isinstance(sample, str) else list(sample)


def ngrams(tokens, n):
    """The n-grams of a sequence, as tuples, in order.

    Args:
        tokens: a sequence (a str is split with `word_tokens`).
        n: the n-gram length (≥ 1).

    Returns:
        A list of `len(tokens) - n + 1` tuples (empty if the sequence is shorter than n).

    Example:
    ```python
    ngrams(["a", "b", "c"], 2)  # [('a', 'b'), ('b', 'c')]
    ```
    """
    check_int("n", n, minimum=1)
    tokens = _as_tokens(tokens)
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(samples, n):
    """Distinct-n (Li et al., 2016): distinct n-grams over all n-grams, across all samples.

    1.0 means no n-gram occurs twice anywhere; a decoder that says the same thing every time
    scores low. It measures variety only: random strings score high too.

    Args:
        samples: a list of samples, each a str (split with `word_tokens`) or a token sequence.
        n: the n-gram length.

    Returns:
        A float in [0, 1] (0.0 when there is no n-gram at all).

    Example:
    ```python
    distinct_n(["the cat sat", "the cat ran"], 2)  # 3 distinct of 4 bigrams = 0.75
    ```
    """
    grams = [g for s in samples for g in ngrams(s, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repetition_rate(samples, n=4):
    """How much each sample repeats itself: the share of its n-grams that already occurred
    earlier in the same sample (`1 - distinct / total`), averaged over the samples.

    Welleck et al. (2020) call it seq-rep-n. Greedy decoding of a small model loops, and this is
    the number that shows it; human text scores near 0 for n = 4.

    Args:
        samples: a list of samples, each a str (split with `word_tokens`) or a token sequence.
        n: the n-gram length.

    Returns:
        A float in [0, 1]; samples with no n-gram are left out (0.0 if none has one).

    Example:
    ```python
    repetition_rate(["a b a b a b"], n=2)  # 5 bigrams, 2 distinct: 0.6
    ```
    """
    rates = []
    for s in samples:
        grams = ngrams(s, n)
        if grams:
            rates.append(1.0 - len(set(grams)) / len(grams))
    return float(np.mean(rates)) if rates else 0.0
